"""Hostile servers, and a way to run one call of the provider against each of them.

Each ``Case`` is a server that breaks the provider's promise some way (nesting JSON past the
recursion limit, trickling bytes so that no per-read timeout fires, streaming forever, echoing the
API token, a gzip bomb) and what the caller must get instead: a ``ProviderError`` of a given class
(or, for one case, a normal end) within twice the timeout, and no piece of the token anywhere in
the error. ``test_hostile.py`` runs every case with both calls and both clients;
``hostile_table.py`` prints the same table with the time and memory each cell took.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import anyio
import httpx

from pytest_lmstudio import (
    ApiError,
    CompletionRequest,
    InvalidRequestError,
    LMStudioConfig,
    LMStudioProvider,
    Message,
    ModelNotFoundError,
    NetworkError,
    ProviderError,
    ProviderTimeoutError,
    SyncLMStudioProvider,
)

from .servers import HostileServer, Peer

MODES = ("complete", "stream")
CLIENTS = ("asyncio", "sync")
DEPTH = 100_000
#: Not shaped like LM Studio's tokens, so that only the filter for the configured secret can
#: catch it; random, so that a leak cannot come from anywhere but the server's echo.
TOKEN = "tok-" + secrets.token_hex(16)
#: A leak is any piece of the token this long (a cut token leaks too).
PIECE = 8


@dataclass(frozen=True)
class Timing:
    """The provider's timeout, and how often a trickling server sends its next byte: often
    enough that no per-read timeout ever fires."""

    timeout: float = 0.5
    max_bytes: int = 256 * 1024
    bomb_bytes: int = 16 * 1024 * 1024

    @property
    def trickle(self) -> float:
        return self.timeout / 2


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    serve: Callable[[Peer, Timing], None]
    #: What each call ends in: an error class, or None: it ends normally with ``chunks``.
    complete: type[ProviderError] | None
    stream: type[ProviderError] | None
    chunks: tuple[str, ...] = ()


@dataclass
class Outcome:
    error: BaseException | None
    seconds: float
    chunks: list[str] = field(default_factory=list)
    hung: bool = False


# --- what the servers send ---------------------------------------------------------------------

CHUNK = '{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"%s"}}]}'
ANSWER = (
    '{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,'
    '"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}]}'
)


def head(
    status: int = 200,
    content_type: str = "application/json",
    length: int | None = None,
    extra: str = "",
) -> bytes:
    """A response head; without ``length`` the body runs until the connection closes."""
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def whole(peer: Peer, status: int, body: bytes, content_type: str = "application/json") -> None:
    peer.send(head(status, content_type, len(body)) + body)


def event(data: str) -> bytes:
    return f"data: {data}\n\n".encode()


def sse_head() -> bytes:
    return head(content_type="text/event-stream")


def nested_body(peer: Peer, timing: Timing) -> None:
    whole(peer, 200, b"[" * DEPTH)


def nested_error(peer: Peer, timing: Timing) -> None:
    whole(peer, 500, b'{"error": ' + b"[" * DEPTH)


def nested_event(peer: Peer, timing: Timing) -> None:
    peer.send(sse_head() + event(CHUNK % "Hel") + b"data: " + b"[" * DEPTH + b"\n\n")


def empty_deltas(peer: Peer, timing: Timing) -> None:
    peer.send(sse_head())
    empty = [
        b": keep-alive\n\n",
        event('{"choices":[{"index":0,"delta":{}}]}'),
        event('{"choices":[{"index":0,"delta":{"content":""}}]}'),
        event('{"choices":[]}'),
    ]
    for count in peer.every(0.02):
        peer.send(empty[count % len(empty)])


def done_then_trickle(peer: Peer, timing: Timing) -> None:
    if peer.wants_stream:
        peer.send(sse_head() + event(CHUNK % "Hel") + event(CHUNK % "lo") + event("[DONE]"))
    else:
        peer.send(head() + ANSWER.encode())
    for _ in peer.every(timing.trickle):
        peer.send(b"\n")


def head_trickle(peer: Peer, timing: Timing) -> None:
    text = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: "
    for count in peer.every(timing.trickle):
        peer.send(text[count : count + 1] or b"a")


def endless_continue(peer: Peer, timing: Timing) -> None:
    for _ in peer.every(timing.trickle):
        peer.send(b"HTTP/1.1 100 Continue\r\n\r\n")


def endless_chunks(peer: Peer, timing: Timing) -> None:
    if peer.wants_stream:
        peer.send(sse_head())
        burst = event(CHUNK % "abcdefgh") * 200
    else:
        peer.send(head() + b'{"choices":[')
        burst = b'{"index":0,"message":{"content":"abcdefgh"}},' * 200
    for _ in peer.every(0):
        peer.send(burst)


def token_in_body(peer: Peer, timing: Timing) -> None:
    # The token whole near the start, and again across the 80th character: a preview cut
    # there must not keep its first half.
    body = f"upstream said {peer.token}; " + "x" * (70 - 16 - len(peer.token)) + peer.token
    whole(peer, 200, body.encode(), "text/plain")


def token_in_error_text(peer: Peer, timing: Timing) -> None:
    body = "proxy error " + "y" * 180 + peer.token
    whole(peer, 500, body.encode(), "text/plain")


def token_in_event(peer: Peer, timing: Timing) -> None:
    peer.send(sse_head() + event(f"bad token {peer.token}"))


def token_in_models(peer: Peer, timing: Timing) -> None:
    message = (
        "Model 'nope' not found. Your models:\nqwen/qwen3-8b\n"
        f"{peer.token}\nacme/{peer.token[:20]}-x\n{peer.token[10:]}"
    )
    error = {"error": {"message": message, "type": "invalid_request_error"}}
    error["error"]["code"] = "model_not_found"
    whole(peer, 404, json.dumps(error).encode())


def token_in_error_fields(peer: Peer, timing: Timing) -> None:
    error = {"error": {"message": "refused", "code": peer.token, "param": peer.token}}
    whole(peer, 400, json.dumps(error).encode())


def token_in_status_line(peer: Peer, timing: Timing) -> None:
    peer.send(f"HTTP/1.1 2x0 {peer.token}\r\nContent-Length: 0\r\n\r\n".encode())


def gzip_bomb(peer: Peer, timing: Timing) -> None:
    if peer.wants_stream:
        content_type, body = "text/event-stream", _bomb(timing.bomb_bytes, stream=True)
    else:
        content_type, body = "application/json", _bomb(timing.bomb_bytes, stream=False)
    peer.send(head(200, content_type, len(body), "Content-Encoding: gzip") + body)


@functools.cache
def _bomb(size: int, *, stream: bool) -> bytes:
    """``size`` bytes gzipped: zeros after a JSON string's start, or stream chunks."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    unit = event(CHUNK % "bomb") * 1000 if stream else b"0" * 65536
    parts = [] if stream else [squeeze.compress(b'{"x": "')]
    for _ in range(size // len(unit)):
        parts.append(squeeze.compress(unit))
    parts.append(squeeze.flush())
    return b"".join(parts)


CASES = [
    Case("nested-body", "200, JSON nested 100,000 deep", nested_body, ApiError, ApiError),
    Case("nested-error", "500, error body nested 100,000 deep", nested_error, ApiError, ApiError),
    Case("nested-event", "an SSE event nested 100,000 deep", nested_event, ApiError, ApiError),
    Case(
        "empty-deltas",
        "SSE: keep-alives, comments and empty deltas forever",
        empty_deltas,
        ProviderTimeoutError,
        ProviderTimeoutError,
    ),
    Case(
        "done-trickle",
        "the answer, then a byte every T/2 (after [DONE] on a stream)",
        done_then_trickle,
        ProviderTimeoutError,
        ProviderTimeoutError,
        chunks=("Hel", "lo"),
    ),
    Case(
        "head-trickle",
        "the response head, a byte every T/2",
        head_trickle,
        ProviderTimeoutError,
        ProviderTimeoutError,
    ),
    Case(
        "endless-100",
        "100 Continue every T/2, forever",
        endless_continue,
        ProviderTimeoutError,
        ProviderTimeoutError,
    ),
    Case("endless-chunks", "valid chunks, forever, fast", endless_chunks, ApiError, ApiError),
    Case("token-body", "200 text/plain echoing the token", token_in_body, ApiError, ApiError),
    Case(
        "token-error", "500 text/plain, echoes the token", token_in_error_text, ApiError, ApiError
    ),
    Case("token-event", "an SSE event echoing the token", token_in_event, ApiError, ApiError),
    Case(
        "token-models",
        "404 model not found, the token among the models",
        token_in_models,
        ModelNotFoundError,
        ModelNotFoundError,
    ),
    Case(
        "token-fields",
        "400 with the token as error code and param",
        token_in_error_fields,
        InvalidRequestError,
        InvalidRequestError,
    ),
    Case(
        "token-status",
        "an invalid status line echoing the token",
        token_in_status_line,
        NetworkError,
        NetworkError,
    ),
    Case("gzip-bomb", "gzip, inflating to many times the cap", gzip_bomb, ApiError, ApiError),
]
BY_NAME = {case.name: case for case in CASES}


# --- running one cell ---------------------------------------------------------------------------

REQUEST = CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user("hi")])


