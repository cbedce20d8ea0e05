"""Request bodies out, answers in: the shared wire layer, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_lmstudio import (
    ApiError,
    CompletionRequest,
    Message,
    ModelNotFoundError,
    ToolCall,
    Usage,
)
from pytest_lmstudio.provider._answers import (
    ShapeError,
    fallback_capabilities,
    parse_completion,
    parse_embeddings,
    parse_models,
    parse_native_models,
)
from pytest_lmstudio.provider._wire import (
    chat_body,
    checked,
    decode_json,
    dumps,
    embeddings_body,
    error_from_body,
)


def test_chat_body_carries_every_field_and_extra_unchanged() -> None:
    request = CompletionRequest(
        model="qwen/qwen3-8b",
        messages=[
            Message.system("brief"),
            Message.assistant(tool_calls=[ToolCall("7", "f", '{"a":1}')]),
            Message.tool("42", tool_call_id="7"),
            Message.user("look", images=["data:image/png;base64,AAAA"]),
        ],
        temperature=0.2,
        max_tokens=-1,
        top_p=0.9,
        stop=["\n"],
        seed=3,
        tools=[{"type": "function", "function": {"name": "f"}}],
        tool_choice="auto",
        response_format=CompletionRequest.json_schema({"type": "object"}, name="x"),
        extra={"ttl": 300, "draft_model": "tiny", "top_k": 40, "repeat_penalty": 1.1},
    )
    body = json.loads(chat_body(request, stream=False))
    assert body == {
        "model": "qwen/qwen3-8b",
        "messages": [
            {"role": "system", "content": "brief"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "7",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a":1}'},
                    }
                ],
            },
            {"role": "tool", "content": "42", "tool_call_id": "7"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
        ],
        "temperature": 0.2,
        "max_tokens": -1,
        "top_p": 0.9,
        "stop": ["\n"],
        "seed": 3,
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": "auto",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "strict": True, "schema": {"type": "object"}},
        },
        "ttl": 300,
        "draft_model": "tiny",
        "top_k": 40,
        "repeat_penalty": 1.1,
    }
    assert "stream" not in body


def test_stream_body_asks_for_usage() -> None:
    request = CompletionRequest(model="m", messages=[Message.user("hi")])
    body = json.loads(chat_body(request, stream=True))
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_dumps_is_compact_utf8_and_refuses_nan() -> None:
    assert dumps({"a": "ü"}) == '{"a":"ü"}'.encode()
    with pytest.raises(ValueError):
        dumps({"a": float("nan")})
    assert json.loads(embeddings_body("m", ["a"])) == {"model": "m", "input": ["a"]}


ANSWER: dict[str, Any] = {
    "id": "chatcmpl-i3gkjwthhw96whukek9tz",
    "object": "chat.completion",
    "created": 1731990317,
    "model": "qwen/qwen3-8b",
    "choices": [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Hello!"},
        }
    ],
    "usage": {"prompt_tokens": 24, "completion_tokens": 53, "total_tokens": 77},
    "stats": {},
    "system_fingerprint": "qwen/qwen3-8b",
}


def test_parse_completion() -> None:
    response = parse_completion(ANSWER)
    assert response.content == "Hello!"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(24, 53, 77)
    assert response.model == "qwen/qwen3-8b"
    assert response.id == ANSWER["id"]
    assert response.raw is ANSWER
    assert response.tool_calls == ()


def test_parse_tool_calls_and_reasoning() -> None:
    answer = json.loads(json.dumps(ANSWER))
    answer["choices"][0]["finish_reason"] = "tool_calls"
    answer["choices"][0]["message"] = {
        "role": "assistant",
        "reasoning": "thinking",
        "tool_calls": [
            {
                "id": "365174485",
                "type": "function",
                "function": {"name": "search", "arguments": '{"query":"dell"}'},
            }
        ],
    }
    response = parse_completion(answer)
    assert response.content == ""
    assert response.reasoning == "thinking"
    assert response.tool_calls == (ToolCall("365174485", "search", '{"query":"dell"}'),)
    assert response.tool_calls[0].parsed_arguments() == {"query": "dell"}


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda a: a.pop("choices"), "choices should be an array"),
        (lambda a: a.__setitem__("choices", []), "choices is empty"),
        (lambda a: a["choices"][0].pop("message"), "choices[0].message should be an object"),
        (
            lambda a: a["choices"][0]["message"].__setitem__("content", 5),
            "content should be a string",
        ),
        (lambda a: a.__setitem__("model", None), "model should be a string"),
        (lambda a: a["usage"].__setitem__("total_tokens", "77"), "usage.total_tokens"),
        (
            lambda a: a["choices"][0]["message"].__setitem__("tool_calls", [{"id": "1"}]),
            "tool_calls[0].function should be an object",
        ),
    ],
)
def test_completion_shape_errors(mutate: Any, words: str) -> None:
    answer = json.loads(json.dumps(ANSWER))
    mutate(answer)
    with pytest.raises(ShapeError) as info:
        parse_completion(answer)
    assert words in str(info.value)


def test_decode_json() -> None:
    assert decode_json(b'{"a": 1}', method="GET", path="/v1/models") == {"a": 1}
    with pytest.raises(ApiError, match="not JSON"):
        decode_json(b"<html>", method="GET", path="/v1/models")
    with pytest.raises(ApiError, match="does not serve GET /v1/models"):
        decode_json(
            b'{"error":"Unexpected endpoint or method. (GET /v1/v1/models)"}',
            method="GET",
            path="/v1/models",
        )
    with pytest.raises(ModelNotFoundError):
        decode_json(
            b'{"error":{"message":"x","code":"model_not_found"}}',
            method="POST",
            path="/v1/chat/completions",
        )


def test_parse_models() -> None:
    models = parse_models(
        {
            "data": [
                {"id": "qwen/qwen3-8b", "object": "model", "owned_by": "organization_owner"},
                {"id": "x", "object": "model"},
            ],
            "object": "list",
        }
    )
    assert [m.id for m in models] == ["qwen/qwen3-8b", "x"]
    assert models[1].owned_by is None
    with pytest.raises(ShapeError, match=r"data\[0\].id"):
        parse_models({"data": [{"object": "model"}]})
    with pytest.raises(ShapeError, match="data should be an array"):
        parse_models({"error": "x", "data": None})


def test_parse_native_models() -> None:
    table = parse_native_models(
        {
            "data": [
                {
                    "id": "qwen/qwen3-8b",
                    "object": "model",
                    "type": "llm",
                    "publisher": "qwen",
                    "arch": "qwen3",
                    "compatibility_type": "gguf",
                    "quantization": "Q4_K_M",
                    "state": "loaded",
                    "max_context_length": 40960,
                    "loaded_context_length": 4096,
                    "capabilities": ["tool_use"],
                },
                {
                    "id": "qwen2-vl-7b-instruct",
                    "object": "model",
                    "type": "vlm",
                    "state": "not-loaded",
                    "max_context_length": 32768,
                },
            ],
            "object": "list",
        }
    )
    qwen = table["qwen/qwen3-8b"]
    assert (qwen.type, qwen.context_length, qwen.loaded_context_length) == ("llm", 40960, 4096)
    assert qwen.tool_use and not qwen.vision and qwen.loaded
    assert qwen.quantization == "Q4_K_M"
    assert qwen.source == "native"
    vlm = table["qwen2-vl-7b-instruct"]
    assert vlm.vision and not vlm.tool_use and not vlm.loaded
    assert vlm.loaded_context_length is None
    with pytest.raises(ShapeError, match="max_context_length"):
        parse_native_models({"data": [{"id": "a", "max_context_length": "big"}]})


def test_fallback_capabilities() -> None:
    llm = fallback_capabilities("some-model")
    assert (llm.type, llm.context_length, llm.tool_use, llm.vision, llm.state) == (
        "llm",
        4096,
        False,
        False,
        "unknown",
    )
    assert llm.source == "fallback"
    assert fallback_capabilities("text-embedding-nomic-embed-text-v1.5").type == "embeddings"


def test_parse_embeddings_orders_by_index() -> None:
    value = {
        "object": "list",
        "data": [
            {"object": "embedding", "embedding": [0.3, 4], "index": 1},
            {"object": "embedding", "embedding": [0.1, 0.2], "index": 0},
        ],
        "model": "m@q4_k_m",
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }
    assert parse_embeddings(value, 2) == [[0.1, 0.2], [0.3, 4.0]]
    with pytest.raises(ShapeError, match="2 embeddings for 3 inputs"):
        parse_embeddings(value, 3)
    with pytest.raises(ShapeError, match="should hold numbers"):
        parse_embeddings({"data": [{"embedding": ["x"], "index": 0}]}, 1)
    with pytest.raises(ShapeError, match="indexes"):
        parse_embeddings({"data": [{"embedding": [1.0], "index": 5}]}, 1)


DEEP = b"[" * 100_000
SECRET = "tok-0123456789abcdef0123456789abcdef"


def test_json_nested_past_the_recursion_limit_is_an_api_error() -> None:
    with pytest.raises(ApiError, match="nested too deeply") as info:
        decode_json(DEEP, method="GET", path="/v1/models")
    assert isinstance(info.value.__cause__, ValueError)
    assert isinstance(info.value.__cause__.__cause__, RecursionError)
    error = error_from_body(500, b'{"error": ' + DEEP, method="GET", path="/v1/models")
    assert type(error) is ApiError and error.status_code == 500
    assert isinstance(error.__cause__, ValueError)


def test_a_parse_too_deep_to_walk_is_an_api_error() -> None:
    def parse(value: object) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    with pytest.raises(ApiError, match="nested too deeply") as info:
        checked(parse, [], method="GET", path="/v1/models")
    assert isinstance(info.value.__cause__, RecursionError)


def test_a_body_that_is_not_json_is_quoted_without_the_token() -> None:
    body = f"echo {SECRET} " + "x" * 52 + SECRET  # the second one across the 80th character
    with pytest.raises(ApiError) as info:
        decode_json(body.encode(), method="GET", path="/v1/models", secret=SECRET)
    text = str(info.value) + repr(info.value.args) + repr(vars(info.value.__cause__))
    assert not any(SECRET[i : i + 8] in text for i in range(len(SECRET) - 7))
    assert "echo ***" in str(info.value)
    error = error_from_body(
        502, b"y" * 190 + SECRET.encode(), method="GET", path="/", secret=SECRET
    )
    assert not any(SECRET[i : i + 8] in str(error) for i in range(len(SECRET) - 7))


def test_v1_answers_are_checked() -> None:
    from pytest_lmstudio.provider._answers import (
        ShapeError,
        parse_download,
        parse_loaded,
        parse_v1_models,
    )

    assert parse_download({"status": "already_downloaded"}) is None
    with pytest.raises(ShapeError, match="job_id"):
        parse_download({"status": "downloading"})
    with pytest.raises(ShapeError, match="downloaded_bytes"):
        parse_download({"status": "downloading", "job_id": "j", "downloaded_bytes": "1"})
    with pytest.raises(ShapeError, match="instance_id"):
        parse_loaded({"status": "loaded"})
    with pytest.raises(ShapeError, match=r"models\[0\].loaded_instances\[0\].id"):
        parse_v1_models({"models": [{"key": "k", "loaded_instances": [{}]}]})
    model = parse_v1_models(
        {
            "models": [
                {
                    "type": "llm",
                    "key": "k",
                    "max_context_length": 8192,
                    "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
                    "loaded_instances": [
                        {"id": "k", "config": {"context_length": 2048}},
                        {"id": "k:2", "config": {"context_length": 4096}},
                    ],
                    "capabilities": {"vision": True, "trained_for_tool_use": False},
                }
            ]
        }
    )["k"]
    assert (model.type, model.quantization, model.loaded_context_length) == ("vlm", "Q4_K_M", 2048)
    assert model.loaded_instances == ("k", "k:2") and model.vision and not model.reasoning
