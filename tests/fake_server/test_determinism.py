"""Default answers are a function of (seed, request, clock), with a documented token rule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio
from fake_server._content import count_tokens, split_tokens

MODEL = "qwen/qwen3-8b"
FIXED = 1_731_990_317.0


def post(fake: FakeLMStudio, path: str, body: dict[str, Any]) -> bytes:
    with httpx.Client(base_url=fake.url) as client:
        response = client.post(path, json=body)
        assert response.status_code == 200
        return response.content


CASES = [
    ("/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}),
    (
        "/v1/chat/completions",
        {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": True},
    ),
    ("/api/v0/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}),
    ("/v1/completions", {"model": MODEL, "prompt": "Once"}),
    ("/v1/embeddings", {"model": "text-embedding-nomic-embed-text-v1.5", "input": ["a", "b"]}),
]


@pytest.mark.parametrize(("path", "body"), CASES)
def test_same_seed_and_request_give_byte_identical_answers(path: str, body: dict[str, Any]) -> None:
    with (
        FakeLMStudio(seed=7, clock=lambda: FIXED) as one,
        FakeLMStudio(seed=7, clock=lambda: FIXED) as two,
    ):
        first = post(one, path, body)
        assert post(one, path, body) == first
        assert post(two, path, body) == first


def test_the_seed_and_the_request_change_the_answer() -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    other = {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}]}
    with (
        FakeLMStudio(seed=1, clock=lambda: FIXED) as one,
        FakeLMStudio(seed=2, clock=lambda: FIXED) as two,
    ):
        path = "/v1/chat/completions"
        assert post(one, path, body) != post(two, path, body)
        assert post(one, path, body) != post(one, path, other)


def test_created_comes_from_the_clock() -> None:
    with FakeLMStudio(clock=lambda: FIXED) as fake, httpx.Client(base_url=fake.url) as client:
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
        assert client.post("/v1/chat/completions", json=body).json()["created"] == int(FIXED)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("Hello, world!", 4), ("", 0), ("one two  three", 3), ("don't", 3), ("a.b", 3)],
)
def test_token_rule(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens
    assert "".join(split_tokens(text)) == text
    assert len(split_tokens(text)) == tokens or (text and text.isspace())
