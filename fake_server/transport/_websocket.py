"""The websocket shell: upgrade a request, feed its frames to the door's session, and give
the session a ``Socket`` to answer on (frames, a close, or a connection taken away).

The session runs each call as a task of its own, so this loop only reads: a client's
``cancel`` reaches a prediction while it is streaming.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

from .._journal import RecordedRequest
from ..dialects import SocketOut
from ._faults import cut

__all__ = ["serve_socket"]


class _Socket:
    """``dialects.Socket`` over aiohttp's ``WebSocketResponse``."""

    def __init__(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        held: Callable[[], Awaitable[None]],
    ) -> None:
        self._request = request
        self._ws = ws
        self._held = held

    async def send(self, text: str) -> None:
        if self._ws.closed:
            raise ConnectionResetError("the websocket is closed")
        await self._ws.send_str(text)

    async def close(self) -> None:
        await self._ws.close()

    def cut(self, *, reset: bool = False) -> None:
        cut(self._request, reset=reset)

    def write_raw(self, data: bytes) -> None:
        transport = self._request.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    async def held(self) -> None:
        await self._held()


async def serve_socket(
    request: web.Request,
    entry: RecordedRequest,
    out: SocketOut,
    held: Callable[[], Awaitable[None]],
) -> web.StreamResponse:
    """Upgrade ``request`` and run its session until either side closes. Pings are answered
    by aiohttp (the Python SDK pings every 20 s and gives up without a pong)."""
    ws = web.WebSocketResponse(max_msg_size=out.max_message_bytes, autoping=True)
    await ws.prepare(request)
    entry.status = 101
    session = out.open(_Socket(request, ws, held))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await session.receive(message.data)
            elif message.type == WSMsgType.BINARY:
                await session.receive(None)
            elif message.type == WSMsgType.ERROR:  # a frame over the size limit, bad framing
                entry.error = f"websocket error: {ws.exception()!r}"
                break
    except ConnectionResetError:
        pass
    finally:
        await session.closed()
    return ws
