"""Example documents for the JSON Schemas in ``schemas/``, reusable by any test.

The ``LMSTUDIO_*`` constants are real LM Studio payloads, copied from sections 1 to 5 of
``reference/lmstudio-http-api.md`` (placeholders such as ``...`` replaced by short real values).
``VALID`` and ``INVALID`` map each schema (a path relative to ``schemas/``; for the ``common``
files, a ``#/$defs/...`` pointer into them) to labelled examples. Each invalid example breaks
exactly one rule, and carries a fragment of the message jsonschema gives for it.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = [
    "INVALID",
    "LMSTUDIO_CHAT_CHUNKS",
    "LMSTUDIO_CHAT_COMPLETION",
    "LMSTUDIO_COMPLETION",
    "LMSTUDIO_EMBEDDINGS",
    "LMSTUDIO_ERROR_OBJECTS",
    "LMSTUDIO_ERROR_STRINGS",
    "LMSTUDIO_GREETING",
    "LMSTUDIO_STATUS",
    "LMSTUDIO_STREAM_ERROR",
    "LMSTUDIO_TOOL_CALL_CHUNKS",
    "LMSTUDIO_TOOL_CALL_COMPLETION",
    "LMSTUDIO_USAGE_CHUNK",
    "LMSTUDIO_V0_CHAT_COMPLETION",
    "LMSTUDIO_V0_COMPLETION",
    "LMSTUDIO_V0_MODELS",
    "LMSTUDIO_V1_MODELS",
    "VALID",
    "Example",
    "InvalidExample",
    "changed",
]

Example = tuple[str, Any]
"""A label and a document."""

InvalidExample = tuple[str, Any, str]
"""A label, a document, and a fragment of jsonschema's message about it."""

_DROP: Any = object()


def changed(document: Any, path: str, value: Any = _DROP) -> Any:
    """A deep copy of ``document`` with the field at dotted ``path`` set to ``value``, or removed.

    Numeric path parts index lists: ``changed(doc, "choices.0.finish_reason", "eos")``.
    """
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is _DROP:
        del node[key]
    else:
        node[key] = value
    return result


# --- Real LM Studio payloads -------------------------------------------------------------

LMSTUDIO_GREETING: dict[str, Any] = {"lmstudio": True}
"""GET /lmstudio-greeting (section 1.1)."""

LMSTUDIO_STATUS: dict[str, Any] = {"package": "llmster", "version": "0.4.21"}
"""GET /lms-status (section 1.1; the reference gives the shape, the values are ours)."""

LMSTUDIO_V1_MODELS: dict[str, Any] = {
    "data": [
        {"id": "qwen/qwen3-8b", "object": "model", "owned_by": "organization_owner"},
        {"id": "qwen/qwen3-8b:2", "object": "model", "owned_by": "organization_owner"},
        {
            "id": "text-embedding-nomic-embed-text-v1.5",
            "object": "model",
            "owned_by": "organization_owner",
        },
    ],
    "object": "list",
}
"""GET /v1/models (section 2.1): no ``created``, ``data`` before ``object``."""

LMSTUDIO_CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-i3gkjwthhw96whukek9tz",
    "object": "chat.completion",
    "created": 1731990317,
    "model": "qwen/qwen3-8b",
    "choices": [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Hello!"},
        }
    ],
    "usage": {"prompt_tokens": 24, "completion_tokens": 53, "total_tokens": 77},
    "stats": {},
    "system_fingerprint": "qwen/qwen3-8b",
}
"""POST /v1/chat/completions, not streamed (section 2.2)."""

LMSTUDIO_TOOL_CALL_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-8ksq2n5r0ntzq1b4xv1cw",
    "object": "chat.completion",
    "created": 1731990420,
    "model": "qwen/qwen3-8b",
    "choices": [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "365174485",
                        "type": "function",
                        "function": {
                            "name": "search_products",
                            "arguments": '{"query":"dell","max_price":50}',
                        },
                    }
                ],
            },
        }
    ],
    "usage": {"prompt_tokens": 212, "completion_tokens": 27, "total_tokens": 239},
    "system_fingerprint": "qwen/qwen3-8b",
}
"""The tool-call choices of section 2.2 wrapped in a full answer (no ``content``, no ``stats``)."""

_CHUNK_HEAD: dict[str, Any] = {
    "id": "chatcmpl-um3b2l9t12bzrtha63q8",
    "object": "chat.completion.chunk",
    "created": 1747835957,
    "model": "gemma-2-2b-it",
    "system_fingerprint": "gemma-2-2b-it",
}


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**_CHUNK_HEAD, "choices": [choice]}


LMSTUDIO_CHAT_CHUNKS: list[dict[str, Any]] = [
    _chunk({"role": "assistant", "content": "Hel"}),
    _chunk({"content": "lo"}),
    _chunk({}, "stop"),
]
"""The three ``data:`` frames of the streamed answer in section 2.2 (then ``data: [DONE]``)."""

LMSTUDIO_TOOL_CALL_CHUNKS: list[dict[str, Any]] = [
    _chunk(
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "814890118",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ],
        }
    ),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"'}}]}),
    # Before 0.3.16, continuation chunks also carried the type and an empty name.
    _chunk(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "type": "function",
                    "function": {"name": "", "arguments": 'location":"Paris"}'},
                }
            ]
        }
    ),
    _chunk({}, "tool_calls"),
]
"""Streamed tool-call frames of section 2.2: first packet, fragments, the tool_calls stop."""

LMSTUDIO_USAGE_CHUNK: dict[str, Any] = {
    **_CHUNK_HEAD,
    "choices": [],
    "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
}
"""The extra frame sent before ``[DONE]`` with ``stream_options.include_usage`` (0.3.18+)."""

