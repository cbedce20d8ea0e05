from __future__ import annotations

import pytest
from app import SummaryUnavailable, client_from_env, summarize, summarize_stream


def test_summarize_sends_the_text_and_returns_the_answer(lmstudio_fake, client):
    lmstudio_fake.chat.reply("  Cats sleep a lot.  ")
    assert summarize(client, "A long text about cats.") == "Cats sleep a lot."
    sent = lmstudio_fake.requests[-1].json
    assert sent["model"] == "qwen/qwen3-8b"
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert sent["messages"][1]["content"] == "A long text about cats."


def test_the_stream_gives_the_pieces_in_order(lmstudio_fake, client):
    lmstudio_fake.chat.stream(["Cats ", "sleep ", "a lot."], interval=0.01)
    assert list(summarize_stream(client, "cats")) == ["Cats ", "sleep ", "a lot."]
    assert lmstudio_fake.requests[-1].stream


def test_the_client_from_the_environment_reaches_the_fake(lmstudio_fake, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", lmstudio_fake.base_url)
    lmstudio_fake.chat.reply("From the environment.")
    with client_from_env() as client:
        assert summarize(client, "x") == "From the environment."


@pytest.mark.parametrize(
    "script",
    [
        lambda fake: fake.chat.fail(503, "Model is loading", retry_after=1),
        lambda fake: fake.chat.drop(),
        lambda fake: fake.chat.hang(),  # the client gives up after its timeout
        lambda fake: fake.chat.malformed(),
    ],
    ids=["503", "drop", "hang", "malformed"],
)
def test_a_failure_is_a_summary_unavailable(lmstudio_fake, client, script):
    script(lmstudio_fake)
    with pytest.raises(SummaryUnavailable):
        summarize(client.with_options(timeout=0.5), "x")


def test_an_unknown_model_is_refused_as_lm_studio_refuses_it(client):
    with pytest.raises(SummaryUnavailable, match="Invalid model identifier"):
        summarize(client, "x", model="gpt-4o")


def test_a_broken_stream_is_a_summary_unavailable(lmstudio_fake, client):
    lmstudio_fake.chat.stream(["Cats ", "sleep"], drop_after=1)
    pieces = []
    with pytest.raises(SummaryUnavailable):
        pieces.extend(summarize_stream(client, "cats"))
    assert pieces == ["Cats "]
