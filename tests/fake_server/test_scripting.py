"""The scripting API: rules, their order and counts, validation at scripting time, the
journal, check(), reset() and the model catalog."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from fake_server import FakeCheckError, FakeLMStudio, ScriptError

MODEL = "qwen/qwen3-8b"
HELLO = [{"role": "user", "content": "What is the weather in Paris?"}]


def ask(client: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", MODEL)
    body.setdefault("messages", HELLO)
    return client.post("/v1/chat/completions", json=body)


def content(response: httpx.Response) -> str:
    value = response.json()["choices"][0]["message"]["content"]
    assert isinstance(value, str)
    return value


def test_reply_then_default_after_times(fake: FakeLMStudio, client: httpx.Client) -> None:
    default = content(ask(client))
    rule = fake.chat.reply("Sunny", times=2)
    assert [content(ask(client)) for _ in range(3)] == ["Sunny", "Sunny", default]
    assert rule.calls == 2
    fake.check()


def test_rules_are_tried_in_the_order_they_were_added(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.fail(503, times=2)
    fake.chat.reply("ok")
    assert [ask(client).status_code for _ in range(4)] == [503, 503, 200, 200]


def test_when_narrows_by_model_contains_and_stream(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.add_model("other/model")
    fake.chat.when(model="other/model").reply("from other")
    fake.chat.when(contains="weather").reply("weather answer")
    assert content(ask(client, model="other/model")) == "from other"
    assert content(ask(client)) == "weather answer"
    fake.chat.when(stream=False, contains="plain").reply("plain only")
    plain = ask(client, messages=[{"role": "user", "content": "plain"}])
    assert content(plain) == "plain only"
    streamed = ask(client, messages=[{"role": "user", "content": "plain"}], stream=True)
    assert "plain only" not in streamed.text


def test_when_model_matches_the_resolved_id_too(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.when(model=MODEL).reply("resolved")
    assert content(ask(client, model=f"{MODEL}@q4_k_m")) == "resolved"


def test_fail_sends_the_object_form_and_retry_after(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.fail(429, "slow down", retry_after=2)
    response = ask(client)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {
        "error": {
            "message": "slow down",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


def test_fail_with_a_custom_body(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.fail(400, body={"error": "Cannot read properties of null (reading 'type')"})
    response = ask(client)
    assert response.status_code == 400
    assert response.json() == {"error": "Cannot read properties of null (reading 'type')"}


def test_fail_with_a_body_that_is_not_an_error_is_refused(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError, match="breaks the API format"):
        fake.chat.fail(500, body={"message": "no error key"})


def test_respond_checks_the_body_when_scripted(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError, match=r"choices") as info:
        fake.chat.respond({"id": "x", "object": "chat.completion", "created": 1, "model": "m"})
    assert "validate=False" in str(info.value)
    assert fake.rules == []  # nothing was added


def test_respond_with_validate_false_sends_it(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.respond({"not": "a completion"}, validate=False, headers={"X-Test": "1"})
    response = ask(client)
    assert response.json() == {"not": "a completion"}
    assert response.headers["x-test"] == "1"


def test_raw_sends_bytes_unchecked(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.raw("not json at all", status=200, content_type="text/plain")
    response = ask(client)
    assert response.content == b"not json at all"
    assert response.headers["content-type"] == "text/plain"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.chat.reply(), "needs content"),
        (lambda f: f.chat.reply(3), "must be a string"),
        (lambda f: f.chat.reply("x", finish_reason="done"), "finish_reason must be one of"),
        (lambda f: f.chat.reply("x", usage={"prompt_tokens": -1}), "non-negative"),
        (lambda f: f.chat.reply("x", usage={"total": 1}), "prompt_tokens"),
        (lambda f: f.chat.reply("x", times=0), "times must be a positive integer"),
        (lambda f: f.chat.reply(tool_calls=[{"arguments": {}}]), "non-empty 'name'"),
        (lambda f: f.chat.reply(tool_calls=[{"name": "f", "arguments": "{bad"}]), "not JSON"),
        (lambda f: f.chat.reply(tool_calls=[{"name": "f", "args": {}}]), "unknown keys"),
        (lambda f: f.chat.stream("Hello"), "list of strings"),
        (lambda f: f.chat.stream(["a"], ttft=-1), "ttft must be a non-negative"),
        (lambda f: f.chat.fail(200), "from 400 to 599"),
        (lambda f: f.embeddings.reply("text"), "embeddings=\\[\\[...\\]"),
        (lambda f: f.embeddings.reply(embeddings=[[]]), "non-empty list of numbers"),
        (lambda f: f.models.reply("x"), "add_model"),
        (lambda f: f.embeddings.stream(["a"]), "does not stream"),
        (lambda f: f.chat.when(stream="yes"), "True or False"),
        (lambda f: f.completions.reply(tool_calls=[{"name": "f"}]), "text only"),
    ],
)
def test_bad_scripting_is_refused_at_once(fake: FakeLMStudio, call: Any, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        call(fake)


def test_embeddings_reply(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.embeddings.reply(embeddings=[[0.5, -0.5]])
    body = {"model": "text-embedding-nomic-embed-text-v1.5", "input": "x"}
    document = client.post("/v1/embeddings", json=body).json()
    assert document["data"] == [{"object": "embedding", "embedding": [0.5, -0.5], "index": 0}]


def test_completions_reply(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.completions.reply("a fine ending", finish_reason="length", usage={"prompt_tokens": 7})
    document = client.post("/v1/completions", json={"model": MODEL, "prompt": "x"}).json()
    assert document["choices"][0]["text"] == "a fine ending"
    assert document["choices"][0]["finish_reason"] == "length"
    assert document["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def test_models_route_can_fail(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.models.fail(503, times=1)
    assert client.get("/v1/models").status_code == 503
    assert client.get("/v1/models").status_code == 200


def test_reply_with_reasoning(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply("42", reasoning="Let me think.")
    message = ask(client).json()["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "42", "reasoning": "Let me think."}


# -- check() ------------------------------------------------------------------------------
def test_check_reports_unused_rules_with_where_they_were_scripted(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.reply("never asked", times=1)
    fake.chat.reply("always")  # no times: never reported
    client.get("/v1/models")
    with pytest.raises(FakeCheckError) as info:
        fake.check()
    text = str(info.value)
    assert "fake.chat.reply('never asked') times=1" in text
    assert "used 0 of 1" in text
    assert "test_scripting.py:" in text
    assert "GET /v1/models -> 200 default" in text


def test_check_reports_errors_inside_the_server() -> None:
    def broken(entry: object) -> None:
        raise RuntimeError("boom")

    with FakeLMStudio(on_request=broken) as fake, httpx.Client(base_url=fake.url) as client:
        client.get("/v1/models")
        with pytest.raises(FakeCheckError, match="boom"):
            fake.check()
        fake.reset()
        fake.check()


def test_check_passes_when_rules_are_used(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply("x", times=1)
    ask(client)
    fake.check()


# -- journal ------------------------------------------------------------------------------
def test_journal_records_requests_and_the_rule(fake: FakeLMStudio, client: httpx.Client) -> None:
    rule = fake.chat.reply("hi")
    ask(client, temperature=0.5)
    client.get("/v1/models?x=1")
    chat, models = fake.requests
    assert (chat.method, chat.path, chat.status, chat.model) == (
        "POST",
        "/v1/chat/completions",
        200,
        MODEL,
    )
    assert chat.json["temperature"] == 0.5
    assert chat.headers["Content-Type"] == "application/json"
    assert chat.rule is rule
    assert chat.duration is not None and chat.time > 0
    assert (models.path, models.query, models.rule) == ("/v1/models", "x=1", None)


def test_journal_is_thread_safe(fake: FakeLMStudio) -> None:
    def worker() -> None:
        with httpx.Client(base_url=fake.url) as client:
            for _ in range(20):
                client.get("/v1/models")

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(fake.requests) == 100


def test_journal_is_bounded() -> None:
    with FakeLMStudio(journal_limit=5) as fake, httpx.Client(base_url=fake.url) as client:
        for i in range(8):
            client.get(f"/v1/models?i={i}")
        assert [r.query for r in fake.requests] == [f"i={i}" for i in range(3, 8)]
        assert fake.journal.dropped == 3 and fake.journal.total == 8


# -- reset and the catalog ----------------------------------------------------------------
def test_reset_restores_everything_without_a_restart(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    url = fake.url
    fake.chat.reply("x", times=5)
    fake.clear_models()
    fake.set_jit(False)
    fake.set_seed(9)
    fake.set_profile("openai")
    ask(client)
    fake.reset()
    assert fake.url == url
    assert fake.rules == [] and fake.requests == [] and fake.errors == []
    assert [m.id for m in fake.catalog] == [
        MODEL,
        "qwen2-vl-7b-instruct",
        "text-embedding-nomic-embed-text-v1.5",
        "openai/gpt-oss-20b",
    ]
    assert (fake.jit, fake.seed, fake.profile) == (True, 0, "lmstudio")
    fake.check()


def test_reset_restores_load_state(fake: FakeLMStudio, client: httpx.Client) -> None:
    ask(client, model="qwen2-vl-7b-instruct")
    assert {m.id: m.state for m in fake.catalog}["qwen2-vl-7b-instruct"] == "loaded"
    fake.reset()
    assert {m.id: m.state for m in fake.catalog}["qwen2-vl-7b-instruct"] == "not-loaded"


def test_add_model_appears_everywhere(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.add_model(
        "acme/tiny-1b",
        context_length=2048,
        loaded=False,
        capabilities=["tool_use"],
        quantization="Q8_0",
    )
    assert "acme/tiny-1b" in [m["id"] for m in client.get("/v1/models").json()["data"]]
    native = client.get("/api/v0/models/acme/tiny-1b").json()
    assert native["publisher"] == "acme"
    assert native["quantization"] == "Q8_0" and native["state"] == "not-loaded"
    assert native["max_context_length"] == 2048 and native["capabilities"] == ["tool_use"]
    fake.remove_model("acme/tiny-1b")
    assert ask(client, model="acme/tiny-1b").status_code == 400


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": ""}, "non-empty string"),
        ({"id": "a\nb"}, "control characters"),
        ({"id": "m", "type": "chat"}, "llm, vlm, embeddings"),
        ({"id": "m", "context_length": 0}, "positive integer"),
        ({"id": "m", "compatibility_type": "onnx"}, "gguf"),
    ],
)
def test_add_model_refuses_bad_values(
    fake: FakeLMStudio, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScriptError, match=message):
        fake.add_model(**kwargs)


def test_remove_unknown_model_lists_the_catalog(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError, match="it has: qwen/qwen3-8b"):
        fake.remove_model("nope")


def test_jit_load_takes_load_seconds_and_evicts_the_previous_jit_model(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.add_model("a/one", loaded=False, load_seconds=0.2)
    fake.add_model("a/two", loaded=False)
    import time

    started = time.perf_counter()
    assert ask(client, model="a/one").status_code == 200
    assert time.perf_counter() - started >= 0.2
    states = {m.id: m.state for m in fake.catalog}
    assert states["a/one"] == "loaded"
    ask(client, model="a/two")
    states = {m.id: m.state for m in fake.catalog}
    assert (states["a/one"], states["a/two"], states[MODEL]) == ("not-loaded", "loaded", "loaded")


def test_concurrent_requests_share_one_jit_load(fake: FakeLMStudio) -> None:
    fake.add_model("a/slow", loaded=False, load_seconds=0.3)
    results: list[int] = []

    def worker() -> None:
        with httpx.Client(base_url=fake.url, timeout=10) as client:
            results.append(ask(client, model="a/slow").status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [200] * 4
    assert [m.state for m in fake.catalog if m.id == "a/slow"] == ["loaded"]
