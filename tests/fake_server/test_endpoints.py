"""Every endpoint of the fake over real sockets, and every LM Studio error body."""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import time
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio
from fake_server._content import count_tokens

MODEL = "qwen/qwen3-8b"
VLM = "qwen2-vl-7b-instruct"
REASONER = "openai/gpt-oss-20b"
EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
HELLO = [{"role": "user", "content": "Hello there"}]


def chat(client: httpx.Client, path: str = "/v1/chat/completions", **body: Any) -> httpx.Response:
    body.setdefault("model", MODEL)
    body.setdefault("messages", HELLO)
    return client.post(path, json=body)


# -- /v1/models ---------------------------------------------------------------------------
def test_models_lists_three_field_entries_with_data_before_object(client: httpx.Client) -> None:
    response = client.get("/v1/models")
    assert response.status_code == 200
    document = response.json()
    assert list(document) == ["data", "object"]
    assert document["object"] == "list"
    assert [m["id"] for m in document["data"]] == [MODEL, VLM, EMBEDDER, REASONER]
    for entry in document["data"]:
        assert list(entry) == ["id", "object", "owned_by"]
        assert entry["owned_by"] == "organization_owner"


def test_models_with_jit_off_lists_only_loaded_models(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_jit(False)
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == [MODEL]
    assert [m["id"] for m in client.get("/api/v0/models").json()["data"]] == [MODEL]


def test_express_headers(client: httpx.Client) -> None:
    response = client.get("/v1/models")
    assert response.headers["x-powered-by"] == "Express"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r'W/"[0-9a-f]+-[A-Za-z0-9+/]{27}"', response.headers["etag"])
    assert response.headers["keep-alive"] == "timeout=5"
    assert int(response.headers["etag"][3:].split("-")[0], 16) == len(response.content)


def test_compact_json_like_express(client: httpx.Client) -> None:
    text = client.get("/v1/models").text
    assert ", " not in text and '": ' not in text


# -- liveness -----------------------------------------------------------------------------
def test_greeting_and_status(client: httpx.Client) -> None:
    assert client.get("/lmstudio-greeting").json() == {"lmstudio": True}
    status = client.get("/lms-status").json()
    assert list(status) == ["package", "version"]
    assert re.fullmatch(r"0\.4\.\d+", status["version"])