LMSTUDIO_COMPLETION: dict[str, Any] = {
    "id": "cmpl-p9rtxv6fky2v9k8jrd8cc",
    "object": "text_completion",
    "created": 1731990488,
    "model": "granite-3.0-2b-instruct",
    "choices": [
        {"index": 0, "text": " to find your purpose", "logprobs": None, "finish_reason": "length"}
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
}
"""POST /v1/completions (section 2.3)."""

LMSTUDIO_EMBEDDINGS: dict[str, Any] = {
    "object": "list",
    "data": [{"object": "embedding", "embedding": [-0.0167, 0.0284, 0.0061, -0.0419], "index": 0}],
    "model": "text-embedding-nomic-embed-text-v1.5@q4_k_m",
    "usage": {"prompt_tokens": 0, "total_tokens": 0},
}
"""POST /v1/embeddings (section 2.4): ``@quant`` suffix, usage always 0/0."""

LMSTUDIO_V0_MODELS: dict[str, Any] = {
    "object": "list",
    "data": [
        {
            "id": "qwen/qwen3-8b",
            "object": "model",
            "type": "llm",
            "publisher": "qwen",
            "arch": "qwen3",
            "compatibility_type": "gguf",
            "quantization": "Q4_K_M",
            "state": "loaded",
            "max_context_length": 40960,
            "loaded_context_length": 4096,
            "capabilities": ["tool_use"],
        },
        {
            "id": "qwen2-vl-7b-instruct",
            "object": "model",
            "type": "vlm",
            "publisher": "mlx-community",
            "arch": "qwen2_vl",
            "compatibility_type": "mlx",
            "quantization": "4bit",
            "state": "not-loaded",
            "max_context_length": 32768,
        },
        {
            "id": "text-embedding-nomic-embed-text-v1.5",
            "object": "model",
            "type": "embeddings",
            "publisher": "nomic-ai",
            "arch": "nomic-bert",
            "compatibility_type": "gguf",
            "quantization": "Q4_0",
            "state": "not-loaded",
            "max_context_length": 2048,
        },
    ],
}
"""GET /api/v0/models (section 3.1)."""

_V0_MODEL_INFO: dict[str, Any] = {
    "arch": "granite",
    "quant": "Q4_K_M",
    "format": "gguf",
    "context_length": 4096,
}
_V0_RUNTIME: dict[str, Any] = {
    "name": "llama.cpp-mac-arm64-apple-metal-advsimd",
    "version": "1.3.0",
    "supported_formats": ["gguf"],
}

LMSTUDIO_V0_CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-0d3kq8m2xw7c5n1v9b4za",
    "object": "chat.completion",
    "created": 1731990317,
    "model": "granite-3.0-2b-instruct",
    "choices": [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Greetings, I'm a helpful AI."},
        }
    ],
    "usage": {"prompt_tokens": 24, "completion_tokens": 53, "total_tokens": 77},
    "stats": {
        "tokens_per_second": 51.437,
        "time_to_first_token": 0.111,
        "generation_time": 0.954,
        "stop_reason": "eosFound",
    },
    "model_info": _V0_MODEL_INFO,
    "runtime": _V0_RUNTIME,
}
"""POST /api/v0/chat/completions (section 3.2; the elided choices filled in)."""

LMSTUDIO_V0_COMPLETION: dict[str, Any] = {
    **LMSTUDIO_COMPLETION,
    "stats": {
        "tokens_per_second": 57.69,
        "time_to_first_token": 0.299,
        "generation_time": 0.156,
        "stop_reason": "maxPredictedTokensReached",
    },
    "model_info": _V0_MODEL_INFO,
    "runtime": _V0_RUNTIME,
}
"""POST /api/v0/completions: the section 2.3 answer with the section 3.2 extras."""

LMSTUDIO_ERROR_STRINGS: list[dict[str, Any]] = [
    {"error": "Unexpected endpoint or method. (POST /chat/completions)"},
    {
        "error": "No models loaded. Please load a model in the developer page or use the "
        "'lms load' command."
    },
    {"error": "'response_format.type' must be 'json_schema' or 'text'"},
    {"error": "'response_format.type' must be 'json_schema'"},
    {"error": "'messages' field is required"},
    {"error": "Cannot read properties of null (reading 'type')"},
    {"error": "[Server Error] _0x48eeaf is not iterable"},
    {
        "error": "'messages' array must only contain objects with a 'role' field that is in "
        "[user, assistant, system, tool]. Got 'developer'"
    },
    {
        "error": "Invalid 'messages' in payload. Please check the structure of your 'messages' "
        "and try again"
    },
    {
        "error": "Trying to keep the first 15857 tokens when context the overflows. However, the "
        "model is loaded with context length of only 4096 tokens, which is not enough. Try to "
        "load the model with a larger context length, or provide a shorter input"
    },
]
"""The plain ``{"error": "..."}`` bodies of sections 1.2 and 5."""

LMSTUDIO_ERROR_OBJECTS: list[dict[str, Any]] = [
    {
        "error": {
            "message": 'Invalid model identifier "o4-mini". Please specify a valid downloaded '
            "model (e.g., a, b, c).",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    },
    {
        "error": {
            "message": 'Model "default" not found. Please specify a valid model.\n\nYour models:'
            "\n\nm1\nm2",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    },
    {
        "error": {
            "message": "No models loaded. Please load a model in the developer page or use the "
            "'lms load' command.",
            "type": "invalid_request_error",
            "param": "model",
            "code": None,
        }
    },
    {
        "error": {
            "message": "Engine protocol predict request returned 500: "
            '{"error":"Jinja Exception: unknown filter"}'
        }
    },
    {
        "error": {
            "type": "invalid_request",
            "code": "invalid_api_key",
            "message": "An LM Studio API token is required to make requests to this server, but "
            "none was provided using the Authorization header using the 'Bearer' scheme (i.e., "
            "'Authorization: Bearer $LM_API_TOKEN'). Learn more at: "
            "https://lmstudio.ai/docs/developer/core/authentication.",
        }
    },
    {
        "error": {
            "message": "Required",
            "type": "invalid_request_error",
            "param": "text.format",
            "code": "missing_required_parameter",
        }
    },
]
"""OpenAI-style bodies (sections 2.5 and 5): unknown model 400/404, no model (0.4.8), 500, 401."""

_OVERFLOW = (
    "Input does not fit in context length. The input has 31430 tokens, but the context length "
    "only supports 30000 tokens."
)
LMSTUDIO_STREAM_ERROR: dict[str, Any] = {"error": {"message": _OVERFLOW}, "message": _OVERFLOW}
"""The data of the ``event: error`` frame of a failed stream (sections 2.2 and 5)."""


# --- Other documents ---------------------------------------------------------------------

_WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
        "strict": True,
    },
}

