"""Requests are checked before any I/O; each refusal names the field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pytest_lmstudio import CompletionRequest, InvalidRequestError, Message, ToolCall
from pytest_lmstudio.provider._validation import validate_embedding_inputs, validate_request

GOOD = CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user("hi")])
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def with_(**changes: Any) -> CompletionRequest:
    return dataclasses.replace(GOOD, **changes)


@pytest.mark.parametrize(
    "request_",
    [
        GOOD,
        with_(temperature=0),
        with_(temperature=2),
        with_(max_tokens=-1),
        with_(max_tokens=1),
        with_(top_p=1.0, seed=7, stop=["\n\n"]),
        with_(stop="END"),
        with_(
            messages=[
                Message.system("be brief"),
                Message.user("weather?"),
                Message.assistant(
                    tool_calls=[ToolCall.create("get_weather", {"city": "Oslo"}, id="1")]
                ),
                Message.tool('{"temp": 3}', tool_call_id="1"),
            ]
        ),
        with_(messages=[Message.user("what is this?", images=[PNG, "https://x.test/cat.png"])]),
        with_(
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
            tool_choice="required",
        ),
        with_(tool_choice={"type": "function", "function": {"name": "f"}}),
        with_(response_format=CompletionRequest.json_schema({"type": "object"})),
        with_(response_format={"type": "text"}),
        with_(extra={"ttl": 60, "draft_model": "small", "top_k": 40, "repeat_penalty": 1.1}),
    ],
)
def test_accepted(request_: CompletionRequest) -> None:
    assert validate_request(request_) is request_


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (with_(model=""), "model"),
        (with_(model="a\x07b"), "model"),
        (with_(model="../../admin"), "model"),
        (with_(messages=[]), "messages"),
        (with_(messages=["hi"]), "messages[0]"),
        (with_(messages=[Message("developer", "x")]), "messages[0].role"),
        (with_(messages=[Message.user("a"), Message("wizard", "x")]), "messages[1].role"),
        (with_(messages=[Message("tool", "42")]), "messages[0].tool_call_id"),
        (with_(messages=[Message("user", None)]), "messages[0].content"),
        (
            with_(messages=[Message("user", "x", tool_calls=(ToolCall("1", "f"),))]),
            "messages[0].tool_calls",
        ),
        (
            with_(messages=[Message.assistant(tool_calls=[ToolCall("", "f")])]),
            "messages[0].tool_calls[0].id",
        ),
        (
            with_(messages=[Message.assistant(tool_calls=[ToolCall("1", "")])]),
            "messages[0].tool_calls[0].name",
        ),
        (with_(messages=[Message("user", ({"type": "audio"},))]), "messages[0].content[0].type"),
        (
            with_(messages=[Message("user", ({"type": "text", "text": 3},))]),
            "messages[0].content[0].text",
        ),
        (
            with_(
                messages=[
                    Message("user", ({"type": "image_url", "image_url": {"url": "file:///x"}},))
                ]
            ),
            "messages[0].content[0].image_url.url",
        ),
        (
            with_(
                messages=[
                    Message(
                        "system",
                        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,"}},),
                    )
                ]
            ),
            "messages[0].content",
        ),
        (with_(temperature=-0.1), "temperature"),
        (with_(temperature=2.01), "temperature"),
        (with_(temperature=float("nan")), "temperature"),
        (with_(temperature=True), "temperature"),
        (with_(top_p=1.5), "top_p"),
        (with_(max_tokens=0), "max_tokens"),
        (with_(max_tokens=-2), "max_tokens"),
        (with_(max_tokens=1.5), "max_tokens"),
        (with_(seed="7"), "seed"),
        (with_(stop=[1]), "stop"),
        (with_(tools=[{"type": "retrieval"}]), "tools[0]"),
        (with_(tools=[{"type": "function", "function": {}}]), "tools[0].function.name"),
        (with_(tools=[{"type": "function", "function": {"name": ""}}]), "tools[0].function.name"),
        (with_(tool_choice="always"), "tool_choice"),
        (with_(response_format={"type": "json_object"}), "response_format.type"),
        (with_(response_format={"type": "yaml"}), "response_format.type"),
        (
            with_(response_format={"type": "json_schema", "json_schema": {}}),
            "response_format.json_schema.schema",
        ),
        (with_(extra={"stream": False}), "extra.stream"),
        (with_(extra={"model": "other"}), "extra.model"),
        (with_(extra={1: 2}), "extra"),
    ],
)
def test_refused(request_: CompletionRequest, field: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        validate_request(request_)
    assert info.value.field == field
    assert field in str(info.value)
    assert info.value.status_code is None


def test_not_a_request() -> None:
    with pytest.raises(InvalidRequestError, match="CompletionRequest"):
        validate_request({"model": "x"})


def test_embedding_inputs() -> None:
    assert validate_embedding_inputs("m", "one") == ["one"]
    assert validate_embedding_inputs("m", ("a", "b")) == ["a", "b"]
    for inputs, field in (([], "inputs"), (["a", 2], "inputs[1]"), (7, "inputs")):
        with pytest.raises(InvalidRequestError) as info:
            validate_embedding_inputs("m", inputs)
        assert info.value.field == field
    with pytest.raises(InvalidRequestError) as info:
        validate_embedding_inputs("", ["a"])
    assert info.value.field == "model"


def test_message_helpers() -> None:
    assert Message.user("hi") == Message("user", "hi")
    assert Message.system("s").role == "system"
    image = Message.user("look", images=[PNG])
    assert isinstance(image.content, tuple)
    assert image.content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert image.text == "look"
    assert Message.assistant().text == ""
    jpeg = Message.user("x", images=[b"\xff\xd8\xff\xe0rest"]).content
    assert isinstance(jpeg, tuple) and "image/jpeg" in jpeg[1]["image_url"]["url"]
    webp = Message.user("x", images=[b"RIFF\x00\x00\x00\x00WEBPVP8 "]).content
    assert isinstance(webp, tuple) and "image/webp" in webp[1]["image_url"]["url"]
    with pytest.raises(ValueError, match="unknown image format"):
        Message.user("x", images=[b"not an image"])
    call = ToolCall.create("f", {"a": 1}, id="9")
    assert call.parsed_arguments() == {"a": 1}
    assert ToolCall("1", "f", "").parsed_arguments() == {}
