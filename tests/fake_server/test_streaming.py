"""SSE framing as LM Studio streams it: chat, tool calls, usage chunk, completions."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio

MODEL = "qwen/qwen3-8b"
HELLO = [{"role": "user", "content": "Tell me a story"}]


def stream_raw(
    client: httpx.Client, path: str = "/v1/chat/completions", **body: Any
) -> httpx.Response:
    body.setdefault("model", MODEL)
    if path.endswith("chat/completions"):
        body.setdefault("messages", HELLO)
    body["stream"] = True
    return client.post(path, json=body)


def frames(response: httpx.Response) -> list[dict[str, Any]]:
    """Parse strictly: every event is exactly ``data: <json>\\n\\n``, the last ``[DONE]``."""
    text = response.text
    assert text.endswith("data: [DONE]\n\n")
    events = text.split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    out = []
    for event in events[:-2]:
        assert event.startswith("data: "), event
        assert "\n" not in event
        out.append(json.loads(event[len("data: ") :]))
    return out


def test_stream_headers_and_framing(client: httpx.Client) -> None:
    response = stream_raw(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers.get("transfer-encoding") == "chunked"
    assert "event:" not in response.text
    chunks = frames(response)
    assert len(chunks) >= 3


def test_chunk_shape_role_first_and_final_empty_delta(client: httpx.Client) -> None:
    chunks = frames(stream_raw(client))
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and re.fullmatch(r"chatcmpl-[0-9a-z]{20}", ids.pop())
    for chunk in chunks:
        assert list(chunk) == ["id", "object", "created", "model", "system_fingerprint", "choices"]
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["system_fingerprint"] == MODEL
        (choice,) = chunk["choices"]
        assert list(choice) == ["index", "delta", "logprobs", "finish_reason"]
        assert "usage" not in chunk
    first, *middle, last = chunks
    assert list(first["choices"][0]["delta"]) == ["role", "content"]
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert all(list(c["choices"][0]["delta"]) == ["content"] for c in middle)
    assert all(c["choices"][0]["finish_reason"] is None for c in [first, *middle])
    assert last["choices"][0]["delta"] == {}
    assert last["choices"][0]["finish_reason"] == "stop"


def test_streamed_text_equals_the_plain_answer(client: httpx.Client) -> None:
    plain = client.post("/v1/chat/completions", json={"model": MODEL, "messages": HELLO}).json()
    chunks = frames(stream_raw(client))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == plain["choices"][0]["message"]["content"]
    assert chunks[0]["id"] == plain["id"]


def test_usage_chunk_only_with_include_usage(client: httpx.Client) -> None:
    chunks = frames(stream_raw(client, stream_options={"include_usage": True}))
    usage_chunk = chunks[-1]
    assert list(usage_chunk) == [
        "id",
        "object",
        "created",
        "model",
        "system_fingerprint",
        "choices",
        "usage",
    ]
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == len(chunks) - 2  # one chunk per token
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    no_usage = frames(stream_raw(client, stream_options={"include_usage": False}))
    assert all("usage" not in c for c in no_usage)


def test_scripted_stream_pieces_are_sent_as_given(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.stream(["Hel", "lo", ", wor", "ld"])
    chunks = frames(stream_raw(client))
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == [
        "Hel",
        "lo",
        ", wor",
        "ld",
        None,
    ]


def test_scripted_stream_to_a_plain_request_joins_the_pieces(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.stream(["Hel", "lo"])
    document = client.post("/v1/chat/completions", json={"model": MODEL, "messages": HELLO}).json()
    assert document["choices"][0]["message"]["content"] == "Hello"


def test_scripted_reply_to_a_streamed_request_streams_it(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.reply("Hello, world!")
    chunks = frames(stream_raw(client))
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks[:-1]]
    assert pieces == ["Hello", ",", " world", "!"]


def test_stream_timing_is_at_least_what_was_scripted(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.stream(["a", "b", "c"], ttft=0.2, interval=0.1)
    started = time.perf_counter()
    frames(stream_raw(client))
    assert time.perf_counter() - started >= 0.4  # a lower bound only: cannot be flaky


def test_streamed_tool_calls_come_in_fragments(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}])
    chunks = frames(stream_raw(client))
    deltas = [c["choices"][0]["delta"] for c in chunks]
    head = deltas[0]
    assert head["role"] == "assistant"
    (call,) = head["tool_calls"]
    assert list(call) == ["index", "id", "type", "function"]
    assert re.fullmatch(r"\d{9}", call["id"])
    assert call["function"] == {"name": "get_weather", "arguments": ""}
    fragments = deltas[1:-1]
    assert len(fragments) > 2
    for delta in fragments:
        (part,) = delta["tool_calls"]
        assert list(part) == ["index", "function"] and list(part["function"]) == ["arguments"]
    arguments = "".join(d["tool_calls"][0]["function"]["arguments"] for d in fragments)
    assert json.loads(arguments) == {"city": "Paris", "days": 3}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_parallel_tool_calls_have_their_own_index(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply(
        tool_calls=[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": 1}}]
    )
    deltas = [c["choices"][0]["delta"] for c in frames(stream_raw(client))][:-1]
    heads = [d["tool_calls"][0] for d in deltas if "id" in d["tool_calls"][0]]
    assert [(h["index"], h["function"]["name"]) for h in heads] == [(0, "a"), (1, "b")]


def test_completion_stream(client: httpx.Client) -> None:
    response = stream_raw(client, path="/v1/completions", prompt="Once upon a time")
    chunks = frames(response)
    for chunk in chunks:
        assert chunk["object"] == "text_completion"
        assert list(chunk["choices"][0]) == ["index", "text", "logprobs", "finish_reason"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    plain = client.post("/v1/completions", json={"model": MODEL, "prompt": "Once upon a time"})
    assert "".join(c["choices"][0]["text"] for c in chunks) == plain.json()["choices"][0]["text"]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/v0/chat/completions"])
def test_stop_chunk_carries_no_stats_or_usage(client: httpx.Client, path: str) -> None:
    last = frames(stream_raw(client, path=path))[-1]
    assert "stats" not in last and "usage" not in last