_CHAT_REQUEST: dict[str, Any] = {
    "model": "qwen/qwen3-8b",
    "messages": [{"role": "user", "content": "Hello"}],
}

_FULL_CHAT_REQUEST: dict[str, Any] = {
    "model": "qwen2-vl-7b-instruct",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture, and the weather in Paris?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"},
                },
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"filename": "notes.txt", "file_data": "aGk="}},
            ],
            "name": "ann",
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "365174485",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "365174485", "content": '{"temp_c": 21}'},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
    ],
    "temperature": 0.7,
    "top_p": 0.9,
    "max_tokens": -1,
    "max_completion_tokens": 256,
    "stream": True,
    "stream_options": {"include_usage": True},
    "stop": ["\n\n", "END"],
    "seed": 42,
    "presence_penalty": 0.5,
    "frequency_penalty": -0.5,
    "logit_bias": {"50256": -100},
    "logprobs": False,
    "top_logprobs": 0,
    "n": 1,
    "tools": [_WEATHER_TOOL],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": False,
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "weather",
            "description": "A weather report.",
            "schema": {"type": "object", "properties": {"temp_c": {"type": "number"}}},
            "strict": True,
        },
    },
    "reasoning_effort": "low",
    "user": "user-1234",
    "ttl": 300,
    "draft_model": "qwen/qwen3-0.6b",
    "top_k": 40,
    "min_p": 0.05,
    "repeat_penalty": 1.1,
}

_OPENAI_CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "The image shows a wooden boardwalk.",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": {
                "content": [
                    {
                        "token": "The",
                        "logprob": -0.01,
                        "bytes": [84, 104, 101],
                        "top_logprobs": [{"token": "The", "logprob": -0.01, "bytes": None}],
                    }
                ],
                "refusal": None,
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 1117,
        "completion_tokens": 46,
        "total_tokens": 1163,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}

_REASONING_COMPLETION: dict[str, Any] = changed(
    LMSTUDIO_CHAT_COMPLETION,
    "choices.0.message",
    {"role": "assistant", "content": "4", "reasoning": "2 + 2 is 4.", "reasoning_content": "ok"},
)

_COMPLETION_CHUNK: dict[str, Any] = {
    "id": "cmpl-p9rtxv6fky2v9k8jrd8cc",
    "object": "text_completion",
    "created": 1731990488,
    "model": "granite-3.0-2b-instruct",
    "system_fingerprint": "granite-3.0-2b-instruct",
    "choices": [{"index": 0, "text": " to find", "logprobs": None, "finish_reason": None}],
}

_EMBEDDING_REQUEST: dict[str, Any] = {
    "model": "text-embedding-nomic-embed-text-v1.5",
    "input": "Some text to embed",
}

_COMPLETION_REQUEST: dict[str, Any] = {
    "model": "granite-3.0-2b-instruct",
    "prompt": "the meaning of life is",
    "max_tokens": 10,
    "temperature": 0.7,
    "stop": "\n",
    "stream": False,
}

_V0_MODEL: dict[str, Any] = LMSTUDIO_V0_MODELS["data"][0]
_V02_MODEL_ID = "TheBloke/Mistral-7B-Instruct-v0.2-GGUF/mistral-7b-instruct-v0.2.Q4_K_S.gguf"

_FULL_SCENARIO: dict[str, Any] = {
    "$schema": "https://pytest-lmstudio.local/schemas/scenario.schema.json",
    "seed": 7,
    "profile": "lmstudio",
    "jit": True,
    "api_token": "sk-lm-test",
    "clear_models": True,
    "models": [
        {
            "id": "qwen/qwen3-8b",
            "type": "llm",
            "loaded": True,
            "context_length": 40960,
            "loaded_context_length": 4096,
            "capabilities": ["tool_use"],
            "quantization": "Q4_K_M",
            "publisher": "qwen",
            "arch": "qwen3",
            "compatibility_type": "gguf",
            "load_seconds": 0.5,
        },
        {
            "id": "text-embedding-nomic-embed-text-v1.5",
            "type": "embeddings",
            "embedding_dimensions": 768,
        },
    ],
    "rules": [
        {
            "route": "chat",
            "when": {"model": "qwen/qwen3-8b", "contains": "weather", "stream": False},
            "times": 1,
            "reply": {
                "content": None,
                "tool_calls": [
                    {"id": "365174485", "name": "get_weather", "arguments": {"location": "Paris"}},
                    {"name": "get_time", "arguments": "{}"},
                ],
                "finish_reason": "tool_calls",
                "usage": {"prompt_tokens": 20, "completion_tokens": 5},
                "reasoning": "The user wants the weather.",
            },
        },
        {
            "route": "chat",
            "when": {"stream": True},
            "stream": {
                "chunks": ["Hel", "lo"],
                "ttft": 0.2,
                "interval": 0.01,
                "finish_reason": "stop",
                "usage": {"prompt_tokens": 3, "completion_tokens": 2},
                "tool_calls": [{"name": "get_weather"}],
            },
        },
        {
            "route": "completions",
            "times": 2,
            "fail": {
                "status": 503,
                "message": "busy",
                "retry_after": 1.5,
                "type": "server_error",
                "code": None,
                "body": {"error": "busy"},
            },
        },
        {"route": "embeddings", "reply": {"embeddings": [[0.1, -0.2], [0.3, 0.4]]}},
        {
            "route": "models",
            "respond": {
                "json": {"data": [], "object": "list"},
                "status": 200,
                "headers": {"X-Test": "1"},
                "validate": False,
            },
        },
        {
            "route": "chat",
            "raw": {
                "body": "data: {not json\n\n",
                "status": 200,
                "content_type": "text/event-stream",
                "headers": {"Cache-Control": "no-cache"},
            },
        },
    ],
}

_RULE: dict[str, Any] = {"route": "chat", "reply": {"content": "hi"}}


def _scenario(rule: dict[str, Any]) -> dict[str, Any]:
    return {"rules": [rule]}


# --- The examples, by schema ------------------------------------------------------------

