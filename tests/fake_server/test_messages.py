"""The Anthropic-compatible door, ``POST /v1/messages``, through the real ``anthropic`` SDK
(its request building, its types, its stream accumulator and its error classes) and, where
the bytes matter, through plain HTTP."""

from __future__ import annotations

import importlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest

from fake_server import FakeLMStudio, ScriptError
from tests.contract.examples_anthropic import ANTHROPIC_VALID
from tests.contract.test_schemas import _variants

MODEL = "qwen/qwen3-8b"
REQUEST_SCHEMA = "anthropic/messages-request.schema.json"
THINKER = "openai/gpt-oss-20b"
HELLO: list[Any] = [{"role": "user", "content": "Hello there"}]
TOKEN = "sk-lm-abcd1234:abcdefghij0123456789"
WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
    },
}
CLOCK: dict[str, Any] = {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
#: The HTTP library the SDK runs on (httpx for anthropic 0.x, httpx2 for 2.x): its transport
#: errors reach the caller of a stream unwrapped.
HTTP = importlib.import_module(anthropic.DefaultHttpxClient.__mro__[1].__module__.split(".")[0])


@pytest.fixture(scope="module")
def sdk_module(fake_module: FakeLMStudio) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=fake_module.url, api_key="lm-studio", max_retries=0, timeout=10.0
    ) as client:
        yield client


@pytest.fixture
def sdk(fake: FakeLMStudio, sdk_module: anthropic.Anthropic) -> anthropic.Anthropic:
    """One client for the module, talking to the fake reset for this test."""
    return sdk_module


