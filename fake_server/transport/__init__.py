"""The transports: the aiohttp application every door runs in (``build_app``), served from
its own thread and loop (``ServerThread``)."""

from __future__ import annotations

from ._app import (
    DEFAULT_BODY_TIMEOUT_SECONDS,
    ENGINE,
    HELD,
    LOOPBACK_HOSTS,
    Held,
    ShellSettings,
    build_app,
)
from ._thread import KEEPALIVE_SECONDS, ServerThread

__all__ = [
    "DEFAULT_BODY_TIMEOUT_SECONDS",
    "ENGINE",
    "HELD",
    "KEEPALIVE_SECONDS",
    "LOOPBACK_HOSTS",
    "Held",
    "ServerThread",
    "ShellSettings",
    "build_app",
]
