"""The strict ``openai`` profile's ``/v1/responses`` against the OFFICIAL OpenAI OpenAPI
document: every response object, every stream event (each against its own event schema) and
every error body. The validators are ``test_openai_profile``'s (the official document
converted to JSON Schema 2020-12); the last test pins where LM Studio's shape must keep
failing it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio
from tests.contract.test_openai_profile import (  # noqa: F401 (fixtures)
    Validate,
    official,
    openai_spec,
    violations,
)

MODEL = "qwen/qwen3-8b"
REASONER = "openai/gpt-oss-20b"
WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    },
    "strict": True,
}
NUMBER: dict[str, Any] = {
    "type": "object",
    "properties": {"n": {"type": "integer"}},
    "required": ["n"],
    "additionalProperties": False,
}
EVENT_SCHEMAS = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
    "response.failed": "ResponseFailedEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.reasoning_text.delta": "ResponseReasoningTextDeltaEvent",
    "response.reasoning_text.done": "ResponseReasoningTextDoneEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
}


@pytest.fixture(scope="module")
def strict_module() -> Iterator[FakeLMStudio]:
    with FakeLMStudio(profile="openai") as fake:
        yield fake


@pytest.fixture
def strict(strict_module: FakeLMStudio) -> FakeLMStudio:
    strict_module.reset()
    return strict_module


@pytest.fixture
def client(strict: FakeLMStudio) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=strict.url, timeout=10) as client:
        yield client


Script = Callable[[FakeLMStudio], object] | None
CASES: list[tuple[str, dict[str, Any], Script]] = [
    ("default", {}, None),
    (
        "instructions and items",
        {
            "instructions": "Be brief",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
                {"type": "message", "role": "assistant", "content": "Hello"},
                {"type": "message", "role": "developer", "content": "Use French"},
            ],
        },
        None,
    ),
    ("cut by max_output_tokens", {"max_output_tokens": 2}, None),
    ("reasoning model", {"model": REASONER, "reasoning": {"effort": "low"}}, None),
    ("forced tool call", {"tools": [WEATHER], "tool_choice": "required"}, None),
    (
        "named tool call",
        {"tools": [WEATHER], "tool_choice": {"type": "function", "name": "get_weather"}},
        None,
    ),
    (
        "json_schema format",
        {
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "n",
                    "strict": True,
                    "schema": {
                        "type": "object",
                        "properties": {"n": {"type": "integer"}},
                        "required": ["n"],
                        "additionalProperties": False,
                    },
                }
            }
        },
        None,
    ),
    ("scripted reply", {}, lambda fake: fake.chat.reply("Hello!", reasoning="Think")),
    (
        "scripted tool calls with content",
        {"tools": [WEATHER]},
        lambda fake: fake.chat.reply(
            "Let me check.", tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}]
        ),
    ),
]


def body_of(extra: dict[str, Any]) -> dict[str, Any]:
    return {"model": MODEL, "input": "Hello there", **extra}


@pytest.mark.parametrize(("extra", "script"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_response(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,  # noqa: F811
    extra: dict[str, Any],
    script: Script,
) -> None:
    if script is not None:
        script(strict)
    response = client.post("/v1/responses", json=body_of(extra))
    assert response.status_code == 200, response.text
    official("Response", response.json())


@pytest.mark.parametrize(("extra", "script"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_stream_event(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,  # noqa: F811
    extra: dict[str, Any],
    script: Script,
) -> None:
    if script is not None:
        script(strict)
    events = stream_events(client, body_of(extra))
    assert events[0]["type"] == "response.created"
    for event in events:
        official(EVENT_SCHEMAS[event["type"]], event)
        official("ResponseStreamEvent", event)


def stream_events(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    with client.stream("POST", "/v1/responses", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    return [json.loads(line[6:]) for line in lines]


def test_failed_stream_events(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,  # noqa: F811
) -> None:
    strict.chat.stream(["Hel", "lo"], error_after=4)
    events = stream_events(client, body_of({}))
    assert events[-1]["type"] == "response.failed"
    for event in events:
        official(EVENT_SCHEMAS[event["type"]], event)


ERRORS: list[tuple[str, dict[str, Any], Script]] = [
    ("unknown model", {"model": "o4-mini"}, None),
    ("text without format", {"text": {}}, None),
    ("other tool type", {"tools": [{"type": "web_search"}]}, None),
    ("unknown previous id", {"previous_response_id": "resp_0"}, None),
    ("scripted 429", {}, lambda fake: fake.chat.fail(429, retry_after=1)),
    ("auth", {}, lambda fake: fake.require_api_token("tok")),
    ("overflow", {"input": "word " * 5000}, lambda fake: fake.add_model(MODEL, context_length=64)),
]


@pytest.mark.parametrize(("extra", "script"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_error_bodies(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,  # noqa: F811
    extra: dict[str, Any],
    script: Script,
) -> None:
    if script is not None:
        script(strict)
    response = client.post("/v1/responses", json=body_of(extra))
    assert response.status_code >= 400, response.text
    official("ErrorResponse", response.json())


def test_lmstudio_profile_sends_user_null_which_openai_refuses(
    official: Validate,  # noqa: F811
) -> None:
    """LM Studio's response object carries ``"user": null`` (bug-tracker #1420's sample), which
    the official schema (a string) refuses: the faithful profile must keep it."""
    with FakeLMStudio() as fake:
        document = httpx.post(fake.url + "/v1/responses", json=body_of({}), timeout=10).json()
    assert document["user"] is None
    assert "$.user: None is not of type 'string'" in violations(official, "Response", document)
