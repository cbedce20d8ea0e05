"""The server's own thread and event loop: start, serve on 127.0.0.1, close.

Any thread, event loop or process can reach the fake because it runs apart from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from aiohttp import web

from .._errors import FakeServerError
from ..dialects import Control
from ..engine import Engine
from ._app import HELD, ShellSettings, build_app

#: Where aiohttp reports what it answers itself with a 400 (malformed HTTP: the client's fault,
#: not the fake's): quiet unless a user turns it up. Errors inside the fake are recorded for
#: ``check()`` by the shell, not logged here.
WIRE_LOG = logging.getLogger("fake_server.wire")
WIRE_LOG.setLevel(logging.CRITICAL)
#: LM Studio (Express) closes idle keep-alive connections after 5 seconds.
KEEPALIVE_SECONDS = 5.0
START_TIMEOUT_SECONDS = 30.0

__all__ = ["KEEPALIVE_SECONDS", "ServerThread"]


class ServerThread:
    """Serves ``engine``'s doors on ``host:port`` from a daemon thread with its own loop.
    Starting twice is harmless; closing twice too; a closed one cannot start again."""

    def __init__(
        self, engine: Engine, control: Control, host: str, port: int, settings: ShellSettings
    ) -> None:
        self._engine = engine
        self._control = control
        self._host = host
        self._port = port
        self._settings = settings
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None
        self._startup_error: BaseException | None = None
        self._lock = threading.Lock()
        self._failed_port = port
        self.bound_port: int | None = None
        self.closed = False

    def start(self) -> None:
        with self._lock:
            if self.closed:
                raise FakeServerError("this FakeLMStudio was closed; create a new one")
            if self._thread is not None:
                return
            ready = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(ready,), name="FakeLMStudio", daemon=True
            )
            self._thread.start()
            if not ready.wait(START_TIMEOUT_SECONDS):
                raise FakeServerError(f"the fake did not start within {START_TIMEOUT_SECONDS} s")
            if self._startup_error is not None:
                error = self._startup_error
                self._thread.join(5)
                self.closed = True
                raise FakeServerError(
                    f"cannot listen on {self._host}:{self._failed_port}: {error}"
                ) from error

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._startup_error = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        app = self._app = build_app(self._engine, self._control, self._settings)
        runner = web.AppRunner(
            app,
            access_log=None,
            logger=WIRE_LOG,
            keepalive_timeout=KEEPALIVE_SECONDS,
            shutdown_timeout=0.0,
            handler_cancellation=True,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            for port in self._settings.extra_ports:
                self._failed_port = port
                await web.TCPSite(runner, self._host, port).start()
        except BaseException:
            await runner.cleanup()  # a port taken must not leave the others bound
            raise
        self._runner = runner
        server = site._server
        assert server is not None
        sockets: Any = getattr(server, "sockets", None) or ()
        self.bound_port = int(sockets[0].getsockname()[1])

    def release_held(self) -> None:
        """Let the hung and stalled requests held now go, from any thread. Nothing is sent to
        the loop when none is held: a test's reset() need not wake the server."""
        loop, app = self._loop, self._app
        if loop is not None and app is not None and app[HELD].holding and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(app[HELD].release_all)

    def close(self) -> None:
        """Stop serving. Idempotent; requests still in flight are cancelled, not awaited."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            loop, thread = self._loop, self._thread
            if thread is None or loop is None or loop.is_closed():
                return
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                future.result(timeout=10)
            except Exception as exc:
                self._engine.record_error(f"while closing: {exc!r}")
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    async def _shutdown(self) -> None:
        if self._app is not None:
            self._app[HELD].release_all()
        current = asyncio.current_task()
        if self._runner is not None:
            # Cancel handlers first so that a hung or sleeping request cannot delay the close.
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()
            await self._runner.cleanup()

    def open_connections(self) -> int:
        """How many client connections are open now."""
        loop, runner = self._loop, self._runner
        if loop is None or runner is None or loop.is_closed() or runner.server is None:
            return 0
        server = runner.server

        async def count() -> int:
            return len(server.connections)

        return asyncio.run_coroutine_threadsafe(count(), loop).result(timeout=5)
