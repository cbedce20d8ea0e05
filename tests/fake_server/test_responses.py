"""The Responses door, ``POST /v1/responses``, through the real openai SDK and raw HTTP: plain,
streamed, chained, tools, reasoning, limits, LM Studio's errors, the stream faults, scripting,
the journal, auth and the versions without the door."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from fake_server import FakeLMStudio
from fake_server._schemas import validator

MODEL = "qwen/qwen3-8b"
REASONER = "openai/gpt-oss-20b"
TIMEOUT = 10.0
WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit", "days"],
        "additionalProperties": False,
    },
}
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


@pytest.fixture
def sdk(fake: FakeLMStudio) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=fake.base_url, api_key="lm-studio", max_retries=0, timeout=TIMEOUT
    ) as client:
        yield client


def events_of(client: httpx.Client, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The (event line, JSON) pairs of a raw streamed answer; no ``[DONE]``."""
    with client.stream("POST", "/v1/responses", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    assert "[DONE]" not in text
    pairs = []
    for block in text.strip().split("\n\n"):
        event_line, data_line = block.split("\n")
        pairs.append((event_line.removeprefix("event: "), json.loads(data_line[6:])))
    return pairs


def squeeze(types: list[str]) -> list[str]:
    """``types`` with runs of one delta type kept once."""
    return [t for i, t in enumerate(types) if i == 0 or t != types[i - 1] or "delta" not in t]


# -- plain, streamed, chained -------------------------------------------------------------
def test_create_answers_in_lmstudio_shape(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.create(model=MODEL, input="Say hi")
    assert raw.headers["x-powered-by"] == "Express"
    document = json.loads(raw.text)
    assert list(document)[:11] == [
        "id", "object", "created_at", "completed_at", "status", "incomplete_details", "model",
        "previous_response_id", "instructions", "output", "error",
    ]  # fmt: skip
    response = raw.parse()
    assert re.fullmatch(r"resp_[0-9a-f]{48}", response.id)
    assert response.status == "completed" and response.model == MODEL
    [message] = response.output
    assert message.type == "message" and re.fullmatch(r"msg_[0-9a-z]{21}", message.id)
    assert document["output"][0]["content"][0]["annotations"] == []
    assert document["output"][0]["content"][0]["logprobs"] == []
    assert response.output_text and response.output_text == message.content[0].text
    usage = response.usage
    assert usage is not None and usage.input_tokens == 2  # "Say hi": the token rule
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens > usage.input_tokens


def test_stream_sends_the_whole_lifecycle(fake: FakeLMStudio, client: httpx.Client) -> None:
    pairs = events_of(client, {"model": MODEL, "input": "Say hi"})
    types = [event["type"] for _, event in pairs]
    assert squeeze(types) == TEXT_EVENTS
    assert [line for line, _ in pairs] == types  # the event: line is the type
    assert [event["sequence_number"] for _, event in pairs] == list(range(len(pairs)))
    assert all(next(iter(event)) == "type" for _, event in pairs)
    created, completed = pairs[0][1]["response"], pairs[-1][1]["response"]
    assert created["id"] == completed["id"] and created["status"] == "in_progress"
    text = "".join(e["delta"] for _, e in pairs if e["type"] == "response.output_text.delta")
    assert completed["output"][0]["content"][0]["text"] == text
    for _, event in pairs:
        validator("responses/stream-event.schema.json").check(event)


def test_stream_helper_and_its_plain_twin_agree(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    plain = sdk.responses.create(model=MODEL, input="Tell me", instructions="Be brief")
    with sdk.responses.stream(model=MODEL, input="Tell me", instructions="Be brief") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == plain.output_text
    assert final.id != plain.id  # each response is new, even for the same request
    assert final.instructions == "Be brief"
    raw = sdk.responses.create(model=MODEL, input="Tell me", stream=True)
    assert [e.type for e in raw][-1] == "response.completed"


def test_previous_response_id_continues_the_stored_chain(
    fake: FakeLMStudio, sdk: openai.OpenAI
) -> None:
    first = sdk.responses.create(model=MODEL, input="My name is Ada.")
    fake.chat.when(contains="My name is Ada").reply("Hello again, Ada.")
    second = sdk.responses.create(model=MODEL, input="Who am I?", previous_response_id=first.id)
    assert second.output_text == "Hello again, Ada."  # the chain's texts are the model's
    assert second.previous_response_id == first.id
    alone = sdk.responses.create(model=MODEL, input="Who am I?", store=False)
    assert second.usage and alone.usage and second.usage.input_tokens > alone.usage.input_tokens
    with pytest.raises(openai.BadRequestError) as not_stored:
        sdk.responses.create(model=MODEL, input="And?", previous_response_id=alone.id)
    assert not_stored.value.code == "previous_response_not_found"
    # a streamed answer is chainable once its stream has ended
    with sdk.responses.stream(model=MODEL, input="Go on", previous_response_id=second.id) as s:
        third = s.get_final_response()
    sdk.responses.create(model=MODEL, input="Branch", previous_response_id=third.id)
    sdk.responses.create(model=MODEL, input="Branch", previous_response_id=first.id)
    fake.reset()  # forgets every stored response
    with pytest.raises(openai.BadRequestError) as forgotten:
        sdk.responses.create(model=MODEL, input="Who am I?", previous_response_id=first.id)
    assert forgotten.value.status_code == 400
    assert forgotten.value.body == {
        "message": f"Previous response with id '{first.id}' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }


def test_the_same_requests_replay_the_same_ids(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    def run() -> list[str]:
        first = sdk.responses.create(model=MODEL, input="One")
        second = sdk.responses.create(model=MODEL, input="One", previous_response_id=first.id)
        return [first.id, second.id, second.output[0].id, second.output_text]

    once = run()
    fake.reset()
    assert run() == once


# -- tools --------------------------------------------------------------------------------
def test_forced_tool_call_and_its_output_round_trip(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model=MODEL,
        input="Weather in Paris?",
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
    )
    [call] = response.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert re.fullmatch(r"fc_[0-9a-z]{21}", call.id or "") and re.fullmatch(r"\d{9}", call.call_id)
    jsonschema.validate(json.loads(call.arguments), WEATHER["parameters"])
    assert response.status == "completed" and response.output_text == ""
    follow = sdk.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"},
        ],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert follow.output[0].type == "message" and follow.output_text


def test_scripted_tool_calls_stream_their_arguments(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    fake.chat.reply(
        "Checking.", tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}]
    )
    with sdk.responses.stream(model=MODEL, input="Oslo?", tools=[WEATHER]) as stream:  # type: ignore[list-item]
        events = list(stream)
        final = stream.get_final_response()
    types = squeeze([e.type for e in events])
    assert "response.function_call_arguments.delta" in types
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"city": "Oslo"}
    assert [item.type for item in final.output] == ["message", "function_call"]
    assert final.output_text == "Checking."


def test_tool_choice_none_answers_text(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model=MODEL, input="Hi", tools=[WEATHER], tool_choice="none")  # type: ignore[list-item]
    assert [item.type for item in response.output] == ["message"]


# -- reasoning, limits, text.format -------------------------------------------------------
def test_reasoning_model_gives_a_reasoning_item_first(
    fake: FakeLMStudio, sdk: openai.OpenAI, client: httpx.Client
) -> None:
    response = sdk.responses.create(model=REASONER, input="Why?", reasoning={"effort": "low"})
    reasoning, message = response.output
    assert reasoning.type == "reasoning" and re.fullmatch(r"rs_[0-9a-z]{21}", reasoning.id)
    assert reasoning.summary == [] and reasoning.content and reasoning.content[0].text
    assert message.type == "message"
    usage = response.usage
    assert usage is not None and usage.output_tokens_details.reasoning_tokens > 0
    types = squeeze([e["type"] for _, e in events_of(client, {"model": REASONER, "input": "?"})])
    assert types[2:6] == [
        "response.output_item.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.output_item.done",
    ]


def test_codex_probe_with_one_output_token(fake: FakeLMStudio, client: httpx.Client) -> None:
    for model in (MODEL, REASONER):
        response = client.post(
            "/v1/responses", json={"model": model, "input": "", "max_output_tokens": 1}
        )
        assert response.status_code == 200
        document = response.json()
        assert document["status"] == "incomplete"
        assert document["incomplete_details"] == {"reason": "max_output_tokens"}
        assert document["usage"]["output_tokens"] == 1
        assert document["output"][-1].get("status", "incomplete") == "incomplete"
    pairs = events_of(client, {"model": MODEL, "input": "", "max_output_tokens": 2})
    assert pairs[-1][0] == "response.incomplete"


def test_json_schema_format_is_accepted_and_ignored(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    text = {"format": {"type": "json_schema", "name": "n", "schema": schema}}
    document = client.post(
        "/v1/responses", json={"model": MODEL, "input": "A number", "text": text}
    ).json()
    assert document["text"] == text
    answer = document["output"][0]["content"][0]["text"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer)  # free text, as LM Studio answers
    fake.set_profile("openai")  # OpenAI honours the schema
    document = client.post(
        "/v1/responses", json={"model": MODEL, "input": "A number", "text": text}
    ).json()
    jsonschema.validate(json.loads(document["output"][0]["content"][0]["text"]), schema)


# -- LM Studio's errors -------------------------------------------------------------------
def _error(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param,
                      "code": code}}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"model": MODEL, "input": "x", "text": {}},
            _error("Required", "text.format", "missing_required_parameter"),
        ),
        (
            {"model": MODEL, "input": "x", "tools": [WEATHER, {"type": "web_search"}]},
            _error(
                "Invalid discriminator value. Expected 'function' | 'mcp'",
                "tools.1.type",
                "invalid_union_discriminator",
            ),
        ),
        (
            {"model": MODEL, "input": "x", "tools": [{**WEATHER, "parameters": None}]},
            _error("Invalid", "tools.0.type", "invalid_string"),
        ),
        ({"input": "x"}, _error("Required", "model", "missing_required_parameter")),
        (
            {"model": MODEL, "input": [{"role": "robot", "content": "x"}]},
            _error(
                "Invalid enum value. Expected 'user' | 'assistant' | 'system' | 'developer', "
                'received "robot"',
                "input.0.role",
                "invalid_enum_value",
            ),
        ),
        (
            {"model": MODEL, "input": [{"type": "item_reference", "id": "x"}]},
            _error(
                "Invalid discriminator value. Expected 'message' | 'function_call' | "
                "'function_call_output' | 'reasoning'",
                "input.0.type",
                "invalid_union_discriminator",
            ),
        ),
        (
            {"model": MODEL, "input": "x", "max_output_tokens": "many"},
            _error("Expected number, received string", "max_output_tokens", "invalid_type"),
        ),
        (
            {"model": MODEL, "input": "x", "max_output_tokens": 1.5},
            _error("Expected integer, received float", "max_output_tokens", "invalid_type"),
        ),
        (
            {
                "model": MODEL,
                "input": [{"role": "user", "content": [{"type": "input_text", "text": 5}]}],
            },
            _error("Expected string, received number", "input.0.content.0.text", "invalid_type"),
        ),
        (
            {"model": "o4-mini", "input": "x"},
            _error(
                'Invalid model identifier "o4-mini". Please specify a valid downloaded model '
                "(e.g., qwen/qwen3-8b, qwen2-vl-7b-instruct, text-embedding-nomic-embed-text-v1.5"
                ", openai/gpt-oss-20b).",
                "model",
                "model_not_found",
            ),
        ),
    ],
    ids=[
        "text-without-format",
        "other-tool-type",
        "null-parameters",
        "no-model",
        "bad-role",
        "bad-item-type",
        "bad-limit",
        "float-limit",
        "bad-part-text",
        "unknown-model",
    ],
)
def test_bad_requests_get_lmstudio_words(
    fake: FakeLMStudio, client: httpx.Client, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = client.post("/v1/responses", json=body)
    assert response.status_code == 400
    assert response.json() == expected
    assert fake.errors == []


def test_unexpected_input_is_never_a_5xx(fake: FakeLMStudio, client: httpx.Client) -> None:
    odd: list[Any] = [
        [],
        1,
        "x",
        None,
        {"model": 1, "input": {}},
        {"model": MODEL, "input": [1]},
        {"model": MODEL, "input": "x", "tools": "t"},
        {"model": MODEL, "input": "x", "tool_choice": 3},
        {"model": MODEL, "input": [{"type": "function_call"}]},
        {"model": MODEL, "input": "x", "text": {"format": {"type": "json_object"}}},
        {"model": MODEL, "input": "x", "tools": [{"type": "mcp"}]},
        {"model": MODEL, "input": "x", "top_logprobs": "a", "metadata": 3},
    ]
    for body in odd:
        response = client.post("/v1/responses", json=body)
        assert 400 <= response.status_code < 500 or response.status_code == 200, body
        assert "error" in response.json() or response.json()["object"] == "response"
    bad_json = client.post(
        "/v1/responses", content=b'{"model": ', headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400 and isinstance(bad_json.json()["error"], str)
    assert fake.errors == []


def test_context_overflow_in_this_doors_words(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.add_model("acme/tiny", context_length=64)
    body = {"model": "acme/tiny", "input": "word " * 100}
    response = client.post("/v1/responses", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"
    assert response.json()["error"]["message"].startswith("Input does not fit in context length.")
    pairs = events_of(client, body)  # 0.4.21+: the stream starts, then fails
    assert [t for t, _ in pairs] == ["response.created", "response.in_progress", "response.failed"]
    failed = pairs[-1][1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "context_length_exceeded"
    fake.set_profile("lmstudio-0.4.0")
    streamed = client.post("/v1/responses", json={**body, "stream": True})
    assert streamed.status_code == 400


# -- scripting, faults --------------------------------------------------------------------
def test_chat_rules_answer_here_and_when_api_narrows(
    fake: FakeLMStudio, sdk: openai.OpenAI
) -> None:
    fake.chat.reply("From any door", times=1)
    assert sdk.responses.create(model=MODEL, input="Hi").output_text == "From any door"
    fake.chat.when(api="responses").reply("Responses only")
    chat = sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
    assert chat.choices[0].message.content != "Responses only"
    assert sdk.responses.create(model=MODEL, input="Hi").output_text == "Responses only"
    assert [r.api for r in fake.requests] == ["responses", "openai", "responses"]
    assert fake.requests[0].path == "/v1/responses" and fake.requests[0].json["input"] == "Hi"


def test_scripted_429_with_retry_after(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    fake.chat.when(api="responses").fail(429, retry_after=7, times=1)
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.responses.create(model=MODEL, input="Hi")
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    assert sdk.responses.create(model=MODEL, input="Hi").status == "completed"


def test_drop_after_cuts_the_stream(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    fake.chat.stream(["Hel", "lo"], drop_after=4)
    seen: list[str] = []
    with (
        pytest.raises(openai.APIConnectionError),
        sdk.responses.stream(model=MODEL, input="Hi") as stream,
    ):
        seen.extend(event.type for event in stream)
    assert seen == TEXT_EVENTS[:4]
    assert fake.requests[-1].fault == "stream dropped after 4 chunks"


def test_stall_after_until_the_client_times_out_or_reset(fake: FakeLMStudio) -> None:
    fake.chat.stream(["Hel", "lo"], stall_after=5)
    with openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0, timeout=0.5) as sdk:
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            list(sdk.responses.create(model=MODEL, input="Hi", stream=True))
        assert time.monotonic() - started < 5
    fake.chat.stream(["Hel", "lo"], stall_after=1)
    with openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0, timeout=10) as sdk:
        stream = sdk.responses.create(model=MODEL, input="Hi", stream=True)
        assert next(iter(stream)).type == "response.created"
        fake.reset()  # releases the stalled stream at once
        with pytest.raises(openai.APIConnectionError):
            list(stream)


def test_error_after_ends_with_response_failed(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    fake.chat.stream(["Hel", "lo"], error_after=5, error_message="Engine crashed")
    with sdk.responses.stream(model=MODEL, input="Hi") as stream:
        events = list(stream)
        with pytest.raises(RuntimeError, match=r"Didn't receive a `response\.completed` event"):
            stream.get_final_response()
    failed = events[-1]
    assert failed.type == "response.failed" and failed.sequence_number == 5
    assert failed.response.error is not None
    assert failed.response.error.message == "Engine crashed"
    assert failed.response.error.code == "server_error"
    # a failed response is not stored
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model=MODEL, input="?", previous_response_id=failed.response.id)


def test_stream_timing_and_split_writes_count_events(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.stream(["Hel", "lo"], ttft=0.1, interval=0.02, split_seed=3)
    started = time.monotonic()
    pairs = events_of(client, {"model": MODEL, "input": "Hi"})
    elapsed = time.monotonic() - started
    assert len(pairs) == 10  # every event but the terminal one follows the schedule
    assert elapsed >= 0.1 + 8 * 0.02
    assert "".join(e.get("delta", "") for _, e in pairs) == "Hello"


def test_done_false_ends_without_the_terminal_event(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    fake.chat.stream(["Hi"], done=False)
    with sdk.responses.stream(model=MODEL, input="Hi") as stream:
        assert [e.type for e in stream][-1] == "response.output_item.done"
        with pytest.raises(RuntimeError):
            stream.get_final_response()


def test_rules_that_would_break_this_door_are_refused(fake: FakeLMStudio) -> None:
    from fake_server import ScriptError

    with pytest.raises(ScriptError, match="would send an answer that breaks"):
        fake.chat.when(api="responses").respond({"id": "chatcmpl-1", "object": "chat.completion"})
    fake.chat.respond({"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                       "model": MODEL, "choices": []})  # fmt: skip  # another door's body


# -- auth, versions -----------------------------------------------------------------------
def test_auth_401_in_lmstudio_shape(fake: FakeLMStudio) -> None:
    fake.require_api_token("sk-lm-abcd1234:abcdefghij0123456789")
    with (
        openai.OpenAI(base_url=fake.base_url, api_key="wrong", max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        sdk.responses.create(model=MODEL, input="Hi")
    assert caught.value.body["type"] == "invalid_request"  # type: ignore[index]
    assert caught.value.body["code"] == "invalid_api_key"  # type: ignore[index]


def test_versions_before_0_3_29_have_no_door(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_profile("lmstudio-0.3.23")
    response = client.post("/v1/responses", json={"model": MODEL, "input": "Hi"})
    assert response.status_code == 200
    assert response.json() == {"error": "Unexpected endpoint or method. (POST /v1/responses)"}
    fake.set_profile("lmstudio-0.4.0")
    assert client.post("/v1/responses", json={"model": MODEL, "input": "Hi"}).status_code == 200
    assert client.get("/v1/responses/resp_1").json() == {
        "error": "Unexpected endpoint or method. (GET /v1/responses/resp_1)"
    }


def test_a_scenario_rule_narrowed_to_this_door(fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    fake.load_scenario(
        {"rules": [{"route": "chat", "when": {"api": "responses"}, "reply": {"content": "Yes"}}]}
    )
    assert sdk.responses.create(model=MODEL, input="Hi").output_text == "Yes"
    chat = sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
    assert chat.choices[0].message.content != "Yes"
