"""An answer: what the model says to a turn, in no wire format."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._content import ContentSource
from ._rules import Stream

__all__ = ["Answer", "ToolCall"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call in no wire format: each dialect encodes it its own way."""

    id: str
    name: str
    arguments: str


@dataclass(slots=True)
class Answer:
    """What the model says: text (cut into ``pieces`` for streaming), reasoning, tool calls,
    why it stopped, the token counts; ``plan`` times a scripted stream and carries its faults;
    ``src`` and ``created`` give the ids and the timestamp."""

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
    reasoning_pieces: list[str] = field(default_factory=list)
