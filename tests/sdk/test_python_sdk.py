"""The real ``lmstudio`` Python SDK against the fake: models, predictions, embeddings,
loading, failures and auth, every frame checked against the SDK's schema (conftest)."""

from __future__ import annotations

import httpx
import lmstudio as lms
import pydantic
import pytest

from fake_server import FakeLMStudio, ScriptError

from .frames import FrameRecorder

MODEL = "qwen/qwen3-8b"
EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
TOKEN = "sk-lm-Abc12345:Zyx9876543210abcdefG"


def test_lists_downloaded_and_loaded_models(client: lms.Client, fake: FakeLMStudio) -> None:
    downloaded = client.list_downloaded_models()
    assert [m.model_key for m in downloaded] == [m.id for m in fake.catalog]
    assert {type(m).__name__ for m in downloaded} == {"DownloadedLlm", "DownloadedEmbeddingModel"}
    assert [m.identifier for m in client.llm.list_loaded()] == [MODEL]
    assert client.embedding.list_loaded() == []
    info = client.llm.model(MODEL).get_info()
    assert (info.model_key, info.context_length, info.max_context_length) == (MODEL, 4096, 40960)


def test_model_already_loaded_and_loaded_on_demand(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.add_model("slow-model-7b", loaded=False, load_seconds=0.3)
    progress: list[float] = []
    assert client.llm.model(MODEL, on_load_progress=progress.append).identifier == MODEL
    assert progress == [1.0]  # already loaded: the SDK reports it done at once
    progress.clear()
    model = client.llm.model("slow-model-7b", on_load_progress=progress.append)
    assert model.identifier == "slow-model-7b"
    assert progress[0] == 0.0 and progress[-1] == 1.0 and len(progress) >= 4
    assert progress == sorted(progress)
    loaded = {m.id: m.loaded for m in fake.catalog}
    assert loaded["slow-model-7b"] is True
    assert loaded[MODEL] is True  # loaded up front, not JIT: auto-evict leaves it


def test_jit_ttl_and_evict(client: lms.Client, fake: FakeLMStudio, recorder: FrameRecorder) -> None:
    fake.add_model("first-model-1b", loaded=False)
    fake.add_model("second-model-1b", loaded=False)
    client.llm.model("first-model-1b", ttl=60)
    assert {m.id: m.load_ttl for m in fake.catalog}["first-model-1b"] == 60
    client.llm.model("second-model-1b")
    loaded = [m.identifier for m in client.llm.list_loaded()]
    assert loaded == [MODEL, "second-model-1b"]  # the first JIT load was evicted
    evicting = [r for r in fake.requests if r.path == "/llm/getOrLoad"][-1]
    assert evicting.model == "second-model-1b"
    notes = [f.json["message"] for f in recorder.frames if "unloadingOtherJITModel" in f.text]
    assert [note["info"]["identifier"] for note in notes] == ["first-model-1b"]


def test_unknown_model_is_model_not_found(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioModelNotFoundError, match="no-such-model"):
        client.llm.model("no-such-model")


def test_respond_and_stream_joined_equal_the_result(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.reply("Hello from the fake.")
    model = client.llm.model(MODEL)
    result = model.respond("Hello there")
    assert result.content == "Hello from the fake."
    assert result.stats.stop_reason == "eosFound"
    assert result.stats.predicted_tokens_count == 5
    stream = model.respond_stream("Hello there")
    pieces = [fragment.content for fragment in stream]
    assert len(pieces) > 1
    assert "".join(pieces) == stream.result().content
    # The same stats as the native REST door reports for the same prompt and answer.
    native = httpx.post(
        f"{fake.url}/api/v0/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "Hello there"}]},
    ).json()["stats"]
    assert result.stats.tokens_per_second == native["tokens_per_second"]
    assert result.stats.time_to_first_token_sec == native["time_to_first_token"]


def test_prediction_config_reaches_the_engine(client: lms.Client, fake: FakeLMStudio) -> None:
    model = client.llm.model(MODEL)
    result = model.respond("Tell me", config={"maxTokens": 3, "temperature": 0.2})
    assert result.stats.predicted_tokens_count == 3
    assert result.stats.stop_reason == "maxPredictedTokensReached"
    assert result.prediction_config.temperature == 0.2
    fake.chat.reply("one two. three four")
    stopped = model.respond("Count", config={"stopStrings": ["."]})
    assert (stopped.content, stopped.stats.stop_reason) == ("one two", "stopStringFound")


class Book(pydantic.BaseModel):
    title: str
    author: str
    year: int


def test_structured_output_with_a_pydantic_model(client: lms.Client) -> None:
    result = client.llm.model(MODEL).respond("A book, please", response_format=Book)
    assert isinstance(result.parsed, dict)
    book = Book.model_validate(result.parsed)
    assert book.title and book.author


def test_embed_a_string_and_a_list(client: lms.Client, fake: FakeLMStudio) -> None:
    model = client.embedding.model(EMBEDDER)
    one = model.embed("Hello")
    assert len(one) == 768
    assert model.embed(["Hello", "World"])[0] == one
    http = httpx.post(f"{fake.url}/v1/embeddings", json={"model": EMBEDDER, "input": "Hello"})
    assert http.json()["data"][0]["embedding"] == one  # the same vector through every door


def test_tokens_and_context(client: lms.Client) -> None:
    model = client.llm.model(MODEL)
    assert model.count_tokens("Hello, world!") == 4
    assert len(model.tokenize("Hello, world!")) == 4
    assert model.get_context_length() == 4096


def test_load_new_instance_and_unload(client: lms.Client, fake: FakeLMStudio) -> None:
    second = client.llm.load_new_instance(MODEL, ttl=None)
    assert second.identifier == f"{MODEL}:2"
    assert [m.identifier for m in client.llm.list_loaded()] == [MODEL, f"{MODEL}:2"]
    second.unload()
    client.llm.unload(MODEL)
    assert client.llm.list_loaded() == []
    assert not any(m.loaded for m in fake.catalog)
    with pytest.raises(lms.LMStudioServerError, match="Cannot find model with identifier"):
        client.llm.unload(MODEL)
    named = client.llm.load_new_instance(MODEL, "my-qwen")
    assert named.identifier == "my-qwen" and named.get_info().model_key == MODEL
    assert named.respond("Hi").content
    listed = httpx.get(f"{fake.url}/api/v1/models").json()["models"][0]["loaded_instances"]
    assert [instance["id"] for instance in listed] == ["my-qwen"]
    with pytest.raises(lms.LMStudioServerError, match="already loaded"):
        client.llm.load_new_instance(MODEL, "my-qwen")
    named.unload()


def test_scripted_failure_is_the_sdks_server_error(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.when(api="sdk").fail(
        500, "The model has crashed without additional information.", times=1
    )
    with pytest.raises(lms.LMStudioServerError, match="Chat response error: The model has crashed"):
        client.llm.model(MODEL).respond("Hello")
    fake.chat.stream(["Hel", "lo", "!"], error_after=2, error_message="Out of memory")
    with pytest.raises(lms.LMStudioServerError, match="Out of memory"):
        client.llm.model(MODEL).respond("Hello")


def test_dropped_socket_mid_prediction(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.stream(["Hel", "lo", " there", "!"], drop_after=2)
    stream = client.llm.model(MODEL).respond_stream("Hello")
    with pytest.raises(lms.LMStudioWebsocketError, match="disconnected"):
        for _ in stream:
            pass
    assert fake.requests[-1].fault == "stream dropped after 2 fragments"


def test_cancelling_a_stream(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.stream([f"tok{i} " for i in range(50)], interval=0.05)
    stream = client.llm.model(MODEL).respond_stream("Count slowly")
    seen = []
    for fragment in stream:
        seen.append(fragment.content)
        if len(seen) == 1:
            stream.cancel()
    assert seen[0] == "tok0 "
    result = stream.result()
    assert result.stats.stop_reason == "userStopped"
    assert result.stats.predicted_tokens_count < 50
    assert fake.requests[-1].error == "cancelled by the client"


def test_when_api_sdk_narrows_a_rule(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.when(api="sdk").reply("only the SDK hears this")
    assert client.llm.model(MODEL).respond("Hi").content == "only the SDK hears this"
    http = httpx.post(
        f"{fake.url}/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]},
    )
    assert http.json()["choices"][0]["message"]["content"] != "only the SDK hears this"


def test_journal_and_check_cover_the_door(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.reply("twice", times=2)
    client.llm.model(MODEL).respond("Once")
    seen = [(r.method, r.path, r.api) for r in fake.requests if r.api == "sdk"]
    assert ("RPC", "/llm/listLoaded", "sdk") not in seen
    assert ("CHANNEL", "/llm/getOrLoad", "sdk") in seen
    assert ("CHANNEL", "/llm/predict", "sdk") in seen
    predict = next(r for r in fake.requests if r.path == "/llm/predict")
    assert predict.model == MODEL and predict.status == 200 and predict.rule is not None
    assert predict.json["history"]["messages"][0]["content"][0]["text"] == "Once"
    with pytest.raises(Exception, match="used 1 of 2") as failed:
        fake.check()
    assert "CHANNEL /llm/predict model=qwen/qwen3-8b -> 200 rule=#" in str(failed.value)
    fake.reset()  # the teardown check passes


def test_api_token_required(fake: FakeLMStudio, recorder: FrameRecorder) -> None:
    fake.require_api_token(TOKEN)
    with lms.Client(recorder.host, api_token=TOKEN) as client:
        assert [m.identifier for m in client.llm.list_loaded()] == [MODEL]
    wrong = "sk-lm-Abc12345:WRONGxxxxxxxxxxxxxxx"
    with (
        lms.Client(recorder.host, api_token=wrong) as client,
        pytest.raises(lms.LMStudioServerError, match="Authentication failed"),
    ):
        client.llm.list_loaded()
    with (
        lms.Client(recorder.host) as client,
        pytest.raises(lms.LMStudioServerError, match="requires an API token"),
    ):
        client.llm.list_loaded()


def add(a: int, b: int) -> int:
    """Given two numbers a and b, returns the sum of them."""
    return a + b


def test_act_runs_a_tool_and_answers(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.reply(tool_calls=[{"name": "add", "arguments": {"a": 12, "b": 30}}], times=1)
    fake.chat.when(contains="42").reply("12 + 30 is 42.", times=1)
    messages: list[lms.AnyChatMessage] = []
    result = client.llm.model(MODEL).act("What is 12 + 30?", [add], on_message=messages.append)
    assert result.rounds == 2
    assert "12 + 30 is 42." in str(messages[-1])
    second = [r for r in fake.requests if r.path == "/llm/predict"][-1].json
    tool_result = second["history"]["messages"][-1]["content"][0]
    assert tool_result["type"] == "toolCallResult" and tool_result["content"] == "42"


def test_images_and_completions(client: lms.Client, fake: FakeLMStudio) -> None:
    image = client.files.prepare_image(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "cat.png")
    assert (image.file_type, image.size_bytes) == ("image", 72)
    fake.chat.when(contains="What is this?").reply("A cat.")
    chat = lms.Chat()
    chat.add_user_message("What is this?", images=[image])
    assert client.llm.model(MODEL).respond(chat).content == "A cat."
    fake.chat.when(contains="Once upon").reply(" a time.")
    assert client.llm.model(MODEL).complete("Once upon").content == " a time."


def test_stalled_stream_and_dropped_embedding(client: lms.Client, fake: FakeLMStudio) -> None:
    fake.chat.stream(["Hel", "lo"], stall_after=1, times=1)
    stream = client.llm.model(MODEL).respond_stream("Hello")
    seen = []
    with pytest.raises(lms.LMStudioWebsocketError):
        for fragment in stream:
            seen.append(fragment.content)
            assert fake.requests[-1].fault == "stream stalled after 1 fragments"
            fake.reset()  # lets the stalled stream go: the fake then closes the connection
    assert seen == ["Hel"]
    fake.embeddings.when(api="sdk").drop(times=1)
    with pytest.raises(lms.LMStudioWebsocketError):
        client.embedding.model(EMBEDDER).embed("Hello")
    assert fake.requests[-1].fault == "drop: the connection closed"
    assert fake.requests[-1].path == "/embedding/embedString"


@pytest.mark.parametrize(
    ("script", "raised", "note"),
    [
        ("reset_connection", lms.LMStudioWebsocketError, "reset_connection: TCP reset"),
        ("garbage", lms.LMStudioWebsocketError, "garbage: 64 random bytes"),
        ("malformed", lms.LMStudioWebsocketError, "malformed: a frame that is not JSON"),
        ("truncate", lms.LMStudioWebsocketError, "truncate: the connection cut after"),
        ("slow_body", None, "slow_body: 100000 bytes/s"),
        ("not_done", lms.LMStudioRuntimeError, None),
    ],
)
def test_wire_faults_reach_the_sdk(
    client: lms.Client, fake: FakeLMStudio, recorder: FrameRecorder, script: str,
    raised: type[Exception] | None, note: str | None,
) -> None:  # fmt: skip
    scripts = {
        "truncate": lambda: fake.chat.truncate(300, times=1),
        "slow_body": lambda: fake.chat.slow_body(100_000, times=1),
        "not_done": lambda: fake.chat.stream(["a", "b"], done=False, times=1),
    }
    scripts.get(script, lambda: getattr(fake.chat, script)(times=1))()
    model = client.llm.model(MODEL)
    if raised is None:
        assert model.respond("Hello").content
    else:
        with pytest.raises(raised):
            model.respond("Hello")
    predict = [r for r in fake.requests if r.path == "/llm/predict"][-1]
    assert note is None or (predict.fault or "").startswith(note)
    if script == "malformed":  # the one frame that is not JSON, on purpose
        broken = [f for f in recorder.frames if not f.text.startswith("{") or f.text[-1] != "}"]
        assert len(broken) == 1 and not broken[0].to_server
        recorder.frames.remove(broken[0])


def test_rules_for_the_door_are_checked_when_scripted(
    client: lms.Client, fake: FakeLMStudio
) -> None:
    with pytest.raises(ScriptError, match=r"toolCallRequest\.arguments"):
        fake.chat.when(api="sdk").reply(tool_calls=[{"name": "add", "arguments": "[1, 2]"}])
    scenario = {"rules": [{"route": "chat", "when": {"api": "sdk"}, "reply": {"content": "hi!"}}]}
    fake.load_scenario(scenario)
    assert client.llm.model(MODEL).respond("Hello").content == "hi!"
