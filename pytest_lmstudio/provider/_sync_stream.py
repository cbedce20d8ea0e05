# Generated from _stream.py by scripts/unasync.py: do not edit. Edit _stream.py, then run
# `make unasync` (`make test` fails while this file differs from what the script writes).
"""``SyncChunkStream``: the chunks of a streamed chat completion, read as they come.

The blocking twin of ``ChunkStream``: ``_stream.py`` with each async token renamed by
``scripts/unasync.py``. ``SyncLMStudioProvider.stream`` makes one.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ._body import BodyDecoder
from ._core import Call
from ._deadline import Deadline, DeadlineScope
from ._errors import NetworkError, ProviderError, ProviderTimeoutError
from ._shield import ShieldCancellation
from ._sse import ChatStreamParser, ServerSentEvent, SSEDecoder
from ._types import CompletionResponse, StreamChunk

if TYPE_CHECKING:  # the provider makes streams; a stream only calls back into it
    from ._sync import SyncLMStudioProvider

__all__ = ["SyncChunkStream", "abandon"]

logger = logging.getLogger("pytest_lmstudio")

_STREAM_CONTENT_TYPE = "text/event-stream"


def abandon(response: httpx.Response, stream: Iterator[bytes] | None) -> None:
    """Close a response whose body is left unread, and finish httpx's iterators over it.

    httpx reads a body through a chain of generators, and closing the outer one does not
    finish the inner ones: they would be left to the garbage collector (where trio warns about
    them). So the connection is closed first, and the chain then ends with the read error that
    causes.
    """
    response.close()
    if stream is None:
        return
    for _ in range(1000):  # bounded: only what was already buffered can still come
        try:
            next(stream)
        except (StopIteration, Exception):
            return


class SyncChunkStream:
    """The chunks of a streamed completion: read them with ``for``; ``with`` (or
    ``close()``) releases the connection of a stream left unfinished.

    Transient failures are retried until the first chunk arrives, never after. A stream that
    fails later raises; ``received`` keeps the chunks handed out before the error. Each chunk
    must come within ``timeout_seconds`` of the caller asking for it (the first: of the head);
    bytes that make no chunk (keep-alives, empty deltas) do not extend that. After ``[DONE]``
    the rest of the answer is read, within the timeout too, so that the connection can serve
    again; if it does not end by then, it is closed, and the stream ends all the same.
    """

    def __init__(self, provider: SyncLMStudioProvider, call: Call[CompletionResponse]) -> None:
        self._provider = provider
        self._core = provider._core
        self._call = call
        self._response: httpx.Response | None = None
        self._raw: Iterator[bytes] | None = None
        self._body: BodyDecoder | None = None
        self._events: SSEDecoder | None = None
        self._parser: ChatStreamParser | None = None
        self._error: BaseException | None = None
        self._pending: deque[StreamChunk] = deque()
        self._received: list[StreamChunk] = []
        self._started = False
        self._done = False  # no chunk will come: [DONE], the end of the answer, or an error
        self._ended = False  # the answer's bytes have all been read

    @property
    def received(self) -> tuple[StreamChunk, ...]:
        """Every chunk handed out so far, in order: after an error, what came before it."""
        return tuple(self._received)

    def __iter__(self) -> SyncChunkStream:
        return self

    def __enter__(self) -> SyncChunkStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and release the connection; closing twice is harmless."""
        self._done = True
        self._started = True
        response, self._response = self._response, None
        raw, self._raw = self._raw, None
        if response is not None:
            abandon(response, raw)

    def __next__(self) -> StreamChunk:
        try:
            if not self._started:
                self._start()
            while not self._pending:
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                if self._done:
                    self._drain()
                    raise StopIteration
                # A deadline per chunk, from now: the caller's time is not the server's.
                self._fill(self._core.deadline())
        except BaseException:
            if not self._pending:
                with ShieldCancellation():  # released even when the caller is cancelled
                    self.close()
            raise
        chunk = self._pending.popleft()
        self._received.append(chunk)
        return chunk

    def _start(self) -> None:
        self._started = True
        provider, call = self._provider, self._call
        attempt = 0
        while True:
            response, attempt, deadline = provider._send(call, attempt)
            self._response = response
            content_type = response.headers.get("content-type", "")
            if response.status_code >= 300 or not content_type.startswith(_STREAM_CONTENT_TYPE):
                # An error answer, or a server that ignored stream: true and sent JSON.
                body = provider._read(call, response, deadline)
                self.close()
                self._pending.extend(self._core.stream_fallback(call, response.status_code, body))
                return
            self._events, self._parser = self._core.stream_parser(call)
            self._body = self._core.body_decoder(call, response.headers, stream=True)
            self._raw = response.iter_raw()
            try:
                self._fill(self._core.deadline())
                return
            except NetworkError as error:
                delay = self._core.transport_retry_delay(attempt, error.__cause__ or error)
                self.close()
                if delay is None:
                    raise
                self._done = self._ended = False
                logger.info("%s %s broke before its first chunk; retry", call.method, call.path)
                provider._sleep(delay)
                attempt += 1

    def _fill(self, deadline: Deadline) -> None:
        """Read until a chunk is ready or none can come, by ``deadline``."""
        try:
            with DeadlineScope(deadline):
                while not self._pending and not self._done:
                    self._pump(deadline)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._core.transport_error(self._call, exc, "chunk") from exc
        if self._ended or self._error is not None:
            self.close()  # the answer is over: its connection can serve again

    def _pump(self, deadline: Deadline) -> None:
        """One read: its events parsed, their chunks queued."""
        assert self._raw is not None and self._body is not None
        assert self._events is not None and self._parser is not None
        call = self._call
        try:
            part = next(self._raw)
        except StopIteration:
            self._ended = self._done = True
            self._queue(self._decode(self._body.flush()) + self._events.close())
            if self._error is None:
                self._pending.extend(self._parser.finish())
            return
        self._queue(self._decode(self._body.feed(part)))
        if not self._pending and not self._done and deadline.expired():
            # Only a transport of the caller's gets here: the provider's own stops reading.
            raise self._core.too_slow(call, "chunk")

    def _decode(self, pieces: list[bytes]) -> list[ServerSentEvent]:
        assert self._events is not None
        try:
            return [event for piece in pieces for event in self._events.feed(piece)]
        except ValueError as exc:
            raise self._core.bad_stream(self._call, exc) from exc

    def _queue(self, events: list[ServerSentEvent]) -> None:
        assert self._parser is not None
        for event in events:
            try:
                chunk = self._parser.event(event)
            except ProviderError as error:
                if not self._pending:
                    raise
                # Deliver the chunks that came before the error first.
                self._error = error
                self._done = True
                return
            if chunk is not None:
                self._pending.append(chunk)
            if self._parser.done:  # [DONE]: what follows is not read as events
                self._done = True
                return

    def _drain(self) -> None:
        """After ``[DONE]``, read the answer to its end, so that its connection can serve again:
        within a deadline of its own, and within the stream's ``max_response_bytes``. A server
        that sends on past the deadline is cut off and the stream ends in
        ``ProviderTimeoutError`` (every chunk is in ``received``): a server that never ends its
        answer is broken, and the caller hears of it."""
        if self._response is None or self._raw is None or self._body is None:
            return
        raw, body = self._raw, self._body
        deadline = self._core.deadline()
        cut_off: BaseException | None = None
        try:
            with DeadlineScope(deadline):
                for part in raw:
                    body.feed(part)
                    if deadline.expired():
                        cut_off = TimeoutError("the drain's deadline passed")
                        break
                else:
                    body.flush()
        except (ProviderError, httpx.HTTPError, TimeoutError) as exc:
            cut_off = exc
        self.close()
        if cut_off is not None:
            method, path = self._call.method, self._call.path
            raise ProviderTimeoutError(
                f"{method} {path}: the server sent on after [DONE] and did not end its answer "
                f"within {self._core.config.timeout_seconds:g} s; every chunk arrived "
                "(stream.received)"
            ) from cut_off