# -- the catch-all ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/chat/completions"),
        ("GET", "/"),
        ("GET", "/favicon.ico"),
        ("GET", "/v1//models"),
        ("GET", "/v1/models/qwen"),
        ("POST", "/v1/models/unload"),
        ("GET", "/api/tags"),
        ("DELETE", "/v1/models"),
        ("GET", "/v1/chat/completions"),
        ("OPTIONS", "/v1/models"),
    ],
)
def test_unknown_routes_answer_200_with_a_string_error(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 200
    assert response.json() == {"error": f"Unexpected endpoint or method. ({method} {path})"}


def test_preflight_on_chat_without_cors_reaches_the_chat_handler(client: httpx.Client) -> None:
    response = client.options("/v1/chat/completions")
    assert response.status_code == 400
    assert response.json() == {"error": "'messages' field is required"}
    assert "access-control-allow-origin" not in response.headers


def test_cors_mode_sends_headers_and_answers_preflight() -> None:
    with FakeLMStudio(cors=True) as fake, httpx.Client(base_url=fake.url) as client:
        response = client.get("/v1/models")
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["access-control-allow-headers"] == "*"
        assert "access-control-allow-private-network" not in response.headers
        preflight = client.options("/v1/models")
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"


# -- chat completions ---------------------------------------------------------------------
def test_chat_completion_shape_and_key_order(client: httpx.Client) -> None:
    before = int(time.time())
    response = chat(client)
    assert response.status_code == 200
    document = response.json()
    assert list(document) == [
        "id", "object", "created", "model", "choices", "usage", "stats", "system_fingerprint",
    ]  # fmt: skip
    assert re.fullmatch(r"chatcmpl-[0-9a-z]{20}", document["id"])
    assert document["object"] == "chat.completion"
    assert before - 1 <= document["created"] <= time.time() + 1
    assert document["model"] == MODEL
    assert document["system_fingerprint"] == MODEL
    assert document["stats"] == {}
    (choice,) = document["choices"]
    assert list(choice) == ["index", "logprobs", "finish_reason", "message"]
    assert choice["logprobs"] is None
    assert choice["finish_reason"] == "stop"
    assert list(choice["message"]) == ["role", "content"]
    content = choice["message"]["content"]
    assert isinstance(content, str) and content
    usage = document["usage"]
    assert usage == {
        "prompt_tokens": count_tokens("Hello there"),
        "completion_tokens": count_tokens(content),
        "total_tokens": count_tokens("Hello there") + count_tokens(content),
    }


def test_response_model_is_the_resolved_instance(client: httpx.Client) -> None:
    assert chat(client, model=f"{MODEL}@q4_k_m").json()["model"] == MODEL


def test_request_without_model_is_served_by_the_loaded_model(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json={"messages": HELLO})
    assert response.status_code == 200
    assert response.json()["model"] == MODEL


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_token_limit_cuts_the_answer_with_finish_length(client: httpx.Client, field: str) -> None:
    document = chat(client, **{field: 3}).json()
    assert document["choices"][0]["finish_reason"] == "length"
    assert document["usage"]["completion_tokens"] == 3
    assert count_tokens(document["choices"][0]["message"]["content"]) == 3


def test_max_tokens_minus_one_means_no_limit(client: httpx.Client) -> None:
    response = chat(client, max_tokens=-1)
    assert response.status_code == 200
    assert response.json()["choices"][0]["finish_reason"] == "stop"


def test_lmstudio_extras_are_accepted(client: httpx.Client) -> None:
    response = chat(
        client,
        ttl=300,
        top_k=40,
        repeat_penalty=1.1,
        draft_model="qwen/qwen3-0.6b",
        seed=3,
        stop=["\n\n"],
        response_format={"type": "text"},
    )
    assert response.status_code == 200


def test_authorization_header_is_ignored_when_auth_is_off(client: httpx.Client) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": HELLO},
        headers={"Authorization": "Bearer lm-studio"},
    )
    assert response.status_code == 200


def test_image_parts_for_a_vlm_jit_load_it(client: httpx.Client) -> None:
    pixel = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{pixel}"}},
            ],
        }
    ]
    before = client.get(f"/api/v0/models/{VLM}").json()
    assert before["state"] == "not-loaded"
    assert "loaded_context_length" not in before
    response = chat(client, model=VLM, messages=messages)
    assert response.status_code == 200
    assert response.json()["usage"]["prompt_tokens"] == count_tokens("What is this?")
    after = client.get(f"/api/v0/models/{VLM}").json()
    assert after["state"] == "loaded"
    assert after["loaded_context_length"] == 4096


def test_developer_role_is_accepted_as_in_lmstudio_0_4(client: httpx.Client) -> None:
    messages = [{"role": "developer", "content": "Be brief"}, *HELLO]
    assert chat(client, messages=messages).status_code == 200


