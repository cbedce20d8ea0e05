"""An answer: what the model says to a turn, in no wire format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .._content import ContentSource
from ._rules import Stream

__all__ = ["Answer", "ToolCall"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call in no wire format: each dialect encodes it its own way."""

    id: str
    name: str
    arguments: str


class Answer(NamedTuple):
    """What the model says: text (cut into ``pieces`` for streaming), reasoning, tool calls,
    why it stopped, the token counts; ``plan`` times a scripted stream and carries its faults;
    ``src`` and ``created`` give the ids and the timestamp. A named tuple, like ``Turn``: made
    once a request, and never changed."""

    content: str | None
    pieces: list[str]
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    usage: dict[str, int]
    src: ContentSource
    created: int
    reasoning: str | None = None
    plan: Stream | None = None
    #: the reasoning cut into stream pieces (sent before the content's)
    reasoning_pieces: Sequence[str] = ()
