"""The transports: the aiohttp application every door runs in (``build_app``)."""

from __future__ import annotations

from ._app import ENGINE, HELD, Held, build_app

__all__ = ["ENGINE", "HELD", "Held", "build_app"]
