"""The strict ``openai`` profile against the OFFICIAL OpenAI OpenAPI document.

The validators come from ``../shared/reference/openai-openapi.yaml`` (beside the checkout),
not from our own ``schemas/``: if both were wrong the same way, these tests would still catch
it. The document is parsed once per session, its OpenAPI 3.0-isms (``nullable``, boolean
``exclusiveMinimum``) turned into JSON Schema 2020-12, and each answer is checked against
``{"$ref": "#/components/schemas/<Name>"}`` with the whole document as the root resource.

The default ``lmstudio`` profile is faithful to LM Studio, which is not the OpenAI format:
the last tests pin the places where it must keep failing the official schema.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from fake_server import FakeLMStudio

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "openai-openapi.yaml"

MODEL = "qwen/qwen3-8b"
EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
HELLO = [{"role": "user", "content": "Hello there"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["city", "unit", "days"],
        },
    },
}

Validate = Callable[[str, Any], None]


# -- the official document as JSON Schema -------------------------------------------------
def openapi_to_json_schema(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 keywords that a Draft 2020-12 validator would ignore or misread.

    ``nullable: true`` adds ``"null"`` to ``type`` (and ``None`` to ``enum``), or wraps a
    schema without ``type`` in ``anyOf [..., {"type": "null"}]``; a boolean
    ``exclusiveMinimum``/``exclusiveMaximum`` becomes the 2020-12 number form. Only boolean
    values are read as these keywords, so properties that happen to be called ``nullable``
    or ``type`` are left alone.
    """
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    nullable = node.get("nullable")
    out = {
        key: openapi_to_json_schema(value)
        for key, value in node.items()
        if not (key == "nullable" and isinstance(value, bool))
    }
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if not isinstance(flag, bool):
            continue
        del out[exclusive]
        if flag and bound in out:
            out[exclusive] = out.pop(bound)
    if nullable is not True:
        return out
    if isinstance(out.get("type"), (str, list)):
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = types if "null" in types else [*types, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [out, {"type": "null"}]}


@pytest.fixture(scope="session")
def openai_spec() -> dict[str, Any]:
    """The official document, parsed once per session and converted to JSON Schema."""
    if not SPEC.is_file():
        pytest.fail(
            f"the official OpenAI OpenAPI document is missing: {SPEC}. These tests need the "
            "shared reference folder beside the checkout (../shared/reference/)."
        )
    if importlib.util.find_spec("yaml") is None:
        pytest.fail("reading the official OpenAI document needs PyYAML: pip install pyyaml")
    yaml: Any = importlib.import_module("yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC.open("rb") as stream:
        document = yaml.load(stream, Loader=loader)
    # YAML may produce dates and other non-JSON values: make the document plain JSON.
    plain = json.loads(json.dumps(document, default=str))
    assert plain["info"]["title"] == "OpenAI API", f"{SPEC} is not the OpenAI document"
    converted: dict[str, Any] = openapi_to_json_schema(plain)
    return converted


@pytest.fixture(scope="session")
def official(openai_spec: dict[str, Any]) -> Validate:
    """``official(name, document)`` fails the test with every violation of ``<name>``."""
    root = jsonschema.Draft202012Validator(openai_spec)
    cache: dict[str, Any] = {}

    def validate(name: str, document: Any) -> None:
        assert name in openai_spec["components"]["schemas"], f"no schema {name} in {SPEC}"
        if name not in cache:
            cache[name] = root.evolve(schema={"$ref": f"#/components/schemas/{name}"})
        errors = sorted(cache[name].iter_errors(document), key=lambda e: e.json_path)
        if errors:
            lines = [f"{e.json_path}: {e.message}" for e in errors[:20]]
            pytest.fail(
                f"not a valid {name} by the official OpenAI schema:\n  "
                + "\n  ".join(lines)
                + f"\ndocument: {json.dumps(document)[:2000]}"
            )

    return validate


def violations(official: Validate, name: str, document: Any) -> str:
    """The failure message ``official`` gives for ``document`` (an empty string if valid)."""
    try:
        official(name, document)
    except pytest.fail.Exception as exc:
        return str(exc)
    return ""


# -- the validators themselves ------------------------------------------------------------
def test_the_validators_are_not_vacuous(official: Validate) -> None:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }
    official("CreateChatCompletionStreamResponse", chunk)  # nullable finish_reason: null ok
    bad_reason = {**chunk, "choices": [{**chunk["choices"][0], "finish_reason": "eos"}]}
    assert "'eos' is not one of" in violations(
        official, "CreateChatCompletionStreamResponse", bad_reason
    )
    no_choices = {k: v for k, v in chunk.items() if k != "choices"}
    assert "'choices' is a required property" in violations(
        official, "CreateChatCompletionStreamResponse", no_choices
    )
    assert "'created' is a required property" in violations(
        official,
        "ListModelsResponse",
        {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "o"}]},
    )
    error = {"error": {"message": "m", "type": "t", "param": None, "code": None}}
    official("ErrorResponse", error)
    assert "'code' is a required property" in violations(
        official, "ErrorResponse", {"error": {"message": "m", "type": "t", "param": None}}
    )