VALID: dict[str, list[Example]] = {
    "openai/common.schema.json#/$defs/usage": [
        ("lmstudio", LMSTUDIO_CHAT_COMPLETION["usage"]),
        ("openai details", _OPENAI_CHAT_COMPLETION["usage"]),
    ],
    "openai/common.schema.json#/$defs/max_tokens": [
        ("positive", 1),
        ("no limit", -1),
        ("null", None),
    ],
    "openai/common.schema.json#/$defs/message": [
        ("user", {"role": "user", "content": "hi"}),
        ("tool", {"role": "tool", "content": "21", "tool_call_id": "365174485"}),
        ("assistant tool call", _FULL_CHAT_REQUEST["messages"][3]),
    ],
    "openai/common.schema.json#/$defs/tool_call": [
        ("lmstudio", LMSTUDIO_TOOL_CALL_COMPLETION["choices"][0]["message"]["tool_calls"][0]),
        (
            "openai",
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
        ),
    ],
    "openai/common.schema.json#/$defs/stop": [
        ("string", "\n"),
        ("list", ["a", "b"]),
        ("null", None),
    ],
    "lmstudio/common.schema.json#/$defs/stats": [
        ("v0", LMSTUDIO_V0_CHAT_COMPLETION["stats"]),
        (
            "draft",
            {
                **LMSTUDIO_V0_CHAT_COMPLETION["stats"],
                "draft_model": "qwen/qwen3-0.6b",
                "total_draft_tokens_count": 40,
                "accepted_draft_tokens_count": 30,
                "rejected_draft_tokens_count": 8,
                "ignored_draft_tokens_count": 2,
            },
        ),
    ],
    "lmstudio/common.schema.json#/$defs/model_state": [
        ("loaded", "loaded"),
        ("not-loaded", "not-loaded"),
        ("loading", "loading"),
    ],
    "lmstudio/common.schema.json#/$defs/runtime": [
        ("v0", _V0_RUNTIME),
        (
            "mlx",
            {
                "name": "mlx-llm-mac-arm64-apple-metal",
                "version": "0.1.0",
                "supported_formats": ["mlx"],
            },
        ),
    ],
    "openai/chat-completion-request.schema.json": [
        ("minimal", _CHAT_REQUEST),
        ("without model", {"messages": [{"role": "user", "content": "Hi"}]}),
        ("every field", _FULL_CHAT_REQUEST),
        ("json_object is OpenAI", {**_CHAT_REQUEST, "response_format": {"type": "json_object"}}),
        ("text format", {**_CHAT_REQUEST, "response_format": {"type": "text"}}),
        ("nulls", {**_CHAT_REQUEST, "max_tokens": None, "stop": None, "temperature": None}),
        (
            "tool_choice required",
            {**_CHAT_REQUEST, "tools": [_WEATHER_TOOL], "tool_choice": "required"},
        ),
        ("unknown LM Studio key", {**_CHAT_REQUEST, "preset": "my-preset"}),
    ],
    "openai/chat-completion.schema.json": [
        ("lmstudio", LMSTUDIO_CHAT_COMPLETION),
        ("lmstudio tool call", LMSTUDIO_TOOL_CALL_COMPLETION),
        ("lmstudio v0", LMSTUDIO_V0_CHAT_COMPLETION),
        ("openai", _OPENAI_CHAT_COMPLETION),
        ("reasoning", _REASONING_COMPLETION),
        (
            "empty content with tool calls",
            changed(LMSTUDIO_TOOL_CALL_COMPLETION, "choices.0.message.content", ""),
        ),
    ],
    "openai/chat-completion-chunk.schema.json": [
        *((f"lmstudio text {i}", chunk) for i, chunk in enumerate(LMSTUDIO_CHAT_CHUNKS)),
        *((f"lmstudio tool {i}", chunk) for i, chunk in enumerate(LMSTUDIO_TOOL_CALL_CHUNKS)),
        ("lmstudio usage", LMSTUDIO_USAGE_CHUNK),
        ("0.3.9 role in every delta", _chunk({"role": "assistant", "content": "lo"})),
        ("reasoning", _chunk({"reasoning": "Thinking"})),
        ("usage null", {**LMSTUDIO_CHAT_CHUNKS[1], "usage": None}),
    ],
    "openai/completion-request.schema.json": [
        ("string prompt", _COMPLETION_REQUEST),
        ("without model", {"prompt": "Once upon a time"}),
        ("string list", {"prompt": ["a", "b"], "max_tokens": -1, "echo": True, "suffix": None}),
        ("token ids", {"prompt": [1, 2, 3], "logprobs": 2, "n": 1, "best_of": 1, "seed": 3}),
        ("token id lists", {"prompt": [[1, 2], [3]], "stream": True, "stream_options": None}),
    ],
    "openai/completion.schema.json": [
        ("lmstudio", LMSTUDIO_COMPLETION),
        (
            "lmstudio /v1 stats",
            {**LMSTUDIO_COMPLETION, "stats": {}, "system_fingerprint": "granite"},
        ),
        ("lmstudio v0", LMSTUDIO_V0_COMPLETION),
        (
            "logprobs",
            changed(
                LMSTUDIO_COMPLETION,
                "choices.0.logprobs",
                {
                    "tokens": [" to"],
                    "token_logprobs": [-0.2],
                    "text_offset": [0],
                    "top_logprobs": [{" to": -0.2}],
                },
            ),
        ),
    ],
    "openai/completion-chunk.schema.json": [
        ("first", _COMPLETION_CHUNK),
        ("last", changed(_COMPLETION_CHUNK, "choices.0.finish_reason", "length")),
        (
            "usage",
            {
                **_COMPLETION_CHUNK,
                "choices": [],
                "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
            },
        ),
        (
            "usage null, no logprobs",
            changed({**_COMPLETION_CHUNK, "usage": None}, "choices.0.logprobs"),
        ),
    ],
    "openai/embedding-request.schema.json": [
        ("lmstudio string", _EMBEDDING_REQUEST),
        ("lmstudio list", {**_EMBEDDING_REQUEST, "input": ["t1", "t2"]}),
        ("without model", {"input": "text"}),
        ("token ids", {"input": [1, 2, 3], "encoding_format": "base64", "dimensions": 256}),
        ("token id lists", {"input": [[1, 2], [3]], "user": "u", "encoding_format": "float"}),
    ],
    "openai/embedding-list.schema.json": [
        ("lmstudio", LMSTUDIO_EMBEDDINGS),
        ("base64", changed(LMSTUDIO_EMBEDDINGS, "data.0.embedding", "AAAAPwAAgD8=")),
        ("empty data", {**LMSTUDIO_EMBEDDINGS, "data": []}),
    ],
    "openai/model-list.schema.json": [
        ("lmstudio", LMSTUDIO_V1_MODELS),
        (
            "openai",
            {
                "object": "list",
                "data": [
                    {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}
                ],
            },
        ),
        (
            "lmstudio 0.2",
            {
                "data": [
                    {
                        "id": _V02_MODEL_ID,
                        "object": "model",
                        "owned_by": "organization-owner",
                        "permission": [{}],
                    }
                ],
                "object": "list",
            },
        ),
        ("empty", {"data": [], "object": "list"}),
    ],
    "openai/error.schema.json": [
        *((f"lmstudio {i}", body) for i, body in enumerate(LMSTUDIO_ERROR_OBJECTS)),
        (
            "api v1",
            {
                "error": {
                    "type": "model_not_found",
                    "message": "Model not found",
                    "code": "model_not_found",
                    "param": "model",
                }
            },
        ),
        ("stream error data", LMSTUDIO_STREAM_ERROR),
    ],
    "lmstudio/error-string.schema.json": [
        *((f"lmstudio {i}", body) for i, body in enumerate(LMSTUDIO_ERROR_STRINGS)),
    ],
    "lmstudio/error.schema.json": [
        *((f"string {i}", body) for i, body in enumerate(LMSTUDIO_ERROR_STRINGS)),
        *((f"object {i}", body) for i, body in enumerate(LMSTUDIO_ERROR_OBJECTS)),
        ("stream error data", LMSTUDIO_STREAM_ERROR),
    ],
    "lmstudio/stream-error.schema.json": [
        ("lmstudio", LMSTUDIO_STREAM_ERROR),
        ("without top-level message", {"error": {"message": _OVERFLOW}}),
        ("full object", LMSTUDIO_ERROR_OBJECTS[0]),
    ],
    "lmstudio/model.schema.json": [
        *((entry["id"], entry) for entry in LMSTUDIO_V0_MODELS["data"]),
        (
            "loading",
            {**LMSTUDIO_V0_MODELS["data"][1], "state": "loading", "capabilities": ["vision"]},
        ),
    ],
    "lmstudio/model-list.schema.json": [
        ("lmstudio", LMSTUDIO_V0_MODELS),
        ("empty", {"data": [], "object": "list"}),
    ],
    "lmstudio/chat-completion.schema.json": [
        ("lmstudio", LMSTUDIO_V0_CHAT_COMPLETION),
        (
            "draft model",
            changed(
                LMSTUDIO_V0_CHAT_COMPLETION,
                "stats",
                {
                    **LMSTUDIO_V0_CHAT_COMPLETION["stats"],
                    "draft_model": "qwen/qwen3-0.6b",
                    "total_draft_tokens_count": 40,
                    "accepted_draft_tokens_count": 30,
                    "rejected_draft_tokens_count": 8,
                    "ignored_draft_tokens_count": 2,
                },
            ),
        ),
        (
            "stop_reason stop (#601)",
            changed(LMSTUDIO_V0_CHAT_COMPLETION, "stats.stop_reason", "stop"),
        ),
    ],
    "lmstudio/completion.schema.json": [
        ("lmstudio", LMSTUDIO_V0_COMPLETION),
        ("eos", changed(LMSTUDIO_V0_COMPLETION, "stats.stop_reason", "eosFound")),
    ],
    "lmstudio/greeting.schema.json": [
        ("lmstudio", LMSTUDIO_GREETING),
        ("extra key", {"lmstudio": True, "version": "0.4.21"}),
    ],
    "lmstudio/status.schema.json": [
        ("llmster", LMSTUDIO_STATUS),
        ("app", {"package": "lm-studio", "version": "0.3.31"}),
    ],
    "scenario.schema.json": [
        ("empty", {}),
        ("every key", _FULL_SCENARIO),
        ("token off", {"api_token": None, "profile": "openai", "jit": False}),
        ("respond null", _scenario({"route": "chat", "respond": {"json": None}})),
        ("fail status only", _scenario({"route": "models", "fail": {"status": 500}})),
    ],
}

