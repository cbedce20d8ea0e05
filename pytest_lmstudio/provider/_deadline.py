"""Deadlines no trickle can extend: one instant per phase of an exchange, held at the socket.

httpx's timeouts bound each read, write and connect on its own, so a server that sends a byte
now and then, or one ``100 Continue`` after another, or keep-alives between events, never trips
them. A ``Deadline`` is an instant (on ``time.monotonic``) by which a phase must end: the response
head, a whole answer, the next chunk of a stream, the drain after ``[DONE]``.

While a ``DeadlineScope`` holds a deadline, every socket operation of the provider's own
transport (``DeadlineTransport``: httpx's, on a network backend that wraps httpcore's) waits at
most until then: each read, write and connect timeout is cut to the time left, and once none is
left the operation fails at once with httpcore's timeout. That is the only way to stop a
blocking call in time, since nothing can interrupt it from outside. The async scope
(``AsyncDeadlineScope``) is an anyio cancel scope as well, so that the deadline holds whatever
transport sends the request; a blocking client with a transport of the caller's (``transport=``)
keeps only the checks the provider makes between two reads.

``scripts/unasync.py`` turns the async names into the sync ones; each pair is written here.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

import anyio
import httpcore
import httpx

__all__ = [
    "AsyncDeadlineBackend",
    "AsyncDeadlineScope",
    "AsyncDeadlineTransport",
    "Deadline",
    "DeadlineBackend",
    "DeadlineScope",
    "DeadlineTransport",
]

# The deadline of the phase under way, in this thread or task (None: only httpx's timeouts).
_current: ContextVar[float | None] = ContextVar("pytest_lmstudio_deadline", default=None)


class Deadline:
    """The instant, ``seconds`` from its making, by which a phase must be over."""

    __slots__ = ("at", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.left() <= 0

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.left():.3f} s left)"


def _cut(timeout: float | None, exc: type[Exception]) -> float | None:
    """``timeout`` cut to the time left before the current deadline; ``exc`` when none is."""
    at = _current.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise exc("the deadline has passed")
    return left if timeout is None else min(timeout, left)


# --- scopes -----------------------------------------------------------------------------------


class DeadlineScope:
    """``with DeadlineScope(deadline): ...``: the provider's sockets wait no longer than the
    deadline inside (a read then fails with ``httpx.ReadTimeout``)."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        self._token = _current.set(self._deadline.at)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._token is not None
        _current.reset(self._token)


class AsyncDeadlineScope:
    """``with AsyncDeadlineScope(deadline): await ...``: as ``DeadlineScope``, and the code
    inside is cancelled at the deadline; ``TimeoutError`` is raised then (as by
    ``anyio.fail_after``, without its generator)."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self._token: Token[float | None] | None = None
        self._scope: anyio.CancelScope | None = None

    def __enter__(self) -> None:
        self._token = _current.set(self._deadline.at)
        # anyio's clock is not time.monotonic under trio: carry over the time left.
        self._scope = anyio.CancelScope(deadline=anyio.current_time() + self._deadline.left())
        self._scope.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._token is not None and self._scope is not None
        try:
            swallowed = self._scope.__exit__(exc_type, exc, tb)
            if self._scope.cancelled_caught:
                raise TimeoutError
            return swallowed
        finally:
            _current.reset(self._token)


# --- the network backend under httpcore ---------------------------------------------------------


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _cut(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _cut(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _AsyncDeadlineStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    # httpcore's interface has the timeout parameters ruff's ASYNC109 warns about.
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._stream.read(max_bytes, _cut(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._stream.write(buffer, _cut(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        stream = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _AsyncDeadlineStream(stream)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, its streams held to the current deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """httpcore's async network backend, its streams held to the current deadline."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _AsyncDeadlineStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return _AsyncDeadlineStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


# --- transports ---------------------------------------------------------------------------------


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport, its connection pool on a ``DeadlineBackend``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        pool = self._pool
        # httpx makes the pool and offers no way to pass it a backend: wrap the one it chose.
        pool._network_backend = DeadlineBackend(pool._network_backend)


class AsyncDeadlineTransport(httpx.AsyncHTTPTransport):
    """httpx's async transport, its connection pool on an ``AsyncDeadlineBackend``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        pool = self._pool
        # httpx makes the pool and offers no way to pass it a backend: wrap the one it chose.
        pool._network_backend = AsyncDeadlineBackend(pool._network_backend)
