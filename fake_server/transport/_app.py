"""The HTTP shell: the aiohttp application every door's routes run in.

It keeps only what every route shares: the journal entry, the state snapshot, the API token
check, reading the body, turning a handler's answer into bytes on the wire (Express's
headers, the event-stream writer, the scripted faults) and capturing errors inside the fake.
State reaches handlers through ``web.AppKey``, never through the facade.
"""

from __future__ import annotations

import asyncio
import hmac
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from .._journal import RecordedRequest
from .._json import MSG_TOO_DEEP, BodyError, parse_body
from ..dialects import (
    ApiAnswer,
    Call,
    Control,
    ErrorForms,
    FaultOut,
    JsonOut,
    Out,
    RawOut,
    Route,
    SocketOut,
    SseOut,
    route_table,
)
from ..engine import Engine, Fault, State
from ._express import JSON_TYPE, express_json, express_order, plain_json
from ._faults import MALFORMED_BODY, Handled, deliver_body, fault_rng, replace_answer, settle
from ._sse import send_sse
from ._websocket import serve_socket

__all__ = ["ENGINE", "HELD", "LOOPBACK_HOSTS", "Held", "ShellSettings", "build_app"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: A request body must arrive within this many seconds (a slow client cannot hold a request
#: open for ever); Node's own limit is far longer, but a test fake should not wait minutes.
DEFAULT_BODY_TIMEOUT_SECONDS = 10.0
#: Content types a browser cannot send cross-site without a preflight: the admin API takes
#: JSON or TOML only, so a form post from a web page is refused.
ADMIN_CONTENT_TYPES = ("", "application/json", "application/toml", "text/x-toml")
MSG_HOST = (
    "the fake's admin API answers requests addressed to its own host only (got Host: {host}); "
    "this protects it from DNS rebinding. Start it with --allow-remote HOST to add a name."
)
MSG_ORIGIN = (
    "cross-site request refused: the fake's admin API answers pages of its own origin only "
    "(got Origin: {origin})"
)
MSG_CONTENT_TYPE = (
    "the admin API takes JSON (or TOML for a scenario), not {content_type}: a form post from "
    "a web page is refused"
)
PREFLIGHT_HEADERS = {
    "X-Powered-By": "Express",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
}


@dataclass(frozen=True, slots=True)
class ShellSettings:
    """What the shell needs of the facade's settings."""

    max_body_bytes: int
    body_timeout: float = DEFAULT_BODY_TIMEOUT_SECONDS
    allowed_hosts: frozenset[str] = LOOPBACK_HOSTS
    #: More ports serving the same doors: the LM Studio SDKs find a server without a host only
    #: on fixed ports, so a fake that a test or CI job wants them to discover listens there too.
    extra_ports: tuple[int, ...] = ()


class Held:
    """Requests held by ``hang()`` and ``stall_after``: waiting until ``release_all()``
    (``reset()`` or ``close()``). Used in the server's loop only."""

    def __init__(self) -> None:
        self._release: asyncio.Event | None = None

    async def wait(self) -> None:
        if self._release is None:
            self._release = asyncio.Event()
        await self._release.wait()

    @property
    def holding(self) -> bool:
        """Whether a request is held (read from any thread: one attribute, set or cleared
        by the loop)."""
        return self._release is not None

    def release_all(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = None


ENGINE = web.AppKey("engine", Engine)
HELD = web.AppKey("held", Held)
SETTINGS = web.AppKey("settings", ShellSettings)
_PLAIN_ERRORS = ErrorForms(
    bad_body=lambda state, message: {"error": message},
    unauthorized=lambda state, wrong: {"error": "a valid API token is required"},
)


def build_app(engine: Engine, control: Control, settings: ShellSettings) -> web.Application:
    """The application serving every door's routes for ``engine``."""
    app = web.Application(
        client_max_size=settings.max_body_bytes, handler_args={"max_field_size": 65536}
    )
    app[ENGINE] = engine
    app[HELD] = Held()
    app[SETTINGS] = settings
    app.on_response_prepare.append(express_order)
    for route in route_table(control):
        app.router.add_route(route.method, route.path, _serving(route))
    return app


def _serving(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await _serve(request, route)

    return handle


async def _serve(request: web.Request, route: Route) -> web.StreamResponse:
    """Journal the request, answer it, and turn failures into answers: the door's own errors
    as they are, anything else as a 500 recorded for ``check()``."""
    app = request.app  # a property that walks the match info: read once
    engine = app[ENGINE]
    state = engine.state  # the snapshot this request keeps to its end
    errors = route.errors or _PLAIN_ERRORS
    entry = RecordedRequest(
        method=request.method,
        path=request.path,
        query=request.query_string,
        headers=request.headers,  # immutable, ignores case: no copy needed
        body=b"",
        time=time.time(),
        api=route.api,
    )
    if route.journal:
        engine.journal.append(entry)
    started = time.perf_counter()
    try:
        if route.local_only:
            refusal = _foreign(request, app[SETTINGS])
            if refusal is not None:
                return plain_json(403, {"error": refusal})
        elif state.cors and request.method == "OPTIONS":
            entry.status = 204
            engine.request_done(entry)
            return web.Response(status=204, headers=PREFLIGHT_HEADERS)
        if route.auth:
            _check_token(request, state, errors, route.token_header)
        raw, body = await _read_body(request, app, route, entry, state, errors)
        call = Call(
            request.method,
            request.path,
            request.match_info,
            request.headers,
            raw,
            body,
            entry,
            state,
            engine,
        )
        out = await route.handler(call)
        response = await _deliver(request, app[HELD], entry, out, state)
    except ApiAnswer as exc:
        response = express_json(exc.status, exc.document, state.cors, exc.headers)
        if exc.status == 408:
            response.force_close()  # the rest of the slow body is still on its way
    except Handled as handled:
        entry.fault = handled.note
        entry.status = handled.status
        entry.duration = time.perf_counter() - started
        if route.journal:
            engine.request_done(entry)
        return web.Response()  # never reaches the client: its connection is closed
    except asyncio.CancelledError:
        entry.error = "cancelled: the client went away or the fake was closed"
        raise
    except ConnectionResetError:
        # The client hung up (it may: a stream read to its first chunk, a timeout): nothing
        # went wrong inside the fake, and there is nobody left to answer.
        entry.error = "the client closed the connection"
        return web.Response()
    except RecursionError:
        # JSON nested deeply enough to pass the parser can still be too deep to check or
        # answer: the client's input, not a fault of the fake.
        response = express_json(400, errors.bad_body(state, MSG_TOO_DEEP), state.cors)
    except Exception as exc:  # a bug or a bad scripted answer: report it to the test
        response = _internal_error(request, engine, exc, state)
    finally:
        entry.duration = time.perf_counter() - started
        if entry.error is not None and route.journal:
            engine.request_done(entry)
    entry.status = response.status
    if route.journal:
        engine.request_done(entry)
    return response


def _check_token(
    request: web.Request, state: State, errors: ErrorForms, token_header: str = ""
) -> None:
    """The API token from ``Authorization: Bearer`` (or the route's ``token_header``): a
    401 when none is given, or when none of those given is the token."""
    token = state.api_token
    if token is None:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    given = [bearer.strip()] if scheme.lower() == "bearer" and bearer.strip() else []
    bare = request.headers.get(token_header, "").strip() if token_header else ""
    if bare:
        given.append(bare)
    if not given:
        raise ApiAnswer(401, errors.unauthorized(state, False))
    if not any(same_secret(value, token) for value in given):
        raise ApiAnswer(401, errors.unauthorized(state, True))


def same_secret(given: str, token: str) -> bool:
    """Compare in constant time (a timing attack cannot guess the token byte by byte)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


def _foreign(request: web.Request, settings: ShellSettings) -> str | None:
    """Why a request to the fake's own API is refused (DNS rebinding, a cross-site page, a
    form post), or None."""
    host = request.headers.get("Host", "")
    name = _hostname(host)
    if name not in settings.allowed_hosts:
        return MSG_HOST.format(host=host or "(none)")
    origin = request.headers.get("Origin")
    if origin is not None:
        port = (
            (request.transport.get_extra_info("sockname") or ("", 0))[1] if request.transport else 0
        )
        scheme, _, rest = origin.partition("://")
        if (
            scheme != "http"
            or _hostname(rest) not in settings.allowed_hosts
            or (_port(rest) != port)
        ):
            return MSG_ORIGIN.format(origin=origin)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if content_type not in ADMIN_CONTENT_TYPES:
            return MSG_CONTENT_TYPE.format(content_type=content_type)
    return None


def _hostname(host: str) -> str:
    """``127.0.0.1:1234`` -> ``127.0.0.1``, ``[::1]:80`` -> ``::1``, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _port(host: str) -> int | None:
    tail = host.rpartition("]")[2] if host.startswith("[") else host
    _, colon, digits = tail.rpartition(":")
    return int(digits) if colon and digits.isdigit() else 80


async def _read_body(
    request: web.Request,
    app: web.Application,
    route: Route,
    entry: RecordedRequest,
    state: State,
    errors: ErrorForms,
) -> tuple[bytes, Any]:
    """The body as bytes and (for a JSON route) parsed; a 413 or 400 in the door's words."""
    if route.body == "none":
        return b"", None
    timeout = app[SETTINGS].body_timeout
    try:
        if request.content.is_eof():
            # The whole body came with the head (the usual case): nothing to wait for, so no
            # timer and no task for wait_for (a task a request was a sixth of its CPU time).
            data = await request.read()
        else:
            data = await asyncio.wait_for(request.read(), timeout)
    except asyncio.TimeoutError:
        raise ApiAnswer(
            408,
            errors.bad_body(
                state,
                f"Request body not received within {timeout:g} s: the fake stops waiting for "
                "a client that sends slowly (body_timeout).",
            ),
        ) from None
    except (HttpProcessingError, RequestPayloadError) as exc:  # a Content-Encoding it lacks
        raise ApiAnswer(
            400,
            errors.bad_body(
                state,
                f"Request body could not be read: {getattr(exc, 'message', exc)} "
                f"(Content-Encoding: {request.headers.get('Content-Encoding', 'none')})",
            ),
        ) from None
    except web.HTTPRequestEntityTooLarge as exc:
        limit = app._client_max_size
        size = request.content_length
        got = f"{size} bytes" if size is not None else "more than that"
        raise ApiAnswer(
            413,
            errors.bad_body(
                state,
                f"Request body too large: {got}, the fake's limit is {limit} bytes. "
                "Send a smaller body, or start the fake with a larger max_body_bytes.",
            ),
        ) from exc
    journal = app[ENGINE].journal

    def keep(parsed: Any) -> None:
        if route.journal:
            journal.keep_body(entry, data, parsed)

    if route.body != "json" or not data:
        keep(None)
        return data, None
    try:
        parsed = parse_body(data)
    except BodyError as exc:
        keep(None)
        raise ApiAnswer(400, errors.bad_body(state, str(exc))) from None
    keep(parsed)
    return data, parsed


async def _deliver(
    request: web.Request, held: Held, entry: RecordedRequest, out: Out, state: State
) -> web.StreamResponse:
    """Put a handler's answer on the wire, badly when a fault says so."""
    if isinstance(out, FaultOut):
        rng = fault_rng(state.seed, out.fault.kind, request.path, entry.body)
        await replace_answer(request, entry, out.fault, rng, held.wait)
    if isinstance(out, SseOut):
        return await send_sse(request, entry, out, state, held.wait)
    if isinstance(out, SocketOut):
        return await serve_socket(request, entry, out, held.wait)
    if isinstance(out, RawOut):
        headers = {"Content-Type": out.content_type, **out.headers}
        response = web.Response(status=out.status, body=out.body, headers=headers)
    else:
        assert isinstance(out, JsonOut)
        response = (
            express_json(out.status, out.document, state.cors, out.headers)
            if out.express
            else plain_json(out.status, out.document)
        )
    return await _misdeliver(request, entry, response, out.fault)


async def _misdeliver(
    request: web.Request, entry: RecordedRequest, response: web.Response, fault: Fault | None
) -> web.Response:
    """Deliver a whole answer badly when a body fault asks for it."""
    if fault is None:
        return response
    if fault.kind == "malformed":
        settle(entry, 200, "malformed: 200 with a body that is not JSON")
        return web.Response(status=200, body=MALFORMED_BODY, headers={"Content-Type": JSON_TYPE})
    if fault.kind in ("truncate", "slow_body"):
        await deliver_body(request, entry, response, fault)
    return response


def _internal_error(
    request: web.Request, engine: Engine, exc: BaseException, state: State
) -> web.Response:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    engine.record_error(f"{request.method} {request.path}: {exc}\n{text}")
    return express_json(
        500, {"error": f"pytest-lmstudio fake: error inside the server: {exc}"}, state.cors
    )