def test_nullable_and_exclusive_minimum_are_converted() -> None:
    assert openapi_to_json_schema(
        {"type": "string", "enum": ["a"], "nullable": True, "properties": {"nullable": {}}}
    ) == {"type": ["string", "null"], "enum": ["a", None], "properties": {"nullable": {}}}
    assert openapi_to_json_schema({"$ref": "#/x", "nullable": True}) == {
        "anyOf": [{"$ref": "#/x"}, {"type": "null"}]
    }
    assert openapi_to_json_schema({"type": "number", "minimum": 0, "exclusiveMinimum": True}) == {
        "type": "number",
        "exclusiveMinimum": 0,
    }
    assert openapi_to_json_schema({"type": "integer", "nullable": False}) == {"type": "integer"}


# -- the strict profile's answers ---------------------------------------------------------
@pytest.fixture(scope="module")
def strict_module() -> Iterator[FakeLMStudio]:
    with FakeLMStudio(profile="openai") as fake:
        yield fake


@pytest.fixture
def strict(strict_module: FakeLMStudio) -> FakeLMStudio:
    strict_module.reset()
    return strict_module


@pytest.fixture
def client(strict: FakeLMStudio) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=strict.url, timeout=10) as client:
        yield client


def post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def stream_chunks(client: httpx.Client, path: str, body: dict[str, Any]) -> list[Any]:
    with client.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)
    return [json.loads(line[6:]) for line in lines[:-1]]


def test_models_list(client: httpx.Client, official: Validate) -> None:
    response = client.get("/v1/models")
    official("ListModelsResponse", response.json())


def test_models_list_with_added_and_unloaded_models(
    strict: FakeLMStudio, client: httpx.Client, official: Validate
) -> None:
    strict.add_model("acme/tiny", loaded=False)
    strict.add_model("acme/embed", type="embeddings")
    official("ListModelsResponse", client.get("/v1/models").json())


CHAT_CASES: list[tuple[str, dict[str, Any], Callable[[FakeLMStudio], Any] | None]] = [
    ("default", {}, None),
    ("cut by max_tokens", {"max_tokens": 2}, None),
    (
        "json_schema",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"type": "object"}},
            }
        },
        None,
    ),
    ("scripted reply", {}, lambda fake: fake.chat.reply("Hello!", usage={"prompt_tokens": 3})),
    ("scripted reasoning", {}, lambda fake: fake.chat.reply("42", reasoning="think")),
    (
        "scripted tool calls",
        {"tools": [WEATHER_TOOL]},
        lambda fake: fake.chat.reply(
            tool_calls=[
                {"name": "get_weather", "arguments": {"city": "Oslo"}},
                {"name": "get_weather", "arguments": '{"city":"Rome"}', "id": "123"},
            ]
        ),
    ),
    (
        "tool calls with content",
        {"tools": [WEATHER_TOOL]},
        lambda fake: fake.chat.reply("Let me check.", tool_calls=[{"name": "get_weather"}]),
    ),
    ("forced tool call", {"tools": [WEATHER_TOOL], "tool_choice": "required"}, None),
    (
        "named tool call",
        {
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
        None,
    ),
    (
        "image input",
        {
            "model": "qwen2-vl-7b-instruct",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                        },
                    ],
                }
            ],
        },
        None,
    ),
]