def post(client: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", MODEL)
    body.setdefault("max_tokens", 256)
    body.setdefault("messages", HELLO)
    return client.post("/v1/messages", json=body)


def events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """Every SSE event as (event name, data), strictly framed: ``event:`` then ``data:``."""
    out = []
    for chunk in response.text.split("\n\n")[:-1]:
        name_line, data_line = chunk.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: ")
        out.append((name_line[7:], json.loads(data_line[6:])))
    return out


# -- plain and streamed ---------------------------------------------------------------------
def test_create_returns_an_anthropic_message(fake: FakeLMStudio, sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(model=MODEL, max_tokens=256, messages=HELLO)
    assert re.fullmatch(r"msg_[0-9a-z]{24}", message.id)
    assert message.model == MODEL and message.role == "assistant"
    (block,) = message.content
    assert block.type == "text" and block.text
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert message.usage.input_tokens == 2  # "Hello there", by the fake's token rule
    assert message.usage.output_tokens > 0
    (entry,) = fake.requests
    assert (entry.api, entry.path, entry.model, entry.status) == (
        "messages",
        "/v1/messages",
        MODEL,
        200,
    )


def test_stream_gives_the_plain_answer_event_by_event(sdk: anthropic.Anthropic) -> None:
    plain = sdk.messages.create(model=MODEL, max_tokens=256, messages=HELLO)
    with sdk.messages.stream(model=MODEL, max_tokens=256, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert final.to_dict(exclude_none=True) == plain.to_dict(exclude_none=True)
    assert text == plain.content[0].text


def test_event_order_and_framing(client: httpx.Client) -> None:
    response = post(client, stream=True)
    assert response.headers["content-type"] == "text/event-stream"
    got = events(response)
    names = [name for name, _ in got]
    assert all(name == data["type"] for name, data in got)
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    start = got[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"] == {"input_tokens": 2, "output_tokens": 0}
    deltas = [data["delta"]["text"] for _, data in got[3:-3]]
    assert got[-2][1]["usage"]["output_tokens"] == len(deltas)  # cumulative: all of them


def test_a_stream_keeps_its_schedule(fake: FakeLMStudio, sdk: anthropic.Anthropic) -> None:
    """ttft is the time to the first text, interval the time between texts: the framing
    events (message_start, ping, content_block_start) go with the text they open, and take
    no interval of their own."""
    fake.chat.stream(["One", " two", " three"], ttft=0.2, interval=0.4)
    started = time.perf_counter()
    seen = []
    with sdk.messages.stream(model=MODEL, max_tokens=256, messages=HELLO) as stream:
        for text in stream.text_stream:
            seen.append((text, time.perf_counter() - started))
    assert [t for t, _ in seen] == ["One", " two", " three"]
    # Never early; late only by the machine's load (three framing intervals would be 1.4 s).
    assert 0.19 <= seen[0][1] < 1.0
    assert seen[2][1] >= 0.99
    assert fake.requests[0].status == 200


def test_max_tokens_cuts_the_answer(sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(model=MODEL, max_tokens=3, messages=HELLO)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 3


def test_stop_sequences_end_the_answer_before_them(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    fake.chat.reply("Hello END world", times=2)
    message = sdk.messages.create(
        model=MODEL, max_tokens=256, messages=HELLO, stop_sequences=["world", "END"]
    )
    assert message.content[0].text == "Hello "
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "END")
    with sdk.messages.stream(
        model=MODEL, max_tokens=256, messages=HELLO, stop_sequences=["END"]
    ) as stream:
        assert "".join(stream.text_stream) == "Hello "
        assert stream.get_final_message().stop_sequence == "END"


# -- one engine under every door ------------------------------------------------------------
def test_chat_rules_answer_here_and_when_api_narrows(
    fake: FakeLMStudio, sdk: anthropic.Anthropic, client: httpx.Client
) -> None:
    fake.chat.when(api="messages").reply("through the Anthropic door")
    fake.chat.when(api="openai").reply("through the OpenAI door")
    message = sdk.messages.create(model=MODEL, max_tokens=256, messages=HELLO)
    assert message.content[0].text == "through the Anthropic door"
    chat = client.post("/v1/chat/completions", json={"model": MODEL, "messages": HELLO}).json()
    assert chat["choices"][0]["message"]["content"] == "through the OpenAI door"
    fake.reset()
    fake.chat.when(contains="weather").reply("Sunny.")
    asked = [{"role": "user", "content": [{"type": "text", "text": "The weather?"}]}]
    message = sdk.messages.create(model=MODEL, max_tokens=256, messages=asked)
    assert message.content[0].text == "Sunny."
    assert [r.api for r in fake.requests] == ["messages"]


def test_system_prompt_and_tool_results_are_searched(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    fake.chat.when(contains="pirate").reply("Arr.")
    fake.chat.when(contains="18 C").reply("It is mild.")
    first = sdk.messages.create(
        model=MODEL,
        max_tokens=256,
        system=[{"type": "text", "text": "Talk like a pirate."}],
        messages=HELLO,
    )
    assert first.content[0].text == "Arr."
    result = [
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"}],
        }
    ]
    second = sdk.messages.create(model=MODEL, max_tokens=256, messages=result)
    assert second.content[0].text == "It is mild."


# -- tools ----------------------------------------------------------------------------------
def test_forced_tool_use_fits_the_schema_and_round_trips(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    asked: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    message = sdk.messages.create(
        model=MODEL, max_tokens=256, messages=asked, tools=[CLOCK, WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
    )  # fmt: skip
    assert message.stop_reason == "tool_use"
    (use,) = message.content
    assert use.type == "tool_use" and use.name == "get_weather"
    assert re.fullmatch(r"toolu_[0-9a-z]{24}", use.id)
    jsonschema.validate(use.input, WEATHER["input_schema"])
    fake.chat.when(contains="18 C").reply("Mild in Paris.")
    answer = sdk.messages.create(
        model=MODEL,
        max_tokens=256,
        tools=[WEATHER],
        messages=[
            *asked,
            {"role": "assistant", "content": [use.to_dict()]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": use.id,
                        "content": [{"type": "text", "text": "18 C"}],
                    }
                ],
            },
        ],
    )
    assert answer.content[0].text == "Mild in Paris."
    assert answer.stop_reason == "end_turn"


def test_tool_choice_any_streams_input_json(sdk: anthropic.Anthropic) -> None:
    with sdk.messages.stream(
        model=MODEL, max_tokens=256, messages=HELLO, tools=[WEATHER], tool_choice={"type": "any"}
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert "input_json" in kinds
    (use,) = final.content
    assert use.type == "tool_use" and final.stop_reason == "tool_use"
    jsonschema.validate(use.input, WEATHER["input_schema"])


def test_scripted_tool_calls_keep_their_ids_beside_text(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    fake.chat.reply(
        "Let me check.",
        tool_calls=[{"id": "toolu_mine", "name": "get_weather", "arguments": {"city": "Oslo"}}],
    )
    with sdk.messages.stream(
        model=MODEL, max_tokens=256, messages=HELLO, tools=[WEATHER]
    ) as stream:
        final = stream.get_final_message()
    text, use = final.content
    assert text.type == "text" and text.text == "Let me check."
    assert use.type == "tool_use" and (use.id, use.input) == ("toolu_mine", {"city": "Oslo"})


# -- thinking -------------------------------------------------------------------------------
def test_a_reasoning_model_thinks_first(sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(
        model=THINKER,
        max_tokens=256,
        messages=HELLO,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking and thinking.signature == ""
    assert text.type == "text" and text.text
    with sdk.messages.stream(
        model=THINKER,
        max_tokens=256,
        messages=HELLO,
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:
        thoughts = "".join(e.thinking for e in stream if e.type == "thinking")
        final = stream.get_final_message()
    assert final.content[0].type == "thinking" and thoughts == final.content[0].thinking
    assert final.content[1].text == message.content[1].text


def test_scripted_reasoning_is_a_thinking_block(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    fake.chat.stream(["Hi", "!"], reasoning=["The user ", "greets me."])
    with sdk.messages.stream(model=MODEL, max_tokens=256, messages=HELLO) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "The user greets me."


# -- errors ---------------------------------------------------------------------------------
def test_a_scripted_429_is_a_rate_limit_error(fake: FakeLMStudio, sdk: anthropic.Anthropic) -> None:
    fake.chat.fail(429, "Slow down", retry_after=7)
    with pytest.raises(anthropic.RateLimitError) as caught:
        sdk.messages.create(model=MODEL, max_tokens=256, messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Slow down"},
    }


def test_unknown_model_is_not_found(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        sdk.messages.create(model="claude-sonnet-4-5", max_tokens=256, messages=HELLO)
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "not_found_error"
    assert body["error"]["message"].startswith('Invalid model identifier "claude-sonnet-4-5".')


def test_requests_are_checked_in_lm_studios_words(client: httpx.Client) -> None:
    image_result = {
        "type": "tool_result",
        "tool_use_id": "t",
        "content": [{"type": "image", "source": {}}],
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"max_tokens": None}, "request.max_tokens: Expected integer, received null"),
        (
            {"messages": [{"role": "tool", "content": "x"}]},
            "request.messages.0.role: Invalid discriminator value. "
            "Expected 'user' | 'assistant' | 'system'",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "request.messages.0.content.0.type: Invalid discriminator value.",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]},
            "request.messages.0.content.0.text: Expected string, received number",
        ),
        (
            {"messages": [{"role": "user", "content": [image_result]}]},
            "Only text tool_result blocks are supported when tool_result.content is an array.",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]},
            "request.messages.0.content.0.source.type: Invalid discriminator value. "
            "Expected 'base64' | 'url'",
        ),
        ({"tools": [{"name": "f"}]}, "request.tools.0.input_schema: Required"),
        (
            {"tools": [{"name": "f", "input_schema": {"type": "string"}}]},
            'request.tools.0.input_schema.type: Invalid literal value, expected "object"',
        ),
        (
            {"tool_choice": {"type": "auto", "disable_parallel_tool_use": "yes"}},
            "request.tool_choice.disable_parallel_tool_use: Expected boolean, received string",
        ),
        (
            {"tool_choice": {"type": "required"}},
            "request.tool_choice.type: Invalid discriminator value.",
        ),
    ]
    for change, words in cases:
        response = post(client, **change)
        assert response.status_code == 400, change
        body = response.json()
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
        assert body["error"]["message"].startswith(words), body
    missing = client.post("/v1/messages", json={"model": MODEL, "messages": HELLO})
    assert missing.json()["error"]["message"] == "request.max_tokens: Required"
    broken = client.post(
        "/v1/messages", content=b'{"model": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["type"] == "error"


def test_context_overflow_is_a_400_before_the_stream(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    fake.add_model("tiny", context_length=16)
    long = [{"role": "user", "content": "word " * 40}]
    for stream in (False, True):
        with pytest.raises(anthropic.BadRequestError) as caught:
            sdk.messages.create(model="tiny", max_tokens=8, messages=long, stream=stream)
        assert "Input does not fit in context length." in str(caught.value)


def test_api_token_by_bearer_or_x_api_key(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.require_api_token(TOKEN)
    with (
        pytest.raises(anthropic.AuthenticationError) as caught,
        anthropic.Anthropic(base_url=fake.url, api_key="wrong", max_retries=0) as wrong,
    ):
        wrong.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert caught.value.body["error"]["type"] == "authentication_error"
    with anthropic.Anthropic(base_url=fake.url, api_key=TOKEN, max_retries=0) as bearer:
        assert bearer.messages.create(model=MODEL, max_tokens=8, messages=HELLO).content
    body = {"model": MODEL, "max_tokens": 8, "messages": HELLO}
    assert client.post("/v1/messages", json=body, headers={"x-api-key": TOKEN}).status_code == 200
    missing = client.post("/v1/messages", json=body)
    assert missing.status_code == 401
    assert "none was provided" in missing.json()["error"]["message"]
    wrong_key = client.post("/v1/messages", json=body, headers={"x-api-key": "sk-lm-x"})
    assert wrong_key.status_code == 401 and "not valid" in wrong_key.json()["error"]["message"]
    # x-api-key is this door's: the OpenAI door reads Authorization only
    chat = client.post("/v1/chat/completions", json=body, headers={"x-api-key": TOKEN})
    assert chat.status_code == 401


# -- stream faults, counted in this door's events -------------------------------------------
def test_drop_after_ends_the_stream_with_a_transport_error(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    fake.chat.stream(["a", "b", "c"], drop_after=4)
    seen: list[str] = []
    with (
        pytest.raises(HTTP.RemoteProtocolError),
        sdk.messages.stream(model=MODEL, max_tokens=256, messages=HELLO) as stream,
    ):
        seen.extend(stream.text_stream)
    assert seen == ["a"]  # message_start, ping, content_block_start, the first delta
    assert fake.requests[0].fault == "stream dropped after 4 chunks"


def test_stall_after_is_released_by_the_clients_timeout(
    fake: FakeLMStudio, sdk: anthropic.Anthropic
) -> None:
    fake.chat.stream(["a", "b"], stall_after=5)
    started = time.perf_counter()
    impatient = sdk.with_options(timeout=anthropic.Timeout(10.0, read=0.4))
    with (
        pytest.raises(HTTP.ReadTimeout),
        impatient.messages.stream(model=MODEL, max_tokens=256, messages=HELLO) as stream,
    ):
        list(stream.text_stream)
    assert time.perf_counter() - started < 5.0


def test_error_after_is_an_anthropic_error_event(
    fake: FakeLMStudio, sdk: anthropic.Anthropic, client: httpx.Client
) -> None:
    fake.chat.stream(
        ["a", "b"], error_after=4, error_message="Engine protocol predict request returned 500"
    )
    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        sdk.messages.stream(model=MODEL, max_tokens=256, messages=HELLO) as stream,
    ):
        list(stream.text_stream)
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "api_error", "message": "Engine protocol predict request returned 500"},
    }
    raw = events(post(client, stream=True))
    assert [name for name, _ in raw][-2:] == ["content_block_delta", "error"]  # no message_stop


def test_split_writes_and_a_missing_message_stop(
    fake: FakeLMStudio, sdk: anthropic.Anthropic, client: httpx.Client
) -> None:
    fake.chat.stream(["Hel", "lo ", "there"], split_seed=7, times=1)
    with sdk.messages.stream(model=MODEL, max_tokens=256, messages=HELLO) as stream:
        assert "".join(stream.text_stream) == "Hello there"  # reassembled from cut writes
    fake.chat.stream(["Hi"], done=False)
    names = [name for name, _ in events(post(client, stream=True))]
    assert names[-2:] == ["content_block_stop", "message_delta"]


# -- versions, routes -----------------------------------------------------------------------
def test_system_role_inside_messages_by_version(fake: FakeLMStudio, client: httpx.Client) -> None:
    inside = [{"role": "system", "content": "Be brief."}, *HELLO]
    assert post(client, messages=inside).status_code == 200
    fake.set_profile("lmstudio-0.4.1")
    refused = post(client, messages=inside)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "request.messages.0.role: Invalid discriminator value. Expected 'user' | 'assistant'"
    )
    fake.set_profile("lmstudio-0.4.0")  # before the door: LM Studio's catch-all
    before = post(client)
    assert (before.status_code, before.json()) == (
        200,
        {"error": "Unexpected endpoint or method. (POST /v1/messages)"},
    )


def test_the_beta_client_and_other_sub_routes(
    fake: FakeLMStudio, sdk: anthropic.Anthropic, client: httpx.Client
) -> None:
    # anthropic 0.x's beta client posts to /v1/messages?beta=true: the same route
    beta = sdk.beta.messages.create(
        model=MODEL, max_tokens=16, messages=HELLO, extra_query={"beta": "true"}
    )
    assert beta.content[0].type == "text"
    assert fake.requests[0].query == "beta=true" and fake.requests[0].api == "messages"
    counted = client.post("/v1/messages/count_tokens", json={"model": MODEL, "messages": HELLO})
    assert counted.json() == {
        "error": "Unexpected endpoint or method. (POST /v1/messages/count_tokens)"
    }


# -- rules are checked by this door's encoder when scripted --------------------------------
def test_rules_this_door_cannot_send_are_refused_when_scripted(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError, match="tool_use"):
        fake.chat.reply(tool_calls=[{"name": "f", "arguments": "[1, 2]"}])
    with pytest.raises(ScriptError, match="'role' is a required property"):
        fake.chat.when(api="messages").respond({"id": "msg_1", "type": "message"})
    with pytest.raises(ScriptError):
        fake.chat.when(api="messages").fail(500, body={"error": "not Anthropic's envelope"})
    fake.chat.when(api="openai").reply(tool_calls=[{"name": "f", "arguments": "[1, 2]"}])
    assert len(fake.rules) == 1


# -- the door's documentation: its examples run ---------------------------------------------
DOC = Path(__file__).resolve().parents[2] / "docs" / "doors" / "messages.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def doc_blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(DOC.read_text()) if lang == language]


@pytest.mark.parametrize("code", doc_blocks("python"), ids=lambda c: c.splitlines()[-1][:40])
def test_doc_example_runs(code: str) -> None:
    exec(compile(code, str(DOC), "exec"), {"__name__": "doc_example"})


def test_doc_scenario_is_accepted_and_answers_here() -> None:
    (text,) = doc_blocks("json")
    with (
        FakeLMStudio(scenario=json.loads(text)) as fake,
        anthropic.Anthropic(base_url=fake.url, api_key="lmstudio", max_retries=0) as client,
    ):
        said = [{"role": "user", "content": "Say hello"}]
        answer = client.messages.create(model=MODEL, max_tokens=64, messages=said)
        assert answer.content[0].text == "Hello from the fake."
        small = client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=HELLO)
        assert small.content[0].text == "ok"


# -- hardening ------------------------------------------------------------------------------
def test_broken_requests_get_a_4xx_never_a_5xx(fake: FakeLMStudio, client: httpx.Client) -> None:
    """Every copy of a full request with one node replaced by an odd value (or removed) is
    answered, with a 4xx when it is refused: validation on for half of them, off for the
    other half (the door's own checks must hold without the schema)."""
    statuses = set()
    for index, variant in enumerate(_variants(ANTHROPIC_VALID[REQUEST_SCHEMA][1][1])):
        fake.set_validation(index % 2 == 0)
        response = client.post("/v1/messages", json=variant)
        assert response.status_code < 500, (variant, response.text)
        statuses.add(response.status_code)
    assert statuses == {200, 400, 404}
    assert fake.errors == []
