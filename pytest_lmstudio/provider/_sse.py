"""Server-sent events, byte by byte, and the chat stream built on them. No I/O here.

``SSEDecoder`` follows the WHATWG event-stream rules: lines end with CRLF, LF or CR (a CRLF split
between two reads is still one line end), ``:`` lines are comments (keep-alives), ``data`` lines
of one event are joined with newlines, a blank line dispatches. It splits bytes before decoding
them, so a read that ends inside a UTF-8 character is harmless (line ends are ASCII).

``ChatStreamParser`` turns the events of ``POST /v1/chat/completions`` with ``stream: true`` into
``StreamChunk``s: ``[DONE]`` ends the stream, ``event: error`` (or a ``data`` that is only an
``error``) raises, the usage chunk (``choices: []``) becomes a chunk with ``usage``, a ``role`` on
every delta is fine, ``reasoning_content`` and ``reasoning`` are both reasoning, and tool calls
streamed in fragments come out whole on the chunk that ends the choice (or at the end of the
stream, if the server never said why it stopped).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._answers import ShapeError, parse_usage
from ._defaults import PREVIEW_CHARS
from ._errors import ApiError, bad_answer, error_for_status, scrub
from ._security import clip
from ._types import StreamChunk, ToolCall
from ._wire import loads, why_not_json

__all__ = ["ChatStreamParser", "SSEDecoder", "ServerSentEvent"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: str
    event: str = "message"


class SSEDecoder:
    """Incremental event-stream decoder: ``feed`` bytes as they come, ``close`` at EOF."""

    def __init__(self, max_event_bytes: int = 32 * 1024 * 1024) -> None:
        self._max = max_event_bytes
        self._buffer = b""
        self._skip_lf = False
        self._data: list[str] = []
        self._size = 0
        self._event = ""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = False
        if not chunk:
            return []
        if b"\n" not in chunk and b"\r" not in chunk:
            self._buffer += chunk
            if len(self._buffer) + self._size > self._max:
                raise ValueError(f"an event is larger than {self._max} bytes")
            return []
        buffer = self._buffer + chunk if self._buffer else chunk
        lines = buffer.splitlines(keepends=True)
        last = lines[-1]
        if last[-1:] in (b"\n", b"\r"):
            self._buffer = b""
            self._skip_lf = last[-1:] == b"\r"
        else:
            self._buffer = lines.pop()
            if len(self._buffer) + self._size > self._max:
                raise ValueError(f"an event is larger than {self._max} bytes")
        events: list[ServerSentEvent] = []
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            event = self._line(line.decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[ServerSentEvent]:
        """Events still pending at EOF (a last event without its blank line is kept)."""
        events = []
        if self._buffer:
            event = self._line(self._buffer.decode("utf-8", "replace"))
            self._buffer = b""
            if event is not None:
                events.append(event)
        event = self._line("")
        if event is not None:
            events.append(event)
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = ServerSentEvent("\n".join(self._data), self._event or "message")
            self._data = []
            self._size = 0
            self._event = ""
            return event
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self._max:
                raise ValueError(f"an event is larger than {self._max} bytes")
        elif name == "event":
            self._event = value
        return None


class _ToolCallParts:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


class ChatStreamParser:
    """Events of a chat completion stream in, ``StreamChunk``s out."""

    def __init__(self, *, method: str, path: str, secret: str | None = None) -> None:
        self._method = method
        self._path = path
        self._secret = secret
        self._tools: dict[int, _ToolCallParts] = {}
        self.done = False
        self._model = ""
        self._id = ""

    def events(self, events: Iterable[ServerSentEvent]) -> list[StreamChunk]:
        chunks = []
        for event in events:
            chunk = self.event(event)
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def event(self, event: ServerSentEvent) -> StreamChunk | None:
        if self.done:
            return None
        data = event.data
        if data == "[DONE]":
            self.done = True
            return self._flush_tools(None) if self._tools else None
        try:
            value: Any = loads(data)
        except ValueError as exc:
            scrub(exc, self._secret)
            if event.event == "error":
                raise error_for_status(
                    200, {"error": data}, method=self._method, path=self._path, secret=self._secret
                ) from exc
            quoted = clip(data, PREVIEW_CHARS, self._secret)
            raise bad_answer(
                f"a stream event is not JSON ({why_not_json(exc)}; it reads {quoted!r})",
                method=self._method,
                path=self._path,
                secret=self._secret,
            ) from exc
        if event.event == "error" or (
            isinstance(value, dict) and "error" in value and "choices" not in value
        ):
            raise error_for_status(
                200, value, method=self._method, path=self._path, secret=self._secret
            )
        try:
            return self._chunk(value)
        except ShapeError as exc:
            raise bad_answer(str(exc), method=self._method, path=self._path) from exc

    def finish(self) -> list[StreamChunk]:
        """At EOF: tool calls still being assembled, if the server never finished the choice."""
        self.done = True
        return [self._flush_tools(None)] if self._tools else []

    def _chunk(self, value: object) -> StreamChunk | None:
        if not isinstance(value, dict):
            raise ShapeError(f"a stream chunk should be an object, got {type(value).__name__}")
        model = value.get("model")
        if isinstance(model, str):
            self._model = model
        ident = value.get("id")
        if isinstance(ident, str):
            self._id = ident
        usage = parse_usage(value.get("usage"))
        choices = value.get("choices")
        if not isinstance(choices, list):
            raise ShapeError("choices should be an array")
        if not choices:
            if usage is None:
                return None
            return StreamChunk(usage=usage, model=self._model, id=self._id)
        choice = choices[0]
        if not isinstance(choice, dict):
            raise ShapeError("choices[0] should be an object")
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise ShapeError("choices[0].delta should be an object")
        content = delta.get("content") or ""
        reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
        if not isinstance(content, str) or not isinstance(reasoning, str):
            raise ShapeError("choices[0].delta.content should be a string")
        fragments = delta.get("tool_calls")
        if fragments is not None:
            self._add_fragments(fragments)
        finish_reason = choice.get("finish_reason")
        if finish_reason is not None and not isinstance(finish_reason, str):
            raise ShapeError("choices[0].finish_reason should be a string")
        if finish_reason is not None and self._tools:
            flushed = self._flush_tools(finish_reason)
            return StreamChunk(
                content=content,
                reasoning=reasoning,
                tool_calls=flushed.tool_calls,
                finish_reason=finish_reason,
                usage=usage,
                model=self._model,
                id=self._id,
            )
        if not content and not reasoning and finish_reason is None and usage is None:
            return None
        return StreamChunk(
            content=content,
            reasoning=reasoning,
            finish_reason=finish_reason,
            usage=usage,
            model=self._model,
            id=self._id,
        )

    def _add_fragments(self, fragments: object) -> None:
        if not isinstance(fragments, list):
            raise ShapeError("choices[0].delta.tool_calls should be an array")
        for position, fragment in enumerate(fragments):
            if not isinstance(fragment, dict):
                raise ShapeError("choices[0].delta.tool_calls[] should hold objects")
            index = fragment.get("index", position)
            if not isinstance(index, int):
                raise ShapeError("choices[0].delta.tool_calls[].index should be an integer")
            parts = self._tools.setdefault(index, _ToolCallParts())
            ident = fragment.get("id")
            if isinstance(ident, str) and ident and not parts.id:
                parts.id = ident
            function = fragment.get("function") or {}
            if not isinstance(function, dict):
                raise ShapeError("choices[0].delta.tool_calls[].function should be an object")
            name = function.get("name")
            # Before 0.3.16 every continuation repeated ``"name": ""``: only the first name counts.
            if isinstance(name, str) and name and not parts.name:
                parts.name = name
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                parts.arguments.append(arguments)
            elif arguments is not None:
                raise ShapeError("choices[0].delta.tool_calls[].function.arguments should be text")

    def _flush_tools(self, finish_reason: str | None) -> StreamChunk:
        calls = tuple(
            ToolCall(id=parts.id, name=parts.name, arguments="".join(parts.arguments))
            for _, parts in sorted(self._tools.items())
        )
        self._tools = {}
        if any(not call.name for call in calls):
            raise ApiError(
                f"A tool call streamed in answer to {self._method} {self._path} has no name",
                status_code=200,
            )
        return StreamChunk(
            tool_calls=calls, finish_reason=finish_reason, model=self._model, id=self._id
        )
