"""``POST /api/v1/chat``: LM Studio's stateful native chat.

A request is a user turn (``input``: text, or text and image items) with an optional
``system_prompt``, continuing a stored response (``previous_response_id``) or starting a
chain. The engine answers it like any chat turn (``fake.chat`` rules, JIT loading, the
context limit); the answer is listed as output items with ``stats``, or streamed as named
events from ``chat.start`` to ``chat.end``. Unless ``store`` is false the response is stored
and its ``response_id`` can be continued.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Hashable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ..._content import count_tokens
from ..._json import dumps
from ..._schemas import load_schema, part_validator, validator
from ...engine import (
    Answer,
    ContextOverflow,
    Decision,
    Exchange,
    Fail,
    ModelLoading,
    ModelRefused,
    Raw,
    Reply,
    Respond,
    Rule,
    State,
    Stream,
    Turn,
    compose,
)
from ...engine._conversations import Message
from .._base import Call, JsonOut, Out, SseOut, fault_out
from .._checks import checked
from ..openai import MSG_DOES_NOT_FIT, MSG_KEEP_FIRST
from ._errors import API, ERROR_SCHEMA, refuse
from ._models import reasoning_options
from ._shapes import (
    Event,
    Output,
    event_text,
    output_events,
    output_of,
    output_sent,
    partial_stats,
    scripted,
    stats_of,
)

CHAT_SCHEMA = "lmstudio-v1/chat.schema.json"
EVENT_SCHEMA = "lmstudio-v1/chat-event.schema.json"
MODELS_SCHEMA = "lmstudio-v1/model-list.schema.json"
#: What LM Studio 0.4.20 answers a system prompt sent again on a stored chain.
MSG_SYSTEM_AGAIN = "Only user, assistant and tool roles are supported, got system"

__all__ = ["chat", "preview"]

#: Event shapes already checked against the event schema (one of each is enough).
_CHECKED_EVENTS: set[Hashable] = set()


def _input_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item["content"] for item in value if item.get("type") in ("text", "message")]


def _history(call: Call, body: dict[str, Any]) -> tuple[list[Exchange], str | None]:
    """The stored chain this turn continues, and the system prompt it keeps."""
    previous = body.get("previous_response_id")
    if previous is None:
        return [], body.get("system_prompt")
    with call.engine.lock:
        chain = call.state.conversations.chain(previous)
    if chain is None:
        raise refuse(
            400,
            "invalid_request",
            f'Could not find a stored response with id "{previous}".',
            param="previous_response_id",
        )
    if "system_prompt" in body and call.state.profile.rest_v1_system_prompt_again_500:
        raise refuse(500, "internal_error", MSG_SYSTEM_AGAIN)
    return chain, chain[0].system_prompt


async def chat(call: Call, body: dict[str, Any]) -> Out:
    state = call.state
    chain, system = _history(call, body)
    earlier: list[Message] = [m for exchange in chain for m in exchange.messages]
    said: list[Message] = [("user", t) for t in _input_texts(body["input"])]
    texts = ([system] if system else []) + [text for _, text in [*earlier, *said]]
    turn = Turn(
        "chat",
        API,
        body,
        body["model"],
        stream=bool(body.get("stream")),
        texts=tuple(texts),
        prompt_tokens=sum(count_tokens(t) for t in texts),
        max_tokens=body.get("max_output_tokens"),
        reasoning=body.get("reasoning"),
        context_length=body.get("context_length"),
    )
    call.entry.stream = turn.stream
    try:
        _check_reasoning(call.engine.resolve(turn, state).model, turn.reasoning)
        decision = await call.engine.decide(turn, state, call.entry)
    except ModelRefused as refused:
        raise _refusal(refused, state) from None
    except ModelLoading as loading:
        seconds = max(1, math.ceil(loading.left))
        answer = refuse(
            503,
            "internal_error",
            f'Model "{loading.model.id}" is loading. Try again in {seconds} seconds.',
        )
        answer.headers["Retry-After"] = str(seconds)
        raise answer from None
    except ContextOverflow as overflow:
        return _overflow(overflow, turn, state)
    stored = Exchange("", chain[-1].id if chain else None, (*said,), system, "", API)
    store = body.get("store", True) is not False
    return encode(decision, state, stored, store, call.engine.lock)


def _check_reasoning(model: Any, setting: str | None) -> None:
    options = None if model is None or setting is None else reasoning_options(model)
    if options is not None and setting not in options[0]:
        raise refuse(
            400,
            "invalid_request",
            f"Reasoning setting '{setting}' is not supported by model \"{model.id}\". "
            f"Supported: {', '.join(options[0])}.",
            param="reasoning",
        )


def _refusal(refused: ModelRefused, state: State) -> Exception:
    resolution, requested = refused.resolution, refused.requested
    if resolution.outcome == "wrong_type":
        return refuse(
            400,
            "invalid_request",
            f'Model "{requested}" is an embedding model and cannot be used for chat.',
            param="model",
        )
    if state.catalog.get(str(requested)) is not None:  # JIT off, and not loaded
        return refuse(
            400,
            "invalid_request",
            f'Model "{requested}" is not loaded. Load it first (POST /api/v1/models/load).',
            param="model",
        )
    return refuse(404, "model_not_found", f'Model "{requested}" not found.')


def _overflow(overflow: ContextOverflow, turn: Turn, state: State) -> Out:
    """A prompt too long for the loaded context: a 400, or (0.4.21+, streamed) an error
    event after ``chat.start``, then ``chat.end`` with nothing produced."""
    profile = state.profile
    words = MSG_KEEP_FIRST if profile.context_error == "keep_first" else MSG_DOES_NOT_FIT
    message = words.format(tokens=overflow.tokens, context=overflow.context)
    if not (turn.stream and profile.overflow_as_stream_event):
        raise refuse(400, "invalid_request", message)
    instance = str(turn.requested_model)
    stats = {"input_tokens": overflow.tokens, "total_output_tokens": 0,
             "reasoning_output_tokens": 0, "tokens_per_second": 0,
             "time_to_first_token_seconds": 0}  # fmt: skip
    empty: dict[str, Any] = {"model_instance_id": instance, "output": [], "stats": stats}
    start = {"type": "chat.start", "model_instance_id": instance}
    error = {"type": "error", "error": {"message": message, "type": "invalid_request"}}
    end = {"type": "chat.end", "result": empty}
    if state.validate:
        _check_events([start, error, end], False)
    closing = event_text("error", error) + event_text("chat.end", end)
    plan = Stream((), error_after=1, error_message=message, done=False)
    return SseOut([event_text("chat.start", start)], 0, plan, lambda _: closing, None)


def _instance_id(decision: Decision) -> str:
    model, requested = decision.model, decision.turn.requested_model
    assert model is not None
    if isinstance(requested, str) and requested.startswith(f"{model.id}:"):
        return requested
    return model.instance_id(model.instances[0]) if model.instances else model.id


def _response_id(state: State, body: Any) -> str:
    number = state.conversations.count
    seen = f"{state.seed}\x00{number}\x00{dumps(body)}".encode()
    return "resp_" + hashlib.blake2b(seen, digest_size=24).hexdigest()


def encode(
    decision: Decision,
    state: State,
    stored: Exchange,
    store: bool,
    lock: AbstractContextManager[Any],
    *,
    strict: bool = False,
) -> Out:
    """The wire answer to a decision. ``stored`` is what the chain gains (the answer is added
    to it, under ``lock``); ``strict`` (a rule being scripted) checks every document and
    stores nothing."""
    replaced = fault_out(decision)
    if replaced is not None:
        return replaced
    action, turn = decision.action, decision.turn
    if isinstance(action, (Fail, Respond, Raw)):
        return scripted(action)
    model = decision.model
    assert model is not None
    answer = compose(decision, state.seed, 0)
    integrations = (turn.body or {}).get("integrations") or []
    output = output_of(answer, integrations)
    load_seconds = model.load_seconds if decision.loaded else None
    reasoning_tokens = count_tokens(answer.reasoning or "")
    stats = stats_of(answer.usage, reasoning_tokens, load_seconds)
    result: dict[str, Any] = {
        "model_instance_id": _instance_id(decision),
        "output": output.items(),
        "stats": stats,
    }
    plan = answer.plan if turn.stream else None
    broken = plan is not None and any(
        n is not None for n in (plan.drop_after, plan.stall_after, plan.error_after)
    )
    cut = decision.fault is not None and decision.fault.kind in ("truncate", "malformed")
    if store and not (broken or cut or strict):
        with_answer = stored.messages + (
            (("assistant", answer.content),) if answer.content is not None else ()
        )
        with lock:
            response_id = _response_id(state, turn.body)
            exchange = Exchange(
                response_id, stored.parent, with_answer, stored.system_prompt, model.id, API
            )
            state.conversations.add(exchange)
        result["response_id"] = response_id
    elif store and strict:
        result["response_id"] = "resp_" + "0" * 48
    if not turn.stream:
        out: Out = checked(result, CHAT_SCHEMA, state, _result_shape(result), strict)
    else:
        out = _stream(decision, answer, output, result, state, strict)
    out.fault = decision.fault
    return out


def _stream(
    decision: Decision,
    answer: Answer,
    output: Output,
    result: dict[str, Any],
    state: State,
    strict: bool,
) -> SseOut:
    model = decision.model
    assert model is not None
    instance = result["model_instance_id"]
    opening = [Event("chat.start", {"model_instance_id": instance})]
    if decision.loaded:
        opening += [
            Event("model_load.start", {"model_instance_id": instance}),
            Event("model_load.progress", {"model_instance_id": instance, "progress": 1}),
            Event(
                "model_load.end",
                {"model_instance_id": instance, "load_time_seconds": model.load_seconds},
            ),
        ]
    opening += [
        Event("prompt_processing.start"),
        Event("prompt_processing.progress", {"progress": 1}),
        Event("prompt_processing.end"),
    ]
    produced = output_events(output)
    events = opening + produced
    deltas = [i for i, e in enumerate(events) if e.type.endswith(".delta")]
    timed = deltas[-1] + 1 if deltas else len(opening)
    closing = {"type": "chat.end", "result": result}
    if state.validate or strict:
        _check_events([e.document for e in events] + [closing], strict)
    plan = answer.plan

    def error_event(message: str) -> str:
        sent = events[: plan.error_after] if plan and plan.error_after is not None else events
        partial = output_sent(sent)
        cut = {
            "model_instance_id": instance,
            "output": partial.items(),
            "stats": partial_stats(result["stats"], partial),
        }
        error = {"type": "error", "error": {"message": message, "type": "internal_error"}}
        if state.validate or strict:
            _check_events([error, {"type": "chat.end", "result": cut}], strict)
        return event_text("error", error) + event_text(
            "chat.end", {"type": "chat.end", "result": cut}
        )

    if strict and plan is not None and plan.error_after is not None:
        error_event(plan.error_message)
    texts = [event_text(e.type, e.document) for e in events]
    return SseOut(
        texts, timed, plan, error_event, event_text("chat.end", closing), lead=len(opening)
    )


def _result_shape(result: dict[str, Any]) -> Hashable:
    """What decides a result's structure: its keys, its items' kinds and keys, its stats."""
    items = tuple((i["type"], tuple(i), tuple(i.get("metadata", ()))) for i in result["output"])
    return ("result", tuple(result), items, tuple(result["stats"]))


def _event_shape(document: dict[str, Any]) -> Hashable:
    """What decides an event's structure (its strings aside)."""
    if document["type"] == "chat.end":
        return ("chat.end", _result_shape(document["result"]))
    return (
        document["type"],
        tuple((k, tuple(v) if isinstance(v, dict) else None) for k, v in document.items()),
    )


