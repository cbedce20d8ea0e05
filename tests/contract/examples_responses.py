"""Examples for the Responses door's schemas (``schemas/responses/``), merged into
``examples.VALID`` and ``examples.INVALID``.

The ``LMSTUDIO_RESPONSE*`` constants are LM Studio's payloads from section A of
``reference/lmstudio-new-apis.md`` (0.4.0 shape; the function call's ids are the reference's
defaults, no sample being known).
"""

from __future__ import annotations

from typing import Any

from tests.contract.examples import Example, InvalidExample, changed

__all__ = [
    "LMSTUDIO_RESPONSE",
    "LMSTUDIO_RESPONSE_EVENTS",
    "RESPONSES_INVALID",
    "RESPONSES_VALID",
]

_MESSAGE: dict[str, Any] = {
    "id": "msg_b9rzqyamegdp09s936dvh",
    "type": "message",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Google", "annotations": [], "logprobs": []}],
}
_REASONING: dict[str, Any] = {
    "id": "rs_i3zfn98ooawfz58bk5n2n",
    "type": "reasoning",
    "summary": [],
    "content": [{"type": "reasoning_text", "text": 'We need to respond to user "Test".'}],
}
_CALL: dict[str, Any] = {
    "id": "fc_k2d8x0q1m4b7c9z3v6n5a",
    "type": "function_call",
    "status": "completed",
    "call_id": "365174485",
    "name": "get_weather",
    "arguments": '{"city":"Paris"}',
}
_ID = "resp_1642103a2237e5abcec7fd2e0a6f580fcd096f6c3f542383"

LMSTUDIO_RESPONSE: dict[str, Any] = {
    "id": _ID,
    "object": "response",
    "created_at": 1769641628,
    "completed_at": 1769641629,
    "status": "completed",
    "incomplete_details": None,
    "model": "google/gemma-3-4b",
    "previous_response_id": None,
    "instructions": None,
    "output": [_MESSAGE],
    "error": None,
    "tools": [],
    "tool_choice": "auto",
    "truncation": "disabled",
    "parallel_tool_calls": True,
    "text": {"format": {"type": "text"}},
    "top_p": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "top_logprobs": 0,
    "temperature": 1,
    "reasoning": None,
    "user": None,
    "usage": {
        "input_tokens": 274,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 2,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 276,
    },
    "max_output_tokens": None,
    "max_tool_calls": None,
    "store": True,
    "background": False,
    "service_tier": "default",
    "metadata": {},
    "safety_identifier": None,
    "prompt_cache_key": None,
}
"""POST /v1/responses, not streamed (section A.3)."""

_IN_PROGRESS: dict[str, Any] = {
    **LMSTUDIO_RESPONSE,
    "completed_at": None,
    "status": "in_progress",
    "output": [],
    "usage": None,
}
_AT = {"item_id": _MESSAGE["id"], "output_index": 0, "content_index": 0}

LMSTUDIO_RESPONSE_EVENTS: list[dict[str, Any]] = [
    {"type": "response.created", "sequence_number": 0, "response": _IN_PROGRESS},
    {"type": "response.in_progress", "sequence_number": 1, "response": _IN_PROGRESS},
    {
        "type": "response.output_item.added",
        "sequence_number": 2,
        "output_index": 0,
        "item": {**_MESSAGE, "status": "in_progress", "content": []},
    },
    {
        "type": "response.content_part.added",
        "sequence_number": 3,
        **_AT,
        "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
    },
    {
        "type": "response.output_text.delta",
        "sequence_number": 4,
        **_AT,
        "delta": "Goo",
        "logprobs": [],
    },
    {
        "type": "response.output_text.done",
        "sequence_number": 5,
        **_AT,
        "text": "Google",
        "logprobs": [],
    },
    {
        "type": "response.content_part.done",
        "sequence_number": 6,
        **_AT,
        "part": _MESSAGE["content"][0],
    },
    {
        "type": "response.output_item.done",
        "sequence_number": 7,
        "output_index": 0,
        "item": _MESSAGE,
    },
    {"type": "response.completed", "sequence_number": 8, "response": LMSTUDIO_RESPONSE},
]
"""The text answer's events (section A.4), ``Google`` in one delta shortened to ``Goo``."""

