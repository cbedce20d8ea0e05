"""Example documents for the REST API v1 schemas (``schemas/lmstudio-v1/``).

The ``LMSTUDIO_V1_*`` constants are LM Studio's own payloads as section C of
``reference/lmstudio-new-apis.md`` shows them (its docs' examples and pasted server output).
``VALID`` and ``INVALID`` follow ``examples.py``: each invalid example breaks one rule and
carries a fragment of jsonschema's message about it.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = [
    "INVALID",
    "LMSTUDIO_V1_CHAT",
    "LMSTUDIO_V1_DOWNLOAD_STATUS",
    "LMSTUDIO_V1_LOAD",
    "LMSTUDIO_V1_MODEL_LIST",
    "VALID",
]

Example = tuple[str, Any]
InvalidExample = tuple[str, Any, str]


def _with(document: Any, **changes: Any) -> Any:
    """A deep copy of ``document`` with top-level keys changed (``None``: removed)."""
    out = copy.deepcopy(document)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


# --- LM Studio's payloads ------------------------------------------------------------------

LMSTUDIO_V1_MODEL_LIST: dict[str, Any] = {
    "models": [
        {
            "type": "llm",
            "publisher": "qwen",
            "key": "qwen/qwen3-8b",
            "display_name": "Qwen3 8B",
            "architecture": "qwen3",
            "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
            "size_bytes": 5027783488,
            "params_string": "8B",
            "loaded_instances": [
                {
                    "id": "qwen/qwen3-8b",
                    "config": {
                        "context_length": 4096,
                        "eval_batch_size": 512,
                        "parallel": 4,
                        "flash_attention": True,
                        "offload_kv_cache_to_gpu": True,
                    },
                }
            ],
            "max_context_length": 40960,
            "format": "gguf",
            "capabilities": {
                "vision": False,
                "trained_for_tool_use": True,
                "reasoning": {"allowed_options": ["off", "on"], "default": "on"},
            },
            "description": None,
            "variants": ["qwen/qwen3-8b@q4_k_m"],
            "selected_variant": "qwen/qwen3-8b@q4_k_m",
        },
        {
            "type": "embedding",
            "publisher": "nomic-ai",
            "key": "text-embedding-nomic-embed-text-v1.5",
            "display_name": "Nomic Embed Text v1.5",
            "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
            "size_bytes": 84106624,
            "params_string": None,
            "loaded_instances": [],
            "max_context_length": 2048,
            "format": "gguf",
        },
    ]
}
"""GET /api/v1/models (section C.2)."""

LMSTUDIO_V1_LOAD: dict[str, Any] = {
    "type": "llm",
    "instance_id": "openai/gpt-oss-20b",
    "load_time_seconds": 9.099,
    "status": "loaded",
    "load_config": {
        "context_length": 16384,
        "eval_batch_size": 512,
        "flash_attention": True,
        "offload_kv_cache_to_gpu": True,
        "num_experts": 4,
    },
}
"""POST /api/v1/models/load with echo_load_config (section C.3)."""

LMSTUDIO_V1_DOWNLOAD_STATUS: dict[str, Any] = {
    "job_id": "job_493c7c9ded",
    "status": "completed",
    "total_size_bytes": 2279145003,
    "downloaded_bytes": 2279145003,
    "started_at": "2025-10-03T15:33:23.496Z",
    "completed_at": "2025-10-03T15:43:12.102Z",
}
"""GET /api/v1/models/download/status/:job_id (section C.5)."""

LMSTUDIO_V1_CHAT: dict[str, Any] = {
    "model_instance_id": "qwen/qwen3-8b",
    "output": [{"type": "message", "content": "Morning light spills gold."}],
    "stats": {
        "input_tokens": 17,
        "total_output_tokens": 6,
        "reasoning_output_tokens": 0,
        "tokens_per_second": 48.2,
        "time_to_first_token_seconds": 0.21,
        "model_load_time_seconds": 2.656,
    },
    "response_id": "resp_0182bd7c479d7451f9a35471f9c26b34de87a7255856b9a4",
}
"""POST /api/v1/chat, the result of the section C.7 stream with a JIT load."""

_TOOL_CALL = {
    "type": "tool_call",
    "tool": "model_search",
    "arguments": {"sort": "trendingScore", "limit": 1},
    "output": '[{"type":"text","text":"Showing first 1 models..."}]',
    "provider_info": {"type": "ephemeral_mcp", "server_label": "huggingface"},
}
_INVALID_TOOL_CALL = {
    "type": "invalid_tool_call",
    "reason": "Cannot find tool with name open_browser.",
    "metadata": {"type": "invalid_name", "tool_name": "open_browser"},
}
_CHAT_WITH_TOOLS = _with(
    LMSTUDIO_V1_CHAT,
    output=[
        {"type": "reasoning", "content": "Search first."},
        _TOOL_CALL,
        _INVALID_TOOL_CALL,
        {"type": "message", "content": "Here it is."},
    ],
)
_ERROR = {
    "error": {
        "message": "'input.0.content' is required, Unrecognized key(s) in object: 'text'",
        "type": "invalid_request",
        "code": "invalid_union",
        "param": "input",
    }
}
_ENTRY = LMSTUDIO_V1_MODEL_LIST["models"][0]
_EMBEDDING = LMSTUDIO_V1_MODEL_LIST["models"][1]

VALID: dict[str, list[Example]] = {
    "lmstudio-v1/common.schema.json#/$defs/output_item": [
        ("message", {"type": "message", "content": "Hi"}),
        ("tool call", _TOOL_CALL),
        ("invalid tool call", _INVALID_TOOL_CALL),
    ],
    "lmstudio-v1/common.schema.json#/$defs/stats": [
        ("with a load", LMSTUDIO_V1_CHAT["stats"]),
        ("no load", _with(LMSTUDIO_V1_CHAT["stats"], model_load_time_seconds=None)),
    ],
    "lmstudio-v1/error.schema.json": [
        ("zod union", _ERROR),
        ("not found", {"error": {"message": 'Model "x" not found.', "type": "model_not_found"}}),
    ],
    "lmstudio-v1/model-list.schema.json": [
        ("reference", LMSTUDIO_V1_MODEL_LIST),
        ("empty", {"models": []}),
        (
            "0.4.0 config",
            {
                "models": [
                    _with(
                        _ENTRY,
                        loaded_instances=[
                            {
                                "id": "qwen/qwen3-8b",
                                "config": {"context_length": 4096, "num_experts": 0},
                            }
                        ],
                    )
                ]
            },
        ),
    ],
    "lmstudio-v1/load-request.schema.json": [
        ("model only", {"model": "qwen/qwen3-8b"}),
        (
            "every setting",
            {
                "model": "openai/gpt-oss-20b",
                "context_length": 16384,
                "eval_batch_size": 512,
                "flash_attention": True,
                "num_experts": 4,
                "offload_kv_cache_to_gpu": True,
                "echo_load_config": True,
            },
        ),
    ],
    "lmstudio-v1/load.schema.json": [
        ("echoed config", LMSTUDIO_V1_LOAD),
        ("plain", _with(LMSTUDIO_V1_LOAD, load_config=None)),
    ],
    "lmstudio-v1/unload-request.schema.json": [
        ("key", {"instance_id": "openai/gpt-oss-20b"}),
        ("second instance", {"instance_id": "qwen/qwen3-8b:2"}),
    ],
    "lmstudio-v1/unload.schema.json": [
        ("key", {"instance_id": "openai/gpt-oss-20b"}),
        ("second instance", {"instance_id": "qwen/qwen3-8b:2"}),
    ],
    "lmstudio-v1/download-request.schema.json": [
        ("catalog id", {"model": "ibm/granite-4-micro"}),
        (
            "hugging face",
            {"model": "https://huggingface.co/ibm/granite-4-micro-GGUF", "quantization": "Q4_K_M"},
        ),
    ],
    "lmstudio-v1/download.schema.json": [
        ("completed", LMSTUDIO_V1_DOWNLOAD_STATUS),
        (
            "started",
            {
                "job_id": "job_493c7c9ded",
                "status": "downloading",
                "total_size_bytes": 2279145003,
                "started_at": "2025-10-03T15:33:23.496Z",
            },
        ),
        ("already there", {"status": "already_downloaded"}),
        (
            "downloading",
            {
                "job_id": "job_493c7c9ded",
                "status": "downloading",
                "total_size_bytes": 2279145003,
                "downloaded_bytes": 1000,
                "bytes_per_second": 3875000.5,
                "estimated_completion": "2025-10-03T15:43:12.102Z",
                "started_at": "2025-10-03T15:33:23.496Z",
            },
        ),
    ],
    "lmstudio-v1/chat-request.schema.json": [
        ("text", {"model": "qwen/qwen3-8b", "input": "Write a haiku"}),
        (
            "everything",
            {
                "model": "qwen/qwen3-8b",
                "input": [
                    {"type": "text", "content": "What is in this image?"},
                    {"type": "message", "content": "Be short."},
                    {"type": "image", "data_url": "data:image/png;base64,iVBORw0KGgo="},
                ],
                "system_prompt": "You are terse.",
                "integrations": [
                    "mcp/playwright",
                    {"type": "plugin", "id": "mcp/playwright", "allowed_tools": ["browse"]},
                    {
                        "type": "ephemeral_mcp",
                        "server_label": "huggingface",
                        "server_url": "https://huggingface.co/mcp",
                        "allowed_tools": ["model_search"],
                        "headers": {"Authorization": "Bearer x"},
                    },
                ],
                "stream": True,
                "temperature": 0.7,
                "top_p": 0.9,
                "top_k": 40,
                "min_p": 0.05,
                "repeat_penalty": 1.1,
                "max_output_tokens": 256,
                "reasoning": "off",
                "context_length": 8192,
                "store": False,
                "previous_response_id": "resp_0182bd7c479d7451f9a35471f9c26b34de87a7255856b9a4",
            },
        ),
    ],
    "lmstudio-v1/chat.schema.json": [
        ("reference", LMSTUDIO_V1_CHAT),
        ("tools, not stored", _with(_CHAT_WITH_TOOLS, response_id=None)),
    ],
    "lmstudio-v1/chat-event.schema.json": [
        ("chat.start", {"type": "chat.start", "model_instance_id": "qwen/qwen3-8b"}),
        ("message.delta", {"type": "message.delta", "content": "Morning light spills gold."}),
        (
            "model_load.progress",
            {"type": "model_load.progress", "model_instance_id": "qwen/qwen3-8b", "progress": 0.65},
        ),
        ("prompt_processing.end", {"type": "prompt_processing.end"}),
        (
            "tool_call.success",
            {
                "type": "tool_call.success",
                "tool": "model_search",
                "arguments": _TOOL_CALL["arguments"],
                "output": _TOOL_CALL["output"],
                "provider_info": _TOOL_CALL["provider_info"],
            },
        ),
        (
            "tool_call.failure",
            {
                "type": "tool_call.failure",
                "reason": _INVALID_TOOL_CALL["reason"],
                "metadata": _INVALID_TOOL_CALL["metadata"],
            },
        ),
        (
            "error",
            {
                "type": "error",
                "error": {
                    "type": "internal_error",
                    "message": "Engine protocol predict request returned 500",
                },
            },
        ),
        ("chat.end", {"type": "chat.end", "result": LMSTUDIO_V1_CHAT}),
    ],
}

INVALID: dict[str, list[InvalidExample]] = {
    "lmstudio-v1/common.schema.json#/$defs/output_item": [
        ("unknown type", {"type": "function_call", "content": "x"}, "is not valid under any"),
        (
            "arguments as text",
            _with(_TOOL_CALL, arguments='{"limit": 1}'),
            "is not of type 'object'",
        ),
    ],
    "lmstudio-v1/common.schema.json#/$defs/stats": [
        (
            "no input tokens",
            _with(LMSTUDIO_V1_CHAT["stats"], input_tokens=None),
            "'input_tokens' is a required property",
        ),
        (
            "negative tokens",
            _with(LMSTUDIO_V1_CHAT["stats"], total_output_tokens=-1),
            "-1 is less than the minimum of 0",
        ),
    ],
    "lmstudio-v1/error.schema.json": [
        ("string error", {"error": "Unexpected endpoint or method."}, "is not of type 'object'"),
        (
            "no type",
            {"error": {"message": "Model not found."}},
            "'type' is a required property",
        ),
    ],
    "lmstudio-v1/model-list.schema.json": [
        ("no models", {}, "'models' is a required property"),
        (
            "v0 type",
            {"models": [_with(_EMBEDDING, type="embeddings")]},
            "'embeddings' is not one of",
        ),
        (
            "quantization as text",
            {"models": [_with(_ENTRY, quantization="Q4_K_M")]},
            "is not valid under any",
        ),
    ],
    "lmstudio-v1/load-request.schema.json": [
        ("no model", {"context_length": 4096}, "'model' is a required property"),
        ("stream", {"model": "qwen/qwen3-8b", "stream": True}, "('stream' was unexpected)"),
        ("ttl", {"model": "qwen/qwen3-8b", "ttl": 60}, "('ttl' was unexpected)"),
    ],
    "lmstudio-v1/load.schema.json": [
        ("loading", _with(LMSTUDIO_V1_LOAD, status="loading"), "'loaded' was expected"),
        ("no instance", _with(LMSTUDIO_V1_LOAD, instance_id=None), "'instance_id' is a required"),
    ],
    "lmstudio-v1/unload-request.schema.json": [
        ("no instance", {}, "'instance_id' is a required property"),
        ("empty", {"instance_id": ""}, "should be non-empty"),
    ],
    "lmstudio-v1/unload.schema.json": [
        ("nothing", {}, "'instance_id' is a required property"),
        ("number", {"instance_id": 2}, "2 is not of type 'string'"),
    ],
    "lmstudio-v1/download-request.schema.json": [
        ("no model", {"quantization": "Q4_K_M"}, "'model' is a required property"),
        ("extra key", {"model": "ibm/granite-4-micro", "wait": True}, "('wait' was unexpected)"),
    ],
    "lmstudio-v1/download.schema.json": [
        (
            "unknown status",
            _with(LMSTUDIO_V1_DOWNLOAD_STATUS, status="queued"),
            "is not valid under any",
        ),
        (
            "bad job id",
            _with(LMSTUDIO_V1_DOWNLOAD_STATUS, job_id="493c7c9ded"),
            "does not match '^job_",
        ),
    ],
    "lmstudio-v1/chat-request.schema.json": [
        (
            "openai messages",
            {"model": "qwen/qwen3-8b", "messages": [], "input": "hi"},
            "('messages' was unexpected)",
        ),
        (
            "stop",
            {"model": "qwen/qwen3-8b", "input": "hi", "stop": ["\n"]},
            "('stop' was unexpected)",
        ),
        ("no input", {"model": "qwen/qwen3-8b"}, "'input' is a required property"),
        (
            "reasoning max",
            {"model": "qwen/qwen3-8b", "input": "hi", "reasoning": "max"},
            "'max' is not one of",
        ),
        (
            "response id",
            {"model": "qwen/qwen3-8b", "input": "hi", "previous_response_id": "abc"},
            "does not match '^resp_'",
        ),
        (
            "text item with text",
            {"model": "qwen/qwen3-8b", "input": [{"type": "text", "text": "hi"}]},
            "is not valid under any",
        ),
    ],
    "lmstudio-v1/chat.schema.json": [
        ("no stats", _with(LMSTUDIO_V1_CHAT, stats=None), "'stats' is a required property"),
        (
            "short response id",
            _with(LMSTUDIO_V1_CHAT, response_id="resp_0182bd7c"),
            "does not match",
        ),
        (
            "openai shape",
            _with(LMSTUDIO_V1_CHAT, choices=[]),
            "('choices' was unexpected)",
        ),
    ],
    "lmstudio-v1/chat-event.schema.json": [
        ("unknown event", {"type": "message.stop"}, "is not valid under any"),
        ("delta without content", {"type": "message.delta"}, "is not valid under any"),
    ],
}
