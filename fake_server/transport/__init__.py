"""The transports: the aiohttp application every door runs in (``build_app``), served from
its own thread and loop (``ServerThread``)."""

from __future__ import annotations

from ._app import ENGINE, HELD, Held, build_app
from ._thread import KEEPALIVE_SECONDS, ServerThread

__all__ = ["ENGINE", "HELD", "KEEPALIVE_SECONDS", "Held", "ServerThread", "build_app"]
