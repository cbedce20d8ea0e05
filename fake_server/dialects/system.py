"""The routes every LM Studio answers outside its APIs: the liveness probes the SDKs and
tools use, and the catch-all (LM Studio's 200 "Unexpected endpoint" for any other path)."""

from __future__ import annotations

from ._base import Call, JsonOut, Out, Route
from .openai import ERRORS
from .openai_shapes import SHAPES

__all__ = ["catch_all", "routes"]


async def _greeting(call: Call) -> Out:
    return JsonOut(200, {"lmstudio": True})


async def _status(call: Call) -> Out:
    return JsonOut(200, {"package": "lmstudio", "version": call.state.profile.version})


async def unexpected(call: Call) -> Out:
    """LM Studio's answer to a route it does not serve (a 200 with an error string)."""
    return await _unexpected(call)


async def _unexpected(call: Call) -> Out:
    shapes = SHAPES[call.state.profile.name]
    status, document = shapes.unexpected_endpoint(call.method, call.path)
    return JsonOut(status, document)


def routes() -> list[Route]:
    return [
        Route("GET", "/lmstudio-greeting", _greeting, ERRORS, body="none", auth=False),
        Route("GET", "/lms-status", _status, ERRORS, body="none", auth=False),
    ]


def catch_all() -> Route:
    """Last in the route table: every path no door claims."""
    return Route("*", "/{tail:.*}", _unexpected, ERRORS, body="none", auth=False)
