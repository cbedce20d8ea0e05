"""The fake produces each real LM Studio payload of the reference (sections 1 to 5) in the
same shape: the same keys in the same order, with values of the same JSON types."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio
from tests.contract import examples as ref

MODEL = "qwen/qwen3-8b"
EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}


def shape(value: Any) -> Any:
    """Keys in order and JSON types; a list is described by its first item."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return ["list", shape(value[0])] if value else ["list"]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeLMStudio) -> Iterator[httpx.Client]:
    fake.reset()
    with httpx.Client(base_url=fake.url) as client:
        yield client


def sse(response: httpx.Response) -> list[dict[str, Any]]:
    events = [e for e in response.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    return [json.loads(e.removeprefix("data: ")) for e in events[:-1]]


def test_greeting(client: httpx.Client) -> None:
    assert shape(client.get("/lmstudio-greeting").json()) == shape(ref.LMSTUDIO_GREETING)


def test_status(client: httpx.Client) -> None:
    assert shape(client.get("/lms-status").json()) == shape(ref.LMSTUDIO_STATUS)


def test_v1_models(client: httpx.Client) -> None:
    assert shape(client.get("/v1/models").json()) == shape(ref.LMSTUDIO_V1_MODELS)


def test_chat_completion(client: httpx.Client) -> None:
    document = client.post("/v1/chat/completions", json=CHAT).json()
    assert shape(document) == shape(ref.LMSTUDIO_CHAT_COMPLETION)


def test_tool_call_completion_choices(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply(tool_calls=[{"name": "search_products", "arguments": {"query": "dell"}}])
    document = client.post("/v1/chat/completions", json=CHAT).json()
    assert shape(document["choices"]) == shape(ref.LMSTUDIO_TOOL_CALL_COMPLETION["choices"])


def test_chat_chunks(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.stream(["Hel", "lo"])
    chunks = sse(client.post("/v1/chat/completions", json={**CHAT, "stream": True}))
    assert [shape(c) for c in chunks] == [shape(c) for c in ref.LMSTUDIO_CHAT_CHUNKS]


def test_tool_call_chunks(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply(tool_calls=[{"name": "get_weather", "arguments": {"location": "Paris"}}])
    chunks = sse(client.post("/v1/chat/completions", json={**CHAT, "stream": True}))
    first, second, _old_form, last = ref.LMSTUDIO_TOOL_CALL_CHUNKS  # 0.4 sends no old form
    assert shape(chunks[0]) == shape(first)
    assert all(shape(c) == shape(second) for c in chunks[1:-1])
    assert shape(chunks[-1]) == shape(last)


def test_usage_chunk(client: httpx.Client) -> None:
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    chunks = sse(client.post("/v1/chat/completions", json=body))
    assert shape(chunks[-1]) == shape(ref.LMSTUDIO_USAGE_CHUNK)


def test_completion(client: httpx.Client) -> None:
    document = client.post("/v1/completions", json={"model": MODEL, "prompt": "Hi"}).json()
    expected = {**ref.LMSTUDIO_COMPLETION, "stats": {}, "system_fingerprint": MODEL}
    assert shape(document) == shape(expected)  # /v1 adds stats {} as on chat (section 2.3)


def test_embeddings(client: httpx.Client) -> None:
    document = client.post("/v1/embeddings", json={"model": EMBEDDER, "input": "Hi"}).json()
    assert shape(document) == shape(ref.LMSTUDIO_EMBEDDINGS)


def test_v0_models_entries(client: httpx.Client) -> None:
    document = client.get("/api/v0/models").json()
    # The reference's three models, then the default catalog's reasoning model.
    assert [shape(m) for m in document["data"][:3]] == [
        shape(m) for m in ref.LMSTUDIO_V0_MODELS["data"]
    ]
    assert list(document) == ["data", "object"]  # "Real output puts object after data" (3.1)


def test_v0_single_model(client: httpx.Client) -> None:
    document = client.get(f"/api/v0/models/{MODEL}").json()
    assert shape(document) == shape(ref.LMSTUDIO_V0_MODELS["data"][0])


def test_v0_chat_completion(client: httpx.Client) -> None:
    document = client.post("/api/v0/chat/completions", json=CHAT).json()
    assert shape(document) == shape(ref.LMSTUDIO_V0_CHAT_COMPLETION)


def test_v0_completion(client: httpx.Client) -> None:
    document = client.post("/api/v0/completions", json={"model": MODEL, "prompt": "Hi"}).json()
    assert shape(document) == shape(ref.LMSTUDIO_V0_COMPLETION)


def _error_string(fragment: str) -> dict[str, Any]:
    (match,) = [e for e in ref.LMSTUDIO_ERROR_STRINGS if fragment in e["error"]]
    return match


def _error_object(fragment: str) -> dict[str, Any]:
    (match,) = [e for e in ref.LMSTUDIO_ERROR_OBJECTS if fragment in e["error"]["message"]]
    return match


def test_catch_all(client: httpx.Client) -> None:
    response = client.post("/chat/completions", json={})
    assert response.status_code == 200
    assert response.json() == _error_string("Unexpected endpoint")


def test_json_object_rejected(client: httpx.Client) -> None:
    response = client.post(
        "/v1/chat/completions", json={**CHAT, "response_format": {"type": "json_object"}}
    )
    assert response.json() == _error_string("must be 'json_schema' or 'text'")


def test_missing_messages(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json={"model": MODEL})
    assert response.json() == _error_string("'messages' field is required")


def test_bad_role_message_matches_the_observed_text(client: httpx.Client) -> None:
    body = {"model": MODEL, "messages": [{"role": "robot", "content": "x"}]}
    expected = _error_string("Got 'developer'")["error"].replace("developer", "robot")
    assert client.post("/v1/chat/completions", json=body).json() == {"error": expected}


def test_no_models_loaded(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_jit(False)
    fake.unload_model(MODEL)
    response = client.post("/v1/chat/completions", json=CHAT)
    assert response.json() == _error_string("No models loaded")


def test_unknown_model(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json={**CHAT, "model": "o4-mini"})
    assert response.status_code == 400
    expected = _error_object('Invalid model identifier "o4-mini"')
    assert shape(response.json()) == shape(expected)
    assert response.json()["error"]["message"].startswith(
        expected["error"]["message"].split("(e.g.")[0]
    )


def test_auth_required(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.require_api_token("sk-lm-abcdefgh:abcdefghijklmnopqrst")
    response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 401
    assert response.json() == _error_object("An LM Studio API token is required")