def _check_events(documents: Sequence[dict[str, Any]], strict: bool) -> None:
    """Check one event of each shape (events of one shape differ only in strings) against
    its type's definition: every shape when ``strict``, else each shape once per process."""
    known = load_schema(EVENT_SCHEMA)["$defs"]
    seen: set[Hashable] = set()
    for document in documents:
        shape = _event_shape(document)
        if shape in seen or (not strict and shape in _CHECKED_EVENTS):
            continue
        seen.add(shape)
        fits = document["type"] in known and part_validator(
            EVENT_SCHEMA, f"#/$defs/{document['type']}"
        )(document)
        if not fits:
            validator(EVENT_SCHEMA).check(document)  # names what is wrong
        if not strict:
            _CHECKED_EVENTS.add(shape)


# -- scripting-time checks ------------------------------------------------------------------
def preview(rule: Rule, state: State, model_id: str, model: Any) -> list[str]:
    """What is wrong with what ``rule`` would send through this door (every document
    checked). A ``respond()`` body or a ``fail(body=...)`` is checked here only when the rule
    is narrowed to this door: sent as it is, it fits one door's format at most."""
    action = rule.action
    if action is None or isinstance(action, Raw) or rule.route not in ("chat", "models"):
        return []
    narrowed = rule.matcher.api == API
    if isinstance(action, (Respond, Fail)):
        out = scripted(action)
        assert isinstance(out, JsonOut)
        custom = isinstance(action, Respond) or action.body is not None
        if (custom and not narrowed) or (isinstance(action, Respond) and not action.validate):
            return []
        schema = (
            ERROR_SCHEMA
            if out.status >= 400
            else (CHAT_SCHEMA if rule.route == "chat" else MODELS_SCHEMA)
        )
        error = validator(schema).first_error(out.document)
        return [] if error is None else [f"through {API}: {error}"]
    if rule.route != "chat" or not isinstance(action, (Reply, Stream)):
        return []
    body: dict[str, Any] = {"model": model_id, "input": "preview"}
    for stream in (False, True) if isinstance(action, Stream) else (False,):
        turn = Turn("chat", API, body, model_id, model_id, stream=stream)
        decision = Decision(turn, model, rule, action, None)
        try:
            empty = Exchange("", None, (), None, "", API)
            encode(decision, state, empty, True, contextlib.nullcontext(), strict=True)
        except ValueError as exc:
            return [f"through {API}: {exc}"]
    return []
