"""The Anthropic-compatible door's handler: a request in, the engine's answer out as an
Anthropic message, its event stream, or an error in Anthropic's envelope."""

from __future__ import annotations

import json
import math
from typing import Any

from ..._content import count_tokens, cut_pieces, first_stop
from ..._schemas import validator
from ...engine import (
    Answer,
    ContextOverflow,
    Decision,
    Fail,
    ModelLoading,
    ModelRefused,
    Raw,
    Reply,
    Respond,
    State,
    Stream,
    ToolCall,
    compose,
)
from .._base import ApiAnswer, Call, ErrorForms, JsonOut, Out, RawOut, SseOut, fault_out
from .._checks import checked
from ..openai import (
    MSG_AUTH_INVALID,
    MSG_AUTH_MISSING,
    MSG_DOES_NOT_FIT,
    MSG_KEEP_FIRST,
    MSG_NO_MODELS,
    MSG_UNKNOWN_MODEL,
)
from ..openai_shapes import default_fail_message, fail_headers, split_arguments
from ..system import unexpected
from ._requests import check_request, turn_of
from ._shapes import (
    ERROR_SCHEMA,
    MESSAGE_SCHEMA,
    MESSAGE_STOP,
    STOP_REASONS,
    Block,
    error_body,
    error_event,
    error_type,
    message_document,
    seeded_id,
    stream_events,
)

API = "messages"
PATH = "/v1/messages"
#: The header Anthropic's clients put the API key in (besides ``Authorization: Bearer``).
TOKEN_HEADER = "x-api-key"

__all__ = ["API", "ERRORS", "PATH", "TOKEN_HEADER", "encode", "handle", "scripted"]


def _unauthorized(state: State, wrong: bool) -> Any:
    return error_body("authentication_error", MSG_AUTH_INVALID if wrong else MSG_AUTH_MISSING)


def _bad_body(state: State, message: str) -> Any:
    return error_body("invalid_request_error", message)


#: How this door words the errors the shell answers (a body that is not JSON, auth).
ERRORS = ErrorForms(bad_body=_bad_body, unauthorized=_unauthorized)


async def handle(call: Call) -> Out:
    """``POST /v1/messages`` (LM Studio 0.4.1+; before, the catch-all answers)."""
    state, body = call.state, call.json
    if not state.profile.messages_api:
        return await unexpected(call)
    check_request(body, state)
    call.entry.stream = bool(body.get("stream"))
    turn = turn_of(body, API)
    try:
        decision = await call.engine.decide(turn, state, call.entry)
    except ModelRefused as refused:
        raise _refusal(refused) from None
    except ModelLoading as loading:
        raise _loading(loading) from None
    except ContextOverflow as overflow:
        raise _overflow(overflow, state) from None
    return encode(decision, state)


def encode(decision: Decision, state: State, *, strict: bool = False) -> Out:
    """The wire answer to a decision: the fault, the scripted body, or the message (JSON or
    events). ``strict`` checks every document (a rule being scripted)."""
    replaced = fault_out(decision)
    if replaced is not None:
        return replaced
    action = decision.action
    if isinstance(action, (Fail, Respond, Raw)):
        return scripted(action)
    answer = compose(decision, state.seed, 0)
    out = _message(decision, answer, state, strict)
    out.fault = decision.fault
    return out


def scripted(action: Fail | Respond | Raw) -> JsonOut | RawOut:
    """A scripted answer: bytes or JSON as given, or a failure in Anthropic's envelope."""
    if isinstance(action, Raw):
        return RawOut(action.status, action.body, action.content_type, action.headers)
    if isinstance(action, Respond):
        return JsonOut(action.status, action.json, action.headers)
    body = action.body
    if body is None:
        message = action.message or default_fail_message(action.status)
        body = error_body(action.type or error_type(action.status), message)
    return JsonOut(action.status, body, fail_headers(action))


# -- errors -------------------------------------------------------------------------------
def _refusal(refused: ModelRefused) -> ApiAnswer:
    resolution = refused.resolution
    if resolution.outcome == "no_models_loaded":
        return ApiAnswer(400, error_body("invalid_request_error", MSG_NO_MODELS))
    if resolution.outcome == "wrong_type":
        assert resolution.model is not None
        message = (
            f'Model "{resolution.model.id}" is an embedding model and cannot be used for messages.'
        )
        return ApiAnswer(400, error_body("invalid_request_error", message))
    valid = ", ".join(resolution.valid) or "none downloaded"
    message = MSG_UNKNOWN_MODEL.format(model=refused.requested, valid=valid)
    return ApiAnswer(404, error_body("not_found_error", message))


def _loading(loading: ModelLoading) -> ApiAnswer:
    """``while_loading="503"``: a 503 with ``Retry-After``, the seconds the load has left."""
    seconds = max(1, math.ceil(loading.left))
    message = f'Model "{loading.model.id}" is loading. Try again in {seconds} seconds.'
    return ApiAnswer(503, error_body("overloaded_error", message), {"Retry-After": str(seconds)})


