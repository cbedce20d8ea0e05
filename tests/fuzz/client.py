"""A small HTTP/1.1 client on asyncio streams: keep-alive, any bytes on the wire.

The fuzz needs to send what no well-behaved client library will (non-UTF-8 header values,
NaN literals, bodies that lie about their length) and to send a lot of it, so requests are
built as bytes here and replies read with just enough of HTTP to find their end
(Content-Length, chunked, or the connection's close).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Connection", "NoReply", "Reply", "Stale", "build_request", "read_reply"]

HeaderList = Iterable[tuple[bytes, bytes]]


class NoReply(Exception):
    """The connection failed, closed or timed out before a whole reply came."""


class Stale(NoReply):
    """The server had closed the connection before any byte of a reply: on a kept-alive
    connection that is the ordinary end of keep-alive, and the request is sent again."""


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes

    @property
    def express(self) -> bool:
        """Answered by the fake's own code (LM Studio's Express headers), not by aiohttp."""
        return self.headers.get("x-powered-by") == "Express"

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


def build_request(
    method: str,
    target: str,
    host: str,
    headers: HeaderList = (),
    body: bytes | None = None,
    *,
    chunks: list[bytes] | None = None,
) -> bytes:
    """A request as bytes: ``body`` with a Content-Length, or ``chunks`` chunked."""
    lines = [f"{method} {target} HTTP/1.1".encode("latin-1"), b"Host: " + host.encode()]
    lines += [name + b": " + value for name, value in headers]
    if chunks is not None:
        lines.append(b"Transfer-Encoding: chunked")
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c) + b"0\r\n\r\n"
    elif body is not None:
        lines.append(b"Content-Length: %d" % len(body))
        payload = body
    else:
        payload = b""
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload


async def read_reply(reader: asyncio.StreamReader, head: bool = False) -> Reply:
    """One reply (1xx interim answers skipped). Raises NoReply if it is cut short."""
    try:
        first = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise Stale("closed before a reply") from exc
        raise NoReply(f"reply cut short in its head: {exc.partial[:80]!r}") from exc
    except (ConnectionError, OSError) as exc:
        raise Stale(f"connection failed: {exc!r}") from exc
    try:
        while True:
            raw = first or await reader.readuntil(b"\r\n\r\n")
            first = b""
            lines = raw.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise NoReply(f"not an HTTP status line: {lines[0][:80]!r}")
            status = int(parts[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            if not 100 <= status < 200:
                break
        if head or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body = await reader.read()
            headers["connection"] = "close"
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise NoReply(f"reply cut short: {type(exc).__name__}") from exc
    except (ConnectionError, OSError) as exc:
        raise NoReply(f"connection failed: {exc!r}") from exc
    return Reply(status, headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return bytes(out)
        out += await reader.readexactly(size)
        await reader.readexactly(2)


class Connection:
    """One keep-alive connection; reopened when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.opened = 0
        self.retries = 0

    async def request(self, data: bytes, timeout: float, head: bool = False) -> Reply:
        """Send ``data`` (one whole request) and read its reply; once more on a new
        connection if a kept-alive one turns out to be closed."""
        reused = self._writer is not None and not self._writer.is_closing()
        try:
            return await self._request(data, timeout, head)
        except Stale:
            if not reused:
                raise
            self.retries += 1
            return await self._request(data, timeout, head)

    async def _request(self, data: bytes, timeout: float, head: bool) -> Reply:
        try:
            return await asyncio.wait_for(self._exchange(data, head), timeout)
        except asyncio.TimeoutError:
            await self.close()
            raise NoReply(f"no reply within {timeout} s") from None
        except NoReply:
            await self.close()
            raise
        except (ConnectionError, OSError) as exc:
            await self.close()
            raise Stale(f"connection failed: {exc!r}") from exc

    async def _exchange(self, data: bytes, head: bool) -> Reply:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=1 << 20
            )
            self.opened += 1
        assert self._reader is not None
        self._writer.write(data)
        # The server may answer (a 413) and close before it has read everything we send.
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()
        reply = await read_reply(self._reader, head)
        if not reply.keep_alive:
            await self.close()
        return reply

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