def test_tool_choice_required_calls_the_tool_with_schema_shaped_arguments(
    client: httpx.Client,
) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer"},
                    "unit": {"type": "string", "enum": ["C", "F"]},
                },
                "required": ["city", "days", "unit"],
            },
        },
    }
    document = chat(client, tools=[tool], tool_choice="required").json()
    (choice,) = document["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert list(message) == ["role", "tool_calls"]  # no content, as LM Studio
    (call,) = message["tool_calls"]
    assert re.fullmatch(r"\d{9}", call["id"])
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    arguments = json.loads(call["function"]["arguments"])
    assert isinstance(arguments["city"], str)
    assert isinstance(arguments["days"], int)
    assert arguments["unit"] in ("C", "F")


def test_tool_choice_auto_answers_with_text(client: httpx.Client) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    document = chat(client, tools=[tool], tool_choice="auto").json()
    assert document["choices"][0]["finish_reason"] == "stop"


# -- chat errors --------------------------------------------------------------------------
def test_unknown_model_is_400_model_not_found_listing_models(client: httpx.Client) -> None:
    response = chat(client, model="o4-mini")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": 'Invalid model identifier "o4-mini". Please specify a valid downloaded '
            f"model (e.g., {MODEL}, {VLM}, {EMBEDDER}, {REASONER}).",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


def test_no_models_loaded_with_jit_off(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_jit(False)
    fake.unload_model(MODEL)
    response = chat(client)
    assert response.status_code == 400
    assert response.json() == {
        "error": "No models loaded. Please load a model in the developer page or use the "
        "'lms load' command."
    }


def test_jit_off_unloaded_model_lists_only_loaded_ones(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_jit(False)
    response = chat(client, model=VLM)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "model_not_found"
    assert error["message"].endswith(f"(e.g., {MODEL}).")


def test_single_loaded_fallback_quirk_serves_any_name() -> None:
    with (
        FakeLMStudio(jit=False, single_loaded_fallback=True) as fake,
        httpx.Client(base_url=fake.url) as client,
    ):
        response = chat(client, model="any-model-name")
        assert response.status_code == 200
        assert response.json()["model"] == MODEL


def test_json_object_response_format_is_rejected(client: httpx.Client) -> None:
    response = chat(client, response_format={"type": "json_object"})
    assert response.status_code == 400
    assert response.json() == {"error": "'response_format.type' must be 'json_schema' or 'text'"}


def test_json_schema_response_format_is_accepted(client: httpx.Client) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": True, "schema": {"type": "object"}},
    }
    assert chat(client, response_format=response_format).status_code == 200


def test_missing_messages(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json={"model": MODEL})
    assert response.status_code == 400
    assert response.json() == {"error": "'messages' field is required"}


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ({"role": "robot", "content": "x"}, "robot"),
        ({"role": None, "content": "x"}, "null"),
        ({"role": 3, "content": "x"}, "3"),
        ({"content": "x"}, "undefined"),
    ],
)
def test_bad_role(client: httpx.Client, message: object, shown: str) -> None:
    """Worded as LM Studio's JavaScript shows the value: no Python repr."""
    response = chat(client, messages=[message])
    assert response.status_code == 400
    assert response.json() == {
        "error": "'messages' array must only contain objects with a 'role' field that is in "
        f"[user, assistant, system, tool]. Got '{shown}'"
    }


def test_invalid_json_names_the_position(client: httpx.Client) -> None:
    response = client.post(
        "/v1/chat/completions",
        content=b'{"model": "x",\n "messages": [1 2]}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Expected ',' or ']' after array element in JSON at position 31 (line 2 column 17)"
    }


def test_body_that_is_not_an_object(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json=[1, 2])
    assert response.status_code == 400
    assert response.json() == {"error": "'messages' field is required"}


def test_tool_message_without_tool_call_id(client: httpx.Client) -> None:
    response = chat(client, messages=[*HELLO, {"role": "tool", "content": "42"}])
    assert response.status_code == 400
    assert response.json()["error"].startswith("Invalid 'messages' in payload.")


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", 5), ("temperature", "hot"), ("max_tokens", 0), ("stream", "yes")],
)
def test_schema_errors_name_the_field(client: httpx.Client, field: str, value: object) -> None:
    response = chat(client, **{field: value})
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"Invalid '{field}' in payload: ")