def _overflow(overflow: ContextOverflow, state: State) -> ApiAnswer:
    """A prompt too long for the loaded context: a 400 before any event, streamed or not
    (this door answers errors it knows before the stream as HTTP errors)."""
    words = MSG_KEEP_FIRST if state.profile.context_error == "keep_first" else MSG_DOES_NOT_FIT
    message = words.format(tokens=overflow.tokens, context=overflow.context)
    return ApiAnswer(400, error_body("invalid_request_error", message))


# -- the message --------------------------------------------------------------------------
def _message(decision: Decision, answer: Answer, state: State, strict: bool) -> Out:
    model = decision.model
    assert model is not None
    blocks, stop_reason, stop_sequence, output_tokens = _blocks(decision, answer)
    message_id = seeded_id("msg_", answer.src.completion_id(""))
    usage = {"input_tokens": answer.usage["prompt_tokens"], "output_tokens": output_tokens}
    if decision.turn.stream:
        check = state.validate or strict
        events, slots, timed = stream_events(
            message_id, model.id, blocks, stop_reason, stop_sequence, usage, check
        )
        plan = answer.plan
        if strict and plan is not None and plan.error_after is not None:
            error_event(plan.error_message, True)

        def error(message: str) -> str:
            return error_event(message, check)

        return SseOut(events, timed, plan, error, MESSAGE_STOP, slots=slots)
    document = message_document(message_id, model.id, blocks, stop_reason, stop_sequence, usage)
    shape = ("messages", tuple(b.kind for b in blocks), stop_reason, stop_sequence is None)
    return checked(document, MESSAGE_SCHEMA, state, shape, strict)


def _blocks(decision: Decision, answer: Answer) -> tuple[list[Block], str, str | None, int]:
    """The answer's content blocks (thinking, text, tool uses), its stop reason and stop
    sequence, and its output tokens. A stop sequence in the text ends the answer there,
    as it ends LM Studio's generation: the text before it, no tool call after it."""
    content, pieces, calls = answer.content, list(answer.pieces), answer.tool_calls
    output = answer.usage["completion_tokens"]
    finish = answer.finish_reason
    stop_sequence = first_stop(content or "", (decision.turn.body or {}).get("stop_sequences"))
    if stop_sequence is not None:
        assert content is not None
        at = content.index(stop_sequence)
        removed = content[at:]
        content, pieces = content[:at], cut_pieces(pieces, at)
        usage = getattr(decision.action, "usage", None) or {}
        if "completion_tokens" not in usage:
            dropped = sum(count_tokens(c.arguments) for c in calls)
            output = max(0, output - count_tokens(removed) - dropped)
        calls = ()
        finish = "stop_sequence"
    blocks = []
    if answer.reasoning is not None:
        blocks.append(Block("thinking", answer.reasoning, tuple(answer.reasoning_pieces)))
    if content or not calls:
        blocks.append(Block("text", content or "", tuple(pieces)))
    for index, call in enumerate(calls):
        blocks.append(_tool_block(decision, call, index))
    return blocks, _stop_reason(decision, finish), stop_sequence, output


def _tool_block(decision: Decision, call: ToolCall, index: int) -> Block:
    try:
        parsed = json.loads(call.arguments)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) and decision.action is None:
        # A forced call's input generated from a schema no object fits: the request's fault.
        message = (
            f"request.tools: no object input fits the input_schema of tool {call.name!r} "
            "(the fake generates a forced tool call's input from it)"
        )
        raise ApiAnswer(400, error_body("invalid_request_error", message))
    if not isinstance(parsed, dict):
        raise ValueError(
            f"tool call {call.name!r}: its arguments must be a JSON object (a tool_use "
            f"block's input), got {call.arguments!r}"
        )
    action = decision.action
    given = None
    if isinstance(action, (Reply, Stream)) and index < len(action.tool_calls):
        given = action.tool_calls[index].get("id")
    tool_id = given or seeded_id("toolu_", f"{call.id}:{index}")
    pieces = tuple(split_arguments(call.arguments))
    return Block("tool_use", call.arguments, pieces, tool_id, call.name)


def _stop_reason(decision: Decision, finish: str) -> str:
    """Anthropic's stop reason; a default answer cut by the context's room rather than by
    ``max_tokens`` stopped at the model's context window."""
    if finish == "stop_sequence":
        return finish
    turn, room = decision.turn, decision.room
    if (
        finish == "length"
        and decision.action is None
        and room is not None
        and (turn.max_tokens is None or room < turn.max_tokens)
    ):
        return "model_context_window_exceeded"
    return STOP_REASONS.get(finish, "end_turn")


def check_scripted(action: Respond | Fail) -> list[str]:
    """What is wrong with a body scripted for this door (a ``respond()`` or a ``fail(body=)``
    narrowed to it): checked against the message or the error schema."""
    if isinstance(action, Respond):
        if not action.validate:
            return []
        name = ERROR_SCHEMA if action.status >= 400 else MESSAGE_SCHEMA
        document = action.json
    else:
        if action.body is None:
            return []
        name, document = ERROR_SCHEMA, action.body
    error = validator(name).first_error(document)
    return [] if error is None else [str(error)]
