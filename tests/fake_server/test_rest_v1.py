"""LM Studio's native REST API v1 (``/api/v1``) over plain HTTP: the model list, loads and
unloads, downloads on a moved clock, the stateful chat and its named events, the rules of
the one engine (reply, stream, fail, ``when(api="rest-v1")``), stream faults counted in
this door's events, closed request bodies in zod's words, and the versions without it."""

from __future__ import annotations

import concurrent.futures
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio, ScriptError
from fake_server.engine import Conversations, Exchange

MODEL = "qwen/qwen3-8b"
CHAT = "/api/v1/chat"
START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
DOC = Path(__file__).resolve().parents[2] / "docs" / "doors" / "rest-v1.md"
RESP_ID = re.compile(r"^resp_[0-9a-f]{48}$")


class Clock:
    """The fake's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The ``(event, data)`` pairs of a named SSE stream (each data's ``type`` is its event)."""
    out = []
    for block in text.split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            data = json.loads(lines["data"])
            assert data["type"] == lines["event"], block
            out.append((lines["event"], data))
    return out


def names(text: str) -> list[str]:
    return [name for name, _ in events(text)]


def chat(client: httpx.Client, text: Any = "Hello there", **fields: Any) -> httpx.Response:
    return client.post(CHAT, json={"model": MODEL, "input": text, **fields})


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error


def entry(client: httpx.Client, key: str) -> dict[str, Any]:
    models = client.get("/api/v1/models").json()["models"]
    found: dict[str, Any] = next(m for m in models if m["key"] == key)
    return found


def eventually(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def timed_module(clock: Clock) -> Iterator[FakeLMStudio]:
    with FakeLMStudio(clock=clock) as fake:
        yield fake


@pytest.fixture
def timed(timed_module: FakeLMStudio, clock: Clock) -> FakeLMStudio:
    clock.now = START
    timed_module.reset()
    return timed_module


@pytest.fixture
def timed_client(timed: FakeLMStudio) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=timed.url, timeout=10) as client:
        yield client


# -- GET /api/v1/models -----------------------------------------------------------------------
def test_the_model_list_describes_every_downloaded_model(client: httpx.Client) -> None:
    response = client.get("/api/v1/models")
    assert response.status_code == 200
    assert response.headers["X-Powered-By"] == "Express"
    models = {m["key"]: m for m in response.json()["models"]}
    qwen = models[MODEL]
    assert list(qwen) == [
        "type", "publisher", "key", "display_name", "architecture", "quantization",
        "size_bytes", "params_string", "loaded_instances", "max_context_length", "format",
        "capabilities", "description", "variants", "selected_variant",
    ]  # fmt: skip
    assert qwen["display_name"] == "Qwen3 8B" and qwen["params_string"] == "8B"
    assert qwen["quantization"] == {"name": "Q4_K_M", "bits_per_weight": 4}
    assert qwen["loaded_instances"] == [
        {
            "id": MODEL,
            "config": {
                "context_length": 4096,
                "eval_batch_size": 512,
                "parallel": 4,
                "flash_attention": True,
                "offload_kv_cache_to_gpu": True,
            },
        }
    ]
    assert qwen["capabilities"] == {"vision": False, "trained_for_tool_use": True}
    assert models["qwen2-vl-7b-instruct"]["capabilities"]["vision"] is True
    assert models["openai/gpt-oss-20b"]["capabilities"]["reasoning"] == {
        "allowed_options": ["low", "medium", "high"],
        "default": "medium",
    }
    embedding = models["text-embedding-nomic-embed-text-v1.5"]
    assert embedding["type"] == "embedding"
    assert not {"architecture", "capabilities", "description", "variants"} & set(embedding)


