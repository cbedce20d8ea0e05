"""The official ``openai`` SDK against the fake, unchanged: sync and async clients, both profiles.

Everything here goes through the SDK's own request building, response parsing (its pydantic
types), stream decoding and error mapping, so the fake is held to what the SDK expects.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator

import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from fake_server import FakeLMStudio

MODEL = "qwen/qwen3-8b"
EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
DEFAULT_IDS = [MODEL, "qwen2-vl-7b-instruct", EMBEDDER, "openai/gpt-oss-20b"]
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello there"}]
TOKEN = "sk-lm-abcd1234:abcdefghij0123456789"
TIMEOUT = 10.0


class GetWeather(pydantic.BaseModel):
    """Get the weather in a city."""

    city: str
    days: int


WEATHER_CALL = {"name": "GetWeather", "arguments": {"city": "Paris", "days": 2}}


@pytest.fixture(scope="module", params=["lmstudio", "openai"])
def sdk_fake_module(request: pytest.FixtureRequest) -> Iterator[FakeLMStudio]:
    with FakeLMStudio(profile=request.param) as fake:
        yield fake


@pytest.fixture
def sdk_fake(sdk_fake_module: FakeLMStudio) -> FakeLMStudio:
    sdk_fake_module.reset()
    return sdk_fake_module


@pytest.fixture
def sdk(sdk_fake: FakeLMStudio) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=sdk_fake.base_url, api_key="lm-studio", max_retries=0, timeout=TIMEOUT
    ) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def async_client(fake: FakeLMStudio, api_key: str = "lm-studio") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=fake.base_url, api_key=api_key, max_retries=0, timeout=TIMEOUT
    )


def float32(values: list[float]) -> list[float]:
    """``values`` as the SDK sees them after a base64 (little-endian float32) round trip."""
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def assert_usage_chunk_last(chunks: list[ChatCompletionChunk]) -> None:
    *content, final, usage = chunks
    assert usage.choices == []
    assert usage.usage is not None
    assert usage.usage.total_tokens == usage.usage.prompt_tokens + usage.usage.completion_tokens
    assert final.choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in [*content, final])
    assert all(c.choices[0].finish_reason is None for c in content)


# -- models -------------------------------------------------------------------------------
def test_models_list(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    models = list(sdk.models.list())
    assert [m.id for m in models] == DEFAULT_IDS
    assert {m.owned_by for m in models} == {"organization_owner"}
    assert {m.object for m in models} == {"model"}
    if sdk_fake.profile == "openai":
        assert all(isinstance(m.created, int) for m in models)
    else:  # LM Studio sends no `created`; the SDK leaves it unset rather than failing
        assert all("created" not in m.model_fields_set for m in models)


def test_models_retrieve_is_not_an_lm_studio_route(
    sdk_fake: FakeLMStudio, sdk: openai.OpenAI
) -> None:
    """LM Studio has no ``GET /v1/models/{id}``: it answers 200 with its "Unexpected endpoint"
    string, which the SDK turns into an empty ``Model``; the strict profile answers 404."""
    if sdk_fake.profile == "openai":
        with pytest.raises(openai.NotFoundError):
            sdk.models.retrieve(MODEL)
        return
    model = sdk.models.retrieve(MODEL)
    assert model.id is None
    assert model.model_extra == {
        "error": f"Unexpected endpoint or method. (GET /v1/models/{MODEL})"
    }


# -- chat ---------------------------------------------------------------------------------
def test_chat_completion(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.chat.reply("Hello! How can I help?", usage={"prompt_tokens": 9})
    completion = sdk.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    (choice,) = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello! How can I help?"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 9
    assert completion.usage.total_tokens == 9 + completion.usage.completion_tokens
    assert sdk_fake.requests[-1].json == {"messages": HELLO, "model": MODEL}


def test_chat_default_answer_is_deterministic(sdk: openai.OpenAI) -> None:
    first = sdk.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=-1)
    again = sdk.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=-1)
    assert first.choices[0].message.content
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.id == again.id


def test_chat_max_completion_tokens_cuts_with_length(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model=MODEL, messages=HELLO, max_completion_tokens=2)
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 2


def test_chat_stream_with_usage(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.chat.stream(["Hel", "lo", "!"], interval=0.005)
    with sdk.chat.completions.create(
        model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    ) as stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello!"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    assert_usage_chunk_last(chunks)


def test_chat_stream_without_usage(sdk: openai.OpenAI) -> None:
    with sdk.chat.completions.create(model=MODEL, messages=HELLO, stream=True) as stream:
        chunks = list(stream)
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in chunks)


def test_chat_stream_helper_collects_the_message(
    sdk_fake: FakeLMStudio, sdk: openai.OpenAI
) -> None:
    sdk_fake.chat.stream(["Hel", "lo"])
    with sdk.chat.completions.stream(model=MODEL, messages=HELLO) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert deltas == ["Hel", "lo"]
    assert final.choices[0].message.content == "Hello"


def test_tool_calls(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.chat.reply(tool_calls=[WEATHER_CALL])
    completion = sdk.chat.completions.create(
        model=MODEL, messages=HELLO, tools=[openai.pydantic_function_tool(GetWeather)]
    )
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.id.isdigit()
    assert call.function.name == "GetWeather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 2}


def test_tool_calls_parsed_by_the_sdk(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.chat.reply(tool_calls=[WEATHER_CALL])
    completion = sdk.chat.completions.parse(
        model=MODEL, messages=HELLO, tools=[openai.pydantic_function_tool(GetWeather)]
    )
    tool_calls = completion.choices[0].message.tool_calls
    assert tool_calls is not None
    assert tool_calls[0].function.parsed_arguments == GetWeather(city="Paris", days=2)


def test_streamed_tool_calls_parsed_by_the_sdk(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.chat.reply(
        tool_calls=[WEATHER_CALL, {"name": "GetWeather", "arguments": "{}"}], times=1
    )
    tools = [openai.pydantic_function_tool(GetWeather)]
    with sdk.chat.completions.create(
        model=MODEL, messages=HELLO, tools=tools, stream=True
    ) as stream:
        chunks = list(stream)
    fragments: dict[int, str] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or ():
            assert delta.function is not None
            fragments[delta.index] = fragments.get(delta.index, "") + (
                delta.function.arguments or ""
            )
    assert [json.loads(fragments[i]) for i in sorted(fragments)] == [
        {"city": "Paris", "days": 2},
        {},
    ]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    sdk_fake.chat.reply(tool_calls=[WEATHER_CALL])
    with sdk.chat.completions.stream(model=MODEL, messages=HELLO, tools=tools) as helper:
        final = helper.get_final_completion()
    tool_calls = final.choices[0].message.tool_calls
    assert tool_calls is not None
    assert tool_calls[0].function.parsed_arguments == GetWeather(city="Paris", days=2)


def test_default_forced_tool_call(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        tools=[openai.pydantic_function_tool(GetWeather)],
        tool_choice="required",
    )
    tool_calls = completion.choices[0].message.tool_calls
    assert tool_calls is not None
    (call,) = tool_calls
    assert call.type == "function"
    arguments = GetWeather.model_validate_json(call.function.arguments)
    assert isinstance(arguments.days, int)


# -- completions and embeddings -----------------------------------------------------------
def test_completion(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.completions.reply(" upon a time", times=1)
    completion = sdk.completions.create(model=MODEL, prompt="Once")
    assert completion.object == "text_completion"
    assert completion.choices[0].text == " upon a time"
    assert completion.choices[0].finish_reason == "stop"
    default = sdk.completions.create(model=MODEL, prompt="Once", max_tokens=3)
    assert default.choices[0].finish_reason == "length"


def test_completion_stream(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.completions.stream([" upon", " a", " time"])
    with sdk.completions.create(
        model=MODEL, prompt="Once", stream=True, stream_options={"include_usage": True}
    ) as stream:
        chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == " upon a time"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None


@pytest.mark.parametrize("inputs", ["one text", ["one text", "another text"]])
def test_embeddings_base64_by_default_decode_to_the_float_vectors(
    sdk: openai.OpenAI, inputs: str | list[str]
) -> None:
    default = sdk.embeddings.create(model=EMBEDDER, input=inputs)
    floats = sdk.embeddings.create(model=EMBEDDER, input=inputs, encoding_format="float")
    count = 1 if isinstance(inputs, str) else len(inputs)
    assert [e.index for e in default.data] == list(range(count))
    for decoded, plain in zip(default.data, floats.data, strict=True):
        assert len(decoded.embedding) == len(plain.embedding) == 768
        assert decoded.embedding == float32(plain.embedding)
    assert default.data[0].embedding != floats.data[-1].embedding or count == 1


def test_embeddings_scripted_vectors(sdk_fake: FakeLMStudio, sdk: openai.OpenAI) -> None:
    sdk_fake.embeddings.reply(embeddings=[[0.5, -0.25, 1.0]], times=1)
    assert sdk.embeddings.create(model=EMBEDDER, input="x").data[0].embedding == [0.5, -0.25, 1.0]
    sdk_fake.embeddings.reply(embeddings=[[0.1, 0.2]])
    vector = sdk.embeddings.create(model=EMBEDDER, input="x", encoding_format="float")
    assert vector.data[0].embedding == [0.1, 0.2]


# -- errors -------------------------------------------------------------------------------
def test_unknown_model_is_a_bad_request(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="o4-mini", messages=HELLO)
    error = caught.value
    assert error.status_code == 400
    assert (error.code, error.param, error.type) == (
        "model_not_found",
        "model",
        "invalid_request_error",
    )
    assert 'Invalid model identifier "o4-mini"' in error.message
    for model_id in DEFAULT_IDS:
        assert model_id in error.message


def test_json_object_response_format_is_a_bad_request(
    sdk_fake: FakeLMStudio, sdk: openai.OpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model=MODEL, messages=HELLO, response_format={"type": "json_object"}
        )
    text = "'response_format.type' must be 'json_schema' or 'text'"
    body = caught.value.body
    if sdk_fake.profile == "openai":
        assert isinstance(body, dict)
        assert (body["message"], body["param"]) == (text, "response_format")
    else:  # LM Studio's plain-string error: the SDK keeps the string as the body
        assert body == text


def test_json_schema_response_format_is_accepted(
    sdk_fake: FakeLMStudio, sdk: openai.OpenAI
) -> None:
    sdk_fake.chat.reply('{"city":"Paris","days":2}')
    completion = sdk.chat.completions.parse(model=MODEL, messages=HELLO, response_format=GetWeather)
    assert completion.choices[0].message.parsed == GetWeather(city="Paris", days=2)


def test_authentication(sdk_fake: FakeLMStudio) -> None:
    sdk_fake.require_api_token(TOKEN)
    with (
        openai.OpenAI(
            base_url=sdk_fake.base_url, api_key="lm-studio", max_retries=0, timeout=TIMEOUT
        ) as wrong,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        wrong.models.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert "not valid for this server" in caught.value.message
    with openai.OpenAI(
        base_url=sdk_fake.base_url, api_key=TOKEN, max_retries=0, timeout=TIMEOUT
    ) as right:
        assert [m.id for m in right.models.list()] == DEFAULT_IDS
        assert right.chat.completions.create(model=MODEL, messages=HELLO).choices


ERRORS: list[tuple[int, type[openai.APIStatusError]]] = [
    (400, openai.BadRequestError),
    (404, openai.NotFoundError),
    (429, openai.RateLimitError),
    (500, openai.InternalServerError),
    (503, openai.InternalServerError),
]


@pytest.mark.parametrize(("status", "error_type"), ERRORS)
def test_scripted_failures_map_to_sdk_errors(
    sdk_fake: FakeLMStudio,
    sdk: openai.OpenAI,
    status: int,
    error_type: type[openai.APIStatusError],
) -> None:
    sdk_fake.chat.fail(status, "scripted failure", code="scripted", retry_after=1, times=1)
    with pytest.raises(error_type) as caught:
        sdk.chat.completions.create(model=MODEL, messages=HELLO)
    error = caught.value
    assert error.status_code == status
    assert error.code == "scripted"
    assert "scripted failure" in error.message
    assert error.response.headers["Retry-After"] == "1"
    assert len(sdk_fake.requests) == 1  # max_retries=0: the SDK did not retry
    assert sdk.chat.completions.create(model=MODEL, messages=HELLO).choices  # used up


def test_failures_on_models_embeddings_and_completions(
    sdk_fake: FakeLMStudio, sdk: openai.OpenAI
) -> None:
    sdk_fake.models.fail(500)
    sdk_fake.embeddings.fail(429)
    sdk_fake.completions.fail(404)
    with pytest.raises(openai.InternalServerError):
        sdk.models.list()
    with pytest.raises(openai.RateLimitError):
        sdk.embeddings.create(model=EMBEDDER, input="x")
    with pytest.raises(openai.NotFoundError):
        sdk.completions.create(model=MODEL, prompt="Once")


# -- the async client ---------------------------------------------------------------------
@pytest.mark.anyio
async def test_async_models_chat_completion_embeddings(sdk_fake: FakeLMStudio) -> None:
    sdk_fake.chat.reply("async hello")
    sdk_fake.completions.reply(" async")
    async with async_client(sdk_fake) as client:
        models = [m async for m in client.models.list()]
        assert [m.id for m in models] == DEFAULT_IDS
        chat = await client.chat.completions.create(model=MODEL, messages=HELLO)
        assert chat.choices[0].message.content == "async hello"
        completion = await client.completions.create(model=MODEL, prompt="Once")
        assert completion.choices[0].text == " async"
        default = await client.embeddings.create(model=EMBEDDER, input="x")
        floats = await client.embeddings.create(model=EMBEDDER, input="x", encoding_format="float")
    assert len(default.data[0].embedding) == 768
    assert default.data[0].embedding == float32(floats.data[0].embedding)


@pytest.mark.anyio
async def test_async_chat_stream_with_usage(sdk_fake: FakeLMStudio) -> None:
    sdk_fake.chat.stream(["Hel", "lo", "!"], ttft=0.01, interval=0.005)
    async with async_client(sdk_fake) as client:
        stream = await client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello!"
    assert_usage_chunk_last(chunks)


@pytest.mark.anyio
async def test_async_tool_calls(sdk_fake: FakeLMStudio) -> None:
    sdk_fake.chat.reply(tool_calls=[WEATHER_CALL], times=2)
    tools = [openai.pydantic_function_tool(GetWeather)]
    async with async_client(sdk_fake) as client:
        parsed = await client.chat.completions.parse(model=MODEL, messages=HELLO, tools=tools)
        async with client.chat.completions.stream(
            model=MODEL, messages=HELLO, tools=tools
        ) as stream:
            streamed = await stream.get_final_completion()
    for completion in (parsed, streamed):
        tool_calls = completion.choices[0].message.tool_calls
        assert tool_calls is not None
        assert tool_calls[0].function.parsed_arguments == GetWeather(city="Paris", days=2)
    sdk_fake.check()


@pytest.mark.anyio
async def test_async_bad_requests(sdk_fake: FakeLMStudio) -> None:
    async with async_client(sdk_fake) as client:
        with pytest.raises(openai.BadRequestError) as unknown:
            await client.chat.completions.create(model="o4-mini", messages=HELLO)
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(
                model=MODEL, messages=HELLO, response_format={"type": "json_object"}
            )
    assert unknown.value.code == "model_not_found"


@pytest.mark.anyio
async def test_async_authentication(sdk_fake: FakeLMStudio) -> None:
    sdk_fake.require_api_token(TOKEN)
    async with async_client(sdk_fake) as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            await wrong.chat.completions.create(model=MODEL, messages=HELLO)
    assert caught.value.code == "invalid_api_key"
    async with async_client(sdk_fake, api_key=TOKEN) as right:
        assert (await right.chat.completions.create(model=MODEL, messages=HELLO)).choices


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "error_type"), ERRORS)
async def test_async_scripted_failures_map_to_sdk_errors(
    sdk_fake: FakeLMStudio, status: int, error_type: type[openai.APIStatusError]
) -> None:
    sdk_fake.chat.fail(status, "scripted failure")
    async with async_client(sdk_fake) as client:
        with pytest.raises(error_type) as caught:
            await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    assert caught.value.status_code == status
    assert "scripted failure" in caught.value.message