def config(url: str, timing: Timing) -> LMStudioConfig:
    return LMStudioConfig(
        endpoint=url,
        timeout_seconds=timing.timeout,
        max_retries=0,
        api_token=TOKEN,
        max_response_bytes=timing.max_bytes,
    )


async def _async_call(
    url: str, mode: str, timing: Timing, chunks: list[str], borrowed: bool
) -> None:
    async with (
        httpx.AsyncHTTPTransport() as transport,
        LMStudioProvider(config(url, timing), transport=transport if borrowed else None) as p,
    ):
        if mode == "complete":
            await p.complete(REQUEST)
            return
        async with p.stream(REQUEST) as stream:
            async for chunk in stream:
                chunks.append(chunk.content)


def _sync_call(url: str, mode: str, timing: Timing, chunks: list[str], borrowed: bool) -> None:
    with (
        httpx.HTTPTransport() as transport,
        SyncLMStudioProvider(config(url, timing), transport=transport if borrowed else None) as p,
    ):
        if mode == "complete":
            p.complete(REQUEST)
            return
        with p.stream(REQUEST) as stream:
            for chunk in stream:
                chunks.append(chunk.content)


def run(
    case: Case, mode: str, client: str, timing: Timing, patience: float, *, borrowed: bool = False
) -> Outcome:
    """One call against the case's server (``borrowed``: through a transport of the caller's);
    gives up waiting after ``patience`` seconds (``hung``: the call may still be running, in a
    thread the server's end will release)."""
    chunks: list[str] = []
    with HostileServer(lambda peer: case.serve(peer, timing), lifetime=patience + 5) as server:
        started = time.monotonic()
        if client == "sync":
            call = functools.partial(_sync_call, server.url, mode, timing, chunks, borrowed)
            outcome = _in_thread(call, patience)
        else:
            outcome = _in_loop(server.url, mode, timing, chunks, client, patience, borrowed)
        outcome.seconds = time.monotonic() - started
        outcome.chunks = chunks
    if server.errors:
        raise server.errors[0]
    return outcome


