"""The Anthropic door's wire shapes, in one place: the message, its stream events, errors.

The door decides *what* to answer (blocks, stop reason, usage); these functions decide how it
looks on the wire: Anthropic's key order, its event names (an ``event:`` line equal to the
data's ``type``), its error envelope (without the ``request_id`` Anthropic adds: LM Studio
sends none).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from ..._json import dumps
from ..._schemas import validator

MESSAGE_SCHEMA = "anthropic/message.schema.json"
EVENT_SCHEMA = "anthropic/stream-event.schema.json"
ERROR_SCHEMA = "anthropic/error.schema.json"
#: Anthropic's error type for each status it documents; others by class.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
#: The engine's finish reasons as Anthropic's stop reasons.
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
#: Ids: a prefix and this many lowercase base-36 characters (the length of Anthropic's).
ID_LENGTH = 24
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
MESSAGE_STOP = 'event: message_stop\ndata: {"type":"message_stop"}\n\n'

__all__ = [
    "ERROR_SCHEMA",
    "MESSAGE_SCHEMA",
    "MESSAGE_STOP",
    "Block",
    "error_body",
    "error_event",
    "error_type",
    "message_document",
    "stream_events",
]


def error_type(status: int) -> str:
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def error_body(type_: str, message: str) -> dict[str, Any]:
    """Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}}``."""
    return {"type": "error", "error": {"type": type_, "message": message}}


def error_event(message: str, check: bool) -> str:
    """The ``event: error`` of a stream that fails after it started."""
    data = error_body("api_error", message)
    if check:
        validator(EVENT_SCHEMA).check(data)
    return f"event: error\ndata: {dumps(data)}\n\n"


def seeded_id(prefix: str, key: str) -> str:
    """``prefix`` and 24 base-36 characters drawn from ``key`` (itself seeded)."""
    number = int.from_bytes(
        hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest(), "big"
    )
    digits = []
    for _ in range(ID_LENGTH):
        number, digit = divmod(number, 36)
        digits.append(_BASE36[digit])
    return prefix + "".join(digits)


@dataclass(frozen=True)
class Block:
    """One content block before it is shaped: ``kind`` text, thinking or tool_use; its whole
    ``text`` (for a tool, the input's JSON) and the ``pieces`` it streams in."""

    kind: str
    text: str
    pieces: tuple[str, ...]
    tool_id: str = ""
    name: str = ""

    def document(self) -> dict[str, Any]:
        if self.kind == "text":
            return {"type": "text", "text": self.text}
        if self.kind == "thinking":
            return {"type": "thinking", "thinking": self.text, "signature": ""}
        return {
            "type": "tool_use",
            "id": self.tool_id,
            "name": self.name,
            "input": json.loads(self.text),
        }

    def opening(self) -> dict[str, Any]:
        """The block as ``content_block_start`` carries it: empty."""
        if self.kind == "text":
            return {"type": "text", "text": ""}
        if self.kind == "thinking":
            return {"type": "thinking", "thinking": "", "signature": ""}
        return {"type": "tool_use", "id": self.tool_id, "name": self.name, "input": {}}


_DELTA_KEYS = {
    "text": ("text_delta", "text"),
    "thinking": ("thinking_delta", "thinking"),
    "tool_use": ("input_json_delta", "partial_json"),
}


def message_document(
    message_id: str,
    model: str,
    blocks: Sequence[Block],
    stop_reason: str | None,
    stop_sequence: str | None,
    usage: dict[str, int],
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [b.document() for b in blocks],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage,
    }


def _event(data: dict[str, Any]) -> str:
    return f"event: {data['type']}\ndata: {dumps(data)}\n\n"


def stream_events(
    message_id: str,
    model: str,
    blocks: Sequence[Block],
    stop_reason: str,
    stop_sequence: str | None,
    usage: dict[str, int],
    check: bool,
) -> tuple[list[str], list[int], int]:
    """A streamed message's events, from ``message_start`` to ``message_delta`` (the
    closing ``message_stop`` is the stream's ``done``), each block opened, filled and
    closed in turn; the schedule slot of each event; how many events are timed.

    A framing event shares the slot of the delta after it (the client gets the first text
    ``ttft`` seconds in, then one delta every ``interval``); the events after the last
    delta go at once. ``check``: one event of each shape is checked against its schema.
    """
    events: list[str] = []
    slots: list[int] = []
    shapes: dict[Hashable, dict[str, Any]] = {}
    deltas = 0
    timed = 1  # without deltas, message_start is the one timed event

    def add(data: dict[str, Any], shape: Hashable) -> None:
        if check and shape not in shapes:
            shapes[shape] = data
        events.append(_event(data))
        slots.append(deltas)

    empty = {"input_tokens": usage["input_tokens"], "output_tokens": 0}
    opening = message_document(message_id, model, (), None, None, empty)
    add({"type": "message_start", "message": opening}, "message_start")
    add({"type": "ping"}, "ping")
    for index, block in enumerate(blocks):
        start = {"type": "content_block_start", "index": index, "content_block": block.opening()}
        add(start, ("start", block.kind))
        delta_type, key = _DELTA_KEYS[block.kind]
        head = f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":{index},'
        head += f'"delta":{{"type":"{delta_type}","{key}":'
        for piece in block.pieces:
            if check and ("delta", block.kind) not in shapes:
                delta = {"type": delta_type, key: piece}
                shapes["delta", block.kind] = {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": delta,
                }
            events.append(f"{head}{dumps(piece)}}}}}\n\n")
            slots.append(deltas)
            deltas += 1
            timed = len(events)
        add({"type": "content_block_stop", "index": index}, "stop")
    add(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
        "message_delta",
    )
    if check:
        schema = validator(EVENT_SCHEMA)
        for data in shapes.values():
            schema.check(data)
    return events, slots, timed
