"""``POST /v1/responses``: the handler, the encoder (shared with the scripting-time check) and
the stored responses ``previous_response_id`` continues."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..._catalog import Model
from ..._json import dumps
from ..._schemas import validator
from ...engine import (
    ContextOverflow,
    Decision,
    Fail,
    ModelLoading,
    ModelRefused,
    Raw,
    Respond,
    Rule,
    State,
    StoredResponse,
    Stream,
    Turn,
    compose,
)
from .._base import ApiAnswer, Call, Out, Route, SseOut, fault_out
from .._checks import checked
from ..openai import (
    ERROR_SCHEMA,
    ERRORS,
    MSG_DOES_NOT_FIT,
    MSG_KEEP_FIRST,
    MSG_NO_MODELS,
    MSG_UNKNOWN_MODEL,
    scripted,
)
from ..openai_shapes import SHAPES, error_object, fail_body
from ..system import unexpected
from ._requests import API, check_request, conversation, invalid, turn_of
from ._shapes import (
    RESPONSE_SCHEMA,
    incomplete,
    output_items,
    response_document,
    response_id,
    usage_of,
)
from ._stream import Event, check_events, failed_event, item_events, sse, terminal_type

PATH = "/v1/responses"
MSG_PREVIOUS_NOT_FOUND = "Previous response with id '{id}' not found."

__all__ = ["Encoded", "encode", "handle", "preview", "routes"]


@dataclass(slots=True)
class Encoded:
    """A wire answer, and what to store of it (None: nothing, it is no generated answer)."""

    out: Out
    response_id: str | None = None
    items: list[dict[str, Any]] | None = None


async def handle(call: Call) -> Out:
    state = call.state
    if not state.profile.responses:  # before 0.3.29: LM Studio's catch-all answers
        return await unexpected(call)
    body = call.json
    check_request(body, state)
    assert isinstance(body, dict)
    call.entry.stream = bool(body.get("stream"))
    previous = body.get("previous_response_id")
    history: list[Any] = []
    if isinstance(previous, str):
        with call.engine.lock:
            chain = state.responses.chain(previous)
            if chain is not None:
                history = state.responses.items(chain)
        if chain is None:
            message = MSG_PREVIOUS_NOT_FOUND.format(id=previous)
            raise invalid(message, "previous_response_id", "previous_response_not_found")
    turn = turn_of(body, history, state)
    try:
        decision = await call.engine.decide(turn, state, call.entry)
    except ModelRefused as refused:
        raise ApiAnswer(400, _refusal(refused, state)) from None
    except ModelLoading as loading:
        raise _loading(loading) from None
    except ContextOverflow as overflow:
        return _overflow(overflow, call, turn)
    with call.engine.lock:
        number = state.responses.next_number()
    encoded = encode(decision, state, number)
    if (
        encoded.items is not None
        and encoded.response_id is not None
        and body.get("store") is not False
    ):
        items = (*conversation(body), *encoded.items)
        size = len(call.raw) + sum(len(dumps(item)) for item in encoded.items)
        node = StoredResponse(encoded.response_id, previous, items, size)

        def keep() -> None:
            with call.engine.lock:
                state.responses.put(node)

        if isinstance(encoded.out, SseOut):
            encoded.out.on_done = keep  # stored once response.completed is sent
        else:
            keep()
    return encoded.out


def encode(decision: Decision, state: State, number: int, *, strict: bool = False) -> Encoded:
    """The wire answer to a decision: the fault, the scripted body, or the response (JSON or
    its event stream). ``strict`` checks every document (a rule being scripted)."""
    replaced = fault_out(decision)
    if replaced is not None:
        return Encoded(replaced)
    action = decision.action
    if isinstance(action, (Fail, Respond, Raw)):
        return Encoded(scripted(action))
    turn, model = decision.turn, decision.model
    assert model is not None
    created = 0 if strict else int(state.clock())
    answer = compose(decision, state.seed, created)
    rid = response_id(state.seed, number, answer)
    items = output_items(answer, rid)
    status = "incomplete" if incomplete(answer) else "completed"
    body: Mapping[str, Any] = turn.body or {}

    def skeleton(status: str, error: Mapping[str, str] | None = None) -> dict[str, Any]:
        return response_document(
            state=state,
            body=body,
            response=rid,
            created=created,
            completed=None,
            status=status,
            model=model.id,
            items=(),
            usage=None,
            error=error,
        )

    final = response_document(
        state=state,
        body=body,
        response=rid,
        created=created,
        completed=created,
        status=status,
        model=model.id,
        items=items,
        usage=usage_of(answer),
    )
    if not turn.stream:
        kinds = tuple((item["type"], item.get("status")) for item in items)
        shape = ("response", state.profile.name, status, kinds, tuple(final))
        out: Out = checked(final, RESPONSE_SCHEMA, state, shape, strict)
        out.fault = decision.fault
        return Encoded(out, rid, items)
    start = skeleton("in_progress")
    events: list[Event] = [
        {"type": "response.created", "sequence_number": 0, "response": start},
        {"type": "response.in_progress", "sequence_number": 1, "response": start},
        *item_events(items, answer, 2),
    ]
    terminal = {"type": terminal_type(status), "sequence_number": len(events), "response": final}
    plan = answer.plan
    error_after = None if plan is None else plan.error_after
    failed = failed_event(
        skeleton, "server_error", len(events) if error_after is None else error_after
    )
    if state.validate or strict:
        check_events([*events, terminal], state.profile.name, strict)
    if strict and plan is not None and error_after is not None:
        check_events([failed(plan.error_message)], state.profile.name, strict)

    def error_event(message: str) -> str:
        event = failed(message)
        if state.validate:
            check_events([event], state.profile.name, False)
        return sse(event)

    sse_out = SseOut([sse(e) for e in events], len(events), plan, error_event, sse(terminal))
    sse_out.fault = decision.fault
    return Encoded(sse_out, rid, items)


def _refusal(refused: ModelRefused, state: State) -> Any:
    resolution = refused.resolution
    shapes = SHAPES[state.profile.name]
    if resolution.outcome == "no_models_loaded":
        return shapes.error_string(MSG_NO_MODELS, param="model")
    if resolution.outcome == "wrong_type":
        assert resolution.model is not None
        message = (
            f'Model "{resolution.model.id}" is an embedding model and cannot be used for responses.'
        )
        return shapes.error_string(message, param="model")
    valid = ", ".join(resolution.valid) or "none downloaded"
    message = MSG_UNKNOWN_MODEL.format(model=refused.requested, valid=valid)
    return error_object(message, "invalid_request_error", "model", "model_not_found")


def _loading(loading: ModelLoading) -> ApiAnswer:
    """``while_loading="503"``: a 503 with ``Retry-After``, the seconds the load has left."""
    seconds = max(1, math.ceil(loading.left))
    message = f'Model "{loading.model.id}" is loading. Try again in {seconds} seconds.'
    return ApiAnswer(
        503,
        error_object(message, "server_error", "model", "model_loading"),
        {"Retry-After": str(seconds)},
    )


def _overflow(overflow: ContextOverflow, call: Call, turn: Turn) -> Out:
    """A prompt (with the chain it continues) too long for the loaded context: a 400 before
    the answer, or (0.4.21+, streamed) a stream that fails at once with
    ``context_length_exceeded`` (the code Codex maps to its context-window error)."""
    state = call.state
    profile = state.profile
    words = MSG_KEEP_FIRST if profile.context_error == "keep_first" else MSG_DOES_NOT_FIT
    message = words.format(tokens=overflow.tokens, context=overflow.context)
    if not (turn.stream and profile.overflow_as_stream_event):
        raise invalid(message, "input", "context_length_exceeded")
    with call.engine.lock:
        number = state.responses.next_number()
    rid = response_id(state.seed, number, None)
    created = int(state.clock())
    model = call.entry.model or str(turn.requested_model)

    def skeleton(status: str, error: Mapping[str, str] | None = None) -> dict[str, Any]:
        return response_document(
            state=state,
            body=turn.body or {},
            response=rid,
            created=created,
            completed=None,
            status=status,
            model=model,
            items=(),
            usage=None,
            error=error,
        )

    start = skeleton("in_progress")
    events: list[Event] = [
        {"type": "response.created", "sequence_number": 0, "response": start},
        {"type": "response.in_progress", "sequence_number": 1, "response": start},
    ]
    failed = failed_event(skeleton, "context_length_exceeded", len(events))
    if state.validate:
        check_events([*events, failed(message)], profile.name, False)
    plan = Stream((), error_after=len(events), error_message=message, done=False)
    return SseOut([sse(e) for e in events], len(events), plan, lambda m: sse(failed(m)), None)


def routes() -> list[Route]:
    return [Route("POST", PATH, handle, ERRORS, api=API, schema="responses/request.schema.json")]


# -- scripting-time checks ----------------------------------------------------------------
def preview(rule: Rule, state: State, model: Model) -> list[str]:
    """What is wrong with what ``rule`` would send through this door: the same encoder as a
    request, every document checked. A ``respond()`` body is checked as a response only when
    the rule is narrowed to this door (unnarrowed, it is another door's body)."""
    action = rule.action
    if action is None or isinstance(action, Raw):
        return []
    if isinstance(action, (Respond, Fail)):
        if isinstance(action, Respond) and (not action.validate or rule.matcher.api != API):
            return []
        document = action.json if isinstance(action, Respond) else fail_body(action)
        name = (
            RESPONSE_SCHEMA if isinstance(action, Respond) and action.status < 400 else ERROR_SCHEMA
        )
        error = validator(name).first_error(document)
        return [] if error is None else [str(error)]
    body = {"model": model.id, "input": ""}
    for stream in (False, True) if isinstance(action, Stream) else (False,):
        turn = Turn("chat", API, body, model.id, model.id, stream=stream)
        try:
            encode(Decision(turn, model, rule, action, None), state, 0, strict=True)
        except ValueError as exc:
            return [str(exc)]
    return []
