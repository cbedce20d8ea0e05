"""A recording relay between an SDK and the fake: every websocket frame, both ways, as sent.

``FrameRelay(fake.port)`` listens on 127.0.0.1 (a port of its own) and passes on to the fake
``GET /lmstudio-greeting`` and each websocket (``/llm``, ``/system``, ...), keeping each text
frame in ``frames`` in the order it passed, with its connection, namespace and sender. A client
in another process (node) talks to the relay's port as it would to the fake's; what the relay
keeps is then checked against the SDK's schema (``_lms_schema.check_frames``).

When one side closes, the relay closes the other with the same code; an upgrade the fake
refuses is refused to the client with the fake's status. It runs in its own thread and loop,
like the fake, and ``close()`` (or leaving ``with``) ends every connection.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from tests.sdk._lms_schema import Frame

#: The SDKs upload files in one frame (base64): as the fake, accept large ones.
MAX_FRAME_BYTES = 64 * 1024 * 1024
START_SECONDS = 10.0


class FrameRelay:
    def __init__(self, target_port: int) -> None:
        self.target = f"127.0.0.1:{target_port}"
        self.frames: list[Frame] = []
        self._lock = threading.Lock()
        self._connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> FrameRelay:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(START_SECONDS)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
            future.result(START_SECONDS)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_SECONDS)
        self._loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def snapshot(self) -> list[Frame]:
        with self._lock:
            return list(self.frames)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_get("/lmstudio-greeting", self._greeting)
        app.router.add_get("/{namespace}", self._socket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = int(server.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # -- handlers -------------------------------------------------------------------------
    async def _greeting(self, request: web.Request) -> web.Response:
        assert self._session is not None
        async with self._session.get(f"http://{self.target}/lmstudio-greeting") as answer:
            body = await answer.read()
            return web.Response(status=answer.status, body=body, content_type=answer.content_type)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        namespace = request.match_info["namespace"]
        try:
            upstream = await self._session.ws_connect(
                f"ws://{self.target}/{namespace}", max_msg_size=MAX_FRAME_BYTES, autoping=True
            )
        except aiohttp.WSServerHandshakeError as exc:
            return web.Response(status=exc.status, text=f"the fake refused the upgrade: {exc}")
        with self._lock:
            connection = self._connections
            self._connections += 1
        client = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, autoping=True)
        await client.prepare(request)
        self._sockets.add(client)

        async def pump(source: Any, sink: Any, sender: str) -> None:
            async for message in source:
                if message.type == aiohttp.WSMsgType.TEXT:
                    with self._lock:
                        self.frames.append(Frame(connection, namespace, sender, message.data))
                    await sink.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    with self._lock:
                        text = f"<binary frame of {len(message.data)} bytes>"
                        self.frames.append(Frame(connection, namespace, sender, text))
                    await sink.send_bytes(message.data)
            # The source closed: close the other side the same way.
            if not sink.closed:
                await sink.close(code=source.close_code or aiohttp.WSCloseCode.OK)

        tasks = [
            asyncio.ensure_future(pump(client, upstream, "client")),
            asyncio.ensure_future(pump(upstream, client, "server")),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await upstream.close()
            await client.close()
            self._sockets.discard(client)
        return client
