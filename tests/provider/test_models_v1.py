"""Model management over LM Studio's REST API v1 (load, unload, download, the v1 model list),
LMStudioProvider against the fake over real sockets, under asyncio and trio."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import (
    ApiError,
    ConfigurationError,
    DownloadError,
    DownloadProgress,
    DownloadResult,
    InvalidRequestError,
    LMStudioConfig,
    LMStudioProvider,
    ModelNotFoundError,
)

from .conftest import FakeClock
from .servers import http_server

pytestmark = pytest.mark.anyio

MODEL = "qwen/qwen3-8b"
OFFERED = "acme/tiny-1b"


@asynccontextmanager
async def provider(url: str, clock: FakeClock, **changes: Any) -> AsyncIterator[LMStudioProvider]:
    config = dataclasses.replace(LMStudioConfig(endpoint=url, timeout_seconds=10), **changes)
    async with LMStudioProvider(
        config, sleep=clock.sleep, random=lambda: 0.0, clock=clock.monotonic
    ) as p:
        yield p


def calls(fake: FakeLMStudio, method: str, path: str) -> int:
    return sum(1 for r in fake.requests if (r.method, r.path) == (method, path))


@pytest.fixture
def timed(clock: FakeClock) -> Any:
    """A fake on the test's clock: a download progresses as the provider's polls sleep."""
    with FakeLMStudio(seed=0, clock=clock.monotonic) as fake:
        yield fake


# --- load and unload ----------------------------------------------------------------------------


async def test_load_and_unload(fake: FakeLMStudio, clock: FakeClock) -> None:
    async with provider(fake.url, clock) as p:
        loaded = await p.load_model(
            "qwen2-vl-7b-instruct", context_length=8192, echo_load_config=True
        )
        assert (loaded.instance_id, loaded.status, loaded.type) == (
            "qwen2-vl-7b-instruct",
            "loaded",
            "llm",
        )
        assert loaded.context_length == 8192 and loaded.load_time_seconds >= 0
        assert loaded.load_config["context_length"] == 8192
        caps = await p.model_capabilities("qwen2-vl-7b-instruct")
        assert caps is not None and caps.loaded and caps.loaded_context_length == 8192
        assert caps.loaded_instances == ("qwen2-vl-7b-instruct",)

        second = await p.load_model(MODEL)  # already loaded: another instance
        assert second.instance_id == f"{MODEL}:2" and second.load_config == {}
        assert second.context_length is None
        await p.unload_model(second.instance_id)
        await p.unload_model(loaded.instance_id)
    load = next(r for r in fake.requests if r.path == "/api/v1/models/load")
    assert load.json == {
        "model": "qwen2-vl-7b-instruct",
        "context_length": 8192,
        "echo_load_config": True,
    }
    unloads = [r.json for r in fake.requests if r.path == "/api/v1/models/unload"]
    assert unloads == [{"instance_id": f"{MODEL}:2"}, {"instance_id": "qwen2-vl-7b-instruct"}]


async def test_load_and_unload_errors(fake: FakeLMStudio, clock: FakeClock) -> None:
    async with provider(fake.url, clock) as p:
        with pytest.raises(ModelNotFoundError) as missing:
            await p.load_model("no/such-model")
        assert missing.value.status_code == 404 and missing.value.code == "model_not_found"
        assert missing.value.model == "no/such-model"
        with pytest.raises(ModelNotFoundError) as gone:
            await p.unload_model("no/such-instance")
        assert gone.value.code == "model_not_found"
        with pytest.raises(InvalidRequestError, match="context_length") as bad:
            await p.load_model(MODEL, context_length=0)
        assert bad.value.field == "context_length"
        with pytest.raises(InvalidRequestError, match="flash_attention"):
            await p.load_model(MODEL, flash_attention="yes")  # type: ignore[arg-type]
    assert calls(fake, "POST", "/api/v1/models/load") == 1  # the bad ones were never sent


async def test_a_failed_load_is_not_retried(clock: FakeClock) -> None:
    # A retry could load a second instance: a 503, retried for any other request, is raised.
    body = b'{"error":{"type":"internal_error","message":"Failed to load model: out of memory"}}'
    with http_server(503, body) as server:
        async with provider(server.url, clock) as p:
            with pytest.raises(ApiError, match="out of memory") as failed:
                await p.load_model(MODEL)
    assert failed.value.status_code == 503 and clock.sleeps == []


# --- download -----------------------------------------------------------------------------------


async def test_download_reports_progress_at_each_poll(
    timed: FakeLMStudio, clock: FakeClock
) -> None:
    timed.downloads.offer(OFFERED, size_bytes=1000, seconds=4)
    seen: list[DownloadProgress] = []
    async with provider(timed.url, clock) as p:
        assert await p.model_capabilities(OFFERED) is None
        result = await p.download_model(OFFERED, on_progress=seen.append, poll_interval=1)
        assert await p.supports_model(OFFERED)  # a miss refreshes the list
    assert [(s.status, s.downloaded_bytes, s.total_bytes) for s in seen] == [
        ("downloading", 0, 1000),
        ("downloading", 250, 1000),
        ("downloading", 500, 1000),
        ("downloading", 750, 1000),
        ("completed", 1000, 1000),
    ]
    assert [s.fraction for s in seen] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert len({s.job_id for s in seen}) == 1
    assert clock.sleeps == [1, 1, 1, 1]
    assert result == DownloadResult(
        model=OFFERED,
        status="completed",
        job_id=seen[0].job_id,
        total_bytes=1000,
        downloaded_bytes=1000,
    )
    assert not result.already_downloaded


async def test_download_of_a_model_already_there(fake: FakeLMStudio, clock: FakeClock) -> None:
    seen: list[DownloadProgress] = []
    async with provider(fake.url, clock) as p:
        result = await p.download_model(MODEL, on_progress=seen.append)
    assert result == DownloadResult(model=MODEL, status="already_downloaded")
    assert result.already_downloaded and seen == [] and clock.sleeps == []
    assert calls(fake, "POST", "/api/v1/models/download") == 1


async def test_failed_download_raises(timed: FakeLMStudio, clock: FakeClock) -> None:
    timed.downloads.offer(OFFERED, size_bytes=1000, seconds=4, fails=True)
    seen: list[str] = []
    async with provider(timed.url, clock) as p:
        with pytest.raises(DownloadError, match="failed") as failed:
            await p.download_model(OFFERED, on_progress=lambda s: seen.append(s.status))
    assert failed.value.status == "failed" and failed.value.job_id
    assert seen[-1] == "failed" and set(seen[:-1]) == {"downloading"}


async def test_download_gives_up_after_its_timeout(timed: FakeLMStudio, clock: FakeClock) -> None:
    timed.downloads.offer(OFFERED, size_bytes=1000, seconds=100)
    async with provider(timed.url, clock) as p:
        with pytest.raises(DownloadError, match="within 3 s") as late:
            await p.download_model(OFFERED, poll_interval=1, timeout_seconds=3)
    assert late.value.status == "downloading"
    assert clock.sleeps == [1, 1, 1]


async def test_download_errors(fake: FakeLMStudio, clock: FakeClock) -> None:
    async with provider(fake.url, clock) as p:
        with pytest.raises(ModelNotFoundError) as missing:
            await p.download_model("no/such-model")
        assert missing.value.status_code == 404
        with pytest.raises(ConfigurationError):
            await p.download_model(OFFERED, poll_interval=0)
        with pytest.raises(ConfigurationError):
            await p.download_model(OFFERED, timeout_seconds=-1)
    assert calls(fake, "POST", "/api/v1/models/download") == 1


# --- capabilities from /api/v1/models -----------------------------------------------------------


async def test_capabilities_from_the_v1_list(fake: FakeLMStudio, clock: FakeClock) -> None:
    fake.add_model("think/model", reasoning=True, loaded=False)
    async with provider(fake.url, clock) as p:
        qwen = await p.model_capabilities(MODEL)
        assert qwen is not None and qwen.loaded_instances == (MODEL,)
        assert (qwen.context_length, qwen.loaded_context_length, qwen.tool_use) == (
            40960,
            4096,
            True,
        )
        thinker = await p.model_capabilities("think/model")
        assert thinker is not None and thinker.reasoning and not thinker.loaded
        assert "reasoning" in thinker.capabilities
        embed = await p.model_capabilities("text-embedding-nomic-embed-text-v1.5")
        assert embed is not None and embed.type == "embeddings" and not embed.tool_use
    assert calls(fake, "GET", "/api/v1/models") == 1
    assert calls(fake, "GET", "/api/v0/models") == 0


async def test_an_old_server_falls_back(clock: FakeClock) -> None:
    with FakeLMStudio(seed=0, profile="lmstudio-0.3.23") as old:
        async with provider(old.url, clock) as p:
            caps = await p.model_capabilities(MODEL)
            assert caps is not None and caps.source == "native" and caps.loaded_instances == ()
            assert caps.tool_use and caps.context_length == 40960
            with pytest.raises(ApiError, match="does not serve POST /api/v1/models/load"):
                await p.load_model(MODEL)
        assert calls(old, "GET", "/api/v1/models") == 1
        assert calls(old, "GET", "/api/v0/models") == 1