_REASONING_DELTA: dict[str, Any] = {
    "type": "response.reasoning_text.delta",
    "sequence_number": 3,
    "item_id": _REASONING["id"],
    "output_index": 0,
    "content_index": 0,
    "delta": "User says hello.",
}
_ARGUMENTS_DONE: dict[str, Any] = {
    "type": "response.function_call_arguments.done",
    "sequence_number": 4,
    "item_id": _CALL["id"],
    "output_index": 0,
    "name": "get_weather",
    "arguments": '{"city":"Paris"}',
}
_FAILED: dict[str, Any] = {
    "type": "response.failed",
    "sequence_number": 5,
    "response": {
        **_IN_PROGRESS,
        "status": "failed",
        "error": {"code": "server_error", "message": "Engine protocol predict stream failed"},
    },
}

_EVENTS = "responses/stream-event.schema.json"
_RESPONSE = "responses/response.schema.json"
_REQUEST = "responses/request.schema.json"
_CODEX_PROBE: dict[str, Any] = {"model": "openai/gpt-oss-20b", "input": "", "max_output_tokens": 1}
_AGENT_REQUEST: dict[str, Any] = {
    "model": "qwen/qwen3-8b",
    "include": [],
    "instructions": "Answer",
    "input": [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "type": "function_call",
            "call_id": "505323881",
            "name": "get_weather",
            "arguments": '{"city":"Oslo"}',
            "id": "fc_lz06wgboplwlimk9cp87m",
            "status": "completed",
        },
        {"type": "function_call_output", "call_id": "505323881", "output": "Sunny in Oslo"},
    ],
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": True,
        }
    ],
    "store": False,
    "stream": True,
}

RESPONSES_VALID: dict[str, list[Example]] = {
    _RESPONSE: [
        ("lmstudio 0.4.0 text answer", LMSTUDIO_RESPONSE),
        ("reasoning then message", {**LMSTUDIO_RESPONSE, "output": [_REASONING, _MESSAGE]}),
        ("function call", {**LMSTUDIO_RESPONSE, "output": [_CALL]}),
        (
            "cut by max_output_tokens",
            {
                **LMSTUDIO_RESPONSE,
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
                "output": [{**_MESSAGE, "status": "incomplete"}],
                "max_output_tokens": 1,
            },
        ),
        ("strict openai: no user", changed(LMSTUDIO_RESPONSE, "user")),
    ],
    _EVENTS: [
        *[(event["type"], event) for event in LMSTUDIO_RESPONSE_EVENTS],
        ("reasoning delta", _REASONING_DELTA),
        ("arguments done", _ARGUMENTS_DONE),
        ("failed", _FAILED),
    ],
    f"{_EVENTS}#/$defs/reasoning_text_delta": [("reasoning delta", _REASONING_DELTA)],
    _REQUEST: [
        ("codex preload probe", _CODEX_PROBE),
        ("agents sdk follow-up", _AGENT_REQUEST),
        (
            "unknown keys accepted",
            {"model": "m", "input": "x", "truncation": "auto", "service_tier": "auto", "user": "u"},
        ),
        (
            "json_schema text format",
            {
                "model": "m",
                "input": [{"type": "message", "role": "developer", "content": "Be brief"}],
                "text": {"format": {"type": "json_schema", "name": "n", "schema": {}}},
                "reasoning": {"effort": "high"},
                "tool_choice": {"type": "function", "name": "get_weather"},
            },
        ),
    ],
}

RESPONSES_INVALID: dict[str, list[InvalidExample]] = {
    _RESPONSE: [
        ("no output key", changed(LMSTUDIO_RESPONSE, "output"), "'output' is a required property"),
        ("chat id", changed(LMSTUDIO_RESPONSE, "id", "chatcmpl-1"), "does not match"),
        (
            "string created_at",
            changed(LMSTUDIO_RESPONSE, "created_at", "2025-01-01"),
            "is not of type 'integer'",
        ),
    ],
    f"{_EVENTS}#/$defs/reasoning_text_delta": [
        (
            "summary delta type",
            {**_REASONING_DELTA, "type": "response.reasoning_summary_text.delta"},
            "'response.reasoning_text.delta' was expected",
        ),
        ("no sequence number", changed(_REASONING_DELTA, "sequence_number"), "'sequence_number'"),
    ],
    f"{_EVENTS}#/$defs/output_text_delta": [
        (
            "logprobs with entries",
            {**LMSTUDIO_RESPONSE_EVENTS[4], "logprobs": [{"token": "x"}]},
            "is expected to be empty",
        ),
    ],
    _REQUEST: [
        ("no input", {"model": "m"}, "'input' is a required property"),
        (
            "no output tokens",
            {**_CODEX_PROBE, "max_output_tokens": 0},
            "0 is less than the minimum of 1",
        ),
        ("text without format", {"model": "m", "input": "x", "text": {}}, "'format' is a required"),
    ],
}
