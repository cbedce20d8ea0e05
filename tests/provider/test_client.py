"""LMStudioProvider against the fake LM Studio over real sockets, under asyncio and trio.

Every method, and every error class produced by a real answer or a real transport failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import (
    ApiError,
    AuthenticationError,
    CompletionRequest,
    ConfigurationError,
    InvalidRequestError,
    LMStudioConfig,
    LMStudioProvider,
    Message,
    ModelNotFoundError,
    NetworkError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    StreamChunk,
    ToolCall,
    Usage,
)

from .conftest import FakeClock, closed_port
from .servers import http_server, resetting_server, silent_server, truncating_server

pytestmark = pytest.mark.anyio

MODEL = "qwen/qwen3-8b"
TOKEN = "sk-lm-abcdefgh:abcdefghijklmnopqrst"
HI = CompletionRequest(model=MODEL, messages=[Message.user("hi")])


def provider(config: LMStudioConfig, clock: FakeClock, **changes: Any) -> LMStudioProvider:
    import dataclasses

    return LMStudioProvider(
        dataclasses.replace(config, **changes),
        sleep=clock.sleep,
        random=lambda: 0.0,
        clock=clock.monotonic,
    )


def calls(fake: FakeLMStudio, method: str, path: str) -> int:
    return sum(1 for r in fake.requests if (r.method, r.path) == (method, path))


# --- models -------------------------------------------------------------------------------------


async def test_list_models(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    async with provider(config, clock) as p:
        models = await p.list_models()
        assert [m.id for m in models] == [
            "qwen/qwen3-8b",
            "qwen2-vl-7b-instruct",
            "text-embedding-nomic-embed-text-v1.5",
            "openai/gpt-oss-20b",
        ]
        assert models[0].owned_by == "organization_owner"
        await p.list_models()
        assert calls(fake, "GET", "/v1/models") == 1  # cached
        await p.list_models(refresh=True)
        assert calls(fake, "GET", "/v1/models") == 2
        clock.advance(5 * 60)  # the TTL
        await p.list_models()
        assert calls(fake, "GET", "/v1/models") == 3


async def test_list_models_with_jit_off_lists_loaded_models(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.set_jit(False)
    async with provider(config, clock) as p:
        assert [m.id for m in await p.list_models()] == [MODEL]


async def test_supports_model(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    async with provider(config, clock) as p:
        assert await p.supports_model(MODEL)
        assert await p.supports_model("text-embedding-nomic-embed-text-v1.5")
        assert not await p.supports_model("no/such-model")
        assert calls(fake, "GET", "/v1/models") == 1  # the list is seconds old: no refresh


async def test_supports_model_refreshes_once_on_a_miss(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    async with provider(config, clock) as p:
        assert await p.supports_model(MODEL)
        fake.add_model("new/model", capabilities=["tool_use"])
        clock.advance(10)
        assert await p.supports_model("new/model")  # a miss refreshed the list
        assert calls(fake, "GET", "/v1/models") == 2
        clock.advance(10)
        for _ in range(20):  # repeated misses do not hammer the server
            assert not await p.supports_model("still/missing")
        assert calls(fake, "GET", "/v1/models") == 3


async def test_single_flight(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    results: list[bool] = []
    async with provider(config, clock) as p:

        async def ask() -> None:
            results.append(await p.supports_model(MODEL))

        async with anyio.create_task_group() as group:
            for _ in range(100):
                group.start_soon(ask)
    assert results == [True] * 100
    assert calls(fake, "GET", "/v1/models") == 1


async def test_single_flight_shares_a_failure(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.models.fail(500, "boom", times=1)
    errors: list[ProviderError] = []
    async with provider(config, clock) as p:

        async def ask() -> None:
            try:
                await p.list_models()
            except ApiError as error:
                errors.append(error)

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(ask)
        assert len(errors) == 20
        assert calls(fake, "GET", "/v1/models") == 1
        assert len(await p.list_models()) == 4  # the next call tries again


async def test_model_capabilities_native(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    async with provider(config, clock) as p:
        qwen = await p.model_capabilities(MODEL)
        assert qwen is not None
        assert (qwen.type, qwen.context_length, qwen.loaded_context_length) == ("llm", 40960, 4096)
        assert qwen.tool_use and not qwen.vision and qwen.loaded
        assert qwen.source == "native"
        vlm = await p.model_capabilities("qwen2-vl-7b-instruct")
        assert vlm is not None and vlm.vision and not vlm.loaded and vlm.type == "vlm"
        assert vlm.context_length == 32768
        embed = await p.model_capabilities("text-embedding-nomic-embed-text-v1.5")
        assert embed is not None and embed.type == "embeddings" and embed.context_length == 2048
        assert await p.model_capabilities("no/such-model") is None
        assert calls(fake, "GET", "/api/v1/models") == 1
        assert calls(fake, "GET", "/api/v0/models") == 0
        fake.add_model(
            "my/model", context_length=8192, capabilities=["tool_use"], quantization="Q8_0"
        )
        clock.advance(6)
        mine = await p.model_capabilities("my/model")
        assert mine is not None and mine.quantization == "Q8_0" and mine.context_length == 8192
        assert calls(fake, "GET", "/api/v1/models") == 2


@pytest.mark.parametrize(
    "absent",
    [
        lambda fake: fake.models.fail(404, "Not Found", times=2),
        lambda fake: fake.models.raw(
            '{"error":"Unexpected endpoint or method. (GET /api/v0/models)"}', times=2
        ),
    ],
    ids=["404", "catch-all"],
)
async def test_model_capabilities_fall_back_without_the_native_api(
    fake: FakeLMStudio,
    config: LMStudioConfig,
    clock: FakeClock,
    absent: Callable[[FakeLMStudio], object],
) -> None:
    absent(fake)
    async with provider(config, clock) as p:
        caps = await p.model_capabilities(MODEL)
        assert caps is not None
        assert caps.source == "fallback"
        assert (caps.type, caps.context_length, caps.tool_use, caps.state) == (
            "llm",
            4096,
            False,
            "unknown",
        )
        assert await p.model_capabilities("no/such-model") is None
        embed = await p.model_capabilities("text-embedding-nomic-embed-text-v1.5")
        assert embed is not None and embed.type == "embeddings"
    # /api/v1, then /api/v0; absence is cached too
    assert calls(fake, "GET", "/api/v1/models") == 1
    assert calls(fake, "GET", "/api/v0/models") == 1
    assert calls(fake, "GET", "/v1/models") == 1


# --- completions --------------------------------------------------------------------------------


async def test_complete(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.reply("Hello there!", usage={"prompt_tokens": 5, "completion_tokens": 3})
    request = CompletionRequest(
        model=MODEL,
        messages=[Message.system("be brief"), Message.user("hi")],
        temperature=0.3,
        max_tokens=-1,
        seed=1,
        stop=["\n\n"],
        extra={"ttl": 300, "top_k": 40, "repeat_penalty": 1.1},
    )
    async with provider(config, clock) as p:
        response = await p.complete(request)
    assert response.content == "Hello there!"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(5, 3, 8)
    assert response.model == MODEL
    assert response.id.startswith("chatcmpl-")
    [sent] = fake.requests
    assert sent.json["ttl"] == 300 and sent.json["top_k"] == 40 and sent.json["temperature"] == 0.3
    assert sent.json["messages"][0] == {"role": "system", "content": "be brief"}
    assert "stream" not in sent.json
    fake.check()


async def test_complete_default_answer(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    async with provider(config, clock) as p:
        response = await p.complete(HI)
    assert response.content and response.finish_reason in ("stop", "length")
    assert response.usage is not None and response.usage.total_tokens > 0


async def test_complete_tool_calls_and_reasoning(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}], times=1)
    fake.chat.reply("It is 3 °C.", reasoning="Look at the tool result.")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    async with provider(config, clock) as p:
        first = await p.complete(
            CompletionRequest(model=MODEL, messages=[Message.user("weather?")], tools=tools)
        )
        assert first.finish_reason == "tool_calls"
        [call] = first.tool_calls
        assert call.name == "get_weather" and call.parsed_arguments() == {"city": "Oslo"}
        assert call.id.isdigit()
        second = await p.complete(
            CompletionRequest(
                model=MODEL,
                messages=[
                    Message.user("weather?"),
                    Message.assistant(tool_calls=first.tool_calls),
                    Message.tool('{"celsius": 3}', tool_call_id=call.id),
                ],
                tools=tools,
            )
        )
    assert second.content == "It is 3 °C."
    assert second.reasoning == "Look at the tool result."
    assert fake.requests[1].json["messages"][2]["tool_call_id"] == call.id


async def test_complete_structured_output_and_images(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.reply('{"answer": 42}')
    request = CompletionRequest(
        model="qwen2-vl-7b-instruct",
        messages=[Message.user("what is it?", images=[b"\x89PNG\r\n\x1a\n" + b"\x00" * 16])],
        response_format=CompletionRequest.json_schema(
            {"type": "object", "properties": {"answer": {"type": "integer"}}}
        ),
    )
    async with provider(config, clock) as p:
        assert json.loads((await p.complete(request)).content) == {"answer": 42}
    sent = fake.requests[0].json
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["messages"][0]["content"][1]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )


# --- streaming ----------------------------------------------------------------------------------


async def test_stream(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.stream(["Hel", "lo", " wörld 🌍"], usage={"prompt_tokens": 4, "completion_tokens": 3})
    async with provider(config, clock) as p:
        chunks = [chunk async for chunk in p.stream(HI)]
    assert "".join(c.content for c in chunks) == "Hello wörld 🌍"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage == Usage(4, 3, 7)
    sent = fake.requests[0]
    assert sent.json["stream"] is True and sent.json["stream_options"] == {"include_usage": True}


async def test_stream_tool_calls_come_out_whole(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.stream(
        [], tool_calls=[{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}]
    )
    async with provider(config, clock) as p:
        chunks = [chunk async for chunk in p.stream(HI)]
    [final] = [c for c in chunks if c.tool_calls]
    assert final.finish_reason == "tool_calls"
    assert [(t.name, t.parsed_arguments()) for t in final.tool_calls] == [
        ("a", {"x": 1}),
        ("b", {}),
    ]


async def test_stream_stopped_early_releases_the_connection(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.stream([f"{i} " for i in range(50)], interval=0.01)
    async with provider(config, clock) as p:
        async with p.stream(HI) as chunks:
            async for chunk in chunks:
                assert chunk.content == "0 "
                break
        assert [c async for c in chunks] == []  # closed
        assert (await p.complete(HI)).content  # the provider is still usable


async def test_stream_answered_with_plain_json(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    # A server that ignores stream: true and sends the whole answer still gives chunks.
    answer = {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "whole"},
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    fake.chat.respond(answer, validate=False)
    async with provider(config, clock) as p:
        chunks = [chunk async for chunk in p.stream(HI)]
    assert chunks == [
        StreamChunk(content="whole", finish_reason="stop", model=MODEL, id="chatcmpl-x"),
        StreamChunk(usage=Usage(1, 1, 2), model=MODEL, id="chatcmpl-x"),
    ]


async def test_stream_error_event_is_an_api_error(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    message = "Input does not fit in context length. The input has 31430 tokens."
    fake.chat.raw(
        'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":'
        '[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n'
        "event: error\n"
        f"data: {json.dumps({'error': {'message': message}, 'message': message})}\n\n",
        content_type="text/event-stream",
    )
    got: list[StreamChunk] = []
    async with provider(config, clock) as p:
        with pytest.raises(ApiError) as info:
            async for chunk in p.stream(HI):
                got.append(chunk)
    assert [c.content for c in got] == ["Hi"]
    assert info.value.server_message == message
    assert len(fake.requests) == 1  # an error after the first chunk is not retried


async def test_stream_without_done(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.raw(
        'data: {"choices":[{"index":0,"delta":{"content":"cut"},"finish_reason":null}]}\r\n\r\n'
        ": keep-alive\r\n\r\n",
        content_type="text/event-stream",
    )
    async with provider(config, clock) as p:
        chunks = [chunk async for chunk in p.stream(HI)]
    assert [c.content for c in chunks] == ["cut"]


# --- embeddings ---------------------------------------------------------------------------------


async def test_embed(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    async with provider(config, clock) as p:
        vectors = await p.embed("text-embedding-nomic-embed-text-v1.5", ["a", "b", "c"])
        assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1
        fake.embeddings.reply(embeddings=[[0.1, 0.2]])
        assert await p.embed("text-embedding-nomic-embed-text-v1.5", "one") == [[0.1, 0.2]]
    assert fake.requests[1].json == {
        "model": "text-embedding-nomic-embed-text-v1.5",
        "input": ["one"],
    }


# --- errors, each from a real answer or a real transport failure --------------------------------


async def test_invalid_request_before_any_io(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    async with provider(config, clock) as p:
        with pytest.raises(InvalidRequestError) as info:
            await p.complete(CompletionRequest(model=MODEL, messages=[], temperature=0.5))
        assert info.value.field == "messages"
        with pytest.raises(InvalidRequestError) as info:
            p.stream(CompletionRequest(model=MODEL, messages=[Message.user("x")], temperature=3))
        assert info.value.field == "temperature"
        with pytest.raises(InvalidRequestError):
            await p.supports_model("../../etc")
        with pytest.raises(InvalidRequestError):
            await p.embed(MODEL, [])
    assert fake.requests == []


async def test_invalid_request_from_the_server(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.fail(400, "'messages' array must only contain objects with a 'role' field", times=1)
    async with provider(config, clock) as p:
        with pytest.raises(InvalidRequestError) as info:
            await p.complete(HI)
    assert info.value.status_code == 400
    assert "'role' field" in (info.value.server_message or "")
    assert len(fake.requests) == 1  # a 400 is not retried
    assert clock.sleeps == []


async def test_model_not_found(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    async with provider(config, clock) as p:
        with pytest.raises(ModelNotFoundError) as info:
            await p.complete(CompletionRequest(model="o4-mini", messages=[Message.user("hi")]))
    error = info.value
    assert error.status_code == 400
    assert error.model == "o4-mini"
    assert error.code == "model_not_found"
    assert MODEL in error.available_models
    assert "lms get" in str(error)
    assert len(fake.requests) == 1


async def test_authentication(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.require_api_token(TOKEN)
    async with provider(config, clock) as p:
        with pytest.raises(AuthenticationError) as info:
            await p.list_models()
    assert info.value.status_code == 401
    assert "LMSTUDIO_API_TOKEN" in str(info.value)
    wrong = "sk-lm-zzzzzzzz:zzzzzzzzzzzzzzzzzzzz"
    async with provider(config, clock, api_token=wrong) as p:
        with pytest.raises(AuthenticationError) as info:
            await p.complete(HI)
    assert wrong not in str(info.value) and wrong not in repr(info.value)
    async with provider(config, clock, api_token=TOKEN) as p:
        assert (await p.complete(HI)).content
        assert TOKEN not in repr(p) and TOKEN not in repr(p.config)
    assert fake.requests[-1].status == 200


async def test_rate_limit(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.fail(429, "Too many requests", retry_after=7, times=1)
    async with provider(config, clock, max_retries=0) as p:
        with pytest.raises(RateLimitError) as info:
            await p.complete(HI)
    assert info.value.retry_after == 7
    assert info.value.status_code == 429


async def test_server_error(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.fail(500, "Engine protocol predict request returned 500: Jinja Exception", times=1)
    async with provider(config, clock) as p:
        with pytest.raises(ApiError) as info:
            await p.complete(HI)
    assert type(info.value) is ApiError
    assert info.value.status_code == 500 and "Jinja" in str(info.value)
    assert len(fake.requests) == 1  # a 500 is not transient


async def test_unavailable_after_retries(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.fail(503, "loading", times=3)
    async with provider(config, clock, max_retries=2) as p:
        with pytest.raises(ApiError) as info:
            await p.complete(HI)
    assert info.value.status_code == 503
    assert len(fake.requests) == 3
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff (random=0: no jitter)


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (lambda fake: fake.chat.raw("not json", content_type="text/plain"), "not JSON"),
        (
            lambda fake: fake.chat.respond({"choices": "nope", "model": MODEL}, validate=False),
            "choices should be an array",
        ),
        (
            lambda fake: fake.chat.respond({"choices": [], "model": MODEL}, validate=False),
            "choices is empty",
        ),
        (lambda fake: fake.chat.raw(b"\xff\xfe garbage"), "not JSON"),
    ],
    ids=["text", "wrong-type", "empty-choices", "bytes"],
)
async def test_unusable_answers(
    fake: FakeLMStudio,
    config: LMStudioConfig,
    clock: FakeClock,
    script: Callable[[FakeLMStudio], object],
    words: str,
) -> None:
    script(fake)
    async with provider(config, clock) as p:
        with pytest.raises(ApiError, match=words):
            await p.complete(HI)


async def test_misconfigured_base_url(fake: FakeLMStudio, clock: FakeClock) -> None:
    config = LMStudioConfig(endpoint=fake.url + "/v1")
    async with provider(config, clock) as p:
        with pytest.raises(ApiError) as info:
            await p.list_models()
        assert "GET /v1/models" in str(info.value) and "without /v1" in str(info.value)
        with pytest.raises(ApiError, match="without /v1"):
            await p.complete(HI)
        with pytest.raises(ApiError, match="without /v1"):
            [c async for c in p.stream(HI)]
    assert fake.requests[0].path == "/v1/v1/models"
    assert fake.requests[0].status == 200


async def test_answer_larger_than_the_cap(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.reply("x" * 5000)
    async with provider(config, clock, max_response_bytes=1000) as p:
        with pytest.raises(ApiError, match="larger than 1000 bytes"):
            await p.complete(HI)
    fake.chat.stream(["y" * 3000])
    async with provider(config, clock, max_response_bytes=1000) as p:
        with pytest.raises(ApiError, match="larger than 1000 bytes"):
            [c async for c in p.stream(HI)]


async def test_connection_refused(config: LMStudioConfig, clock: FakeClock) -> None:
    config = LMStudioConfig(endpoint=f"http://127.0.0.1:{closed_port()}")
    async with provider(config, clock, max_retries=2) as p:
        with pytest.raises(NetworkError) as info:
            await p.list_models()
    assert type(info.value) is NetworkError
    assert "lms server start" in str(info.value)
    assert info.value.__cause__ is not None
    assert clock.sleeps == [0.5, 1.0]  # connect errors are retried


async def test_connection_reset(clock: FakeClock) -> None:
    with resetting_server() as server:
        async with provider(LMStudioConfig(endpoint=server.url), clock, max_retries=1) as p:
            with pytest.raises(NetworkError, match="connection broke"):
                await p.complete(HI)
        assert server.connections == 2  # retried once: nothing was answered


async def test_broken_answer_after_the_head_is_not_retried(clock: FakeClock) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    with truncating_server(head, b'{"choi') as server:
        async with provider(LMStudioConfig(endpoint=server.url), clock, max_retries=3) as p:
            with pytest.raises(NetworkError):
                await p.complete(HI)
        assert server.connections == 1


async def test_timeout_before_the_first_byte(clock: FakeClock) -> None:
    with silent_server() as server:
        config = LMStudioConfig(endpoint=server.url, timeout_seconds=0.2)
        async with provider(config, clock, max_retries=1) as p:
            with pytest.raises(ProviderTimeoutError) as info:
                await p.complete(HI)
    assert "waiting for the answer" in str(info.value)
    assert "lms load" in str(info.value)
    assert clock.sleeps == [0.5]  # retried once


async def test_timeout_while_a_model_loads(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.add_model("big/model", loaded=False, load_seconds=1.0)
    async with provider(config, clock, timeout_seconds=0.2, max_retries=0) as p:
        with pytest.raises(ProviderTimeoutError):
            await p.complete(CompletionRequest(model="big/model", messages=[Message.user("hi")]))


async def test_stream_timeout_before_the_first_chunk_is_retried(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.stream(["late"], ttft=1.0)
    async with provider(config, clock, timeout_seconds=0.2, max_retries=1) as p:
        with pytest.raises(ProviderTimeoutError):
            [c async for c in p.stream(HI)]
    assert len([r for r in fake.requests if r.path == "/v1/chat/completions"]) == 2


async def test_another_service_on_the_port(clock: FakeClock) -> None:
    with http_server(404, b'{"detail":"Not Found"}') as server:
        async with provider(LMStudioConfig(endpoint=server.url), clock) as p:
            with pytest.raises(ApiError, match="check that the endpoint points at LM Studio"):
                await p.list_models()


async def test_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        LMStudioProvider(LMStudioConfig(endpoint="http://169.254.169.254"))
    assert info.value.key == "endpoint"


# --- retries --------------------------------------------------------------------------------------


async def test_two_503_with_retry_after_then_success(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.fail(503, "Model is loading", retry_after=2, times=2)
    fake.chat.reply("finally")
    async with provider(config, clock) as p:
        response = await p.complete(HI)
    assert response.content == "finally"
    assert [r.status for r in fake.requests] == [503, 503, 200]
    assert clock.sleeps == [2.0, 2.0]  # as Retry-After says, not the backoff
    fake.check()


async def test_retry_after_is_capped(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.fail(429, "busy", retry_after=3600, times=1)
    async with provider(config, clock) as p:
        assert (await p.complete(HI)).content
    assert clock.sleeps == [30.0]


async def test_stream_retried_before_its_first_chunk(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.fail(503, "loading", retry_after=1, times=1)
    fake.chat.stream(["ok"])
    async with provider(config, clock) as p:
        chunks = [c async for c in p.stream(HI)]
    assert chunks[0].content == "ok"
    assert [r.status for r in fake.requests] == [503, 200]
    assert clock.sleeps == [1.0]


async def test_models_retried_too(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.models.fail(502, "bad gateway", times=1)
    async with provider(config, clock) as p:
        assert await p.supports_model(MODEL)
    assert [r.status for r in fake.requests] == [502, 200]


async def test_real_sleep_is_the_default(fake: FakeLMStudio, config: LMStudioConfig) -> None:
    fake.chat.fail(503, "loading", retry_after=0.05, times=1)
    async with LMStudioProvider(config) as p:
        started = anyio.current_time()
        await p.complete(HI)
        assert anyio.current_time() - started >= 0.05


async def test_close_twice_is_harmless(config: LMStudioConfig) -> None:
    p = LMStudioProvider(config)
    await p.aclose()
    await p.aclose()


async def test_tool_call_round_trip_types(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.chat.reply(tool_calls=[{"name": "f", "arguments": {"a": [1, 2]}}])
    async with provider(config, clock) as p:
        response = await p.complete(HI)
    assert isinstance(response.tool_calls[0], ToolCall)
    assert response.tool_calls[0].parsed_arguments() == {"a": [1, 2]}


async def test_without_keepalive_close_idle_is_enough(
    fake: FakeLMStudio, config: LMStudioConfig
) -> None:
    p = LMStudioProvider(config, keepalive=False)
    assert (await p.complete(HI)).content
    assert [c async for c in p.stream(HI)]
    p.close_idle()
    with pytest.raises(RuntimeError, match="aclose"):
        LMStudioProvider(config).close_idle()


async def test_a_borrowed_transport_is_shared_and_left_open(
    fake: FakeLMStudio, config: LMStudioConfig
) -> None:
    """Providers given one transport send through its pool (one connection for all, in turn),
    each with its own token; closing a provider leaves the transport to its owner, and such a
    provider may also be released with close_idle()."""
    import dataclasses

    import httpx

    class Transport(httpx.AsyncHTTPTransport):
        closed = 0

        async def aclose(self) -> None:
            self.closed += 1
            await super().aclose()

    fake.require_api_token(TOKEN)
    fake.chat.reply("pooled")
    with_token = dataclasses.replace(config, api_token=TOKEN)
    async with Transport() as transport:
        async with LMStudioProvider(with_token, transport=transport) as first:
            assert (await first.complete(HI)).content == "pooled"
            assert "".join([c.content async for c in first.stream(HI)]) == "pooled"
        with pytest.raises(RuntimeError, match="closed"):
            await first.complete(HI)
        async with LMStudioProvider(config, transport=transport) as second:
            with pytest.raises(AuthenticationError):
                await second.list_models()
        third = LMStudioProvider(with_token, transport=transport)
        assert (await third.complete(HI)).content == "pooled"
        third.close_idle()
        assert transport.closed == 0
        assert fake.open_connections() == 1
        assert [r.headers.get("Authorization") for r in fake.requests] == [
            f"Bearer {TOKEN}",
            f"Bearer {TOKEN}",
            None,
            f"Bearer {TOKEN}",
        ]