@pytest.mark.parametrize(
    ("extra", "script"), [case[1:] for case in CHAT_CASES], ids=[case[0] for case in CHAT_CASES]
)
def test_chat_completion(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,
    extra: dict[str, Any],
    script: Callable[[FakeLMStudio], Any] | None,
) -> None:
    if script is not None:
        script(strict)
    body = {"model": MODEL, "messages": HELLO, **extra}
    document = post(client, "/v1/chat/completions", body)
    official("CreateChatCompletionResponse", document)
    message = document["choices"][0]["message"]
    assert "refusal" in message and "content" in message


@pytest.mark.parametrize(
    ("extra", "script"), [case[1:] for case in CHAT_CASES], ids=[case[0] for case in CHAT_CASES]
)
@pytest.mark.parametrize("include_usage", [True, False], ids=["usage", "no-usage"])
def test_each_chat_stream_chunk(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,
    extra: dict[str, Any],
    script: Callable[[FakeLMStudio], Any] | None,
    include_usage: bool,
) -> None:
    if script is not None:
        script(strict)
    body = {"model": MODEL, "messages": HELLO, **extra}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    chunks = stream_chunks(client, "/v1/chat/completions", body)
    for chunk in chunks:
        official("CreateChatCompletionStreamResponse", chunk)
    assert ("usage" in chunks[-1]) is include_usage


def test_scripted_stream_chunks(
    strict: FakeLMStudio, client: httpx.Client, official: Validate
) -> None:
    strict.chat.stream(
        ["Hel", "lo"],
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}],
        usage={"prompt_tokens": 1, "completion_tokens": 2},
    )
    body = {"model": MODEL, "messages": HELLO, "stream_options": {"include_usage": True}}
    chunks = stream_chunks(client, "/v1/chat/completions", body)
    assert len(chunks) > 4
    for chunk in chunks:
        official("CreateChatCompletionStreamResponse", chunk)


@pytest.mark.parametrize(
    ("extra", "script"),
    [
        ({}, None),
        ({"max_tokens": 3}, None),
        ({"prompt": ["Once", "Twice"]}, None),
        ({}, lambda fake: fake.completions.reply(" upon a time", finish_reason="length")),
    ],
    ids=["default", "cut", "prompt-list", "scripted"],
)
def test_completion(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,
    extra: dict[str, Any],
    script: Callable[[FakeLMStudio], Any] | None,
) -> None:
    if script is not None:
        script(strict)
    document = post(client, "/v1/completions", {"model": MODEL, "prompt": "Once", **extra})
    official("CreateCompletionResponse", document)


def test_completion_stream_final_and_usage_chunks(client: httpx.Client, official: Validate) -> None:
    # The official schema serves the streamed and the whole answer alike and does not let
    # finish_reason be null, which every chunk but the last has (OpenAI's own stream too):
    # only the chunks that carry a finish reason, and the usage chunk, can be held to it.
    body = {"model": MODEL, "prompt": "Once", "stream_options": {"include_usage": True}}
    chunks = stream_chunks(client, "/v1/completions", body)
    *pieces, final, usage = chunks
    assert all(p["choices"][0]["finish_reason"] is None for p in pieces)
    official("CreateCompletionResponse", final)
    official("CreateCompletionResponse", usage)


@pytest.mark.parametrize(
    "body",
    [
        {"input": "one text"},
        {"input": ["one", "two", "three"]},
        {"input": [1, 2, 3]},
        {"input": "short", "dimensions": 8},
        {"input": "floats", "encoding_format": "float"},
    ],
    ids=["string", "list", "tokens", "dimensions", "float"],
)
def test_embeddings(client: httpx.Client, official: Validate, body: dict[str, Any]) -> None:
    official("CreateEmbeddingResponse", post(client, "/v1/embeddings", {"model": EMBEDDER, **body}))


def test_scripted_embeddings(
    strict: FakeLMStudio, client: httpx.Client, official: Validate
) -> None:
    strict.embeddings.reply(embeddings=[[0.5, -0.25], [1, 0]])
    document = post(client, "/v1/embeddings", {"model": EMBEDDER, "input": ["a", "b"]})
    official("CreateEmbeddingResponse", document)


def no_model_loaded(fake: FakeLMStudio) -> None:
    fake.set_jit(False)
    fake.unload_model(MODEL)


