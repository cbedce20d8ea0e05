"""SyncLMStudioProvider against the fake: the same behaviour as the async client, blocking."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import (
    ApiError,
    AuthenticationError,
    CompletionRequest,
    InvalidRequestError,
    LMStudioConfig,
    Message,
    ModelNotFoundError,
    NetworkError,
    ProviderTimeoutError,
    RateLimitError,
    StreamChunk,
    SyncLMStudioProvider,
    Usage,
)

from .conftest import FakeClock, closed_port
from .servers import resetting_server, silent_server

MODEL = "qwen/qwen3-8b"
TOKEN = "sk-lm-abcdefgh:abcdefghijklmnopqrst"
HI = CompletionRequest(model=MODEL, messages=[Message.user("hi")])


def provider(config: LMStudioConfig, clock: FakeClock, **changes: Any) -> SyncLMStudioProvider:
    return SyncLMStudioProvider(
        dataclasses.replace(config, **changes),
        sleep=clock.sleep_sync,
        random=lambda: 0.0,
        clock=clock.monotonic,
    )


def calls(fake: FakeLMStudio, method: str, path: str) -> int:
    return sum(1 for r in fake.requests if (r.method, r.path) == (method, path))


def test_models(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    with provider(config, clock) as p:
        assert len(p.list_models()) == 4
        assert p.supports_model(MODEL)
        assert not p.supports_model("no/such")
        caps = p.model_capabilities(MODEL)
        assert caps is not None and caps.tool_use and caps.context_length == 40960
        assert p.model_capabilities("no/such") is None
        fake.add_model("late/model")
        clock.advance(6)
        assert p.supports_model("late/model")
    assert calls(fake, "GET", "/v1/models") == 2
    assert calls(fake, "GET", "/api/v1/models") == 1


def test_capabilities_fallback(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    fake.models.fail(404, "Not Found", times=2)  # /api/v1/models, then /api/v0/models
    with provider(config, clock) as p:
        caps = p.model_capabilities(MODEL)
    assert caps is not None and caps.source == "fallback"


def test_single_flight_across_threads(
    fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock
) -> None:
    results: list[bool] = []
    with provider(config, clock) as p:
        barrier = threading.Barrier(50)

        def ask() -> None:
            barrier.wait()
            results.append(p.supports_model(MODEL))

        threads = [threading.Thread(target=ask) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert results == [True] * 50
    assert calls(fake, "GET", "/v1/models") == 1


def test_complete_and_embed(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.reply("sync hello", usage={"prompt_tokens": 2, "completion_tokens": 2})
    fake.embeddings.reply(embeddings=[[1.0, 0.0], [0.0, 1.0]])
    with provider(config, clock) as p:
        response = p.complete(HI)
        assert (response.content, response.usage) == ("sync hello", Usage(2, 2, 4))
        assert p.embed("text-embedding-nomic-embed-text-v1.5", ["a", "b"]) == [
            [1.0, 0.0],
            [0.0, 1.0],
        ]


def test_stream(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.stream(["a", "b", "c"], usage={"prompt_tokens": 1, "completion_tokens": 3}, times=1)
    fake.chat.stream([], tool_calls=[{"name": "f", "arguments": {"q": "x"}}])
    with provider(config, clock) as p:
        chunks = list(p.stream(HI))
        assert "".join(c.content for c in chunks) == "abc"
        assert chunks[-1].usage == Usage(1, 3, 4)
        with p.stream(HI) as stream:
            tool_chunks = [c for c in stream if c.tool_calls]
        assert tool_chunks[0].tool_calls[0].parsed_arguments() == {"q": "x"}


def test_stream_stopped_early(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.stream([f"{i}" for i in range(100)], interval=0.005)
    with provider(config, clock) as p:
        with p.stream(HI) as stream:
            assert next(stream).content == "0"
        assert list(stream) == []
        assert p.complete(HI).content


def test_stream_error_event(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    payload = json.dumps({"error": {"message": "context overflow"}, "message": "context overflow"})
    fake.chat.raw(
        'data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n'
        f"event: error\ndata: {payload}\n\n",
        content_type="text/event-stream",
    )
    got: list[StreamChunk] = []
    with provider(config, clock) as p, pytest.raises(ApiError, match="context overflow"):
        for chunk in p.stream(HI):
            got.append(chunk)
    assert [c.content for c in got] == ["x"]


def test_errors_from_answers(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    with provider(config, clock, max_retries=0) as p:
        with pytest.raises(InvalidRequestError) as invalid:
            p.complete(dataclasses.replace(HI, max_tokens=0))
        assert invalid.value.field == "max_tokens"
        fake.chat.fail(400, "bad request", times=1)
        with pytest.raises(InvalidRequestError):
            p.complete(HI)
        with pytest.raises(ModelNotFoundError) as missing:
            p.complete(dataclasses.replace(HI, model="ghost"))
        assert MODEL in missing.value.available_models
        fake.chat.fail(429, "slow down", retry_after=4, times=1)
        with pytest.raises(RateLimitError) as limited:
            p.complete(HI)
        assert limited.value.retry_after == 4
        fake.chat.fail(500, "engine", times=1)
        with pytest.raises(ApiError):
            p.complete(HI)
        fake.chat.raw("<html>")
        with pytest.raises(ApiError, match="not JSON"):
            p.complete(HI)
        fake.require_api_token(TOKEN)
        with pytest.raises(AuthenticationError):
            p.list_models()
    fake.check()


def test_misconfigured_base_url(fake: FakeLMStudio, clock: FakeClock) -> None:
    config = LMStudioConfig(endpoint=fake.url + "/v1")
    with provider(config, clock) as p, pytest.raises(ApiError, match="without /v1"):
        p.supports_model(MODEL)


def test_transport_errors(clock: FakeClock) -> None:
    refused = LMStudioConfig(endpoint=f"http://127.0.0.1:{closed_port()}")
    with provider(refused, clock) as p, pytest.raises(NetworkError, match="lms server start"):
        p.list_models()
    assert clock.sleeps == [0.5, 1.0, 2.0]
    with (
        resetting_server() as server,
        provider(LMStudioConfig(endpoint=server.url), clock, max_retries=0) as p,
        pytest.raises(NetworkError),
    ):
        p.complete(HI)
    with silent_server() as server:
        config = LMStudioConfig(endpoint=server.url, timeout_seconds=0.2, max_retries=0)
        with provider(config, clock) as p, pytest.raises(ProviderTimeoutError):
            p.complete(HI)


def test_retries(fake: FakeLMStudio, config: LMStudioConfig, clock: FakeClock) -> None:
    fake.chat.fail(503, "Model is loading", retry_after=2, times=2)
    fake.chat.reply("done")
    with provider(config, clock) as p:
        assert p.complete(HI).content == "done"
    assert [r.status for r in fake.requests] == [503, 503, 200]
    assert clock.sleeps == [2.0, 2.0]


def test_without_keepalive(fake: FakeLMStudio, config: LMStudioConfig) -> None:
    with SyncLMStudioProvider(config, keepalive=False) as p:
        assert p.complete(HI).content
        assert p.complete(HI).content


def test_a_borrowed_transport_is_shared_and_left_open(
    fake: FakeLMStudio, config: LMStudioConfig
) -> None:
    """Providers given one transport send through its pool (one connection for both, in
    turn), each with its own token; closing a provider leaves the transport to its owner."""
    import httpx

    fake.require_api_token(TOKEN)
    fake.chat.reply("pooled")
    with httpx.HTTPTransport() as transport:
        with SyncLMStudioProvider(
            dataclasses.replace(config, api_token=TOKEN), transport=transport
        ) as first:
            assert first.complete(HI).content == "pooled"
        with pytest.raises(RuntimeError, match="closed"):
            first.complete(HI)
        with (
            SyncLMStudioProvider(config, transport=transport) as second,
            pytest.raises(AuthenticationError),
        ):
            second.list_models()
        with SyncLMStudioProvider(
            dataclasses.replace(config, api_token=TOKEN), transport=transport
        ) as third:
            assert third.complete(HI).content == "pooled"
        assert fake.open_connections() == 1
        assert [r.headers.get("Authorization") for r in fake.requests] == [
            f"Bearer {TOKEN}",
            None,
            f"Bearer {TOKEN}",
        ]


def test_without_keepalive_close_idle_is_enough(fake: FakeLMStudio, config: LMStudioConfig) -> None:
    """A provider made with keepalive=False leaves no connection open after a request, so
    close_idle() releases it; one made with a transport may use it too; any other is told to
    close()."""
    import time

    import httpx

    p = SyncLMStudioProvider(config, keepalive=False)
    assert p.complete(HI).content
    assert list(p.stream(HI))
    deadline = time.monotonic() + 3
    while fake.open_connections() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.open_connections() == 0
    p.close_idle()
    with httpx.HTTPTransport() as transport:
        SyncLMStudioProvider(config, transport=transport).close_idle()
    with pytest.raises(RuntimeError, match=r"keepalive=False.*`provider\.close\(\)`"):
        SyncLMStudioProvider(config).close_idle()
