"""The event-stream decoder and the chat stream parser, fed the way real servers send."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_lmstudio import ApiError, StreamChunk, ToolCall, Usage
from pytest_lmstudio.provider._sse import ChatStreamParser, ServerSentEvent, SSEDecoder

PREFIX = {
    "id": "chatcmpl-um3b2l9t12bzrtha63q8",
    "object": "chat.completion.chunk",
    "created": 1747835957,
    "model": "qwen/qwen3-8b",
    "system_fingerprint": "qwen/qwen3-8b",
}


def frame(choices: list[dict[str, Any]], **extra: Any) -> bytes:
    return b"data: " + json.dumps({**PREFIX, "choices": choices, **extra}).encode() + b"\n\n"


def delta(d: dict[str, Any], finish: str | None = None) -> bytes:
    return frame([{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}])


# A recorded stream with what LM Studio versions send: role on every delta (0.3.9), reasoning in
# both spellings, multi-byte text, a keep-alive comment, parallel tool calls streamed in fragments
# with the pre-0.3.16 empty name on continuations, the final empty delta, the usage chunk, [DONE].
RECORDED = b"".join(
    [
        b": keep-alive\n\n",
        delta({"role": "assistant", "reasoning_content": "Hmm, "}),
        delta({"role": "assistant", "reasoning": "l\u00e4ngere \u00dcberlegung\u2026 "}),
        delta({"role": "assistant", "content": "Gr\u00fc\u00dfe \U0001f30d "}),
        delta({"role": "assistant", "content": "\u4f60\u597d"}),
        delta(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "814890118",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        delta(
            {
                "tool_calls": [
                    {"index": 0, "type": "function", "function": {"name": "", "arguments": '{"ci'}}
                ]
            }
        ),
        delta(
            {
                "tool_calls": [
                    {"index": 1, "id": "22", "function": {"name": "get_time", "arguments": "{}"}}
                ]
            }
        ),
        delta({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "K\u00f8benhavn"}'}}]}),
        delta({}, "tool_calls"),
        frame([], usage={"prompt_tokens": 24, "completion_tokens": 53, "total_tokens": 77}),
        b"data: [DONE]\n\n",
    ]
)

EXPECTED = [
    StreamChunk(reasoning="Hmm, ", model="qwen/qwen3-8b", id=PREFIX["id"]),
    StreamChunk(
        reasoning="l\u00e4ngere \u00dcberlegung\u2026 ", model="qwen/qwen3-8b", id=PREFIX["id"]
    ),
    StreamChunk(content="Gr\u00fc\u00dfe \U0001f30d ", model="qwen/qwen3-8b", id=PREFIX["id"]),
    StreamChunk(content="\u4f60\u597d", model="qwen/qwen3-8b", id=PREFIX["id"]),
    StreamChunk(
        tool_calls=(
            ToolCall("814890118", "get_weather", '{"city": "K\u00f8benhavn"}'),
            ToolCall("22", "get_time", "{}"),
        ),
        finish_reason="tool_calls",
        model="qwen/qwen3-8b",
        id=PREFIX["id"],
    ),
    StreamChunk(usage=Usage(24, 53, 77), model="qwen/qwen3-8b", id=PREFIX["id"]),
]


def parse(pieces: list[bytes]) -> list[StreamChunk]:
    decoder = SSEDecoder()
    parser = ChatStreamParser(method="POST", path="/v1/chat/completions")
    chunks: list[StreamChunk] = []
    for piece in pieces:
        chunks += parser.events(decoder.feed(piece))
    chunks += parser.events(decoder.close())
    chunks += parser.finish()
    return chunks


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *cuts})
    return [data[a:b] for a, b in itertools.pairwise(points)]


CRLF = RECORDED.replace(b"\n", b"\r\n")
CR = RECORDED.replace(b"\n", b"\r")


def test_recorded_stream_whole() -> None:
    assert parse([RECORDED]) == EXPECTED
    assert parse([CRLF]) == EXPECTED
    assert parse([CR]) == EXPECTED


@pytest.mark.parametrize("data", [RECORDED, CRLF], ids=["lf", "crlf"])
def test_every_single_split(data: bytes) -> None:
    # Every byte boundary, so inside every multi-byte character and between every \r and \n.
    for cut in range(1, len(data)):
        assert parse([data[:cut], data[cut:]]) == EXPECTED, cut


def test_byte_by_byte() -> None:
    assert parse([bytes([b]) for b in CRLF]) == EXPECTED


@settings(max_examples=300, deadline=None, database=None)
@given(
    data=st.sampled_from([RECORDED, CRLF, CR]),
    cuts=st.lists(st.integers(min_value=0, max_value=len(CRLF)), max_size=40),
)
def test_any_split_gives_the_same_chunks(data: bytes, cuts: list[int]) -> None:
    assert parse(split(data, [c for c in cuts if c <= len(data)])) == EXPECTED


def test_decoder_follows_the_event_stream_rules() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(
        b"event: ping\ndata: a\ndata:b\nid: 3\nretry: 10\n: note\n\n\n\ndata: c\n"
    )
    assert events == [ServerSentEvent("a\nb", "ping")]
    assert decoder.close() == [ServerSentEvent("c")]
    assert SSEDecoder().feed(b"data\n\n") == [ServerSentEvent("")]
    assert SSEDecoder().feed(b"event: x\n\n") == []


def test_decoder_caps_an_event() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    with pytest.raises(ValueError, match="larger than 100"):
        decoder.feed(b"data: " + b"x" * 200)
    decoder = SSEDecoder(max_event_bytes=100)
    with pytest.raises(ValueError, match="larger than 100"):
        for _ in range(30):
            decoder.feed(b"data: xxxxxxx\n")


def test_eof_without_done_keeps_what_came() -> None:
    data = delta({"role": "assistant", "content": "Hi"}) + delta({}, "stop")
    chunks = parse([data])
    assert [c.content for c in chunks] == ["Hi", ""]
    assert chunks[-1].finish_reason == "stop"
    # Even the last event without its blank line.
    assert parse([data.rstrip(b"\n")])[-1].finish_reason == "stop"


def test_tool_calls_without_finish_are_flushed_at_eof() -> None:
    data = delta(
        {"tool_calls": [{"index": 0, "id": "1", "function": {"name": "f", "arguments": "{}"}}]}
    )
    chunks = parse([data])
    assert chunks == [
        StreamChunk(tool_calls=(ToolCall("1", "f", "{}"),), model="qwen/qwen3-8b", id=PREFIX["id"])
    ]


def test_nothing_after_done_counts() -> None:
    assert parse([b"data: [DONE]\n\n" + delta({"content": "late"})]) == []


def test_error_event_raises_with_its_message() -> None:
    message = "Input does not fit in context length. The input has 31430 tokens."
    data = delta({"content": "x"}) + (
        b"event: error\ndata: "
        + json.dumps({"error": {"message": message}, "message": message}).encode()
        + b"\n\n"
    )
    with pytest.raises(ApiError) as info:
        parse([data])
    assert info.value.server_message == message
    assert info.value.status_code == 200


def test_error_data_without_event_line_raises() -> None:
    with pytest.raises(ApiError, match="boom"):
        parse([b'data: {"error": {"message": "boom"}}\n\n'])
    with pytest.raises(ApiError, match="plain text"):
        parse([b"event: error\ndata: plain text\n\n"])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"data: {not json\n\n", "not JSON"),
        (b"data: [1]\n\n", "should be an object"),
        (b'data: {"choices": {}}\n\n', "choices should be an array"),
        (b'data: {"choices": [3]}\n\n', "choices[0] should be an object"),
        (b'data: {"choices": [{"delta": {"content": 3}}]}\n\n', "content should be a string"),
        (b'data: {"choices": [{"delta": {"tool_calls": {}}}]}\n\n', "tool_calls should be"),
        (b'data: {"choices": [{"delta": {}, "finish_reason": 1}]}\n\n', "finish_reason"),
        (b'data: {"choices": [], "usage": {"prompt_tokens": "x"}}\n\n', "usage.prompt_tokens"),
        (
            b'data: {"choices": [{"delta": {"tool_calls": '
            b'[{"index": 0, "function": {"arguments": "{}"}}]}}]}\n\n',
            "has no name",
        ),
    ],
)
def test_broken_chunks_are_api_errors(data: bytes, words: str) -> None:
    with pytest.raises(ApiError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse([data])


def test_an_event_nested_past_the_recursion_limit_is_an_api_error() -> None:
    with pytest.raises(ApiError, match="nested too deeply") as info:
        parse([b"data: " + b"[" * 100_000 + b"\n\n"])
    assert isinstance(info.value.__cause__, ValueError)
    assert isinstance(info.value.__cause__.__cause__, RecursionError)


def test_an_event_echoing_the_token_is_quoted_without_it() -> None:
    secret = "tok-0123456789abcdef0123456789abcdef"
    parser = ChatStreamParser(method="POST", path="/v1/chat/completions", secret=secret)
    for event in ("message", "error"):
        with pytest.raises(ApiError) as info:
            parser.event(ServerSentEvent(f"x{'y' * 60}{secret} not json", event))
        text = str(info.value) + repr(info.value.args) + repr(info.value.__cause__)
        assert secret[:8] not in text and secret[-8:] not in text
