"""Rules: a matcher plus an action (or a fault), tried in order against each turn.

These are values: the scripting API (``fake_server._script``) builds and checks them, the
engine picks them, the dialects encode what they say.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._turn import Turn

RouteName = Literal["chat", "completions", "embeddings", "models"]
ROUTE_NAMES: tuple[RouteName, ...] = ("chat", "completions", "embeddings", "models")
DEFAULT_STREAM_ERROR = (
    "Input does not fit in context length. The input has 31430 tokens, but the context "
    "length only supports 30000 tokens."
)

__all__ = [
    "DEFAULT_STREAM_ERROR",
    "FAULT_KINDS",
    "ROUTE_NAMES",
    "Action",
    "Fail",
    "Fault",
    "Matcher",
    "Raw",
    "Reply",
    "Respond",
    "RouteName",
    "Rule",
    "Stream",
]


# -- actions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """A normal answer: text and/or tool calls (chat, completions) or vectors (embeddings)."""

    content: str | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    finish_reason: str | None = None
    usage: Mapping[str, int] | None = None
    reasoning: str | None = None
    embeddings: tuple[tuple[float, ...], ...] | None = None
    #: ``reply(json=...)``: the value ``content`` is the JSON of, checked against the
    #: request's ``response_format`` schema when a request gets it
    json: Any = None
    has_json: bool = False


@dataclass(frozen=True)
class Stream:
    """A streamed answer: content pieces sent as SSE chunks, on a schedule, with faults."""

    chunks: tuple[str, ...]
    ttft: float = 0.0
    interval: float = 0.0
    finish_reason: str | None = None
    usage: Mapping[str, int] | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    jitter: float = 0.0
    drop_after: int | None = None
    stall_after: int | None = None
    error_after: int | None = None
    error_message: str = DEFAULT_STREAM_ERROR
    done: bool = True
    split_seed: int | None = None
    reasoning: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fail:
    """An error answer in the door's error form (or ``body`` as given)."""

    status: int
    message: str | None = None
    retry_after: float | None = None
    type: str | None = None
    code: str | None = None
    body: Any = None


@dataclass(frozen=True)
class Respond:
    """Any JSON body; checked against the route's schema unless ``validate=False``."""

    json: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    validate: bool = True


@dataclass(frozen=True)
class Raw:
    """Bytes sent as they are: the way to send a malformed answer on purpose."""

    body: bytes
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


Action = Reply | Stream | Fail | Respond | Raw

FaultKind = Literal[
    "hang", "drop", "reset_connection", "garbage", "malformed", "truncate", "slow_body"
]
FAULT_KINDS: tuple[str, ...] = (
    "hang", "drop", "reset_connection", "garbage", "malformed", "truncate", "slow_body",
)  # fmt: skip
#: Faults that replace the answer; the others deliver the answer badly.
CONNECTION_FAULTS = frozenset({"hang", "drop", "reset_connection", "garbage"})


@dataclass(frozen=True)
class Fault:
    """How the answer goes wrong on the wire (see ``RouteScript.hang`` and friends)."""

    kind: FaultKind
    size: int = 64
    after_bytes: int = 0
    bytes_per_second: float = 0.0

    @property
    def replaces_answer(self) -> bool:
        return self.kind in CONNECTION_FAULTS


# -- matching -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Matcher:
    """Which turns a rule answers. Every given condition must hold."""

    model: str | None = None
    contains: str | None = None
    stream: bool | None = None
    api: str | None = None

    def matches(self, turn: Turn) -> bool:
        if self.api is not None and self.api != turn.api:
            return False
        if (
            self.model is not None
            and self.model != turn.requested_model
            and self.model != turn.model_id
        ):
            return False
        if self.stream is not None and turn.stream != self.stream:
            return False
        return self.contains is None or self.contains in turn.text

    def describe(self) -> str:
        parts = [f"{k}={v!r}" for k, v in vars(self).items() if v is not None]
        return f".when({', '.join(parts)})" if parts else ""


_rule_ids = itertools.count(1)


@dataclass(eq=False)
class Rule:
    """One scripted answer. ``calls`` counts the requests it answered."""

    route: RouteName
    matcher: Matcher
    action: Action | None  # None: the default answer
    times: int | None = None
    fault: Fault | None = None
    delay: float = 0.0
    calls: int = 0
    origin: str = ""
    call_text: str = ""
    id: int = field(default_factory=lambda: next(_rule_ids))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.calls >= self.times

    def describe(self) -> str:
        times = f" times={self.times}" if self.times is not None else ""
        where = f" (scripted at {self.origin})" if self.origin else ""
        return f"fake.{self.route}{self.matcher.describe()}.{self.call_text}{times}{where}"

    def __repr__(self) -> str:
        return f"<Rule #{self.id} {self.describe()} calls={self.calls}>"
