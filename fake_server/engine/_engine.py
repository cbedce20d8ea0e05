"""The engine: turn -> answer.

It resolves the turn's model (the catalog's JIT rules), picks the first matching rule (rules
match on the turn, so one rule answers a chat turn through any door), applies chaos and
delays, and composes the answer: the scripted one, or the deterministic default.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from .._catalog import TEMPLATE_TOKENS_PER_MESSAGE, Model, Resolution
from .._content import (
    WORDS,
    ContentSource,
    count_tokens,
    embedding_vector,
    split_tokens,
)
from .._journal import Journal, RecordedRequest
from .._json import dumps
from .._schemas import mismatch
from ._answer import Answer, ToolCall
from ._loading import Loader
from ._rules import Action, Fault, Reply, Rule, Stream
from ._state import State
from ._turn import Turn

__all__ = [
    "ContextOverflow",
    "Decision",
    "Engine",
    "ModelRefused",
    "compose",
    "context_room",
    "limited_pieces",
    "vectors",
]


#: Errors inside the fake kept for ``check()``, and the length each is cut to.
MAX_ERRORS = 1000
MAX_ERROR_CHARS = 8000


class ContextOverflow(Exception):
    """The prompt needs more tokens than the model's loaded context holds."""

    def __init__(self, tokens: int, context: int) -> None:
        super().__init__(f"{tokens} > {context}")
        self.tokens = tokens
        self.context = context


class ModelRefused(Exception):
    """The turn's model cannot serve it (``resolution.outcome``: unknown, no_models_loaded,
    wrong_type); each door words it its own way."""

    def __init__(self, resolution: Resolution, requested: Any) -> None:
        super().__init__(resolution.outcome)
        self.resolution = resolution
        self.requested = requested


class Decision(NamedTuple):
    """What answers a turn: its model, the rule that matched (if any), the action to take
    (None: the default answer) and how the wire should misbehave (``fault``). A named tuple,
    like ``Turn``: immutable, and cheap to build once a request."""

    turn: Turn
    model: Model | None
    rule: Rule | None
    action: Action | None
    fault: Fault | None
    #: the tokens the context has left for the answer (None: no limit known)
    room: int | None = None
    #: this request waited for the model to load (JIT)
    loaded: bool = False


