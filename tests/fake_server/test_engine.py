"""One engine under every door: a rule answers a turn whichever door it came through,
``when(api=...)`` narrows it to one, and a request keeps the state it started with."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio, ScriptError

MODEL = "qwen/qwen3-8b"
BODY: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}


def _content(response: httpx.Response) -> str:
    value = response.json()["choices"][0]["message"]["content"]
    assert isinstance(value, str)
    return value


def test_a_chat_rule_answers_through_both_doors(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply("same everywhere")
    for path in ("/v1/chat/completions", "/api/v0/chat/completions"):
        assert _content(client.post(path, json=BODY)) == "same everywhere"


@pytest.mark.parametrize(("api", "narrowed"), [("openai", "/v1"), ("rest-v0", "/api/v0")])
def test_when_api_narrows_a_rule_to_one_door(
    fake: FakeLMStudio, client: httpx.Client, api: str, narrowed: str
) -> None:
    rule = fake.chat.when(api=api).reply("only here")
    answers = {
        prefix: _content(client.post(f"{prefix}/chat/completions", json=BODY))
        for prefix in ("/v1", "/api/v0")
    }
    assert answers[narrowed] == "only here"
    assert [a for p, a in answers.items() if p != narrowed] != ["only here"]
    assert rule.calls == 1
    assert rule.describe().startswith(f"fake.chat.when(api='{api}').reply('only here')")


def test_when_api_names_the_doors_it_knows(fake: FakeLMStudio) -> None:
    with pytest.raises(
        ScriptError, match=r"when\(api=...\) takes one of openai, rest-v0(, [a-z0-9-]+)*; got 'v2'"
    ) as refused:
        fake.chat.when(api="v2")
    assert "responses" in str(refused.value) and "rest-v1" in str(refused.value)


def test_a_scenario_rule_narrows_to_a_door(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario(
        {"rules": [{"route": "chat", "when": {"api": "rest-v0"}, "reply": {"content": "v0"}}]}
    )
    assert _content(client.post("/api/v0/chat/completions", json=BODY)) == "v0"
    assert _content(client.post("/v1/chat/completions", json=BODY)) != "v0"


def test_a_request_keeps_the_state_it_started_with(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    """A reset (and a new seed) while a request is delayed does not reach that request: its
    answer is the one of the state it arrived in."""
    expected = _content(client.post("/v1/chat/completions", json=BODY))
    fake.chat.delay(0.5)
    got: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: got.append(client.post("/v1/chat/completions", json=BODY))
    )
    worker.start()
    deadline = time.monotonic() + 5
    while len(fake.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    fake.reset()
    fake.set_seed(99)
    worker.join(10)
    assert _content(got[0]) == expected
    assert _content(client.post("/v1/chat/completions", json=BODY)) != expected


def test_a_scripted_answer_is_checked_for_every_door_it_can_answer(fake: FakeLMStudio) -> None:
    """A usage that breaks the answer is refused when scripted, for a rule narrowed to
    either door, naming the field."""
    for api in ("openai", "rest-v0", "rest-v1"):
        with pytest.raises(ScriptError, match="breaks the API format"):
            fake.chat.when(api=api).respond({"choices": "not a list"})
    assert fake.rules == []


def test_a_request_loading_its_model_keeps_its_state_through_a_reset(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    """Chaos switched on after a reset, while a request waits for its JIT load, does not
    reach that request."""
    fake.add_model("acme/slow-1b", loaded=False, load_seconds=0.5)
    got: list[httpx.Response] = []
    body = {**BODY, "model": "acme/slow-1b"}
    worker = threading.Thread(
        target=lambda: got.append(client.post("/v1/chat/completions", json=body))
    )
    worker.start()
    deadline = time.monotonic() + 5
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    fake.reset()
    fake.chaos(1.0, ["500"])
    worker.join(10)
    assert got[0].status_code == 200
    assert client.post("/v1/chat/completions", json=BODY).status_code == 500
