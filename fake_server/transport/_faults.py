"""Faults on the wire: answers that hang, break off, arrive slowly or are not HTTP at all.

The dialects build the answer as usual; these functions deliver it badly. A fault that takes
the connection away raises ``Handled`` so the request is journaled with what happened, and
aiohttp's own attempt to answer afterwards meets a closed transport, which it ignores.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import socket
import struct
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from .._journal import RecordedRequest
from ..engine import Fault

#: A 200 with a JSON content type whose body is cut inside the JSON: "not JSON".
MALFORMED_BODY = b'{"id":"chatcmpl-malformed","object":"chat.completion","choices":[{"index":0,'

__all__ = [
    "MALFORMED_BODY",
    "Handled",
    "cut",
    "deliver_body",
    "fault_rng",
    "replace_answer",
    "settle",
]


class Handled(Exception):
    """The request was dealt with on the wire; journal ``status`` (None: no answer) and
    ``note``."""

    def __init__(self, status: int | None, note: str) -> None:
        super().__init__(note)
        self.status = status
        self.note = note


def settle(entry: RecordedRequest, status: int | None, note: str) -> Handled:
    """Record how the request ended on its journal entry, and return the ``Handled`` to raise.

    Called *before* the client can see the outcome (before the connection is cut or the last
    byte is sent), so a test that reads ``fake.requests`` right after its client failed finds
    the note there. A fault injected by chaos keeps its ``chaos (seed=n)`` prefix.
    """
    previous = entry.fault or ""
    if previous.startswith("chaos ("):
        note = f"{previous.split(': ', 1)[0]}: {note}"
    entry.status = status
    entry.fault = note
    return Handled(status, note)


def fault_rng(seed: int, kind: str, path: str, body: bytes) -> random.Random:
    """The random source of a fault's bytes: the fake's seed and the request, not the clock,
    so that the same request to a fake with the same seed gets the same bytes."""
    digest = hashlib.sha256(body).hexdigest()
    return random.Random(f"{seed}:{kind}:{path}:{digest}")


def cut(request: web.Request, *, reset: bool = False) -> None:
    """Close the request's connection now; with ``reset`` as a TCP RST (SO_LINGER 0)."""
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def replace_answer(
    request: web.Request,
    entry: RecordedRequest,
    fault: Fault,
    rng: random.Random,
    wait_released: Callable[[], Awaitable[None]],
) -> None:
    """Faults that send no HTTP answer at all. Always raises ``Handled``."""
    transport = request.transport
    if fault.kind == "hang":
        settle(entry, None, "hang: waiting for reset() or close()")
        await wait_released()
        handled = settle(entry, None, "hang: released by reset() or close()")
        cut(request)
        raise handled
    if fault.kind == "reset_connection":
        handled = settle(entry, None, "reset_connection: TCP reset")
        cut(request, reset=True)
        raise handled
    if fault.kind == "garbage":
        handled = settle(entry, None, f"garbage: {fault.size} random bytes")
        if transport is not None and not transport.is_closing():
            transport.write(rng.randbytes(fault.size))
        cut(request)
        raise handled
    handled = settle(entry, None, "drop: closed before the status line")
    cut(request)
    raise handled


def _head(response: web.Response, length: int) -> bytes:
    reason = response.reason or HTTPStatus(response.status).phrase
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
            lines.append(f"{name}: {value}")
    lines += [f"Content-Length: {length}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


async def deliver_body(
    request: web.Request, entry: RecordedRequest, response: web.Response, fault: Fault
) -> None:
    """``truncate`` and ``slow_body`` for a whole (non-streamed) answer. Raises ``Handled``."""
    body = response.body
    data = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else b""
    transport = request.transport
    if transport is None or transport.is_closing():
        raise settle(entry, None, f"{fault.kind}: the client was gone")
    if fault.kind == "truncate":
        kept = min(fault.after_bytes, len(data))
        handled = settle(entry, response.status, f"truncate: {kept} of {len(data)} bytes")
        transport.write(_head(response, len(data)) + data[: fault.after_bytes])
        cut(request)
        raise handled
    handled = settle(
        entry, response.status, f"slow_body: {len(data)} bytes at {fault.bytes_per_second:g}/s"
    )
    transport.write(_head(response, len(data)))
    await paced_write(transport.write, data, fault.bytes_per_second)
    cut(request)  # the answer went out by hand: the connection cannot be reused
    raise handled


async def paced_write(write: Callable[[bytes], Any], data: bytes, rate: float) -> None:
    """Write ``data`` at ``rate`` bytes per second, in pieces of a twentieth of a second.

    Each piece leaves when its last byte is due, scheduled from the start: the bytes never
    run ahead of the rate, the total does not drift, and the whole takes ``len(data) / rate``.
    """
    loop = asyncio.get_running_loop()
    step = max(1, int(rate / 20))
    start = loop.time()
    for offset in range(0, len(data), step):
        piece = data[offset : offset + step]
        due = start + (offset + len(piece)) / rate - loop.time()
        if due > 0:
            await asyncio.sleep(due)
        result = write(piece)
        if asyncio.iscoroutine(result):
            await result


def split_points(size: int, rng: random.Random) -> list[int]:
    """Random cut points inside ``size`` bytes (one cut per 16 bytes on average)."""
    if size < 2:
        return []
    count = max(1, size // 16)
    return sorted(rng.sample(range(1, size), min(count, size - 1)))