INVALID: dict[str, list[InvalidExample]] = {
    "openai/common.schema.json#/$defs/usage": [
        (
            "no total",
            {"prompt_tokens": 1, "completion_tokens": 1},
            "'total_tokens' is a required property",
        ),
        (
            "negative",
            {"prompt_tokens": -1, "completion_tokens": 1, "total_tokens": 0},
            "less than the minimum of 0",
        ),
    ],
    "openai/common.schema.json#/$defs/max_tokens": [
        ("zero", 0, "is not valid under any of the given schemas"),
        ("minus two", -2, "is not valid under any of the given schemas"),
        ("string", "100", "is not valid under any of the given schemas"),
    ],
    "openai/common.schema.json#/$defs/message": [
        (
            "function role",
            {"role": "function", "content": "x", "name": "f"},
            "is not valid under any",
        ),
        ("tool without id", {"role": "tool", "content": "21"}, "is not valid under any"),
        ("user without content", {"role": "user"}, "is not valid under any"),
    ],
    "openai/common.schema.json#/$defs/tool_call": [
        (
            "object arguments",
            {"id": "1", "type": "function", "function": {"name": "f", "arguments": {}}},
            "{} is not of type 'string'",
        ),
        (
            "no id",
            {"type": "function", "function": {"name": "f", "arguments": "{}"}},
            "'id' is a required property",
        ),
    ],
    "openai/common.schema.json#/$defs/stop": [
        ("number", 5, "is not valid under any of the given schemas"),
        ("number list", [5], "5 is not of type 'string'"),
    ],
    "lmstudio/common.schema.json#/$defs/stats": [
        (
            "no stop_reason",
            changed(LMSTUDIO_V0_CHAT_COMPLETION["stats"], "stop_reason"),
            "'stop_reason' is a required",
        ),
        (
            "string speed",
            changed(LMSTUDIO_V0_CHAT_COMPLETION["stats"], "tokens_per_second", "fast"),
            "'fast' is not of type 'number'",
        ),
    ],
    "lmstudio/common.schema.json#/$defs/model_state": [
        ("unloaded", "unloaded", "is not one of"),
        ("null", None, "is not one of"),
    ],
    "lmstudio/common.schema.json#/$defs/runtime": [
        ("no version", changed(_V0_RUNTIME, "version"), "'version' is a required property"),
        (
            "formats string",
            changed(_V0_RUNTIME, "supported_formats", "gguf"),
            "'gguf' is not of type 'array'",
        ),
    ],
    "openai/chat-completion-request.schema.json": [
        ("no messages", {"model": "m"}, "'messages' is a required property"),
        ("empty messages", {"messages": []}, "[] should be non-empty"),
        ("empty model", {**_CHAT_REQUEST, "model": ""}, "'' should be non-empty"),
        ("bad role", changed(_CHAT_REQUEST, "messages.0.role", "robot"), "is not valid under any"),
        (
            "tool message without tool_call_id",
            changed(_FULL_CHAT_REQUEST, "messages.4.tool_call_id"),
            "is not valid under any",
        ),
        (
            "empty tool_call_id",
            changed(_FULL_CHAT_REQUEST, "messages.4.tool_call_id", ""),
            "is not valid under any",
        ),
        (
            "temperature 3",
            {**_CHAT_REQUEST, "temperature": 3},
            "3 is greater than the maximum of 2",
        ),
        ("max_tokens 0", {**_CHAT_REQUEST, "max_tokens": 0}, "0 is not valid under any"),
        (
            "max_completion_tokens -5",
            {**_CHAT_REQUEST, "max_completion_tokens": -5},
            "-5 is not valid",
        ),
        (
            "stream string",
            {**_CHAT_REQUEST, "stream": "yes"},
            "'yes' is not of type 'boolean', 'null'",
        ),
        (
            "include_usage string",
            {**_CHAT_REQUEST, "stream_options": {"include_usage": "yes"}},
            "'yes' is not of type 'boolean'",
        ),
        ("stop numbers", {**_CHAT_REQUEST, "stop": [1]}, "1 is not of type 'string'"),
        (
            "tool_choice always",
            {**_CHAT_REQUEST, "tool_choice": "always"},
            "'always' is not one of",
        ),
        (
            "custom tool",
            {**_CHAT_REQUEST, "tools": [changed(_WEATHER_TOOL, "type", "custom")]},
            "'function' was expected",
        ),
        (
            "tool without name",
            {**_CHAT_REQUEST, "tools": [changed(_WEATHER_TOOL, "function.name")]},
            "'name' is a required",
        ),
        (
            "response_format xml",
            {**_CHAT_REQUEST, "response_format": {"type": "xml"}},
            "is not valid under any",
        ),
        (
            "json_schema without name",
            {
                **_CHAT_REQUEST,
                "response_format": {"type": "json_schema", "json_schema": {"schema": {}}},
            },
            "'name' is a required property",
        ),
    ],
    "openai/chat-completion.schema.json": [
        (
            "no choices",
            changed(LMSTUDIO_CHAT_COMPLETION, "choices"),
            "'choices' is a required property",
        ),
        (
            "chunk object",
            {**LMSTUDIO_CHAT_COMPLETION, "object": "chat.completion.chunk"},
            "'chat.completion' was expected",
        ),
        (
            "string created",
            {**LMSTUDIO_CHAT_COMPLETION, "created": "1731990317"},
            "is not of type 'integer'",
        ),
        (
            "finish eos",
            changed(LMSTUDIO_CHAT_COMPLETION, "choices.0.finish_reason", "eos"),
            "'eos' is not one of",
        ),
        (
            "null finish",
            changed(LMSTUDIO_CHAT_COMPLETION, "choices.0.finish_reason", None),
            "None is not one of",
        ),
        (
            "no logprobs",
            changed(LMSTUDIO_CHAT_COMPLETION, "choices.0.logprobs"),
            "'logprobs' is a required property",
        ),
        (
            "user role",
            changed(LMSTUDIO_CHAT_COMPLETION, "choices.0.message.role", "user"),
            "'assistant' was expected",
        ),
        (
            "number content",
            changed(LMSTUDIO_CHAT_COMPLETION, "choices.0.message.content", 42),
            "42 is not of type",
        ),
        (
            "no total_tokens",
            changed(LMSTUDIO_CHAT_COMPLETION, "usage.total_tokens"),
            "'total_tokens' is a required",
        ),
        (
            "object arguments",
            changed(
                LMSTUDIO_TOOL_CALL_COMPLETION,
                "choices.0.message.tool_calls.0.function.arguments",
                {"q": 1},
            ),
            "is not of type 'string'",
        ),
        ("stats list", {**LMSTUDIO_CHAT_COMPLETION, "stats": []}, "[] is not of type 'object'"),
    ],
    "openai/chat-completion-chunk.schema.json": [
        (
            "completion object",
            {**LMSTUDIO_CHAT_CHUNKS[0], "object": "chat.completion"},
            "'chat.completion.chunk' was expected",
        ),
        (
            "finish done",
            changed(LMSTUDIO_CHAT_CHUNKS[2], "choices.0.finish_reason", "done"),
            "'done' is not one of",
        ),
        (
            "no finish_reason",
            changed(LMSTUDIO_CHAT_CHUNKS[1], "choices.0.finish_reason"),
            "'finish_reason' is a required",
        ),
        (
            "no delta",
            changed(LMSTUDIO_CHAT_CHUNKS[1], "choices.0.delta"),
            "'delta' is a required property",
        ),
        (
            "tool call without index",
            changed(LMSTUDIO_TOOL_CALL_CHUNKS[1], "choices.0.delta.tool_calls.0.index"),
            "'index' is a required property",
        ),
        (
            "delta role bot",
            changed(LMSTUDIO_CHAT_CHUNKS[0], "choices.0.delta.role", "bot"),
            "'bot' is not one of",
        ),
        ("usage list", {**LMSTUDIO_USAGE_CHUNK, "usage": []}, "[] is not valid under any"),
        (
            "no choices",
            changed(LMSTUDIO_USAGE_CHUNK, "choices"),
            "'choices' is a required property",
        ),
    ],
    "openai/completion-request.schema.json": [
        ("no prompt", changed(_COMPLETION_REQUEST, "prompt"), "'prompt' is a required property"),
        ("empty list", {"prompt": []}, "[] is not valid under any"),
        ("empty inner list", {"prompt": [[]]}, "[] should be non-empty"),
        ("mixed list", {"prompt": [1, "a"]}, "is not valid under any"),
        ("null prompt", {"prompt": None}, "None is not valid under any"),
        ("max_tokens 0", {**_COMPLETION_REQUEST, "max_tokens": 0}, "0 is not valid under any"),
        (
            "negative temperature",
            {**_COMPLETION_REQUEST, "temperature": -0.1},
            "-0.1 is less than the minimum",
        ),
        ("echo string", {**_COMPLETION_REQUEST, "echo": "yes"}, "'yes' is not of type"),
    ],
    "openai/completion.schema.json": [
        (
            "chat object",
            {**LMSTUDIO_COMPLETION, "object": "chat.completion"},
            "'text_completion' was expected",
        ),
        (
            "no text",
            changed(LMSTUDIO_COMPLETION, "choices.0.text"),
            "'text' is a required property",
        ),
        (
            "tool_calls finish",
            changed(LMSTUDIO_COMPLETION, "choices.0.finish_reason", "tool_calls"),
            "is not one of",
        ),
        (
            "no logprobs",
            changed(LMSTUDIO_COMPLETION, "choices.0.logprobs"),
            "'logprobs' is a required property",
        ),
        ("no model", changed(LMSTUDIO_COMPLETION, "model"), "'model' is a required property"),
    ],
    "openai/completion-chunk.schema.json": [
        (
            "chunk object",
            {**_COMPLETION_CHUNK, "object": "text_completion.chunk"},
            "'text_completion' was expected",
        ),
        ("no text", changed(_COMPLETION_CHUNK, "choices.0.text"), "'text' is a required property"),
        (
            "finish eos",
            changed(_COMPLETION_CHUNK, "choices.0.finish_reason", "eos"),
            "'eos' is not one of",
        ),
        (
            "no finish_reason",
            changed(_COMPLETION_CHUNK, "choices.0.finish_reason"),
            "'finish_reason' is a required",
        ),
        ("no choices", changed(_COMPLETION_CHUNK, "choices"), "'choices' is a required property"),
    ],
    "openai/embedding-request.schema.json": [
        ("no input", {"model": "m"}, "'input' is a required property"),
        ("empty string", {**_EMBEDDING_REQUEST, "input": ""}, "'' should be non-empty"),
        ("empty list", {**_EMBEDDING_REQUEST, "input": []}, "[] is not valid under any"),
        (
            "nested strings",
            {**_EMBEDDING_REQUEST, "input": [["a"]]},
            "'a' is not of type 'integer'",
        ),
        ("int8", {**_EMBEDDING_REQUEST, "encoding_format": "int8"}, "'int8' is not one of"),
        (
            "zero dimensions",
            {**_EMBEDDING_REQUEST, "dimensions": 0},
            "0 is less than the minimum of 1",
        ),
    ],
    "openai/embedding-list.schema.json": [
        ("no usage", changed(LMSTUDIO_EMBEDDINGS, "usage"), "'usage' is a required property"),
        (
            "item object",
            changed(LMSTUDIO_EMBEDDINGS, "data.0.object", "vector"),
            "'embedding' was expected",
        ),
        (
            "empty vector",
            changed(LMSTUDIO_EMBEDDINGS, "data.0.embedding", []),
            "[] should be non-empty",
        ),
        (
            "string vector",
            changed(LMSTUDIO_EMBEDDINGS, "data.0.embedding", ["a"]),
            "'a' is not of type 'number'",
        ),
        (
            "no index",
            changed(LMSTUDIO_EMBEDDINGS, "data.0.index"),
            "'index' is a required property",
        ),
        ("model object", {**LMSTUDIO_EMBEDDINGS, "object": "embedding"}, "'list' was expected"),
    ],
    "openai/model-list.schema.json": [
        (
            "no owned_by",
            changed(LMSTUDIO_V1_MODELS, "data.0.owned_by"),
            "'owned_by' is a required property",
        ),
        (
            "entry object",
            changed(LMSTUDIO_V1_MODELS, "data.1.object", "models"),
            "'model' was expected",
        ),
        ("empty id", changed(LMSTUDIO_V1_MODELS, "data.0.id", ""), "'' should be non-empty"),
        (
            "string created",
            changed(LMSTUDIO_V1_MODELS, "data.0.created", "yesterday"),
            "is not of type 'integer'",
        ),
        ("no object", changed(LMSTUDIO_V1_MODELS, "object"), "'object' is a required property"),
    ],
    "openai/error.schema.json": [
        ("string form", LMSTUDIO_ERROR_STRINGS[0], "is not of type 'object'"),
        (
            "no message",
            changed(LMSTUDIO_ERROR_OBJECTS[0], "error.message"),
            "'message' is a required property",
        ),
        (
            "numeric code",
            changed(LMSTUDIO_ERROR_OBJECTS[0], "error.code", 404),
            "404 is not of type",
        ),
        ("no error", {"message": "x"}, "'error' is a required property"),
    ],
    "lmstudio/error-string.schema.json": [
        ("object form", LMSTUDIO_ERROR_OBJECTS[0], "is not of type 'string'"),
        ("empty", {"error": ""}, "'' should be non-empty"),
        ("extra key", {"error": "x", "code": 400}, "Additional properties are not allowed"),
        ("no error", {}, "'error' is a required property"),
    ],
    "lmstudio/error.schema.json": [
        ("empty string", {"error": ""}, "'' should be non-empty"),
        ("number", {"error": 42}, "is not valid under any"),
        ("no error", {"message": "x"}, "is not valid under any"),
        (
            "object without message",
            {"error": {"type": "invalid_request_error"}},
            "'message' is a required property",
        ),
    ],
    "lmstudio/stream-error.schema.json": [
        ("string error", {"error": _OVERFLOW}, "is not of type 'object'"),
        ("no error", {"message": _OVERFLOW}, "'error' is a required property"),
        ("number message", {**LMSTUDIO_STREAM_ERROR, "message": 1}, "1 is not of type 'string'"),
        (
            "no inner message",
            {"error": {}, "message": _OVERFLOW},
            "'message' is a required property",
        ),
    ],
    "lmstudio/model.schema.json": [
        ("unloaded", {**_V0_MODEL, "state": "unloaded"}, "'unloaded' is not one of"),
        ("v1 type", {**_V0_MODEL, "type": "embedding"}, "'embedding' is not one of"),
        (
            "safetensors",
            {**_V0_MODEL, "compatibility_type": "safetensors"},
            "'safetensors' is not one of",
        ),
        (
            "no max_context_length",
            changed(_V0_MODEL, "max_context_length"),
            "'max_context_length' is a required",
        ),
        (
            "zero context",
            {**_V0_MODEL, "loaded_context_length": 0},
            "0 is less than the minimum of 1",
        ),
        (
            "capabilities string",
            {**_V0_MODEL, "capabilities": "tool_use"},
            "'tool_use' is not of type 'array'",
        ),
        ("no publisher", changed(_V0_MODEL, "publisher"), "'publisher' is a required property"),
    ],
    "lmstudio/model-list.schema.json": [
        ("no object", changed(LMSTUDIO_V0_MODELS, "object"), "'object' is a required property"),
        (
            "bad entry",
            changed(LMSTUDIO_V0_MODELS, "data.1.state", "sleeping"),
            "'sleeping' is not one of",
        ),
        ("data object", {"data": {}, "object": "list"}, "{} is not of type 'array'"),
    ],
    "lmstudio/chat-completion.schema.json": [
        (
            "no stats",
            changed(LMSTUDIO_V0_CHAT_COMPLETION, "stats"),
            "'stats' is a required property",
        ),
        (
            "no model_info",
            changed(LMSTUDIO_V0_CHAT_COMPLETION, "model_info"),
            "'model_info' is a required",
        ),
        (
            "no runtime",
            changed(LMSTUDIO_V0_CHAT_COMPLETION, "runtime"),
            "'runtime' is a required property",
        ),
        (
            "bad format",
            changed(LMSTUDIO_V0_CHAT_COMPLETION, "model_info.format", "onnx"),
            "'onnx' is not one of",
        ),
        (
            "formats string",
            changed(LMSTUDIO_V0_CHAT_COMPLETION, "runtime.supported_formats", "gguf"),
            "'gguf' is not of type 'array'",
        ),
        (
            "openai part",
            {**LMSTUDIO_V0_CHAT_COMPLETION, "object": "text_completion"},
            "'chat.completion' was expected",
        ),
        (
            "negative usage",
            changed(LMSTUDIO_V0_CHAT_COMPLETION, "usage.prompt_tokens", -1),
            "less than the minimum",
        ),
    ],
    "lmstudio/completion.schema.json": [
        ("no stats", changed(LMSTUDIO_V0_COMPLETION, "stats"), "'stats' is a required property"),
        (
            "chat object",
            {**LMSTUDIO_V0_COMPLETION, "object": "chat.completion"},
            "'text_completion' was expected",
        ),
        (
            "no generation_time",
            changed(LMSTUDIO_V0_COMPLETION, "stats.generation_time"),
            "'generation_time' is a",
        ),
    ],
    "lmstudio/greeting.schema.json": [
        ("false", {"lmstudio": False}, "True was expected"),
        ("string", {"lmstudio": "true"}, "True was expected"),
        ("one", {"lmstudio": 1}, "True was expected"),
        ("empty", {}, "'lmstudio' is a required property"),
    ],
    "lmstudio/status.schema.json": [
        ("no version", {"package": "llmster"}, "'version' is a required property"),
        ("number version", {"package": "llmster", "version": 4}, "4 is not of type 'string'"),
        ("empty package", {"package": "", "version": "0.4.21"}, "'' should be non-empty"),
    ],
    "scenario.schema.json": [
        (
            "unknown key",
            {"sead": 7},
            "Additional properties are not allowed ('sead' was unexpected)",
        ),
        (
            "rule without route",
            _scenario({"reply": {"content": "hi"}}),
            "'route' is a required property",
        ),
        ("two actions", _scenario({**_RULE, "fail": {"status": 500}}), "is valid under each of"),
        ("no action", _scenario({"route": "chat"}), "is not valid under any"),
        (
            "fail status 200",
            _scenario({"route": "chat", "fail": {"status": 200}}),
            "200 is less than the minimum",
        ),
        ("times 0", _scenario({**_RULE, "times": 0}), "0 is less than the minimum of 1"),
        ("model without id", {"models": [{"type": "llm"}]}, "'id' is a required property"),
        ("profile ollama", {"profile": "ollama"}, "'ollama' is not one of"),
        (
            "route responses",
            _scenario({**_RULE, "route": "responses"}),
            "'responses' is not one of",
        ),
        (
            "no chunks",
            _scenario({"route": "chat", "stream": {"chunks": []}}),
            "[] should be non-empty",
        ),
        ("when typo", _scenario({**_RULE, "when": {"modle": "m"}}), "('modle' was unexpected)"),
        (
            "reply typo",
            _scenario({"route": "chat", "reply": {"text": "hi"}}),
            "('text' was unexpected)",
        ),
        ("negative seed", {"seed": -1}, "-1 is less than the minimum of 0"),
        ("empty token", {"api_token": ""}, "'' should be non-empty"),
        (
            "respond status 600",
            _scenario({"route": "chat", "respond": {"json": {}, "status": 600}}),
            "600 is greater",
        ),
        (
            "raw without body",
            _scenario({"route": "chat", "raw": {"status": 200}}),
            "'body' is a required property",
        ),
    ],
}

# The REST API v1's examples live in their own module.
from tests.contract.examples_rest_v1 import INVALID as _INVALID_REST_V1  # noqa: E402
from tests.contract.examples_rest_v1 import VALID as _VALID_REST_V1  # noqa: E402

VALID.update(_VALID_REST_V1)
INVALID.update(_INVALID_REST_V1)
# The Responses door's examples live in their own module (it reads the helpers above).
from tests.contract.examples_responses import RESPONSES_INVALID, RESPONSES_VALID  # noqa: E402

VALID.update(RESPONSES_VALID)
INVALID.update(RESPONSES_INVALID)
# The Anthropic-compatible door's examples live beside these, in their own module.
from tests.contract.examples_anthropic import ANTHROPIC_INVALID, ANTHROPIC_VALID  # noqa: E402

VALID.update(ANTHROPIC_VALID)
INVALID.update(ANTHROPIC_INVALID)
