"""The OpenAI-compatible door's wire shapes, in one place: documents, stream frames, errors.

Handlers decide *what* to answer; these functions decide *how it looks on the wire*: key
order, which fields exist, error body forms. Key orders follow the reference's real payloads.
A profile (``fake_server._profiles``) switches between LM Studio's shapes and strict OpenAI.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .._catalog import Model
from .._json import dumps
from .._profiles import PROFILES, Profile
from .._schemas import validator
from ..engine import Fail, ToolCall

OWNED_BY = "organization_owner"
CHUNK_SCHEMAS = {
    "chat": "openai/chat-completion-chunk.schema.json",
    "completions": "openai/completion-chunk.schema.json",
}

__all__ = [
    "SHAPES",
    "ChatMessage",
    "Shapes",
    "chat_frames",
    "chat_frames_and_shapes",
    "check_frames",
    "error_object",
    "fail_body",
    "fail_headers",
    "wire_tool_call",
]


class ChatMessage(NamedTuple):
    """The assistant's answer before it is shaped: text and/or tool calls, and reasoning
    under ``reasoning_key`` (``reasoning`` or ``reasoning_content``), streamed in
    ``reasoning_pieces`` before the content. A named tuple, like ``Turn``: immutable, and
    cheap to build once a request."""

    content: str | None
    tool_calls: tuple[dict[str, Any], ...] = ()
    reasoning: str | None = None
    reasoning_key: str = "reasoning"
    reasoning_pieces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shapes:
    """The OpenAI-compatible door's documents for one profile: LM Studio's own shapes and key
    orders, or (``strict_openai``) the official OpenAI format."""

    profile: Profile

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def strict_openai(self) -> bool:
        return self.profile.strict_openai

    # -- models ---------------------------------------------------------------------------
    def model_list(self, models: Sequence[Model]) -> dict[str, Any]:
        if self.strict_openai:
            return {
                "object": "list",
                "data": [
                    {"id": m.id, "object": "model", "created": m.created, "owned_by": OWNED_BY}
                    for m in models
                ],
            }
        return {
            "data": [{"id": m.id, "object": "model", "owned_by": OWNED_BY} for m in models],
            "object": "list",
        }

    def native_model(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "object": "model",
            "type": model.type,
            "publisher": model.publisher,
            "arch": model.arch,
            "compatibility_type": model.compatibility_type,
            "quantization": model.quantization,
            "state": model.state,
            "max_context_length": model.max_context_length,
        }
        if model.loaded and model.loaded_context_length is not None:
            entry["loaded_context_length"] = model.loaded_context_length
        if model.capabilities is not None and self.profile.capabilities_listed:
            entry["capabilities"] = list(model.capabilities)
        return entry

    def native_model_list(self, models: Sequence[Model]) -> dict[str, Any]:
        return {"data": [self.native_model(m) for m in models], "object": "list"}

    # -- chat -----------------------------------------------------------------------------
    def assistant_message(self, message: ChatMessage) -> dict[str, Any]:
        out: dict[str, Any] = {"role": "assistant"}
        if self.strict_openai:
            out["content"] = message.content
            out["refusal"] = None
        elif message.content is not None:
            out["content"] = message.content
        if message.reasoning is not None and not self.strict_openai:
            out[message.reasoning_key] = message.reasoning
        if message.tool_calls:
            out["tool_calls"] = [dict(tc) for tc in message.tool_calls]
        return out

    def chat_completion(
        self,
        *,
        completion_id: str,
        created: int,
        model: Model,
        message: ChatMessage,
        finish_reason: str,
        usage: dict[str, int],
        native: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model.id,
            "choices": [
                {
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                    "message": self.assistant_message(message),
                }
            ],
            "usage": usage,
        }
        self._add_extras(body, model, usage, finish_reason, native)
        return body

    def _add_extras(
        self,
        body: dict[str, Any],
        model: Model,
        usage: dict[str, int],
        finish_reason: str,
        native: bool,
    ) -> None:
        if native:
            body["stats"] = native_stats(usage, finish_reason)
            body["model_info"] = {
                "arch": model.arch,
                "quant": model.quantization,
                "format": model.compatibility_type,
                "context_length": model.loaded_context_length or model.max_context_length,
            }
            body["runtime"] = runtime_for(model)
        elif not self.strict_openai:
            body["stats"] = {}
            body["system_fingerprint"] = model.id
        else:
            body["system_fingerprint"] = model.id

    def chunk_prefix(self, completion_id: str, created: int, model_id: str) -> str:
        """Everything of a chat chunk before ``choices``, as JSON text (ends with a comma)."""
        return (
            f'{{"id":{dumps(completion_id)},"object":"chat.completion.chunk",'
            f'"created":{created},"model":{dumps(model_id)},'
            f'"system_fingerprint":{dumps(model_id)},'
        )

    def chat_chunk(self, prefix: str, delta: dict[str, Any], finish_reason: str | None) -> str:
        finish = "null" if finish_reason is None else dumps(finish_reason)
        return (
            f'{prefix}"choices":[{{"index":0,"delta":{dumps(delta)},'
            f'"logprobs":null,"finish_reason":{finish}}}]}}'
        )

    def usage_chunk(self, prefix: str, usage: dict[str, int]) -> str:
        return f'{prefix}"choices":[],"usage":{dumps(usage)}}}'

    # -- completions ----------------------------------------------------------------------
    def completion(
        self,
        *,
        completion_id: str,
        created: int,
        model: Model,
        text: str,
        finish_reason: str,
        usage: dict[str, int],
        native: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": completion_id,
            "object": "text_completion",
            "created": created,
            "model": model.id,
            "choices": [
                {"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}
            ],
            "usage": usage,
        }
        self._add_extras(body, model, usage, finish_reason, native)
        return body

    def completion_chunk_prefix(self, completion_id: str, created: int, model_id: str) -> str:
        return (
            f'{{"id":{dumps(completion_id)},"object":"text_completion",'
            f'"created":{created},"model":{dumps(model_id)},'
        )

    def completion_chunk(self, prefix: str, text: str, finish_reason: str | None) -> str:
        finish = "null" if finish_reason is None else dumps(finish_reason)
        return (
            f'{prefix}"choices":[{{"index":0,"text":{dumps(text)},'
            f'"logprobs":null,"finish_reason":{finish}}}]}}'
        )

    # -- embeddings -----------------------------------------------------------------------
    def embeddings(
        self, model: Model, vectors: Sequence[list[float] | str], prompt_tokens: int
    ) -> dict[str, Any]:
        data = [
            {"object": "embedding", "embedding": vector, "index": i}
            for i, vector in enumerate(vectors)
        ]
        if self.strict_openai:
            return {
                "object": "list",
                "data": data,
                "model": model.id,
                "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
            }
        # LM Studio names the variant (``@q4_k_m``) and always reports usage 0/0.
        return {
            "object": "list",
            "data": data,
            "model": f"{model.id}@{model.quantization.lower()}",
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }

    # -- errors ---------------------------------------------------------------------------
    def error_string(self, message: str, *, param: str | None = None) -> dict[str, Any]:
        """An error LM Studio sends as ``{"error": "<text>"}``; OpenAI's object form in strict."""
        if self.strict_openai:
            return error_object(message, "invalid_request_error", param, None)
        return {"error": message}

    def unexpected_endpoint(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        message = f"Unexpected endpoint or method. ({method} {path})"
        if self.strict_openai:
            return 404, error_object(message, "invalid_request_error", None, "unknown_url")
        return 200, {"error": message}


def error_object(
    message: str, type_: str | None, param: str | None, code: str | None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_STOP_REASONS = {
    "stop": "eosFound",
    "length": "maxPredictedTokensReached",
    "tool_calls": "toolCalls",
}


def native_stats(usage: dict[str, int], finish_reason: str) -> dict[str, Any]:
    """``/api/v0`` stats: numbers derived from the token counts, so they stay deterministic."""
    generated = usage.get("completion_tokens", 0)
    tokens_per_second = 50.0
    return {
        "tokens_per_second": tokens_per_second,
        "time_to_first_token": round(0.05 + usage.get("prompt_tokens", 0) / 2000, 3),
        "generation_time": round(generated / tokens_per_second, 3),
        "stop_reason": _STOP_REASONS.get(finish_reason, "eosFound"),
    }


def runtime_for(model: Model) -> dict[str, Any]:
    if model.compatibility_type == "mlx":
        return {
            "name": "mlx-llm-mac-arm64-apple-metal-advsimd",
            "version": "0.30.0",
            "supported_formats": ["safetensors"],
        }
    return {
        "name": "llama.cpp-linux-x86_64-avx2",
        "version": "1.52.0",
        "supported_formats": ["gguf"],
    }


#: The shapes of each profile.
SHAPES: dict[str, Shapes] = {name: Shapes(profile) for name, profile in PROFILES.items()}


def wire_tool_call(call: ToolCall) -> dict[str, Any]:
    """A tool call as the OpenAI-compatible door sends it (the one place of this shape)."""
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def split_arguments(arguments: str) -> list[str]:
    """Argument text in the small fragments LM Studio streams (about a token each)."""
    pieces = []
    current = ""
    for char in arguments:
        current += char
        if char in '{}[],:"' or len(current) >= 4:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def fail_body(action: Fail) -> Any:
    """The body of a scripted ``fail()``: LM Studio's error object unless a body was given."""
    if action.body is not None:
        return action.body
    message = action.message or default_fail_message(action.status)
    type_ = action.type or ("invalid_request_error" if action.status < 500 else "server_error")
    return error_object(message, type_, None, action.code)


def fail_headers(action: Fail) -> dict[str, str]:
    if action.retry_after is None:
        return {}
    seconds = action.retry_after
    return {"Retry-After": str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"}


def default_fail_message(status: int) -> str:
    return {
        400: "Bad request",
        401: "Unauthorized",
        404: "Not found",
        429: "Too many requests. Please slow down and try again later.",
        500: "Internal server error",
        502: "Bad gateway",
        503: "Service unavailable: the model is loading, try again shortly.",
        504: "Gateway timeout",
    }.get(status, f"HTTP {status}")


#: (route, ``remember`` key, frame shape) already seen valid, across streams.
_VALID_FRAMES: set[tuple[str, Hashable, Hashable]] = set()


def check_frames(
    frames: list[str],
    route: str,
    shapes: list[Hashable] | None = None,
    remember: Hashable | None = None,
) -> None:
    """Check one frame of each distinct shape: frames of one shape differ only in strings.

    ``shapes``, one per frame, is what the frames' builder knows of their shapes (so that the
    frames need not be parsed to learn it); without it each frame is parsed to find its shape.
    ``remember`` (with ``shapes``): what else decides the frames' structure (the profile, the
    finish reason); a shape checked under it is not checked again in a later stream, as a
    whole answer of one shape is checked once.
    """
    schema = validator(CHUNK_SCHEMAS[route])
    seen: set[Any] = set()
    for index, frame in enumerate(frames):
        if shapes is not None:
            shape = shapes[index]
            if shape in seen:
                continue
            seen.add(shape)
            key = (route, remember, shape)
            if remember is not None and key in _VALID_FRAMES:
                continue
            schema.check(json.loads(frame))
            if remember is not None:
                _VALID_FRAMES.add(key)
            continue
        document = json.loads(frame)
        choices = document.get("choices") or [{}]
        choice = choices[0]
        delta = choice.get("delta")
        shape = _shape(
            delta if isinstance(delta, dict) else None,
            choice.get("finish_reason") is None,
            "usage" in document,
        )
        if shape in seen:
            continue
        seen.add(shape)
        schema.check(document)


def _shape(delta: dict[str, Any] | None, unfinished: bool, usage: bool) -> Hashable:
    """What tells two chat chunks apart but for their strings: the delta's keys (and its
    tool call's), whether it finishes, whether it carries usage."""
    shape: tuple[Any, ...] = (
        tuple(sorted(delta)) if delta is not None else None,
        unfinished,
        usage,
    )
    if delta is not None and "tool_calls" in delta:
        shape = (*shape, tuple(sorted(delta["tool_calls"][0])))
    return shape


def chat_frames(
    shapes: Shapes,
    prefix: str,
    message: ChatMessage,
    finish: str,
    pieces: list[str],
    usage: dict[str, int] | None,
) -> list[str]:
    """The JSON of each chunk of a streamed chat answer, in order, without ``[DONE]``.

    Reasoning pieces first, then content pieces (the first delta carries ``role``), then each
    tool call: a head with id, type and name and empty arguments, then argument fragments;
    then an empty delta with the finish reason; then, when asked for, the usage chunk with
    ``choices: []``.
    """
    return chat_frames_and_shapes(shapes, prefix, message, finish, pieces, usage)[0]


def chat_frames_and_shapes(
    shapes: Shapes,
    prefix: str,
    message: ChatMessage,
    finish: str,
    pieces: list[str],
    usage: dict[str, int] | None,
) -> tuple[list[str], list[Hashable]]:
    """``chat_frames``, and the shape of each frame (for ``check_frames``), from its delta."""
    profile = shapes.profile
    key = message.reasoning_key
    thoughts = () if shapes.strict_openai else message.reasoning_pieces
    deltas: list[dict[str, Any]] = [{key: p} for p in thoughts]
    deltas += [{"content": p} for p in pieces]
    for index, call in enumerate(message.tool_calls):
        function = call["function"]
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": function["name"], "arguments": ""},
        }
        deltas.append({"tool_calls": [head]})
        for fragment in split_arguments(function["arguments"]):
            more: dict[str, Any] = {"index": index, "function": {"arguments": fragment}}
            if profile.tool_call_continuation_head:  # before 0.3.16 (bug-tracker #649)
                more = {
                    "index": index,
                    "type": "function",
                    "function": {"name": "", **more["function"]},
                }
            deltas.append({"tool_calls": [more]})
    if not deltas:
        deltas.append({"content": ""})
    for index in range(len(deltas) if profile.role_on_every_delta else 1):
        deltas[index] = {"role": "assistant", **deltas[index]}
    frames = [shapes.chat_chunk(prefix, d, None) for d in deltas]
    kinds = [_shape(d, True, False) for d in deltas]
    frames.append(shapes.chat_chunk(prefix, {}, finish))
    kinds.append(_shape({}, False, False))
    if usage is not None:
        frames.append(shapes.usage_chunk(prefix, usage))
        kinds.append(_shape(None, True, True))
    return frames, kinds
