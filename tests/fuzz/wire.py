"""Raw-socket probes: malformed HTTP, slow clients, abrupt closes, each on its own connection.

Malformed HTTP is expected to get aiohttp's own 400 before any handler runs, so no journal
line; a reply with Express's headers came from the fake's handlers, which journal it. For a
client that goes away before any reply, whether the fake got as far as journaling depends on
timing, so such a probe allows 0 or 1 lines (``journal_max``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .client import NoReply, Reply, build_request, read_reply

__all__ = ["SLOW_MARK", "WIRE_PROBES", "WireProbe", "WireResult", "slow_stream_scenario"]

#: Text in a chat request that the fuzz's scenario answers with a slow stream (2 s).
SLOW_MARK = "fuzz-slow-stream-7f3a"
CHAT = "/v1/chat/completions"


def slow_stream_scenario() -> bytes:
    rule = {
        "route": "chat",
        "when": {"contains": SLOW_MARK},
        "stream": {"chunks": ["tick "] * 200, "interval": 0.01},
    }
    return json.dumps({"rules": [rule]}).encode()


@dataclass
class WireResult:
    replies: list[Reply] = field(default_factory=list)
    journal_min: int = 0
    journal_max: int = 0
    failure: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class WireProbe:
    name: str
    category: str  # malformed, slow, abrupt
    run: Callable[[str, int], Awaitable[WireResult]]
    long: bool = False  # takes seconds: the full fuzz only


def _chat(stream: bool = False, text: str = "hello") -> bytes:
    body = {"messages": [{"role": "user", "content": text}], "stream": stream}
    return json.dumps(body).encode()


def _post(host: str, body: bytes, path: str = CHAT) -> bytes:
    return build_request("POST", path, host, [(b"Content-Type", b"application/json")], body)


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port, limit=1 << 20)


async def _replies(reader: asyncio.StreamReader, timeout: float, most: int = 1) -> list[Reply]:
    """Up to ``most`` replies, until the server closes or ``timeout`` passes without one."""
    out: list[Reply] = []
    with contextlib.suppress(NoReply, asyncio.TimeoutError):
        while len(out) < most:
            reply = await asyncio.wait_for(read_reply(reader), timeout)
            out.append(reply)
            if not reply.keep_alive:
                break
    return out


def _counted(replies: list[Reply], requests: int = 1) -> WireResult:
    """Journal lines: one per reply from the fake's handlers, none for aiohttp's own. A
    request that got no reply at all may or may not have reached a handler: 0 or 1 line."""
    journaled = sum(1 for r in replies if r.express)
    return WireResult(replies, journaled, journaled + max(0, requests - len(replies)))


def raw(data: bytes, timeout: float = 1.5) -> Callable[[str, int], Awaitable[WireResult]]:
    """Send ``data`` as it is, then read replies until the server closes."""

    async def run(host: str, port: int) -> WireResult:
        reader, writer = await _open(host, port)
        try:
            writer.write(data.replace(b"{host}", host.encode()))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            requests = max(1, data.count(b" HTTP/1.1\r\n"))
            return _counted(await _replies(reader, timeout, requests), requests)
        finally:
            await _shut(writer)

    return run


H = b"Host: {host}\r\n"
JSON_HEAD = b"POST " + CHAT.encode() + b" HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\n"
GREETING = b"GET /lmstudio-greeting HTTP/1.1\r\n" + H + b"\r\n"
_BODY = _chat()


def _chunked(*chunks: bytes) -> bytes:
    return JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(chunks)


MALFORMED: dict[str, bytes] = {
    "request_line_garbage": b"GARBAGE\r\n\r\n",
    "request_line_extra_token": b"GET /lms-status HTTP/1.1 extra\r\n" + H + b"\r\n",
    "http_version_9_9": b"GET /lms-status HTTP/9.9\r\n" + H + b"\r\n",
    "nul_in_method": b"G\x00T /lms-status HTTP/1.1\r\n" + H + b"\r\n",
    "control_byte_in_path": b"GET /a\x7fb\x01 HTTP/1.1\r\n" + H + b"\r\n",
    "raw_non_utf8_path": b"GET /\xff\xfe\xed\xa0\x80 HTTP/1.1\r\n" + H + b"\r\n",
    "space_in_header_name": b"GET /lms-status HTTP/1.1\r\n" + H + b"Bad Name: y\r\n\r\n",
    "header_without_colon": b"GET /lms-status HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n",
    "obsolete_line_folding": b"GET /lms-status HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n",
    "bare_lf_line_ends": b"GET /lms-status HTTP/1.1\n" + H.replace(b"\r\n", b"\n") + b"\n",
    "chunk_size_not_hex": _chunked(b"zz\r\nhello\r\n0\r\n\r\n"),
    "chunk_size_overflow": _chunked(b"ffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    "chunk_missing_crlf": _chunked(b"5\r\nhelloXX0\r\n\r\n"),
    "chunked_and_content_length": JSON_HEAD
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "transfer_encoding_unknown": JSON_HEAD + b"Transfer-Encoding: fuzz, chunked\r\n\r\n0\r\n\r\n",
    "two_content_lengths": JSON_HEAD + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "negative_content_length": JSON_HEAD + b"Content-Length: -1\r\n\r\n{}",
    "content_length_not_a_number": JSON_HEAD + b"Content-Length: 1e3\r\n\r\n{}",
    "header_value_70k": b"GET /lms-status HTTP/1.1\r\n"
    + H
    + b"X-Big: "
    + b"a" * 70_000
    + b"\r\n\r\n",
    "headers_10k": b"GET /lms-status HTTP/1.1\r\n" + H + b"X-A: b\r\n" * 10_000 + b"\r\n",
    "request_line_100k": b"GET /" + b"p" * 100_000 + b" HTTP/1.1\r\n" + H + b"\r\n",
    "pipelined_garbage": GREETING + b"\x00\x01\x02garbage\r\n\r\n",
    "pipelined_json_then_bad_chunks": _post("{host}", _BODY) + _chunked(b"zz\r\n") + GREETING,
    "http2_preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "tls_client_hello": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32) + b"\x00",
    "only_blank_lines": b"\r\n\r\n\r\n\r\n",
}


async def _slow_body(host: str, port: int) -> WireResult:
    """A valid request whose body comes a byte at a time: answered, journaled."""
    body = _chat(text="slow body")
    head, _, _ = _post(host, body).partition(b"\r\n\r\n")
    reader, writer = await _open(host, port)
    try:
        writer.write(head + b"\r\n\r\n")
        for i in range(len(body)):
            writer.write(body[i : i + 1])
            await writer.drain()
            await asyncio.sleep(0.005)
        replies = await _replies(reader, 10)
    finally:
        await _shut(writer)
    result = _counted(replies)
    if not replies or replies[0].status != 200:
        result.failure = f"a slow body got {[r.status for r in replies] or 'no answer'}"
    return result


async def _slow_headers(host: str, port: int) -> WireResult:
    """Headers trickled a byte at a time, then the body at once: answered, journaled."""
    data = _post(host, _chat(text="slow headers"))
    reader, writer = await _open(host, port)
    try:
        split = data.index(b"\r\n\r\n") + 4
        for i in range(split):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(0.002)
        writer.write(data[split:])
        replies = await _replies(reader, 10)
    finally:
        await _shut(writer)
    result = _counted(replies)
    if not replies or replies[0].status != 200:
        result.failure = f"trickled headers got {[r.status for r in replies] or 'no answer'}"
    return result


async def _unfinished_headers(host: str, port: int) -> WireResult:
    """Half a request, then silence: how long does the fake keep the connection? (A note.)"""
    reader, writer = await _open(host, port)
    try:
        writer.write(b"GET /lms-status HTTP/1.1\r\nHost: " + host.encode() + b"\r\nX-A: b")
        await writer.drain()
        started = time.monotonic()
        try:
            data = await asyncio.wait_for(reader.read(), 8)
            waited = time.monotonic() - started
            note = f"closed a half-sent request after {waited:.1f} s (sent {len(data)} bytes)"
        except asyncio.TimeoutError:
            note = "kept a half-sent request open for more than 8 s (slowloris)"
    finally:
        await _shut(writer)
    return WireResult(note=note)


async def _shut(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close_after(data: bytes, reset: bool) -> Callable[[str, int], Awaitable[WireResult]]:
    async def run(host: str, port: int) -> WireResult:
        _, writer = await _open(host, port)
        writer.write(data.replace(b"{host}", host.encode()))
        await writer.drain()
        if reset:
            _abort(writer)
        else:
            await _shut(writer)
        return WireResult(journal_min=0, journal_max=1)

    return run


async def _close_in_stream(host: str, port: int, after_chunks: int, reset: bool) -> WireResult:
    """A streamed request left after its response head (or a few events): journaled once."""
    reader, writer = await _open(host, port)
    try:
        writer.write(_post(host, _chat(stream=True, text=SLOW_MARK)))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        for _ in range(after_chunks):
            await asyncio.wait_for(reader.readuntil(b"\n\n"), 10)
    finally:
        if reset:
            _abort(writer)
        else:
            await _shut(writer)
    ok = head.startswith(b"HTTP/1.1 200")
    return WireResult(journal_min=1, journal_max=1, failure=None if ok else f"head {head[:40]!r}")


async def _half_close(host: str, port: int) -> WireResult:
    """Request sent, then our side shut for writing: the reply may still come (a note)."""
    reader, writer = await _open(host, port)
    try:
        writer.write(_post(host, _chat(text="half close")))
        await writer.drain()
        writer.write_eof()
        replies = await _replies(reader, 2)
    finally:
        await _shut(writer)
    result = _counted(replies)
    if not replies:
        result.note = "a half-closed client got no answer (the fake dropped the request)"
    return result


_PARTIAL = JSON_HEAD + b"Content-Length: 1000\r\n\r\n" + b'{"messages":['
_PARTIAL_CHUNKED = _chunked(b'5\r\n{"mes\r\n')

WIRE_PROBES: list[WireProbe] = [
    *(WireProbe(name, "malformed", raw(data)) for name, data in MALFORMED.items()),
    WireProbe("slow_body_byte_at_a_time", "slow", _slow_body),
    WireProbe("slow_headers_byte_at_a_time", "slow", _slow_headers),
    WireProbe("unfinished_headers_idle", "slow", _unfinished_headers, long=True),
    WireProbe("close_after_request", "abrupt", _close_after(_post("{host}", _BODY), False)),
    WireProbe("reset_after_request", "abrupt", _close_after(_post("{host}", _BODY), True)),
    WireProbe("close_mid_body", "abrupt", _close_after(_PARTIAL, False)),
    WireProbe("reset_mid_chunked_body", "abrupt", _close_after(_PARTIAL_CHUNKED, True)),
    WireProbe("close_after_stream_head", "abrupt", lambda h, p: _close_in_stream(h, p, 0, False)),
    WireProbe("reset_mid_stream", "abrupt", lambda h, p: _close_in_stream(h, p, 3, True)),
    WireProbe("half_close_after_request", "abrupt", _half_close),
]
