"""A turn: what a request asks, whichever door it came through.

Dialects parse their wire format into a ``Turn``; the engine answers it (``_answer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

TurnKind = Literal["chat", "completions", "embeddings", "models"]

__all__ = ["ToolSpec", "Turn", "TurnKind"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the client offers the model: its name and JSON-Schema parameters."""

    name: str
    parameters: Any = None


class Turn(NamedTuple):
    """One request, normalised.

    ``texts`` are what a ``contains=`` rule searches (message texts, prompts, inputs);
    ``body`` is the request as its door received it: the default content is seeded from it,
    so the same request gets the same answer. ``forced_tool`` is the tool a default answer
    must call (``tool_choice`` required or named), ``output_schema`` the schema a structured
    answer must fit. ``reasoning`` is the setting the request asks for (``"off"``: a reasoning
    model's default answer has none); ``context_length`` the context a JIT load by this turn
    gives the model.

    A named tuple, not a frozen dataclass: as immutable, and built at a fifth of the cost
    (a frozen dataclass sets each field through ``object.__setattr__``), once or twice a
    request.
    """

    kind: TurnKind
    api: str
    body: Mapping[str, Any] | None = None
    requested_model: str | None = None
    model_id: str | None = None
    stream: bool = False
    texts: tuple[str, ...] = ()
    prompt_tokens: int = 0
    max_tokens: int | None = None
    tools: tuple[ToolSpec, ...] = ()
    forced_tool: ToolSpec | None = None
    output_schema: Mapping[str, Any] | None = None
    inputs: tuple[str, ...] = ()
    dimensions: int | None = None
    ttl: Any = None
    reasoning: str | None = None
    context_length: int | None = None

    def resolved(self, model_id: str) -> Turn:
        """This turn with its model resolved to ``model_id``."""
        # Not _replace(), which goes through a dict of keywords: once a request, a third of
        # the cost this way.
        return tuple.__new__(Turn, (*self[:_MODEL_ID], model_id, *self[_MODEL_ID + 1 :]))

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


_MODEL_ID = Turn._fields.index("model_id")