def test_validation_off_lets_bad_fields_through(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_validation(False)
    assert chat(client, temperature=5).status_code == 200


def test_oversized_body_is_a_clear_413() -> None:
    with FakeLMStudio(max_body_bytes=4096) as fake, httpx.Client(base_url=fake.url) as client:
        big = [{"role": "user", "content": "x" * 10_000}]
        response = client.post("/v1/chat/completions", json={"model": MODEL, "messages": big})
        assert response.status_code == 413
        message = response.json()["error"]
        assert "too large" in message and "4096" in message and "max_body_bytes" in message
        assert chat(client).status_code == 200  # the server is still fine


def test_chat_on_an_embedding_model(client: httpx.Client) -> None:
    response = chat(client, model=EMBEDDER)
    assert response.status_code == 400
    assert "embedding model" in response.json()["error"]


# -- auth ---------------------------------------------------------------------------------
TOKEN = "sk-lm-abcdefgh:abcdefghijklmnopqrst"


def test_auth_required_without_token_is_lmstudio_401(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.require_api_token(TOKEN)
    response = chat(client)
    assert response.status_code == 401
    error = response.json()["error"]
    assert list(error) == ["type", "code", "message"]
    assert error["type"] == "invalid_request"
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith("An LM Studio API token is required")
    assert client.get("/v1/models").status_code == 401


def test_auth_wrong_and_right_token(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.require_api_token(TOKEN)
    wrong = client.get("/v1/models", headers={"Authorization": "Bearer sk-lm-wrong"})
    assert wrong.status_code == 401
    assert "not valid" in wrong.json()["error"]["message"]
    right = client.get("/v1/models", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert client.get("/lmstudio-greeting").status_code == 200  # probes need no token


def test_reset_turns_auth_off_again(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.require_api_token(TOKEN)
    fake.reset()
    assert client.get("/v1/models").status_code == 200


# -- completions --------------------------------------------------------------------------
def test_completion_shape(client: httpx.Client) -> None:
    response = client.post("/v1/completions", json={"model": MODEL, "prompt": "Once upon a"})
    assert response.status_code == 200
    document = response.json()
    assert list(document) == [
        "id", "object", "created", "model", "choices", "usage", "stats", "system_fingerprint",
    ]  # fmt: skip
    assert re.fullmatch(r"cmpl-[0-9a-z]{20}", document["id"])
    assert document["object"] == "text_completion"
    (choice,) = document["choices"]
    assert list(choice) == ["index", "text", "logprobs", "finish_reason"]
    assert document["usage"]["prompt_tokens"] == 3


def test_completion_requires_prompt(client: httpx.Client) -> None:
    response = client.post("/v1/completions", json={"model": MODEL})
    assert response.status_code == 400
    assert response.json() == {"error": "'prompt' field is required"}


# -- embeddings ---------------------------------------------------------------------------
def test_embeddings_shape_usage_zero_and_variant_suffix(client: httpx.Client) -> None:
    response = client.post("/v1/embeddings", json={"model": EMBEDDER, "input": "hello"})
    assert response.status_code == 200
    document = response.json()
    assert list(document) == ["object", "data", "model", "usage"]
    assert document["model"] == f"{EMBEDDER}@q4_0"
    assert document["usage"] == {"prompt_tokens": 0, "total_tokens": 0}
    (item,) = document["data"]
    assert list(item) == ["object", "embedding", "index"]
    vector = item["embedding"]
    assert len(vector) == 768
    assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, abs_tol=1e-4)


def test_embeddings_are_deterministic_per_text(client: httpx.Client) -> None:
    def embed(inputs: list[str]) -> list[list[float]]:
        response = client.post("/v1/embeddings", json={"model": EMBEDDER, "input": inputs})
        return [d["embedding"] for d in response.json()["data"]]

    a, b, a_again = embed(["alpha", "beta", "alpha"])
    assert a == a_again and a != b
    assert embed(["alpha"]) == [a]


def test_embeddings_base64_is_honoured(client: httpx.Client) -> None:
    plain = client.post("/v1/embeddings", json={"model": EMBEDDER, "input": "hi"}).json()
    encoded = client.post(
        "/v1/embeddings", json={"model": EMBEDDER, "input": "hi", "encoding_format": "base64"}
    ).json()
    raw = base64.b64decode(encoded["data"][0]["embedding"])
    floats = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert len(floats) == 768
    for got, want in zip(floats, plain["data"][0]["embedding"], strict=True):
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-7)


def test_embeddings_dimensions(client: httpx.Client) -> None:
    body = {"model": EMBEDDER, "input": "hi", "dimensions": 64}
    assert len(client.post("/v1/embeddings", json=body).json()["data"][0]["embedding"]) == 64


def test_embeddings_with_an_llm(client: httpx.Client) -> None:
    response = client.post("/v1/embeddings", json={"model": MODEL, "input": "hi"})
    assert response.status_code == 400
    assert "not an embedding model" in response.json()["error"]


def test_embeddings_require_input(client: httpx.Client) -> None:
    response = client.post("/v1/embeddings", json={"model": EMBEDDER})
    assert response.status_code == 400
    assert response.json() == {"error": "'input' field is required"}


# -- native /api/v0 -----------------------------------------------------------------------
def test_native_models_list(client: httpx.Client) -> None:
    document = client.get("/api/v0/models").json()
    assert list(document) == ["data", "object"]
    first, vlm, embedder, reasoner = document["data"]
    assert list(first) == [
        "id", "object", "type", "publisher", "arch", "compatibility_type", "quantization",
        "state", "max_context_length", "loaded_context_length", "capabilities",
    ]  # fmt: skip
    assert first["state"] == "loaded" and first["capabilities"] == ["tool_use"]
    assert vlm["type"] == "vlm" and vlm["state"] == "not-loaded"
    assert "loaded_context_length" not in vlm and "capabilities" not in vlm
    assert embedder["type"] == "embeddings"
    assert reasoner["id"] == REASONER and reasoner["state"] == "not-loaded"


def test_native_single_model_and_not_found(client: httpx.Client) -> None:
    one = client.get(f"/api/v0/models/{MODEL}")
    assert one.status_code == 200
    assert one.json()["id"] == MODEL and "data" not in one.json()
    missing = client.get("/api/v0/models/nope/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_native_chat_has_stats_model_info_and_runtime(client: httpx.Client) -> None:
    document = chat(client, path="/api/v0/chat/completions").json()
    assert list(document) == [
        "id", "object", "created", "model", "choices", "usage", "stats", "model_info", "runtime",
    ]  # fmt: skip
    stats = document["stats"]
    assert list(stats) == [
        "tokens_per_second",
        "time_to_first_token",
        "generation_time",
        "stop_reason",
    ]
    assert stats["stop_reason"] == "eosFound"
    assert document["model_info"] == {
        "arch": "qwen3", "quant": "Q4_K_M", "format": "gguf", "context_length": 4096,
    }  # fmt: skip
    assert set(document["runtime"]) == {"name", "version", "supported_formats"}


def test_native_completions_and_embeddings(client: httpx.Client) -> None:
    completion = client.post("/api/v0/completions", json={"model": MODEL, "prompt": "Hi"})
    assert completion.status_code == 200 and "model_info" in completion.json()
    embeddings = client.post("/api/v0/embeddings", json={"model": EMBEDDER, "input": "Hi"})
    assert embeddings.status_code == 200 and embeddings.json()["object"] == "list"


# -- the strict OpenAI profile ------------------------------------------------------------
def test_openai_profile_shapes() -> None:
    with FakeLMStudio(profile="openai") as fake, httpx.Client(base_url=fake.url) as client:
        models = client.get("/v1/models").json()
        assert list(models) == ["object", "data"]
        assert all(isinstance(m["created"], int) for m in models["data"])
        message = chat(client).json()["choices"][0]["message"]
        assert message["refusal"] is None and isinstance(message["content"], str)
        assert "stats" not in chat(client).json()
        missing = client.post("/v1/chat/completions", json={"model": MODEL})
        assert missing.json() == {
            "error": {
                "message": "'messages' field is required",
                "type": "invalid_request_error",
                "param": "messages",
                "code": None,
            }
        }
        unexpected = client.get("/nope")
        assert unexpected.status_code == 404
        assert unexpected.json()["error"]["code"] == "unknown_url"
        embeddings = client.post("/v1/embeddings", json={"model": EMBEDDER, "input": "a b"}).json()
        assert embeddings["model"] == EMBEDDER
        assert embeddings["usage"] == {"prompt_tokens": 2, "total_tokens": 2}
