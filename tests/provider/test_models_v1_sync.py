"""Model management over LM Studio's REST API v1 with SyncLMStudioProvider: the same behaviour
as the async client (test_models_v1.py), blocking."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import (
    ApiError,
    DownloadError,
    DownloadProgress,
    DownloadResult,
    InvalidRequestError,
    LMStudioConfig,
    ModelNotFoundError,
    SyncLMStudioProvider,
)

from .conftest import FakeClock
from .servers import http_server

MODEL = "qwen/qwen3-8b"
OFFERED = "acme/tiny-1b"


def provider(url: str, clock: FakeClock) -> SyncLMStudioProvider:
    return SyncLMStudioProvider(
        LMStudioConfig(endpoint=url, timeout_seconds=10),
        sleep=clock.sleep_sync,
        random=lambda: 0.0,
        clock=clock.monotonic,
    )


@pytest.fixture
def timed(clock: FakeClock) -> Iterator[FakeLMStudio]:
    with FakeLMStudio(seed=0, clock=clock.monotonic) as fake:
        yield fake


def test_load_and_unload(fake: FakeLMStudio, clock: FakeClock) -> None:
    with provider(fake.url, clock) as p:
        loaded = p.load_model("qwen2-vl-7b-instruct", context_length=8192, echo_load_config=True)
        assert loaded.instance_id == "qwen2-vl-7b-instruct" and loaded.context_length == 8192
        second = p.load_model(MODEL)
        assert second.instance_id == f"{MODEL}:2"
        p.unload_model(second.instance_id)
        with pytest.raises(ModelNotFoundError):
            p.unload_model(second.instance_id)
        with pytest.raises(ModelNotFoundError):
            p.load_model("no/such-model")
        with pytest.raises(InvalidRequestError):
            p.load_model(MODEL, num_experts=-2)


def test_a_failed_load_is_not_retried(clock: FakeClock) -> None:
    body = b'{"error":{"type":"internal_error","message":"Failed to load model"}}'
    with (
        http_server(503, body) as server,
        provider(server.url, clock) as p,
        pytest.raises(ApiError, match="Failed to load model"),
    ):
        p.load_model(MODEL)
    assert clock.sleeps == []


def test_download_progress(timed: FakeLMStudio, clock: FakeClock) -> None:
    timed.downloads.offer(OFFERED, size_bytes=1000, seconds=2)
    seen: list[DownloadProgress] = []
    with provider(timed.url, clock) as p:
        result = p.download_model(OFFERED, on_progress=seen.append, poll_interval=0.5)
        assert p.supports_model(OFFERED)
    assert [(s.status, s.downloaded_bytes) for s in seen] == [
        ("downloading", 0),
        ("downloading", 250),
        ("downloading", 500),
        ("downloading", 750),
        ("completed", 1000),
    ]
    assert clock.sleeps == [0.5] * 4
    assert result.status == "completed" and result.job_id == seen[0].job_id


def test_download_ends(timed: FakeLMStudio, clock: FakeClock) -> None:
    timed.downloads.offer(OFFERED, size_bytes=1000, seconds=4, fails=True)
    timed.downloads.offer("acme/slow-1b", size_bytes=1000, seconds=100)
    with provider(timed.url, clock) as p:
        assert p.download_model(MODEL) == DownloadResult(model=MODEL, status="already_downloaded")
        with pytest.raises(DownloadError, match="failed"):
            p.download_model(OFFERED)
        with pytest.raises(DownloadError, match="within 2 s"):
            p.download_model("acme/slow-1b", timeout_seconds=2)
        with pytest.raises(ModelNotFoundError):
            p.download_model("no/such-model")


def test_capabilities_on_an_old_server(clock: FakeClock) -> None:
    with FakeLMStudio(seed=0, profile="lmstudio-0.3.23") as old, provider(old.url, clock) as p:
        caps = p.model_capabilities(MODEL)
        assert caps is not None and caps.source == "native" and caps.tool_use
        with pytest.raises(ApiError, match="does not serve"):
            p.unload_model(MODEL)
