"""A turn: what a request asks, whichever door it came through.

Dialects parse their wire format into a ``Turn``; the engine answers it (``_answer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

TurnKind = Literal["chat", "completions", "embeddings", "models"]

__all__ = ["ToolSpec", "Turn", "TurnKind"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the client offers the model: its name and JSON-Schema parameters."""

    name: str
    parameters: Any = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One request, normalised.

    ``texts`` are what a ``contains=`` rule searches (message texts, prompts, inputs);
    ``body`` is the request as its door received it: the default content is seeded from it,
    so the same request gets the same answer. ``forced_tool`` is the tool a default answer
    must call (``tool_choice`` required or named), ``output_schema`` the schema a structured
    answer must fit. ``reasoning`` is the setting the request asks for (``"off"``: a reasoning
    model's default answer has none); ``context_length`` the context a JIT load by this turn
    gives the model.
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
        """This turn with its model resolved to ``model_id``: ``replace(turn, model_id=...)``
        at half the cost (``replace`` looks every field up by name), once a request."""
        return Turn(
            self.kind,
            self.api,
            self.body,
            self.requested_model,
            model_id,
            self.stream,
            self.texts,
            self.prompt_tokens,
            self.max_tokens,
            self.tools,
            self.forced_tool,
            self.output_schema,
            self.inputs,
            self.dimensions,
            self.ttl,
            self.reasoning,
            self.context_length,
        )

    @property
    def text(self) -> str:
        return "\n".join(self.texts)
