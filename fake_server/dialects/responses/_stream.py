"""The Responses door's event stream: the whole lifecycle the openai SDK's stream helpers,
the Agents SDK and Codex read.

``response.created``, ``response.in_progress``; for each output item
``response.output_item.added``, its content (``content_part.added``, ``output_text.delta``...,
``output_text.done``, ``content_part.done`` for a message; ``reasoning_text.delta``...,
``reasoning_text.done`` for reasoning; ``function_call_arguments.delta``..., ``.done`` for a
function call) and ``response.output_item.done``; then ``response.completed`` (or
``response.incomplete``). Every event has an ``event:`` line equal to its ``type``, ``type``
first in its JSON and a ``sequence_number`` counting from 0. No ``data: [DONE]``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from ..._json import dumps
from ..._schemas import validator
from ...engine import Answer
from ..openai_shapes import split_arguments
from ._shapes import EVENT_SCHEMA, output_text

Event = dict[str, Any]

__all__ = ["Event", "check_events", "item_events", "sse", "terminal_type"]

#: (profile, shape) pairs of events already seen valid: events of one shape differ only in
#: strings and numbers the code makes with fixed types.
_VALID_SHAPES: set[Hashable] = set()


def sse(event: Mapping[str, Any]) -> str:
    """One whole SSE event: its ``event:`` line (the type) and its JSON."""
    return f"event: {event['type']}\ndata: {dumps(event)}\n\n"


def terminal_type(status: str) -> str:
    return "response.incomplete" if status == "incomplete" else "response.completed"


def item_events(items: Sequence[Mapping[str, Any]], answer: Answer, first: int) -> list[Event]:
    """The events of each output item, numbered from ``first``."""
    events: list[Event] = []

    def add(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": first + len(events), **fields})

    for index, item in enumerate(items):
        kind, at = item["type"], {"item_id": item["id"], "output_index": index}
        if kind == "reasoning":
            added = {**item, "content": []}
            add("response.output_item.added", output_index=index, item=added)
            text = item["content"][0]["text"]
            for piece in answer.reasoning_pieces or [text]:
                add("response.reasoning_text.delta", **at, content_index=0, delta=piece)
            add("response.reasoning_text.done", **at, content_index=0, text=text)
        elif kind == "message":
            added = {**item, "status": "in_progress", "content": []}
            add("response.output_item.added", output_index=index, item=added)
            text = item["content"][0]["text"]
            add("response.content_part.added", **at, content_index=0, part=output_text(""))
            for piece in answer.pieces or [text]:
                add("response.output_text.delta", **at, content_index=0, delta=piece, logprobs=[])
            add("response.output_text.done", **at, content_index=0, text=text, logprobs=[])
            add("response.content_part.done", **at, content_index=0, part=output_text(text))
        else:
            added = {**item, "status": "in_progress", "arguments": ""}
            add("response.output_item.added", output_index=index, item=added)
            arguments = item["arguments"]
            for fragment in split_arguments(arguments):
                add("response.function_call_arguments.delta", **at, delta=fragment)
            add(
                "response.function_call_arguments.done",
                **at,
                name=item["name"],
                arguments=arguments,
            )
        add("response.output_item.done", output_index=index, item=dict(item))
    return events


def _shape(event: Mapping[str, Any]) -> Hashable:
    """What tells two events apart but for their strings and numbers."""
    item = event.get("item")
    response = event.get("response")
    if isinstance(item, Mapping):
        return (event["type"], item.get("type"), item.get("status"), len(item.get("content", ())))
    if isinstance(response, Mapping):
        return (
            event["type"],
            response["status"],
            tuple((i["type"], i.get("status")) for i in response["output"]),
            tuple(sorted(response)),
        )
    return (event["type"],)


def check_events(events: Sequence[Mapping[str, Any]], profile: str, strict: bool) -> None:
    """Check one event of each shape (every event when ``strict``: a rule being scripted)."""
    check = validator(EVENT_SCHEMA)
    for event in events:
        key = (profile, _shape(event))
        if not strict and key in _VALID_SHAPES:
            continue
        check.check(event)
        _VALID_SHAPES.add(key)


def failed_event(
    skeleton: Callable[[str, Mapping[str, str]], dict[str, Any]],
    code: str,
    sequence_number: int,
) -> Callable[[str], Event]:
    """The ``response.failed`` event a stream ends with when it fails after it started."""

    def event(message: str) -> Event:
        response = skeleton("failed", {"code": code, "message": message})
        return {"type": "response.failed", "sequence_number": sequence_number, "response": response}

    return event
