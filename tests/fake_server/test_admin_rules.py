"""The admin API's rules and waits, over HTTP: ``PUT /__fake__/scenario`` replaces the rules
where ``POST`` adds them, ``DELETE /__fake__/rules`` clears them, and
``GET /__fake__/requests?wait=N`` holds until N requests have arrived."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio

HELLO = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hello there"}]}
CATCH_ALL = {"rules": [{"route": "chat", "reply": {"content": "catch-all"}}]}
SPECIFIC = {"rules": [{"route": "chat", "reply": {"content": "specific"}}]}


def answer(client: httpx.Client) -> str:
    response = client.post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 200, response.text
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


def rule_texts(client: httpx.Client) -> list[str]:
    return [rule["description"] for rule in client.get("/__fake__/rules").json()["rules"]]


# -- POST adds, PUT replaces, DELETE clears -----------------------------------------------
def test_post_adds_after_a_catch_all_which_keeps_answering(client: httpx.Client) -> None:
    assert client.post("/__fake__/scenario", json=CATCH_ALL).status_code == 200
    response = client.post("/__fake__/scenario", json=SPECIFIC)
    assert response.json() == {"loaded": True, "replaced": False, "rules": 2, "models": 4}
    assert answer(client) == "catch-all"


def test_put_replaces_the_rules_of_a_scenario_loaded_at_start() -> None:
    with (
        FakeLMStudio(scenario=CATCH_ALL) as fake,
        httpx.Client(base_url=fake.url, timeout=10) as client,
    ):
        assert answer(client) == "catch-all"
        response = client.put("/__fake__/scenario", json={**SPECIFIC, "seed": 9})
        assert response.status_code == 200, response.text
        assert response.json() == {"loaded": True, "replaced": True, "rules": 1, "models": 4}
        assert answer(client) == "specific"
        assert fake.seed == 9
        assert [rule.origin for rule in fake.rules] == ["PUT /__fake__/scenario $.rules[0]"]
        client.post("/__fake__/reset")  # back to the state it started with: the catch-all
        assert answer(client) == "catch-all"


def test_a_put_that_fails_leaves_the_rules_as_they_were(client: httpx.Client) -> None:
    client.post("/__fake__/scenario", json=CATCH_ALL)
    bad = {"rules": [SPECIFIC["rules"][0], {"route": "chat", "reply": {"content": 3}}]}
    response = client.put("/__fake__/scenario", json=bad)
    assert response.status_code == 400
    assert response.json()["path"].startswith("$.rules[1]")
    assert response.json()["error"].startswith("PUT /__fake__/scenario at $.rules[1]")
    assert len(rule_texts(client)) == 1
    assert answer(client) == "catch-all"


def test_put_without_rules_leaves_none(client: httpx.Client) -> None:
    client.post("/__fake__/scenario", json=CATCH_ALL)
    response = client.put("/__fake__/scenario", json={"seed": 4})
    assert response.json()["rules"] == 0
    assert answer(client) != "catch-all"


def test_put_takes_toml_too(client: httpx.Client) -> None:
    toml = '[[rules]]\nroute = "chat"\nreply = { content = "from toml" }\n'
    headers = {"Content-Type": "application/toml"}
    client.post("/__fake__/scenario", json=CATCH_ALL)
    response = client.put("/__fake__/scenario", content=toml, headers=headers)
    assert response.status_code == 200, response.text
    assert answer(client) == "from toml"


def test_delete_rules_clears_them_and_keeps_models_and_settings(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    scenario = {**CATCH_ALL, "seed": 5, "models": [{"id": "acme/tiny-llm"}]}
    client.post("/__fake__/scenario", json=scenario)
    response = client.delete("/__fake__/rules")
    assert (response.status_code, response.json()) == (200, {"cleared": True, "rules": 0})
    assert fake.rules == [] and rule_texts(client) == []
    assert fake.seed == 5 and "acme/tiny-llm" in [m.id for m in fake.catalog]
    assert answer(client) != "catch-all"


def test_clear_rules_in_python(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.reply("scripted")
    fake.clear_rules()
    assert fake.rules == []
    assert answer(client) != "scripted"


def test_the_404_lists_the_new_calls(client: httpx.Client) -> None:
    error = client.get("/__fake__/nothing").json()["error"]
    for call in ("PUT /__fake__/scenario", "DELETE /__fake__/rules"):
        assert call in error


# -- GET /__fake__/requests?wait=N --------------------------------------------------------
def send_later(url: str, delay: float, count: int) -> threading.Thread:
    def send() -> None:
        time.sleep(delay)
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(count):
                client.post("/v1/chat/completions", json=HELLO)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_wait_holds_until_the_requests_arrive(fake: FakeLMStudio, client: httpx.Client) -> None:
    sender = send_later(fake.url, 0.2, 2)
    try:
        response = client.get("/__fake__/requests", params={"wait": 2, "timeout": 10})
    finally:
        sender.join(10)
    assert response.status_code == 200
    document = response.json()
    assert document["total"] >= 2
    assert [entry["path"] for entry in document["requests"]][:2] == ["/v1/chat/completions"] * 2


def test_wait_for_what_already_arrived_answers_at_once(client: httpx.Client) -> None:
    answer(client)
    response = client.get("/__fake__/requests", params={"wait": 1})
    assert response.status_code == 200 and response.json()["total"] == 1
    assert client.get("/__fake__/requests", params={"wait": 0}).status_code == 200


def test_wait_that_times_out_is_a_409_naming_what_arrived(client: httpx.Client) -> None:
    answer(client)
    response = client.get("/__fake__/requests", params={"wait": 3, "timeout": 0.1})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error.startswith("waited 0.1 s for 3 request(s) to reach the fake; 1 arrived:")
    assert "POST /v1/chat/completions model=qwen/qwen3-8b -> 200 default" in error


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"wait": "two"}, "got 'two'"),
        ({"wait": -1}, "got -1"),
        ({"wait": 1.5}, "got '1.5'"),
        ({"wait": 1, "timeout": 0}, "got 0.0"),
        ({"wait": 1, "timeout": 61}, "at most 60"),
        ({"wait": 1, "timeout": "nan"}, "got nan"),
        ({"wait": 1, "timeout": "soon"}, "got 'soon'"),
    ],
)
def test_a_bad_wait_is_a_400_saying_what_to_send(
    client: httpx.Client, params: dict[str, Any], fragment: str
) -> None:
    response = client.get("/__fake__/requests", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("GET /__fake__/requests?wait=N&timeout=S waits until N requests")
    assert fragment in error