def chat_fails(status: int) -> Callable[[FakeLMStudio], object]:
    return lambda fake: fake.chat.fail(status, retry_after=1)


CHAT = ("POST", "/v1/chat/completions")
ERROR_CASES: list[tuple[str, Callable[[FakeLMStudio], object] | None, tuple[str, str], Any]] = [
    ("unknown model", None, CHAT, {"model": "o4-mini", "messages": HELLO}),
    ("missing messages", None, CHAT, {"model": MODEL}),
    ("bad role", None, CHAT, {"model": MODEL, "messages": [{"role": "robot", "content": "x"}]}),
    (
        "json_object",
        None,
        CHAT,
        {"model": MODEL, "messages": HELLO, "response_format": {"type": "json_object"}},
    ),
    ("schema violation", None, CHAT, {"model": MODEL, "messages": HELLO, "temperature": "hot"}),
    ("invalid JSON", None, CHAT, b'{"model": '),
    ("wrong model type", None, ("POST", "/v1/embeddings"), {"model": MODEL, "input": "x"}),
    ("no model loaded", no_model_loaded, CHAT, {"model": MODEL, "messages": HELLO}),
    ("auth", lambda fake: fake.require_api_token("tok"), ("GET", "/v1/models"), None),
    ("unexpected endpoint", None, ("POST", "/chat/completions"), {}),
    ("scripted 500", chat_fails(500), CHAT, {"model": MODEL, "messages": HELLO}),
    ("scripted 429", chat_fails(429), CHAT, {"model": MODEL, "messages": HELLO}),
]


@pytest.mark.parametrize(
    ("setup", "route", "body"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_error_bodies(
    strict: FakeLMStudio,
    client: httpx.Client,
    official: Validate,
    setup: Callable[[FakeLMStudio], object] | None,
    route: tuple[str, str],
    body: Any,
) -> None:
    if setup is not None:
        setup(strict)
    method, path = route
    if isinstance(body, bytes):
        headers = {"Content-Type": "application/json"}
        response = client.request(method, path, content=body, headers=headers)
    else:
        response = client.request(method, path, json=body)
    assert response.status_code >= 400, response.text
    official("ErrorResponse", response.json())


def test_oversized_body_error(official: Validate) -> None:
    with (
        FakeLMStudio(profile="openai", max_body_bytes=1024) as fake,
        httpx.Client(base_url=fake.url, timeout=10) as client,
    ):
        big = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 4096}]}
        response = client.post("/v1/chat/completions", json=big)
    assert response.status_code == 413
    official("ErrorResponse", response.json())


# -- the default profile is LM Studio's, not OpenAI's -------------------------------------
@pytest.fixture(scope="module")
def faithful() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


def test_default_profile_models_fail_the_official_schema(
    faithful: FakeLMStudio, official: Validate
) -> None:
    """Real LM Studio sends no ``created`` in ``/v1/models``: a faithful fake must not either."""
    document = httpx.get(faithful.url + "/v1/models", timeout=10).json()
    message = violations(official, "ListModelsResponse", document)
    assert message, "the lmstudio profile's /v1/models passes the official schema: unfaithful"
    assert "$.data[0]: 'created' is a required property" in message
    assert message.count("'created' is a required property") == len(document["data"])


def test_default_profile_chat_completion_fails_the_official_schema(
    faithful: FakeLMStudio, official: Validate
) -> None:
    """LM Studio's assistant message has no ``refusal``, which OpenAI requires (as null)."""
    body = {"model": MODEL, "messages": HELLO}
    document = httpx.post(faithful.url + "/v1/chat/completions", json=body, timeout=10).json()
    message = violations(official, "CreateChatCompletionResponse", document)
    assert "$.choices[0].message: 'refusal' is a required property" in message


def test_default_profile_string_errors_fail_the_official_schema(
    faithful: FakeLMStudio, official: Validate
) -> None:
    """LM Studio sends some errors as ``{"error": "<text>"}``, not OpenAI's object."""
    response = httpx.post(faithful.url + "/v1/chat/completions", json={"model": MODEL}, timeout=10)
    assert response.json() == {"error": "'messages' field is required"}
    assert "is not of type 'object'" in violations(official, "ErrorResponse", response.json())
