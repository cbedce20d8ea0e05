"""``fake.wait_for_requests(n)``: the journal counts a request when it arrives, and a test
can wait for the requests a client sent before it gave up, instead of racing them.

``test_timeout_then_count`` is the pattern the README teaches; ``make stress-journal`` runs
50 copies of it under ``pytest -n 4`` (``PATTERN_COPIES`` copies; 2 in the suite).
"""

from __future__ import annotations

import os
import threading
import time

import httpx
import pytest

from fake_server import FakeCheckError, FakeLMStudio, ScriptError
from pytest_lmstudio import (
    CompletionRequest,
    LMStudioConfig,
    Message,
    ProviderTimeoutError,
    SyncLMStudioProvider,
)

HELLO = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hello there"}]}
REQUEST = CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user("Hi")])
COPIES = int(os.environ.get("PATTERN_COPIES", "2"))


def post_later(url: str, delay: float, count: int, *, cut: bool = False) -> threading.Thread:
    """Send ``count`` requests from another thread after ``delay`` s (``cut``: the fake
    holds them, and the client gives up after 0.5 s)."""

    def send() -> None:
        time.sleep(delay)
        with httpx.Client(base_url=url, timeout=0.5 if cut else 10) as client:
            for _ in range(count):
                try:
                    client.post("/v1/chat/completions", json=HELLO)
                except httpx.TransportError:
                    if not cut:
                        raise

    thread = threading.Thread(target=send)
    thread.start()
    return thread


@pytest.mark.parametrize("copy", range(COPIES))
def test_timeout_then_count(fake: FakeLMStudio, copy: int) -> None:
    fake.chat.delay(2)  # longer than the client waits: each attempt times out
    config = LMStudioConfig(endpoint=fake.url, timeout_seconds=0.2, max_retries=1)
    with (
        SyncLMStudioProvider(config, sleep=lambda seconds: None) as provider,
        pytest.raises(ProviderTimeoutError),
    ):
        provider.complete(REQUEST)
    requests = fake.wait_for_requests(2)
    assert len(requests) == 2
    assert [r.path for r in requests] == ["/v1/chat/completions"] * 2


def test_returns_once_the_requests_arrive(fake: FakeLMStudio) -> None:
    sender = post_later(fake.url, 0.2, 3)
    try:
        requests = fake.wait_for_requests(3, timeout=10)
    finally:
        sender.join(10)
    assert len(requests) >= 3
    assert requests[0].path == "/v1/chat/completions"


def test_a_request_counts_when_it_arrives_before_it_is_answered(fake: FakeLMStudio) -> None:
    fake.chat.hang()
    sender = post_later(fake.url, 0, 1, cut=True)
    try:
        [entry] = fake.wait_for_requests(1, timeout=10)
        assert entry.status is None  # still unanswered: the fake holds it
        assert entry.path == "/v1/chat/completions"
    finally:
        sender.join(10)


def test_a_timeout_names_what_arrived(fake: FakeLMStudio) -> None:
    with httpx.Client(base_url=fake.url, timeout=10) as client:
        client.post("/v1/chat/completions", json=HELLO)
    with pytest.raises(FakeCheckError) as caught:
        fake.wait_for_requests(2, timeout=0.05)
    message = str(caught.value)
    assert message.startswith("waited 0.05 s for 2 request(s) to reach the fake; 1 arrived:\n")
    assert "  POST /v1/chat/completions model=qwen/qwen3-8b -> 200 default\n" in message
    assert isinstance(caught.value, AssertionError)  # a test failure, not an error


def test_counts_since_the_last_reset(fake: FakeLMStudio) -> None:
    with httpx.Client(base_url=fake.url, timeout=10) as client:
        client.post("/v1/chat/completions", json=HELLO)
        fake.reset()
        with pytest.raises(FakeCheckError, match="0 arrived"):
            fake.wait_for_requests(1, timeout=0.05)
        client.get("/v1/models")
    assert [r.path for r in fake.wait_for_requests(1)] == ["/v1/models"]
    assert fake.wait_for_requests(0) == fake.requests


@pytest.mark.parametrize(
    ("count", "timeout", "fragment"),
    [
        (-1, 1.0, "from 0 up, got -1"),
        (1.5, 1.0, "from 0 up, got 1.5"),
        (True, 1.0, "from 0 up, got True"),
        (1, 0, "above 0 and at most 600, got 0"),
        (1, float("inf"), "got inf"),
        (1, "1", "got '1'"),
    ],
)
def test_bad_arguments_say_what_to_pass(
    fake: FakeLMStudio, count: object, timeout: object, fragment: str
) -> None:
    with pytest.raises(ScriptError, match=r"^wait_for_requests\(\): ") as caught:
        fake.wait_for_requests(count, timeout=timeout)  # type: ignore[arg-type]
    assert fragment in str(caught.value)
