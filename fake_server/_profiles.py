"""Response shapes, in one place: the faithful LM Studio 0.4 shape and a strict OpenAI one.

Handlers decide *what* to answer; a profile decides *how it looks on the wire*: key order,
which fields exist, error body forms. Key orders follow the reference's real payloads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._catalog import Model

ProfileName = Literal["lmstudio", "openai"]
PROFILE_NAMES: tuple[str, ...] = ("lmstudio", "openai")

#: The version ``/lms-status`` reports.
LMSTUDIO_VERSION = "0.4.21"
OWNED_BY = "organization_owner"

__all__ = ["PROFILES", "PROFILE_NAMES", "Profile", "ProfileName", "dumps"]


#: One encoder for every call: ``json.dumps`` with arguments builds a new one each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(document: Any) -> str:
    """Compact JSON with raw UTF-8, as Express's ``res.json`` writes it."""
    return _ENCODER.encode(document)


@dataclass(frozen=True)
class ChatMessage:
    """The assistant's answer before it is shaped: text and/or tool calls."""

    content: str | None
    tool_calls: tuple[dict[str, Any], ...] = ()
    reasoning: str | None = None


@dataclass(frozen=True)
class Profile:
    """One wire shape. ``strict_openai`` selects the official OpenAI format."""

    name: ProfileName
    strict_openai: bool

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

    @staticmethod
    def native_model(model: Model) -> dict[str, Any]:
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
        if model.capabilities is not None:
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
            out["reasoning"] = message.reasoning
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


PROFILES: dict[str, Profile] = {
    "lmstudio": Profile("lmstudio", strict_openai=False),
    "openai": Profile("openai", strict_openai=True),
}
