"""Every answer of the Anthropic door fits its schema: messages, each stream event, each error
(checked by a jsonschema validator built from the files on disk, not by the fake's own), with
LM Studio's head and without the ``request_id`` Anthropic's own API adds."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import referencing
from referencing.jsonschema import DRAFT202012

from fake_server import FakeLMStudio

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
MODEL = "qwen/qwen3-8b"
HELLO = [{"role": "user", "content": "Hello there"}]
TOOL = {
    "name": "lookup",
    "input_schema": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["query"],
    },
}
TOKEN = "sk-lm-abcd1234:abcdefghij0123456789"


@functools.cache
def schema(name: str) -> jsonschema.Draft202012Validator:
    files = sorted(SCHEMAS.rglob("*.schema.json"))
    documents = [json.loads(path.read_text()) for path in files]
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (d["$id"], DRAFT202012.create_resource(d)) for d in documents
    )
    base = "https://pytest-lmstudio.local/schemas/"
    return jsonschema.Draft202012Validator({"$ref": base + name}, registry=registry)


def assert_fits(name: str, document: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema(name).iter_errors(document)]
    assert errors == [], (name, document)


def check_answer(response: httpx.Response) -> list[dict[str, Any]]:
    """Check ``response`` against the door's schemas; the documents it carried."""
    assert response.headers["x-powered-by"] == "Express"
    if response.headers["content-type"] == "text/event-stream":
        documents = []
        for chunk in response.text.split("\n\n")[:-1]:
            name, data = chunk.split("\n")
            document = json.loads(data.removeprefix("data: "))
            assert name == f"event: {document['type']}"
            assert_fits("anthropic/stream-event.schema.json", document)
            documents.append(document)
        return documents
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    document = response.json()
    if response.status_code >= 400:
        assert_fits("anthropic/error.schema.json", document)
        assert "request_id" not in document
    else:
        assert_fits("anthropic/message.schema.json", document)
    return [document]


@pytest.fixture(scope="module")
def contract_fake() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


@pytest.fixture(scope="module")
def contract_client(contract_fake: FakeLMStudio) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=contract_fake.url, timeout=10) as client:
        yield client


Setup = Callable[[FakeLMStudio], object]
#: (label, scripting before the request, request body changes, status expected)
CASES: list[tuple[str, Setup, dict[str, Any], int]] = [
    ("default", lambda f: None, {}, 200),
    ("reasoning model", lambda f: None, {"model": "openai/gpt-oss-20b"}, 200),
    ("forced tool", lambda f: None, {"tools": [TOOL], "tool_choice": {"type": "any"}}, 200),
    ("cut by max_tokens", lambda f: None, {"max_tokens": 2}, 200),
    ("stop sequence", lambda f: None, {"stop_sequences": ["."]}, 200),
    (
        "scripted text, thinking and tools",
        lambda f: f.chat.reply(
            "Looking.",
            reasoning="Search first.",
            tool_calls=[{"name": "lookup", "arguments": {"query": "x"}}, {"name": "other"}],
        ),
        {},
        200,
    ),
    ("scripted stream", lambda f: f.chat.stream(["a", "", "b"], finish_reason="length"), {}, 200),
    ("scripted failure", lambda f: f.chat.fail(503, retry_after=2), {}, 503),
    ("unknown model", lambda f: None, {"model": "nope"}, 404),
    ("embedding model", lambda f: None, {"model": "text-embedding-nomic-embed-text-v1.5"}, 400),
    ("bad request", lambda f: None, {"max_tokens": "lots"}, 400),
    ("no token", lambda f: f.require_api_token(TOKEN), {}, 401),
    ("loading", lambda f: f.set_while_loading("503"), {"model": "qwen2-vl-7b-instruct"}, 503),
    (
        "context overflow",
        lambda f: f.add_model("tiny", context_length=8),
        {"model": "tiny", "messages": [{"role": "user", "content": "many words " * 20}]},
        400,
    ),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(
    ("setup", "change", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_answer_fits_the_schemas(
    contract_fake: FakeLMStudio,
    contract_client: httpx.Client,
    setup: Setup,
    change: dict[str, Any],
    status: int,
    stream: bool,
) -> None:
    contract_fake.reset()
    setup(contract_fake)
    body = {"model": MODEL, "max_tokens": 64, "messages": HELLO, "stream": stream, **change}
    response = contract_client.post("/v1/messages", json=body)
    assert response.status_code == status
    documents = check_answer(response)
    if stream and status == 200:
        types = [d["type"] for d in documents]
        assert types[0] == "message_start" and types[-1] == "message_stop"
        opened = [d["index"] for d in documents if d["type"] == "content_block_start"]
        assert opened == list(range(len(opened)))  # each block opened once, in order
    assert contract_fake.errors == []


def test_the_error_event_and_bodies_the_shell_answers(
    contract_fake: FakeLMStudio, contract_client: httpx.Client
) -> None:
    contract_fake.reset()
    contract_fake.chat.stream(["a", "b"], error_after=3)
    body = {"model": MODEL, "max_tokens": 64, "messages": HELLO, "stream": True}
    documents = check_answer(contract_client.post("/v1/messages", json=body))
    assert documents[-1]["type"] == "error"
    broken = contract_client.post(
        "/v1/messages", content=b"{", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    check_answer(broken)