def _in_thread(call: Callable[[], None], patience: float) -> Outcome:
    result: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
        except BaseException as exc:
            result.append(exc)
        else:
            result.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(patience)
    if not result:
        return Outcome(None, patience, hung=True)
    return Outcome(result[0], 0.0)


def _in_loop(
    url: str,
    mode: str,
    timing: Timing,
    chunks: list[str],
    backend: str,
    patience: float,
    borrowed: bool,
) -> Outcome:
    async def main() -> Outcome:
        with anyio.move_on_after(patience) as scope:
            try:
                await _async_call(url, mode, timing, chunks, borrowed)
            except Exception as exc:
                return Outcome(exc, 0.0)
        return Outcome(None, 0.0, hung=scope.cancelled_caught)

    outcome: Outcome = anyio.run(main, backend=backend)
    return outcome


def leaks(error: BaseException, token: str = TOKEN) -> list[str]:
    """Where a piece of ``token`` shows in ``error`` or the exceptions chained to it: their
    ``str``, ``repr``, ``args`` and attributes."""
    pieces = {token[start : start + PIECE] for start in range(len(token) - PIECE + 1)}
    found = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        texts = {"str": str(exc), "repr": repr(exc)}
        texts.update({f"args[{i}]": repr(arg) for i, arg in enumerate(exc.args)})
        texts.update({name: repr(value) for name, value in vars(exc).items()})
        for name in ("doc", "object"):
            if hasattr(exc, name):
                texts[name] = repr(getattr(exc, name))
        for where, text in texts.items():
            if any(piece in text for piece in pieces):
                found.append(f"{type(exc).__name__}.{where}")
        todo += [exc.__cause__, exc.__context__]
    return found


def expected(case: Case, mode: str) -> type[ProviderError] | None:
    return case.complete if mode == "complete" else case.stream


def cells() -> Iterator[tuple[Case, str, str]]:
    for case in CASES:
        for mode in MODES:
            for client in CLIENTS:
                yield case, mode, client
