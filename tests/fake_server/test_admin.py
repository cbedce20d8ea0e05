"""The admin API under ``/__fake__``, over HTTP, as a test in another language would use it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio

MODEL = "qwen/qwen3-8b"
HELLO = {"model": MODEL, "messages": [{"role": "user", "content": "Hello there"}]}
SOURCE = "POST /__fake__/scenario"

SCENARIO: dict[str, Any] = {
    "seed": 3,
    "models": [{"id": "acme/tiny-llm", "loaded": True}],
    "rules": [
        {"route": "chat", "times": 2, "reply": {"content": "scripted"}},
        {"route": "models", "times": 1, "fail": {"status": 503, "retry_after": 1}},
    ],
}

SCENARIO_TOML = """\
seed = 3

[[models]]
id = "acme/tiny-llm"
loaded = true

[[rules]]
route = "chat"
times = 2
reply = { content = "scripted" }

[[rules]]
route = "models"
times = 1
fail = { status = 503, retry_after = 1 }
"""


def answer_text(client: httpx.Client) -> str:
    response = client.post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 200, response.text
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


def journal(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/__fake__/requests")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def assert_scenario_loaded(fake: FakeLMStudio, client: httpx.Client) -> None:
    assert fake.seed == 3
    assert "acme/tiny-llm" in [m.id for m in fake.catalog]
    models = client.get("/v1/models")
    assert (models.status_code, models.headers["Retry-After"]) == (503, "1")
    assert "acme/tiny-llm" in [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert answer_text(client) == "scripted"


# -- POST /__fake__/scenario --------------------------------------------------------------
def test_post_json_scenario(fake: FakeLMStudio, client: httpx.Client) -> None:
    response = client.post("/__fake__/scenario", json=SCENARIO)
    assert response.status_code == 200
    assert response.json() == {"loaded": True, "replaced": False, "rules": 2, "models": 5}
    assert_scenario_loaded(fake, client)


@pytest.mark.parametrize(
    "content_type", ["application/toml", "application/toml; charset=utf-8", "text/x-toml"]
)
def test_post_toml_scenario(fake: FakeLMStudio, client: httpx.Client, content_type: str) -> None:
    response = client.post(
        "/__fake__/scenario",
        content=SCENARIO_TOML.encode(),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"loaded": True, "replaced": False, "rules": 2, "models": 5}
    assert_scenario_loaded(fake, client)


def test_rules_loaded_over_http_name_the_admin_call(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    client.post("/__fake__/scenario", json=SCENARIO)
    descriptions = [r["description"] for r in client.get("/__fake__/rules").json()["rules"]]
    assert descriptions == [
        f"fake.chat.reply('scripted') times=2 (scripted at {SOURCE} $.rules[0])",
        f"fake.models.fail(503) times=1 (scripted at {SOURCE} $.rules[1])",
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "path", "fragments"),
    [
        (
            {"rules": [{"route": "chat", "repy": {"content": "x"}}]},
            None,
            "$.rules[0]",
            [f"{SOURCE} at $.rules[0]: ", "'repy' was unexpected"],
        ),
        ({"seed": "x"}, None, "$.seed", [f"{SOURCE} at $.seed: ", "is not of type 'integer'"]),
        (
            {"rules": [{"route": "chat", "reply": {"content": "x"}, "raw": {"body": "x"}}]},
            None,
            "$.rules[0]",
            ["exactly one action", "reply, raw"],
        ),
        (
            {"rules": [{"route": "embeddings", "stream": {"chunks": ["a"]}}]},
            None,
            "$.rules[0]",
            [f"{SOURCE} at $.rules[0]: ", "fake.embeddings does not stream"],
        ),
        (
            '{\n  "seed": 1,\n}',
            "application/json",
            "",
            [f"{SOURCE}: not valid JSON: ", "(line 3 column 1)"],
        ),
        (
            'seed = 1\n[[rules]\nroute = "chat"\n',
            "application/toml",
            "",
            [f"{SOURCE}: not valid TOML: ", "line 2, column 8"],
        ),
        ('seed = "x"', "application/toml", "$.seed", ["is not of type 'integer'"]),
        ("[1, 2]", "application/json", "", [f"{SOURCE}: a scenario must be a JSON object"]),
        ("", "application/json", "", [f"{SOURCE}: the body is empty"]),
        (b"\xff\xfe", "application/toml", "", [f"{SOURCE}: the body is not valid UTF-8"]),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "two-actions",
        "fails-half-way",
        "invalid-json",
        "invalid-toml",
        "toml-wrong-type",
        "not-an-object",
        "empty",
        "not-utf8",
    ],
)
def test_bad_scenario_is_a_400_with_error_and_path(
    fake: FakeLMStudio,
    client: httpx.Client,
    body: Any,
    content_type: str | None,
    path: str,
    fragments: list[str],
) -> None:
    fake.chat.reply("kept", times=1)
    before = (fake.seed, [m.id for m in fake.catalog], [r.id for r in fake.rules])
    if content_type is None:
        response = client.post("/__fake__/scenario", json=body)
    else:
        content = body.encode() if isinstance(body, str) else body
        response = client.post(
            "/__fake__/scenario", content=content, headers={"Content-Type": content_type}
        )
    assert response.status_code == 400
    document = response.json()
    assert set(document) == {"error", "path"}
    assert document["path"] == path
    for fragment in fragments:
        assert fragment in document["error"]
    assert "<scenario>" not in document["error"]
    assert (fake.seed, [m.id for m in fake.catalog], [r.id for r in fake.rules]) == before
    assert answer_text(client) == "kept"


# -- the journal --------------------------------------------------------------------------
def test_requests_lists_the_journal(fake: FakeLMStudio, client: httpx.Client) -> None:
    client.post("/__fake__/scenario", json={"rules": SCENARIO["rules"][:1]})
    client.post("/v1/chat/completions", json=HELLO)
    fake.reset()  # from Python too: the journal is one
    client.post("/__fake__/scenario", json={"rules": SCENARIO["rules"][:1]})
    client.post("/v1/chat/completions", json=HELLO)
    client.get("/v1/models", params={"x": "1"})
    client.post("/v1/chat/completions", json={"model": MODEL})
    client.post("/v1/embeddings", content=b"{broken", headers={"Content-Type": "text/plain"})

    document = journal(client)
    assert (document["total"], document["dropped"]) == (4, 0)
    entries = document["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/v1/chat/completions", 200),
        ("GET", "/v1/models", 200),
        ("POST", "/v1/chat/completions", 400),
        ("POST", "/v1/embeddings", 400),
    ]
    scripted, listed, bad, broken = entries
    assert scripted["json"] == HELLO
    assert scripted["body"] is None
    assert scripted["model"] == MODEL
    assert scripted["stream"] is False
    assert (
        scripted["rule"] == f"fake.chat.reply('scripted') times=2 (scripted at {SOURCE} $.rules[0])"
    )
    assert scripted["headers"]["Content-Type"] == "application/json"
    assert isinstance(scripted["time"], float)
    assert scripted["duration"] >= 0
    assert scripted["error"] is None
    assert (listed["query"], listed["rule"], listed["json"]) == ("x=1", None, None)
    assert bad["json"] == {"model": MODEL}
    assert bad["rule"] is None
    assert (broken["json"], broken["body"]) == (None, "{broken")
    json.dumps(document)  # JSON all the way down


def test_journal_matches_fake_requests(fake: FakeLMStudio, client: httpx.Client) -> None:
    client.post("/v1/chat/completions", json=HELLO)
    client.get("/lmstudio-greeting")
    assert journal(client)["requests"] == [e.to_dict() for e in fake.requests]


def test_delete_requests_empties_the_journal(fake: FakeLMStudio, client: httpx.Client) -> None:
    client.get("/v1/models")
    fake.chat.reply("kept")
    response = client.delete("/__fake__/requests")
    assert (response.status_code, response.json()) == (200, {"cleared": True})
    assert journal(client) == {"requests": [], "total": 0, "dropped": 0}
    assert fake.requests == []
    assert answer_text(client) == "kept"  # rules stay


def test_admin_calls_are_not_journaled_and_need_the_token_when_one_is_set(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.require_api_token("secret-token")
    assert client.get("/v1/models").status_code == 401
    refused = client.get("/__fake__/rules")
    assert refused.status_code == 401
    assert "Authorization: Bearer" in refused.json()["error"]
    auth = {"Authorization": "Bearer secret-token"}
    calls = [
        client.post("/__fake__/scenario", json={"seed": 5}, headers=auth),
        client.get("/__fake__/rules", headers=auth),
        client.get("/__fake__/check", headers=auth),
        client.get("/__fake__/requests", headers=auth),
    ]
    assert [c.status_code for c in calls] == [200, 200, 200, 200]
    entries = calls[-1].json()["requests"]
    assert [(e["path"], e["status"]) for e in entries] == [("/v1/models", 401)]
    assert client.delete("/__fake__/requests", headers=auth).status_code == 200
    assert client.post("/__fake__/reset", headers=auth).status_code == 200
    assert fake.requests == []
    assert fake.api_token is None
    assert client.get("/__fake__/rules").status_code == 200  # no token after the reset


def test_the_journal_over_http_redacts_the_token(fake: FakeLMStudio, client: httpx.Client) -> None:
    client.get("/v1/models", headers={"Authorization": "Bearer sk-lm-abcdefgh:secretsecret"})
    (entry,) = journal(client)["requests"]
    assert entry["headers"]["Authorization"] == "Bearer [redacted]"  # no part of the secret
    assert fake.requests[0].headers["authorization"].endswith("secretsecret")  # in process: all


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/__fake__/scenarios"),
        ("GET", "/__fake__/scenario"),
        ("PUT", "/__fake__/requests"),
        ("GET", "/__fake__"),
        ("GET", "/__fake__/"),
    ],
)
def test_unknown_admin_call_is_a_404_listing_the_admin_api(
    fake: FakeLMStudio, client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path, json={"seed": 5})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error.startswith(f"no admin endpoint {method} {path};")
    assert "POST /__fake__/scenario" in error
    assert "GET /__fake__/check" in error
    assert fake.seed == 0
    assert fake.requests == []


# -- reset, rules, check ------------------------------------------------------------------
def test_reset_restores_the_defaults(fake: FakeLMStudio, client: httpx.Client) -> None:
    client.post("/__fake__/scenario", json={**SCENARIO, "profile": "openai", "jit": False})
    client.post("/v1/chat/completions", json=HELLO)
    fake.require_api_token("secret-token")

    response = client.post("/__fake__/reset", headers={"Authorization": "Bearer secret-token"})
    assert (response.status_code, response.json()) == (200, {"reset": True})
    assert (fake.seed, fake.profile, fake.jit, fake.api_token) == (0, "lmstudio", True, None)
    assert fake.rules == []
    assert journal(client)["requests"] == []
    listed = client.get("/v1/models").json()["data"]
    assert "acme/tiny-llm" not in [m["id"] for m in listed]
    assert answer_text(client) != "scripted"


def test_rules_lists_times_and_calls(fake: FakeLMStudio, client: httpx.Client) -> None:
    assert client.get("/__fake__/rules").json() == {"rules": []}
    first = fake.chat.when(contains="weather").reply("sunny", times=2)
    second = fake.embeddings.fail(500)
    client.post(
        "/v1/chat/completions",
        json={**HELLO, "messages": [{"role": "user", "content": "weather?"}]},
    )
    rules = client.get("/__fake__/rules").json()["rules"]
    assert rules == [
        {
            "id": first.id,
            "route": "chat",
            "description": first.describe(),
            "times": 2,
            "calls": 1,
        },
        {
            "id": second.id,
            "route": "embeddings",
            "description": second.describe(),
            "times": None,
            "calls": 0,
        },
    ]
    assert rules[0]["description"].startswith("fake.chat.when(contains='weather').reply('sunny')")
    assert __file__ in rules[0]["description"]


def test_check_is_409_while_a_times_rule_is_unused(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    assert client.get("/__fake__/check").json() == {"ok": True}
    client.post(
        "/__fake__/scenario",
        json={"rules": [{"route": "chat", "times": 2, "reply": {"content": "x"}}]},
    )
    fake.chat.fail(500)  # no times: never reported
    client.post("/v1/chat/completions", json=HELLO)

    response = client.get("/__fake__/check")
    assert response.status_code == 409
    document = response.json()
    assert document["ok"] is False
    assert document["message"].startswith("1 scripted rule(s) not used as often as expected:")
    assert f"(scripted at {SOURCE} $.rules[0]): used 1 of 2" in document["message"]
    assert "POST /v1/chat/completions model=qwen/qwen3-8b -> 200" in document["message"]

    client.post("/v1/chat/completions", json=HELLO)
    response = client.get("/__fake__/check")
    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_check_reports_errors_inside_the_server() -> None:
    def broken(entry: object) -> None:
        raise RuntimeError("callback bug")

    with (
        FakeLMStudio(on_request=broken) as fake,
        httpx.Client(base_url=fake.url, timeout=10) as client,
    ):
        assert client.get("/v1/models").status_code == 200
        response = client.get("/__fake__/check")
    assert response.status_code == 409
    message = response.json()["message"]
    assert message.startswith("1 error(s) inside the fake server:")
    assert "on_request callback failed: RuntimeError('callback bug')" in message