def test_the_model_list_ignores_jit_and_answers_models_rules(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_jit(False)
    assert len(client.get("/api/v1/models").json()["models"]) == len(fake.catalog)
    fake.models.when(api="rest-v1").fail(500, "catalog broken")
    failed = client.get("/api/v1/models")
    assert failed.status_code == 500
    assert error_of(failed) == {"message": "catalog broken", "type": "internal_error"}
    assert client.get("/v1/models").status_code == 200


# -- load and unload ----------------------------------------------------------------------------
def test_load_blocks_for_the_load_and_sets_the_context(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.add_model("acme/slow-7b", loaded=False, load_seconds=0.3, context_length=32768)
    started = time.perf_counter()
    response = client.post(
        "/api/v1/models/load",
        json={"model": "acme/slow-7b", "context_length": 16384, "echo_load_config": True},
    )
    assert time.perf_counter() - started >= 0.3
    assert response.json() == {
        "type": "llm",
        "instance_id": "acme/slow-7b",
        "load_time_seconds": 0.3,
        "status": "loaded",
        "load_config": {
            "context_length": 16384,
            "eval_batch_size": 512,
            "flash_attention": True,
            "offload_kv_cache_to_gpu": True,
        },
    }
    config = entry(client, "acme/slow-7b")["loaded_instances"][0]["config"]
    assert config["context_length"] == 16384
    v0 = client.get("/api/v0/models/acme/slow-7b").json()
    assert (v0["state"], v0["loaded_context_length"]) == ("loaded", 16384)


def test_concurrent_loads_share_one_load(fake: FakeLMStudio, client: httpx.Client) -> None:
    """Loads asked while one is under way wait for it (one after the other, they would have
    made instances :2 and :3)."""
    fake.add_model("acme/slow-7b", loaded=False, load_seconds=0.8)
    body = {"model": "acme/slow-7b"}

    def loading() -> bool:
        return any(m.loading for m in fake.catalog if m.id == "acme/slow-7b")

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        first = pool.submit(client.post, "/api/v1/models/load", json=body)
        assert eventually(loading)
        others = [pool.submit(client.post, "/api/v1/models/load", json=body) for _ in range(2)]
        answers = [f.result() for f in (first, *others)]
    assert {a.json()["instance_id"] for a in answers} == {"acme/slow-7b"}
    instances = entry(client, "acme/slow-7b")["loaded_instances"]
    assert [i["id"] for i in instances] == ["acme/slow-7b"]


def test_a_second_load_is_a_second_instance_and_unload_takes_instance_ids(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    second = client.post("/api/v1/models/load", json={"model": MODEL})
    assert second.json()["instance_id"] == f"{MODEL}:2"
    assert [i["id"] for i in entry(client, MODEL)["loaded_instances"]] == [MODEL, f"{MODEL}:2"]
    answer = chat(client, model=f"{MODEL}:2").json()
    assert answer["model_instance_id"] == f"{MODEL}:2"
    assert client.post("/api/v1/models/unload", json={"instance_id": MODEL}).json() == {
        "instance_id": MODEL
    }
    assert [i["id"] for i in entry(client, MODEL)["loaded_instances"]] == [f"{MODEL}:2"]
    client.post("/api/v1/models/unload", json={"instance_id": f"{MODEL}:2"})
    assert entry(client, MODEL)["loaded_instances"] == []
    gone = client.post("/api/v1/models/unload", json={"instance_id": MODEL})
    assert gone.status_code == 404
    assert error_of(gone) == {
        "message": f'No loaded model instance with id "{MODEL}".',
        "type": "model_not_found",
    }


def test_load_refuses_what_lm_studio_refuses(client: httpx.Client) -> None:
    unknown = client.post("/api/v1/models/load", json={"model": "acme/none"})
    assert (unknown.status_code, error_of(unknown)["type"]) == (404, "model_not_found")
    stream = client.post("/api/v1/models/load", json={"model": MODEL, "stream": True})
    assert stream.status_code == 400
    assert error_of(stream) == {
        "message": "Unrecognized key(s) in object: 'stream'",
        "type": "invalid_request",
        "code": "unrecognized_keys",
    }
    empty = client.post("/api/v1/models/load")
    assert error_of(empty) == {
        "message": "'model' is required",
        "type": "invalid_request",
        "code": "missing_required_parameter",
        "param": "model",
    }
    huge = client.post("/api/v1/models/load", json={"model": MODEL, "context_length": 10**7})
    assert (huge.status_code, error_of(huge)["param"]) == (400, "context_length")


# -- downloads -------------------------------------------------------------------------------
def test_a_download_moves_with_the_clock_then_the_model_is_there(
    timed: FakeLMStudio, timed_client: httpx.Client, clock: Clock
) -> None:
    timed.downloads.offer("acme/new-3b", size_bytes=3_000_000, seconds=10)
    client = timed_client
    started = client.post("/api/v1/models/download", json={"model": "acme/new-3b"}).json()
    assert started == {
        "job_id": started["job_id"],
        "status": "downloading",
        "total_size_bytes": 3_000_000,
        "started_at": "2023-11-14T22:13:20.000Z",
    }
    assert re.fullmatch(r"job_[0-9a-f]{10}", started["job_id"])
    status = f"/api/v1/models/download/status/{started['job_id']}"
    clock.now += 2.5
    assert client.get(status).json() == {
        **started,
        "downloaded_bytes": 750_000,
        "bytes_per_second": 300_000.0,
        "estimated_completion": "2023-11-14T22:13:30.000Z",
        "started_at": "2023-11-14T22:13:20.000Z",
    }
    again = client.post("/api/v1/models/download", json={"model": "acme/new-3b"}).json()
    assert again["job_id"] == started["job_id"]  # the running job, not a second one
    assert "acme/new-3b" not in [m["key"] for m in client.get("/api/v1/models").json()["models"]]
    clock.now += 7.5
    done = client.get(status).json()
    assert (done["status"], done["downloaded_bytes"]) == ("completed", 3_000_000)
    assert done["completed_at"] == "2023-11-14T22:13:30.000Z"
    assert entry(client, "acme/new-3b")["loaded_instances"] == []
    assert "acme/new-3b" in [m["id"] for m in client.get("/v1/models").json()["data"]]
    there = client.post("/api/v1/models/download", json={"model": "acme/new-3b"})
    assert there.json() == {"status": "already_downloaded"}
    assert chat(client, model="acme/new-3b").status_code == 200  # JIT loads it


def test_downloads_fail_are_unknown_and_are_forgotten_by_reset(
    timed: FakeLMStudio, timed_client: httpx.Client, clock: Clock
) -> None:
    timed.downloads.offer("acme/broken-1b", seconds=4, fails=True)
    client = timed_client
    job = client.post("/api/v1/models/download", json={"model": "acme/broken-1b"}).json()
    clock.now += 4
    failed = client.get(f"/api/v1/models/download/status/{job['job_id']}").json()
    assert failed["status"] == "failed"
    assert failed["downloaded_bytes"] == failed["total_size_bytes"] // 2
    unknown = client.post("/api/v1/models/download", json={"model": "acme/none"})
    assert (unknown.status_code, error_of(unknown)["type"]) == (404, "model_not_found")
    default = client.post("/api/v1/models/download", json={"model": "ibm/granite-4-micro"})
    assert default.json()["total_size_bytes"] == 2279145003
    timed.reset()
    assert timed.downloads.jobs == []
    assert "acme/broken-1b" not in timed.downloads.offered
    gone = client.get(f"/api/v1/models/download/status/{job['job_id']}")
    assert gone.status_code == 404
    assert error_of(gone) == {
        "message": f'Download job "{job["job_id"]}" not found.',
        "type": "job_not_found",
    }
    with pytest.raises(ScriptError, match="size_bytes must be a positive integer"):
        timed.downloads.offer("acme/x", size_bytes=0)
    with pytest.raises(ScriptError, match="unexpected keyword argument"):
        timed.downloads.offer("acme/x", colour="red")


# -- chat ------------------------------------------------------------------------------------
def test_a_chat_answer_lists_output_stats_and_a_response_id(client: httpx.Client) -> None:
    response = chat(client)
    body = response.json()
    assert list(body) == ["model_instance_id", "output", "stats", "response_id"]
    assert body["model_instance_id"] == MODEL
    [message] = body["output"]
    assert message["type"] == "message" and message["content"]
    assert list(body["stats"]) == [
        "input_tokens", "total_output_tokens", "reasoning_output_tokens", "tokens_per_second",
        "time_to_first_token_seconds",
    ]  # fmt: skip
    assert body["stats"]["input_tokens"] == 2
    assert RESP_ID.match(body["response_id"])
    assert chat(client).json()["output"] == body["output"]  # seeded: the same answer
    assert chat(client, store=False).json().keys() == {"model_instance_id", "output", "stats"}


def test_a_reasoning_model_reasons_unless_told_off(client: httpx.Client) -> None:
    answer = chat(client, model="openai/gpt-oss-20b").json()
    assert [i["type"] for i in answer["output"]] == ["reasoning", "message"]
    assert 0 < answer["stats"]["reasoning_output_tokens"] < answer["stats"]["total_output_tokens"]
    low = chat(client, model="openai/gpt-oss-20b", reasoning="low")
    assert low.status_code == 200
    off = chat(client, model="openai/gpt-oss-20b", reasoning="off")
    assert off.status_code == 400
    assert error_of(off)["message"] == (
        "Reasoning setting 'off' is not supported by model \"openai/gpt-oss-20b\". "
        "Supported: low, medium, high."
    )


def test_chained_responses_carry_the_conversation(fake: FakeLMStudio, client: httpx.Client) -> None:
    first = chat(client, "My name is Ada.", system_prompt="Be brief.").json()
    rule = fake.chat.when(api="rest-v1", contains="My name is Ada.").reply("Hello again, Ada.")
    second = chat(client, "What is my name?", previous_response_id=first["response_id"]).json()
    assert second["output"] == [{"type": "message", "content": "Hello again, Ada."}]
    assert rule.calls == 1
    earlier = first["stats"]["input_tokens"] + first["stats"]["total_output_tokens"]
    assert second["stats"]["input_tokens"] == earlier + 5
    assert second["response_id"] != first["response_id"]
    branch = chat(client, "Again?", previous_response_id=first["response_id"])
    assert branch.json()["output"][0]["content"] == "Hello again, Ada."
    again = chat(client, "x", previous_response_id=first["response_id"], system_prompt="Be long.")
    assert again.status_code == 500
    assert error_of(again) == {
        "message": "Only user, assistant and tool roles are supported, got system",
        "type": "internal_error",
    }
    fake.reset()
    forgotten = chat(client, "x", previous_response_id=first["response_id"])
    assert forgotten.status_code == 400
    assert error_of(forgotten)["param"] == "previous_response_id"


def test_the_store_is_bounded_oldest_first() -> None:
    store = Conversations(limit=2, max_bytes=100)
    for n in range(3):
        store.add(Exchange(f"resp_{n}", None, (("user", "hi"),), None, MODEL, "rest-v1"))
    assert (len(store), store.get("resp_0"), store.chain("resp_2") is not None) == (2, None, True)
    store.add(Exchange("resp_big", "resp_2", (("user", "x" * 99),), None, MODEL, "rest-v1"))
    assert len(store) == 1 and store.chain("resp_big") is None  # its parent went


def test_chat_bodies_are_closed_and_refused_in_zods_words(client: httpx.Client) -> None:
    stop = chat(client, stop=["\n"], temperature=2)
    assert stop.status_code == 400
    assert error_of(stop) == {
        "message": "Unrecognized key(s) in object: 'stop'",
        "type": "invalid_request",
        "code": "unrecognized_keys",
    }
    item = chat(client, [{"type": "text", "text": "hi"}])
    assert error_of(item) == {
        "message": "'input.0.content' is required, Unrecognized key(s) in object: 'text'",
        "type": "invalid_request",
        "code": "invalid_union",
        "param": "input",
    }
    wrong = chat(client, 42, top_p=2)
    assert error_of(wrong)["message"] == (
        "Expected string | array, received number, Number must be less than or equal to 1"
    )
    previous = chat(client, previous_response_id="abc")
    assert error_of(previous)["message"] == 'Invalid input: must start with "resp_"'
    not_json = client.post(CHAT, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and error_of(not_json)["type"] == "invalid_request"
    unknown = chat(client, model="acme/none")
    assert (unknown.status_code, error_of(unknown)["type"]) == (404, "model_not_found")
    embedding = chat(client, model="text-embedding-nomic-embed-text-v1.5")
    assert embedding.status_code == 400


def test_with_jit_off_a_model_must_be_loaded_first(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_jit(False)
    cold = chat(client, model="openai/gpt-oss-20b")
    assert cold.status_code == 400
    assert error_of(cold)["message"] == (
        'Model "openai/gpt-oss-20b" is not loaded. Load it first (POST /api/v1/models/load).'
    )
    client.post("/api/v1/models/load", json={"model": "openai/gpt-oss-20b"})
    assert chat(client, model="openai/gpt-oss-20b").status_code == 200
    fake.check()


# -- one engine under every door ------------------------------------------------------------
def test_scripted_rules_answer_this_door_too(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply("hi", reasoning="Short answer.")
    assert chat(client).json()["output"] == [
        {"type": "reasoning", "content": "Short answer."},
        {"type": "message", "content": "hi"},
    ]
    fake.reset()
    fake.chat.fail(429, "slow down", retry_after=2)
    limited = chat(client)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert error_of(limited) == {"message": "slow down", "type": "invalid_request"}
    fake.reset()
    narrowed = fake.chat.when(api="rest-v1").reply("only v1")
    assert chat(client).json()["output"][0]["content"] == "only v1"
    openai = client.post("/v1/chat/completions", json={"model": MODEL, "messages": [
        {"role": "user", "content": "Hi"}]}).json()  # fmt: skip
    assert openai["choices"][0]["message"]["content"] != "only v1"
    assert narrowed.calls == 1
    assert fake.requests[-2].api == "rest-v1" and fake.requests[-1].api == "openai"


def test_rules_are_checked_by_this_doors_encoder(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError, match="through rest-v1"):
        fake.chat.when(api="rest-v1").respond({"choices": []})
    fake.chat.when(api="rest-v1").respond({"model_instance_id": MODEL, "output": [], "stats": {
        "input_tokens": 1, "total_output_tokens": 0, "reasoning_output_tokens": 0,
        "tokens_per_second": 1, "time_to_first_token_seconds": 0}})  # fmt: skip
    fake.chat.respond({"id": "x", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0,
        "total_tokens": 0}})  # fmt: skip


def test_tool_calls_go_through_the_requests_integrations(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.reply("Found it.", tool_calls=[{"name": "model_search", "arguments": {"limit": 1}}])
    plain = chat(client).json()["output"]
    assert plain[0] == {
        "type": "invalid_tool_call",
        "reason": "Cannot find tool with name model_search.",
        "metadata": {"type": "invalid_name", "tool_name": "model_search"},
    }
    mcp = {"type": "ephemeral_mcp", "server_label": "huggingface", "server_url": "https://hf.co"}
    streamed = chat(client, integrations=[mcp], stream=True).text
    assert names(streamed)[4:] == [
        "tool_call.start", "tool_call.arguments", "tool_call.success",
        "message.start", "message.delta", "message.delta", "message.delta", "message.end",
        "chat.end",
    ]  # fmt: skip
    result = events(streamed)[-1][1]["result"]
    call = result["output"][0]
    assert (call["tool"], call["arguments"]) == ("model_search", {"limit": 1})
    assert call["provider_info"] == {"type": "ephemeral_mcp", "server_label": "huggingface"}
    assert json.loads(call["output"])[0]["type"] == "text"


# -- streams -----------------------------------------------------------------------------------
def test_a_stream_has_the_documented_event_sequence(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.stream(["Morning ", "light."], reasoning=["Think."])
    response = chat(client, stream=True)
    assert response.headers["Content-Type"] == "text/event-stream"
    assert names(response.text) == [
        "chat.start", "prompt_processing.start", "prompt_processing.progress",
        "prompt_processing.end", "reasoning.start", "reasoning.delta", "reasoning.end",
        "message.start", "message.delta", "message.delta", "message.end", "chat.end",
    ]  # fmt: skip
    got = events(response.text)
    assert got[0][1] == {"type": "chat.start", "model_instance_id": MODEL}
    assert [d["content"] for n, d in got if n == "message.delta"] == ["Morning ", "light."]
    result = got[-1][1]["result"]
    assert result["output"] == [
        {"type": "reasoning", "content": "Think."},
        {"type": "message", "content": "Morning light."},
    ]
    assert RESP_ID.match(result["response_id"])


def test_the_schedule_starts_after_the_opening_events(fake: FakeLMStudio) -> None:
    """``ttft`` is the wait for the first token: chat.start and prompt processing go at once."""
    fake.chat.stream(["a", "b"], ttft=0.3)
    arrived: dict[str, float] = {}
    started = time.perf_counter()
    body = {"model": MODEL, "input": "x", "stream": True}
    with httpx.stream("POST", fake.url + CHAT, json=body, timeout=10) as response:
        for line in response.iter_lines():
            arrived.setdefault(line, time.perf_counter() - started)
    assert arrived["event: message.start"] >= 0.3
    # Scheduled with the rest, the opening events would have come with message.start.
    assert arrived["event: message.start"] - arrived["event: prompt_processing.end"] >= 0.1


def test_a_jit_load_during_a_chat_sends_load_events(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.add_model("acme/cold-3b", loaded=False, load_seconds=0.2)
    response = chat(client, model="acme/cold-3b", stream=True, context_length=2048)
    got = events(response.text)
    assert [n for n, _ in got[:5]] == [
        "chat.start", "model_load.start", "model_load.progress", "model_load.end",
        "prompt_processing.start",
    ]  # fmt: skip
    assert got[3][1] == {
        "type": "model_load.end",
        "model_instance_id": "acme/cold-3b",
        "load_time_seconds": 0.2,
    }
    assert got[-1][1]["result"]["stats"]["model_load_time_seconds"] == 0.2
    assert entry(client, "acme/cold-3b")["loaded_instances"][0]["config"]["context_length"] == 2048
    warm = chat(client, model="acme/cold-3b", stream=True).text
    assert "model_load.start" not in names(warm)
    assert "model_load_time_seconds" not in chat(client, model="acme/cold-3b").json()["stats"]


def test_drop_after_counts_this_doors_events(fake: FakeLMStudio) -> None:
    fake.chat.stream(["a", "b", "c"], drop_after=6)
    received: list[str] = []
    body = {"model": MODEL, "input": "x", "stream": True}
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", fake.url + CHAT, json=body) as response,
    ):
        received.extend(line for line in response.iter_lines() if line.startswith("event:"))
    assert received[-1] == "event: message.delta" and len(received) == 6
    assert fake.requests[-1].fault == "stream dropped after 6 chunks"


def test_error_after_sends_the_error_event_then_chat_end(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.stream(["Partial", " ans", "wer"], error_after=7, error_message="Engine crashed")
    got = events(chat(client, stream=True).text)
    assert [n for n, _ in got[-4:]] == ["message.delta", "message.delta", "error", "chat.end"]
    assert got[-2][1] == {
        "type": "error",
        "error": {"message": "Engine crashed", "type": "internal_error"},
    }
    result = got[-1][1]["result"]
    assert result["output"] == [{"type": "message", "content": "Partial ans"}]
    assert result["stats"]["total_output_tokens"] == 2 and "response_id" not in result


def test_stall_after_is_released_by_a_client_timeout_or_by_reset(fake: FakeLMStudio) -> None:
    fake.chat.stream(["a", "b"], stall_after=5, times=2)
    body = {"model": MODEL, "input": "x", "stream": True}
    seen: list[str] = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream("POST", fake.url + CHAT, json=body, timeout=0.5) as response,
    ):
        seen.extend(line for line in response.iter_lines() if line.startswith("event:"))
    assert seen[-1] == "event: message.start"
    assert fake.requests[-1].fault == "stream stalled after 5 chunks"
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            with httpx.stream("POST", fake.url + CHAT, json=body, timeout=30) as response:
                for _ in response.iter_lines():
                    pass
            outcome.append(None)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=read)
    worker.start()
    assert eventually(lambda: len(fake.requests) == 2 and fake.requests[-1].fault is not None)
    fake.reset()
    worker.join(5)
    assert isinstance(outcome[0], httpx.RemoteProtocolError)


def test_a_prompt_too_long_is_an_error_event_or_a_400(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    long = "word " * 5000
    streamed = chat(client, long, stream=True)
    got = events(streamed.text)
    assert [n for n, _ in got] == ["chat.start", "error", "chat.end"]
    assert got[1][1]["error"]["message"].startswith("Input does not fit in context length.")
    fake.set_profile("lmstudio-0.4.0")
    refused = chat(client, long, stream=True)
    assert (refused.status_code, error_of(refused)["type"]) == (400, "invalid_request")


# -- versions, auth, docs ----------------------------------------------------------------------
def test_versions_before_0_4_0_have_no_rest_v1(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_profile("lmstudio-0.3.23")
    for method, path in (("GET", "/api/v1/models"), ("POST", CHAT)):
        response = client.request(method, path, json={"model": MODEL, "input": "x"})
        assert response.status_code == 200
        assert response.json() == {"error": f"Unexpected endpoint or method. ({method} {path})"}
    fake.set_profile("lmstudio-0.4.0")
    config = entry(client, MODEL)["loaded_instances"][0]["config"]
    assert "parallel" not in config and config["num_experts"] == 0


def test_a_missing_token_gets_the_v1_401(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.require_api_token("sk-lm-abcdefgh:abcdefghijklmnopqrst")
    refused = client.get("/api/v1/models")
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "invalid_api_key"
    headers = {"Authorization": "Bearer sk-lm-abcdefgh:abcdefghijklmnopqrst"}
    assert client.get("/api/v1/models", headers=headers).status_code == 200


def test_the_door_documents_examples_run() -> None:
    """Each python block of docs/doors/rest-v1.md runs (a failure names its line there)."""
    text = DOC.read_text()
    blocks = list(re.finditer(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE))
    assert len(blocks) == 3
    for block in blocks:
        padding = "\n" * text.count("\n", 0, block.start(1))
        exec(compile(padding + block.group(1), str(DOC), "exec"), {"__name__": "doc_example"})