class Engine:
    """One fake's state, journal and recorded errors, and the turn -> answer logic.

    Thread-safe: scripting happens in the test's thread, answering in the server's loop;
    ``lock`` guards the catalog and the rules.
    """

    def __init__(
        self,
        initial: State,
        journal: Journal,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.initial = initial
        self.state = initial.copy()
        self.journal = journal
        self.loader = Loader(self.lock)
        self._errors: list[str] = []
        self.errors_dropped = 0
        self._on_request = on_request

    # -- state, errors, journal -----------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.state = self.initial.copy()
            self._errors.clear()
            self.errors_dropped = 0
        self.journal.clear()

    @property
    def errors(self) -> list[str]:
        with self.lock:
            return list(self._errors)

    def record_error(self, text: str) -> None:
        """Keep an error inside the fake for ``check()``: the first ``MAX_ERRORS``, each cut
        to ``MAX_ERROR_CHARS`` (a flood of one failure must not grow without bound)."""
        if len(text) > MAX_ERROR_CHARS:
            text = text[:MAX_ERROR_CHARS] + f"... ({len(text) - MAX_ERROR_CHARS} more characters)"
        with self.lock:
            if len(self._errors) < MAX_ERRORS:
                self._errors.append(text)
            else:
                self.errors_dropped += 1

    def request_done(self, entry: RecordedRequest) -> None:
        if self._on_request is not None:
            try:
                self._on_request(entry)
            except Exception as exc:
                self.record_error(f"on_request callback failed: {exc!r}")

    def add_rule(self, rule: Rule) -> None:
        with self.lock:
            self.state.rules.append(rule)

    def unused_rules(self) -> list[Rule]:
        """Rules given ``times=n`` that answered fewer than n requests."""
        with self.lock:
            return [r for r in self.state.rules if r.times is not None and r.calls < r.times]

    # -- deciding -------------------------------------------------------------------------
    def pick_rule(self, turn: Turn, state: State) -> Rule | None:
        with self.lock:
            for rule in state.rules:
                if rule.route == turn.kind and not rule.exhausted and rule.matcher.matches(turn):
                    rule.calls += 1
                    return rule
        return None

    def resolve(self, turn: Turn, state: State) -> Resolution:
        """The turn's model by LM Studio's rules; ``ModelRefused`` when none serves it."""
        purpose = "embeddings" if turn.kind == "embeddings" else turn.kind
        with self.lock:
            state.catalog.expire(state.clock())
            resolution = state.catalog.resolve(
                turn.requested_model,
                "chat" if purpose == "models" else purpose,
                jit=state.jit,
                single_loaded_fallback=state.single_loaded_fallback,
            )
        if resolution.outcome != "ok":
            raise ModelRefused(resolution, turn.requested_model)
        return resolution

    async def decide(self, turn: Turn, state: State, entry: RecordedRequest) -> Decision:
        """Resolve and load the model, pick the rule (or chaos), wait out its delay.

        The journal entry learns the model and the rule as soon as they are known, so a test
        reading ``fake.requests`` while the answer is delayed sees them.
        """
        model: Model | None = None
        loaded = False
        if turn.kind != "models":
            resolution = self.resolve(turn, state)
            model = resolution.model
            assert model is not None
            entry.model = model.id
            turn = turn.resolved(model.id)
            if resolution.needs_load:
                await self.loader.ensure_loaded(model, state, turn.ttl, turn.context_length)
                loaded = True
            with self.lock:
                model.last_used = state.clock()
        room = None if model is None else context_room(turn, model)
        rule = self.pick_rule(turn, state)
        entry.rule = rule
        action, fault, delay = (rule.action, rule.fault, rule.delay) if rule else (None, None, 0.0)
        if rule is None and state.chaos is not None:
            with self.lock:
                picked = state.chaos.pick(turn.kind)
            if picked is not None:
                action, fault, delay, entry.fault = picked
        if isinstance(action, Reply) and action.has_json and turn.output_schema is not None:
            why = mismatch(turn.output_schema, action.json)
            if why is not None and rule is not None:
                self.record_error(
                    f"{rule.describe()}: its json does not fit the request's "
                    f"response_format schema: {why}"
                )
        if delay:
            await asyncio.sleep(delay)
        return Decision(turn, model, rule, action, fault, room, loaded)


def context_room(turn: Turn, model: Model) -> int | None:
    """The tokens the model's context leaves for the answer to ``turn``; ``ContextOverflow``
    when the prompt alone does not fit. A chat prompt counts its messages' tokens, the tools'
    and the chat template's (``TEMPLATE_TOKENS_PER_MESSAGE`` a message)."""
    if turn.kind not in ("chat", "completions"):
        return None
    needed = turn.prompt_tokens
    if turn.kind == "chat":
        needed += TEMPLATE_TOKENS_PER_MESSAGE * len(turn.texts)
    context = model.context_length
    if needed > context:
        raise ContextOverflow(needed, context)
    return context - needed


def compose(decision: Decision, seed: int, created: int) -> Answer:
    """The answer to a chat or text-completion turn: the rule's, else the default (seeded by
    ``seed`` and the request). A default answer fits the token limit and the context left:
    a reasoning model's reasoning first, then the content; cut short, it finishes with
    ``length``."""
    turn, action, model = decision.turn, decision.action, decision.model
    src = ContentSource(seed, turn.body or {})
    reasoning: str | None = None
    reasoning_pieces: list[str] = []
    plan: Stream | None = None
    calls: tuple[ToolCall, ...] = ()
    if isinstance(action, Reply):
        calls = tuple(_tool_call(c, src) for c in action.tool_calls)
        content = action.content
        pieces = split_tokens(content) if content else []
        finish = action.finish_reason or ("tool_calls" if calls else "stop")
        reasoning = action.reasoning
        reasoning_pieces = split_tokens(reasoning) if reasoning else []
    elif isinstance(action, Stream):
        calls = tuple(_tool_call(c, src) for c in action.tool_calls)
        content = "".join(action.chunks) if action.chunks else None
        pieces = list(action.chunks)
        finish = action.finish_reason or ("tool_calls" if calls else "stop")
        reasoning_pieces = list(action.reasoning)
        reasoning = "".join(reasoning_pieces) or None
        plan = action
    elif turn.forced_tool is not None:
        arguments = tool_arguments(turn.forced_tool.parameters, src)
        calls = (ToolCall(src.tool_call_id(), turn.forced_tool.name, dumps(arguments)),)
        content, pieces, finish = None, [], "tool_calls"
    else:
        limit = _smallest(turn.max_tokens, decision.room)
        if turn.output_schema is not None:  # grammar-constrained: JSON that fits
            # Loaded by the first structured request (a suite may never send one).
            from .._schema_json import generate

            pieces = split_tokens(dumps(generate(turn.output_schema, src.rng, WORDS)))
        else:
            pieces = src.sentence_pieces()
        thinks = model is not None and model.reasoning and turn.reasoning != "off"
        if thinks and turn.kind == "chat":
            reasoning_pieces, cut = _first(src.sentence_pieces(), limit)
            reasoning = "".join(reasoning_pieces)
            limit = None if limit is None else limit - len(reasoning_pieces)
        pieces, cut = _first(pieces, limit)
        content = "".join(pieces)
        finish = "length" if cut else "stop"
    if turn.kind == "completions":
        content = content or ""
        calls = ()
    usage = _usage(action, turn.prompt_tokens, content, calls, pieces, reasoning_pieces)
    return Answer(
        content, pieces, calls, finish, usage, src, created, reasoning, plan, reasoning_pieces
    )


def tool_arguments(parameters: Any, src: ContentSource) -> Any:
    """Arguments for a forced tool call: JSON that fits the tool's ``parameters`` (LM Studio
    constrains them with a grammar); for a schema outside the generator's subset, plausible
    values for its required properties."""
    if isinstance(parameters, dict):
        from .._schema_json import UnsupportedSchema, generate

        try:
            return generate(parameters, src.rng, WORDS)
        except UnsupportedSchema:
            pass
    return src.arguments_for(parameters)


def _smallest(*limits: int | None) -> int | None:
    given = [n for n in limits if n is not None]
    return min(given) if given else None


def vectors(decision: Decision, seed: int) -> list[list[float]]:
    """The vectors answering an embedding turn: scripted, else seeded unit vectors."""
    action, model, turn = decision.action, decision.model, decision.turn
    if isinstance(action, Reply) and action.embeddings is not None:
        return [list(v) for v in action.embeddings]
    assert model is not None
    dims = turn.dimensions
    size = (
        dims
        if isinstance(dims, int) and 0 < dims < model.embedding_dimensions
        else model.embedding_dimensions
    )
    return [embedding_vector(seed, model.id, t, size) for t in turn.inputs]


def limited_pieces(text: str, limit: int | None) -> tuple[list[str], bool]:
    """``text`` cut into tokens, at most ``limit`` of them; the flag says it was cut."""
    return _first(split_tokens(text), limit)


def _first(pieces: list[str], limit: int | None) -> tuple[list[str], bool]:
    """At most ``limit`` of ``pieces``; the flag says some were left out."""
    if limit is None or len(pieces) <= limit:
        return pieces, False
    return pieces[:limit], True


def _tool_call(call: dict[str, Any], src: ContentSource) -> ToolCall:
    return ToolCall(call["id"] or src.tool_call_id(), call["name"], call["arguments"])


def _usage(
    action: Action | None,
    prompt: int,
    content: str | None,
    calls: tuple[ToolCall, ...],
    pieces: list[str],
    reasoning_pieces: list[str],
) -> dict[str, int]:
    """Token counts: the answer's tokens are its content's, its tool calls' arguments' and
    its reasoning's (a reasoning model generates them all, as LM Studio counts)."""
    text = content or ""
    # The pieces of a reply or a default answer are its tokens; a scripted stream's are not.
    scripted_stream = isinstance(action, Stream)
    tokens = count_tokens(text) if scripted_stream else len(pieces)
    if text.isspace():
        tokens = 0
    thought = "".join(reasoning_pieces)
    tokens += count_tokens(thought) if scripted_stream else len(reasoning_pieces)
    completion = tokens + sum(count_tokens(c.arguments) for c in calls)
    given = getattr(action, "usage", None) or {}
    prompt = given.get("prompt_tokens", prompt)
    completion = given.get("completion_tokens", completion)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
