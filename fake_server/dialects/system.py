"""The routes every LM Studio answers outside its APIs: the liveness probes the SDKs and
tools use, and the catch-all (LM Studio's 200 "Unexpected endpoint" for any other path)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._base import Call, Handler, JsonOut, Out, Route
from .openai import ERRORS
from .openai_shapes import SHAPES

__all__ = ["catch_all", "catch_all_hint", "routes"]

#: What the journal says of a request that reached the catch-all when nothing closer is known.
NO_ROUTE = "no route of LM Studio serves {method} {path}: this is its answer to an unknown endpoint"
#: A path that would be served with /v1 in front: the client was given fake.url, not base_url.
MISSING_V1 = (
    "did you mean {method} /v1{path}? The OpenAI-compatible routes start with /v1: point the "
    "openai SDK (and other OpenAI clients) at fake.base_url, not fake.url"
)
NEAR_MISS = "did you mean {method} {route}? (no route serves {path})"
WRONG_METHOD = "{path} answers {methods}, not {method}"
_PARAMETER = re.compile(r"\{[^}]*\}")


async def _greeting(call: Call) -> Out:
    return JsonOut(200, {"lmstudio": True})


async def _status(call: Call) -> Out:
    return JsonOut(200, {"package": "lmstudio", "version": call.state.profile.version})


async def unexpected(call: Call) -> Out:
    """LM Studio's answer to a route it does not serve (a 200 with an error string), for a
    door whose route caught a request it does not take (the SDK door's ``GET /<name>``
    without a websocket upgrade); its journal entry gets the hint, as the catch-all's does."""
    call.entry.hint = catch_all_hint(call.method, call.path, _served)
    return await _unexpected(call)


async def _unexpected(call: Call) -> Out:
    shapes = SHAPES[call.state.profile.name]
    status, document = shapes.unexpected_endpoint(call.method, call.path)
    return JsonOut(status, document)


def _part(part: str) -> str:
    """A piece of an aiohttp route template as a regular expression: ``{name}`` one path
    segment, ``{name:regex}`` its own expression, anything else itself."""
    if not _PARAMETER.fullmatch(part):
        return re.escape(part)
    _, colon, expression = part[1:-1].partition(":")
    return f"(?:{expression})" if colon else "[^/]+"


def _matches(template: str, path: str) -> bool:
    pattern = "".join(_part(part) for part in re.split(r"(\{[^}]*\})", template))
    return re.fullmatch(pattern, path) is not None


def catch_all_hint(method: str, path: str, routes: Sequence[Route]) -> str:
    """Why a request reached the catch-all, and the route it most likely meant: ``/v1`` left
    out (a client given ``fake.url``), a route asked with another method, a near-miss path."""
    served = [r for r in routes if r.method not in ("*", "OPTIONS")]
    same_method = [r for r in served if r.method == method]
    if any(_matches(r.path, "/v1" + path) for r in same_method):
        return MISSING_V1.format(method=method, path=path)
    # A route of the same method that matched and still sent the request here did not take
    # it (the SDK door's GET /<name> takes websocket upgrades only): no other method to name.
    methods = sorted({r.method for r in served if r.method != method and _matches(r.path, path)})
    if methods:
        return WRONG_METHOD.format(path=path, methods=" or ".join(methods), method=method)
    import difflib  # only for requests that missed every route

    templates = sorted({r.path for r in same_method if "{" not in r.path})
    close = difflib.get_close_matches(path.rstrip("/") or "/", templates, n=1, cutoff=0.75)
    if close:
        return NEAR_MISS.format(method=method, route=close[0], path=path)
    return NO_ROUTE.format(method=method, path=path)


#: The routes of the last table built. Every fake serves the same paths (what differs between
#: fakes is state, which no path depends on), so one table serves the hints of all.
_served: tuple[Route, ...] = ()


def _hinting(known: Sequence[Route]) -> Handler:
    async def handler(call: Call) -> Out:
        call.entry.hint = catch_all_hint(call.method, call.path, known)
        return await _unexpected(call)

    return handler


def routes() -> list[Route]:
    return [
        Route("GET", "/lmstudio-greeting", _greeting, ERRORS, body="none", auth=False),
        Route("GET", "/lms-status", _status, ERRORS, body="none", auth=False),
    ]


def catch_all(known: Sequence[Route]) -> Route:
    """Last in the route table: every path no door claims. The journal entry of a request it
    answers says why (``catch_all_hint``), naming the route of ``known`` it most likely meant."""
    global _served
    _served = tuple(known)
    return Route("*", "/{tail:.*}", _hinting(_served), ERRORS, body="none", auth=False)
