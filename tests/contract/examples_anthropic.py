"""Examples for the Anthropic-compatible door's schemas (``schemas/anthropic/``), merged into
``examples.VALID`` and ``examples.INVALID``.

The ``LMSTUDIO_ANTHROPIC_ERRORS`` are real LM Studio bodies (section B.4 of
``reference/lmstudio-new-apis.md``); the messages and events follow section B.2 and B.3 (the
Anthropic format, as the anthropic SDK types it).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = [
    "ANTHROPIC_INVALID",
    "ANTHROPIC_VALID",
    "LMSTUDIO_ANTHROPIC_ERRORS",
]


def _with(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    out.update(changes)
    return out


def _error(type_: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message}}


LMSTUDIO_ANTHROPIC_ERRORS: list[dict[str, Any]] = [
    _error(
        "invalid_request_error",
        "request.messages.1.role: Invalid discriminator value. Expected 'user' | 'assistant'",
    ),
    _error(
        "invalid_request_error",
        "Only text tool_result blocks are supported when tool_result.content is an array.",
    ),
    _error("api_error", "The model has crashed without additional information. (Exit code: null)"),
    _error(
        "api_error",
        'Engine protocol predict request returned 400: {"error":{"code":400,"message":'
        '"Failed to initialize samplers: failed to parse grammar","type":"invalid_request_error"}}',
    ),
]
"""The ``/v1/messages`` error bodies users pasted (LM Studio 0.4.9 to 0.4.21)."""

_WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
_REQUEST: dict[str, Any] = {
    "model": "ibm/granite-4-micro",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hello"}],
}
_TOOL_ROUND_TRIP: dict[str, Any] = {
    "model": "qwen/qwen3-8b",
    "max_tokens": 512,
    "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris? See the picture."},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Call the tool.", "signature": ""},
                {
                    "type": "tool_use",
                    "id": "toolu_4f9k2m8q1x7c3v6b0n5z8a1s",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_4f9k2m8q1x7c3v6b0n5z8a1s",
                    "content": [{"type": "text", "text": "18 C, sunny"}],
                }
            ],
        },
    ],
    "tools": [_WEATHER],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "stop_sequences": ["\n\nHuman:"],
    "temperature": 0.7,
    "top_k": 40,
    "stream": True,
    "metadata": {"user_id": "u-1"},
    "anthropic_beta_field": {"anything": True},
}
_MESSAGE: dict[str, Any] = {
    "id": "msg_0kq3v8zt1r2y7x4w9b6n5m3l",
    "type": "message",
    "role": "assistant",
    "model": "ibm/granite-4-micro",
    "content": [{"type": "text", "text": "Hello from LM Studio!"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 14, "output_tokens": 6},
}
_TOOL_MESSAGE = _with(
    _MESSAGE,
    content=[
        {"type": "text", "text": "Let me check."},
        {
            "type": "tool_use",
            "id": "toolu_4f9k2m8q1x7c3v6b0n5z8a1s",
            "name": "get_weather",
            "input": {"location": "San Francisco, CA"},
        },
    ],
    stop_reason="tool_use",
)
_THINKING_MESSAGE = _with(
    _MESSAGE,
    content=[
        {"type": "thinking", "thinking": "The user greets me...", "signature": ""},
        {"type": "text", "text": "Hi!"},
    ],
)
_STARTED = _with(
    _MESSAGE, content=[], stop_reason=None, usage={"input_tokens": 14, "output_tokens": 0}
)
_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("message_start", {"type": "message_start", "message": _STARTED}),
    ("ping", {"type": "ping"}),
    (
        "text block start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    (
        "text delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "Hello"},
        },
    ),
    (
        "tool block start",
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_4f9k2m8q1x7c3v6b0n5z8a1s",
                "name": "get_weather",
                "input": {},
            },
        },
    ),
    (
        "input json delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"location": '},
        },
    ),
    (
        "thinking block start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
    ),
    (
        "thinking delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "The user greets me."},
        },
    ),
    (
        "signature delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": ""},
        },
    ),
    ("block stop", {"type": "content_block_stop", "index": 0}),
    (
        "message delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 6},
        },
    ),
    ("message stop", {"type": "message_stop"}),
    (
        "error",
        _error("api_error", "Engine protocol predict request returned 500: boom"),
    ),
]
_COMMON = "anthropic/common.schema.json#/$defs/"

ANTHROPIC_VALID: dict[str, list[tuple[str, Any]]] = {
    "anthropic/messages-request.schema.json": [
        ("minimal", _REQUEST),
        ("tool round trip, image, thinking, extras", _TOOL_ROUND_TRIP),
        (
            "system role inside messages (0.4.15+)",
            _with(
                _REQUEST,
                messages=[
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hello"},
                ],
            ),
        ),
        ("tool choice any", _with(_REQUEST, tools=[_WEATHER], tool_choice={"type": "any"})),
        (
            "tool choice tool",
            _with(_REQUEST, tools=[_WEATHER], tool_choice={"type": "tool", "name": "get_weather"}),
        ),
    ],
    "anthropic/message.schema.json": [
        ("text", _MESSAGE),
        ("tool use", _TOOL_MESSAGE),
        ("thinking", _THINKING_MESSAGE),
        (
            "stop sequence",
            _with(_MESSAGE, stop_reason="stop_sequence", stop_sequence="\n\nHuman:"),
        ),
    ],
    "anthropic/error.schema.json": [
        *[(f"LM Studio error {i}", body) for i, body in enumerate(LMSTUDIO_ANTHROPIC_ERRORS)],
        ("authentication", _error("authentication_error", "A token is required")),
    ],
    "anthropic/stream-event.schema.json": _EVENTS,
    _COMMON + "usage": [
        ("counts", {"input_tokens": 14, "output_tokens": 6}),
        (
            "with cache fields",
            {"input_tokens": 1, "output_tokens": 0, "cache_read_input_tokens": 0},
        ),
    ],
    _COMMON + "tool_choice": [("auto", {"type": "auto"}), ("none", {"type": "none"})],
}

ANTHROPIC_INVALID: dict[str, list[tuple[str, Any, str]]] = {
    "anthropic/messages-request.schema.json": [
        (
            "no max_tokens",
            {k: v for k, v in _REQUEST.items() if k != "max_tokens"},
            "'max_tokens' is a required property",
        ),
        ("max_tokens 0", _with(_REQUEST, max_tokens=0), "0 is less than the minimum of 1"),
        (
            "role robot",
            _with(_REQUEST, messages=[{"role": "robot", "content": "x"}]),
            "'robot' is not one of",
        ),
        (
            "tool without input_schema",
            _with(_REQUEST, tools=[{"name": "get_weather"}]),
            "'input_schema' is a required property",
        ),
        ("system a number", _with(_REQUEST, system=5), "is not valid under any of the given"),
    ],
    "anthropic/message.schema.json": [
        ("no usage", {k: v for k, v in _MESSAGE.items() if k != "usage"}, "'usage' is a required"),
        ("stop reason eos", _with(_MESSAGE, stop_reason="eos"), "'eos' is not one of"),
        ("chat completion id", _with(_MESSAGE, id="chatcmpl-1"), "does not match"),
        (
            "tool input as a string",
            _with(
                _MESSAGE,
                content=[{"type": "tool_use", "id": "toolu_1", "name": "f", "input": "{}"}],
            ),
            "'{}' is not of type 'object'",
        ),
    ],
    "anthropic/error.schema.json": [
        (
            "no message",
            {"type": "error", "error": {"type": "api_error"}},
            "'message' is a required",
        ),
        (
            "OpenAI's envelope",
            {"type": "invalid_request_error", "error": {"type": "x", "message": "y"}},
            "'error' was expected",
        ),
    ],
    "anthropic/stream-event.schema.json": [
        ("unknown type", {"type": "message_end"}, "is not valid under any of the given schemas"),
        (
            "delta without index",
            {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}},
            "is not valid under any of the given schemas",
        ),
    ],
    _COMMON + "usage": [
        ("negative", {"input_tokens": -1, "output_tokens": 0}, "-1 is less than the minimum of 0"),
        ("no output tokens", {"input_tokens": 1}, "'output_tokens' is a required property"),
    ],
}
