"""The OpenAI-compatible door, ``/v1``: chat, completions, embeddings and the model list.

``/api/v0`` (``rest_v0``) answers the same requests with LM Studio's extra fields: the
handlers here take ``native`` for that.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from .._catalog import Model
from .._content import encode_base64
from .._json import dumps
from .._schemas import validator
from ..engine import (
    Answer,
    ContextOverflow,
    Decision,
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
    TurnKind,
    compose,
    vectors,
)
from ._base import (
    ApiAnswer,
    Call,
    ErrorForms,
    Handler,
    JsonOut,
    Out,
    RawOut,
    Route,
    SseOut,
    fault_out,
)
from ._checks import checked
from .openai_requests import REQUEST_SCHEMAS, check_request, include_usage, turn_of
from .openai_shapes import (
    SHAPES,
    ChatMessage,
    chat_frames_and_shapes,
    check_frames,
    error_object,
    fail_body,
    fail_headers,
    wire_tool_call,
)

API = "openai"
MSG_NO_MODELS = (
    "No models loaded. Please load a model in the developer page or use the 'lms load' command."
)
MSG_UNKNOWN_MODEL = (
    'Invalid model identifier "{model}". Please specify a valid downloaded model (e.g., {valid}).'
)
#: Before 0.3.31 an unknown model was a 404 that listed the models.
MSG_MODEL_NOT_FOUND_OLD = (
    'Model "{model}" not found. Please specify a valid model.\n\nYour models:\n\n{models}'
)
MSG_DOES_NOT_FIT = (
    "Input does not fit in context length. The input has {tokens} tokens, but the context "
    "length only supports {context} tokens."
)
MSG_KEEP_FIRST = (
    "Trying to keep the first {tokens} tokens when context the overflows. However, the model "
    "is loaded with context length of only {context} tokens, which is not enough. Try to load "
    "the model with a larger context length, or provide a shorter input"
)
MSG_AUTH_MISSING = (
    "An LM Studio API token is required to make requests to this server, but none was provided "
    "using the Authorization header using the 'Bearer' scheme (i.e., 'Authorization: Bearer "
    "$LM_API_TOKEN'). Learn more at: https://lmstudio.ai/docs/developer/core/authentication."
)
MSG_AUTH_INVALID = (
    "The LM Studio API token provided in the Authorization header is not valid for this server. "
    "Learn more at: https://lmstudio.ai/docs/developer/core/authentication."
)
ERROR_SCHEMA = "lmstudio/error.schema.json"
STREAM_ERROR_SCHEMA = "lmstudio/stream-error.schema.json"
DONE_EVENT = "data: [DONE]\n\n"
USE = {"chat": "chat completions", "completions": "completions", "embeddings": "embeddings"}

__all__ = ["API", "ERRORS", "MSG_AUTH_INVALID", "MSG_AUTH_MISSING", "preview", "routes"]


def response_schema(kind: TurnKind, native: bool) -> str:
    if kind == "chat":
        return (
            "lmstudio/chat-completion.schema.json"
            if native
            else "openai/chat-completion.schema.json"
        )
    if kind == "completions":
        return "lmstudio/completion.schema.json" if native else "openai/completion.schema.json"
    if kind == "embeddings":
        return "openai/embedding-list.schema.json"
    return "lmstudio/model-list.schema.json" if native else "openai/model-list.schema.json"


def _unauthorized(state: State, wrong: bool) -> Any:
    message = MSG_AUTH_INVALID if wrong else MSG_AUTH_MISSING
    if state.profile.strict_openai:
        return error_object(message, "invalid_request_error", None, "invalid_api_key")
    return {"error": {"type": "invalid_request", "code": "invalid_api_key", "message": message}}


def _bad_body(state: State, message: str) -> Any:
    return SHAPES[state.profile.name].error_string(message)


#: How this door words the errors the shell answers (a body that is not JSON, auth).
ERRORS = ErrorForms(bad_body=_bad_body, unauthorized=_unauthorized)


# -- handlers -----------------------------------------------------------------------------
def inference(kind: TurnKind, api: str, native: bool) -> Handler:
    """The handler of a chat, completions or embeddings route."""

    async def handle(call: Call) -> Out:
        state, body = call.state, call.json
        check_request(kind, body, state)
        assert isinstance(body, dict)
        call.entry.stream = bool(body.get("stream")) and kind != "embeddings"
        turn = turn_of(kind, body, api)
        try:
            decision = await call.engine.decide(turn, state, call.entry)
        except ModelRefused as refused:
            raise ApiAnswer(400, _refusal(refused, kind, state)) from None
        except ModelLoading as loading:
            raise _loading_answer(loading) from None
        except ContextOverflow as overflow:
            return _overflow(overflow, turn, state)
        return encode(decision, state, native)

    return handle


def encode(decision: Decision, state: State, native: bool, *, strict: bool = False) -> Out:
    """The wire answer to a decision: the fault, the scripted body, or the answer's JSON or
    event stream. ``strict`` checks every document (when a rule is scripted); otherwise
    documents are checked once per shape when validation is on."""
    replaced = fault_out(decision)
    if replaced is not None:
        return replaced
    action, kind = decision.action, decision.turn.kind
    if isinstance(action, (Fail, Respond, Raw)):
        return scripted(action)
    if kind == "embeddings":
        out: Out = _embeddings(decision, state, strict)
    else:
        # A rule's check has no request, so no time to read: any timestamp fits the schema.
        created = 0 if strict else int(state.clock())
        answer = compose(decision, state.seed, created)
        build = _chat if kind == "chat" else _completions
        out = build(decision, answer, state, native, strict)
    out.fault = decision.fault
    return out


def scripted(action: Fail | Respond | Raw) -> JsonOut | RawOut:
    if isinstance(action, Raw):
        return RawOut(action.status, action.body, action.content_type, action.headers)
    if isinstance(action, Respond):
        return JsonOut(action.status, action.json, action.headers)
    return JsonOut(action.status, fail_body(action), fail_headers(action))


def _refusal(refused: ModelRefused, kind: TurnKind, state: State) -> Any:
    resolution = refused.resolution
    shapes = SHAPES[state.profile.name]
    if resolution.outcome == "no_models_loaded":
        return shapes.error_string(MSG_NO_MODELS, param="model")
    if resolution.outcome == "wrong_type":
        assert resolution.model is not None
        what = (
            "an embedding model"
            if resolution.model.type == "embeddings"
            else "not an embedding model"
        )
        return shapes.error_string(
            f'Model "{resolution.model.id}" is {what} and cannot be used for {USE[kind]}.',
            param="model",
        )
    if state.profile.model_not_found_404:
        listed = "\n".join(resolution.valid)
        message = MSG_MODEL_NOT_FOUND_OLD.format(model=refused.requested, models=listed)
        raise ApiAnswer(
            404, error_object(message, "invalid_request_error", "model", "model_not_found")
        )
    valid = ", ".join(resolution.valid) or "none downloaded"
    message = MSG_UNKNOWN_MODEL.format(model=refused.requested, valid=valid)
    return error_object(message, "invalid_request_error", "model", "model_not_found")


def _overflow(overflow: ContextOverflow, turn: Turn, state: State) -> Out:
    """A prompt too long for the loaded context, in the words of the profile's version: a 400
    before the answer, or (0.4.21+, streamed) a 200 whose first event is the error."""
    profile = state.profile
    if profile.context_error == "keep_first":
        message = MSG_KEEP_FIRST.format(tokens=overflow.tokens, context=overflow.context)
    else:
        message = MSG_DOES_NOT_FIT.format(tokens=overflow.tokens, context=overflow.context)
    if turn.stream and profile.overflow_as_stream_event:
        plan = Stream((), error_after=0, error_message=message, done=False)
        return _stream([], 0, plan, state, False)
    raise ApiAnswer(400, SHAPES[profile.name].error_string(message))


def _loading_answer(loading: ModelLoading) -> ApiAnswer:
    """``while_loading="503"``: a 503 with ``Retry-After``, the seconds the load has left."""
    return ApiAnswer(
        503,
        error_object(
            f'Model "{loading.model.id}" is loading. Try again in {math.ceil(loading.left)} '
            "seconds.",
            "server_error",
            "model",
            "model_loading",
        ),
        {"Retry-After": str(max(1, math.ceil(loading.left)))},
    )


# -- chat ---------------------------------------------------------------------------------
def _chat(decision: Decision, answer: Answer, state: State, native: bool, strict: bool) -> Out:
    shapes = SHAPES[state.profile.name]
    turn, model = decision.turn, decision.model
    assert model is not None
    message, pieces = _message(answer, state)
    completion_id = answer.src.completion_id("chatcmpl-")
    if turn.stream:
        prefix = shapes.chunk_prefix(completion_id, answer.created, model.id)
        wanted = include_usage(turn.body or {}, state)
        frames, kinds = chat_frames_and_shapes(
            shapes,
            prefix,
            message,
            answer.finish_reason,
            pieces,
            answer.usage if wanted else None,
        )
        if state.validate or strict:
            remember = None if strict else (shapes.name, answer.finish_reason)
            check_frames(frames, "chat", kinds, remember)
        return _stream(frames, len(frames) - (2 if wanted else 1), answer.plan, state, strict)
    document = shapes.chat_completion(
        completion_id=completion_id,
        created=answer.created,
        model=model,
        message=message,
        finish_reason=answer.finish_reason,
        usage=answer.usage,
        native=native,
    )
    shape = (
        "chat", native, shapes.name, answer.finish_reason, message.content is None,
        bool(message.tool_calls), message.reasoning is None, message.reasoning_key,
    )  # fmt: skip
    return checked(document, response_schema("chat", native), state, shape, strict)


def _message(answer: Answer, state: State) -> tuple[ChatMessage, list[str]]:
    """The answer as this door's message, and its content's stream pieces. Reasoning goes
    where the reasoning format says: its own field, or ``<think>...</think>`` before the
    content."""
    form = state.reasoning_format or state.profile.reasoning_format
    calls = tuple(wire_tool_call(c) for c in answer.tool_calls)
    if answer.reasoning is None:
        return ChatMessage(answer.content, calls), answer.pieces
    if form == "think":
        opening, closing = "<think>\n", "\n</think>\n\n"
        content = f"{opening}{answer.reasoning}{closing}{answer.content or ''}"
        pieces = [opening, *answer.reasoning_pieces, closing, *answer.pieces]
        return ChatMessage(content, calls), pieces
    thoughts = tuple(answer.reasoning_pieces)
    return ChatMessage(answer.content, calls, answer.reasoning, form, thoughts), answer.pieces


def _stream(
    frames: list[str], timed: int, plan: Stream | None, state: State, strict: bool
) -> SseOut:
    def error_event(message: str) -> str:
        error = {"error": {"message": message}, "message": message}
        if state.validate or strict:
            validator(STREAM_ERROR_SCHEMA).check(error)
        return f"event: error\ndata: {dumps(error)}\n\n"

    if strict and plan is not None and plan.error_after is not None:
        error_event(plan.error_message)
    events = [f"data: {frame}\n\n" for frame in frames]
    return SseOut(events, timed, plan, error_event, DONE_EVENT)


# -- completions --------------------------------------------------------------------------
def _completions(
    decision: Decision, answer: Answer, state: State, native: bool, strict: bool
) -> Out:
    shapes = SHAPES[state.profile.name]
    turn, model = decision.turn, decision.model
    assert model is not None
    text = answer.content or ""
    completion_id = answer.src.completion_id("cmpl-")
    if turn.stream:
        prefix = shapes.completion_chunk_prefix(completion_id, answer.created, model.id)
        frames = [shapes.completion_chunk(prefix, p, None) for p in answer.pieces or [""]]
        timed = len(frames)
        kinds: list[Hashable] = ["text"] * timed
        frames.append(shapes.completion_chunk(prefix, "", answer.finish_reason))
        kinds.append("finish")
        if include_usage(turn.body or {}, state):
            frames.append(shapes.usage_chunk(prefix, answer.usage))
            kinds.append("usage")
        if state.validate or strict:
            remember = None if strict else (shapes.name, answer.finish_reason)
            check_frames(frames, "completions", kinds, remember)
        return _stream(frames, timed, answer.plan, state, strict)
    document = shapes.completion(
        completion_id=completion_id,
        created=answer.created,
        model=model,
        text=text,
        finish_reason=answer.finish_reason,
        usage=answer.usage,
        native=native,
    )
    shape = ("completions", native, shapes.name, answer.finish_reason)
    return checked(document, response_schema("completions", native), state, shape, strict)


# -- embeddings ---------------------------------------------------------------------------
def _embeddings(decision: Decision, state: State, strict: bool) -> JsonOut:
    turn, model = decision.turn, decision.model
    assert model is not None
    base64 = (turn.body or {}).get("encoding_format") == "base64"
    found = vectors(decision, state.seed)
    encoded: list[list[float] | str] = [encode_base64(v) for v in found] if base64 else list(found)
    shapes = SHAPES[state.profile.name]
    document = shapes.embeddings(model, encoded, turn.prompt_tokens)
    shape = ("embeddings", shapes.name, base64)
    return checked(document, response_schema("embeddings", False), state, shape, strict)


# -- models -------------------------------------------------------------------------------
def model_list(api: str, native: bool) -> Handler:
    async def handle(call: Call) -> Out:
        state = call.state
        decision = await call.engine.decide(Turn("models", api), state, call.entry)
        action = decision.action
        replaced = fault_out(decision)
        if replaced is not None:
            return replaced
        if isinstance(action, (Fail, Respond, Raw)):
            return scripted(action)
        shapes = SHAPES[state.profile.name]
        with call.engine.lock:
            state.catalog.expire(state.clock())
            models = state.catalog.listed(jit=state.jit)
            document = shapes.native_model_list(models) if native else shapes.model_list(models)
        out = checked(document, response_schema("models", native), state, None, False)
        out.fault = decision.fault
        return out

    return handle


def routes(prefix: str = "/v1", api: str = API, native: bool = False) -> list[Route]:
    """The routes of this door under ``prefix`` (``/api/v0`` reuses them with ``native``)."""
    out = [
        Route("POST", f"{prefix}/chat/completions", inference("chat", api, native), ERRORS),
        Route("OPTIONS", f"{prefix}/chat/completions", inference("chat", api, native), ERRORS),
        Route("POST", f"{prefix}/completions", inference("completions", api, native), ERRORS),
        Route("POST", f"{prefix}/embeddings", inference("embeddings", api, native), ERRORS),
        Route("GET", f"{prefix}/models", model_list(api, native), ERRORS, body="none"),
    ]
    kinds = {"chat/completions": "chat", "completions": "completions", "embeddings": "embeddings"}
    out = [
        replace(
            route, api=api, schema=REQUEST_SCHEMAS.get(kinds.get(route.path[len(prefix) + 1 :], ""))
        )
        for route in out
    ]
    return out


# -- scripting-time checks ----------------------------------------------------------------
def preview(rule: Rule, state: State, model: Model, native: bool) -> list[str]:
    """What is wrong with what ``rule`` would send through this door: the same encoder as a
    request, every document checked. Empty when it would send valid answers."""
    action, kind = rule.action, rule.route
    if action is None or isinstance(action, Raw):  # the default answer, or bytes on purpose
        return []
    if isinstance(action, (Respond, Fail)):
        out = scripted(action)
        assert isinstance(out, JsonOut)
        if isinstance(action, Respond) and not action.validate:
            return []
        if out.status >= 400:
            names: tuple[str, ...] = (ERROR_SCHEMA,)
        else:
            names = (response_schema(kind, False), response_schema(kind, True))
        problems = []
        for name in names:
            error = validator(name).first_error(out.document)
            if error is None:
                return []
            problems.append(str(error))
        return problems
    assert isinstance(action, (Reply, Stream))
    if kind == "models":
        return []
    body: dict[str, Any] = {"model": model.id, "stream_options": {"include_usage": True}}
    for stream in (False, True) if isinstance(action, Stream) else (False,):
        turn = Turn(kind, API, body, model.id, model.id, stream=stream)
        decision = Decision(turn, model, rule, action, None)
        try:
            encode(decision, state, native, strict=True)
        except ValueError as exc:
            return [str(exc)]
    return []
