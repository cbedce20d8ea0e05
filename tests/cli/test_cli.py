"""The ``lmstudio-fake`` command and ``python -m fake_server`` as real subprocesses (the
helpers are in ``conftest.py``)."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio

from .conftest import DEFAULT_IDS, HELLO, get_json, refused


# -- start, answer, stop ------------------------------------------------------------------
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command", ["module", "script"])
def test_starts_answers_and_exits_cleanly_on_signal(run: Any, command: str, signum: int) -> None:
    server = run("--port", "0", command=command)
    url = server.wait_ready()
    assert int(url.rsplit(":", 1)[1]) > 0

    document = get_json(url, "/v1/models")
    assert [m["id"] for m in document["data"]] == DEFAULT_IDS
    chat = httpx.post(url + "/v1/chat/completions", json=HELLO, timeout=10)
    assert chat.status_code == 200
    assert chat.json()["object"] == "chat.completion"

    code, out, err = server.stop(signum)
    assert code == 0, err
    assert out == "", "only the ready line goes to stdout"
    assert "Traceback" not in err
    assert "lmstudio-fake stopped" in err


def test_help_exits_zero(run: Any) -> None:
    code, out, err = run("--help", command="script").finish()
    assert code == 0
    for option in ("--port", "--scenario", "--journal", "--allow-remote", "--no-jit"):
        assert option in out
    assert err == ""


# -- --journal ----------------------------------------------------------------------------
def test_journal_file_has_one_complete_line_per_request(run: Any, tmp_path: Path) -> None:
    journal = tmp_path / "requests.jsonl"
    journal.write_text('{"kept": true}\n', encoding="utf-8")  # appended to, not replaced
    server = run("--port", "0", "--journal", str(journal))
    url = server.wait_ready()

    get_json(url, "/v1/models")
    httpx.post(url + "/v1/chat/completions", json=HELLO, timeout=10)
    with httpx.stream(
        "POST", url + "/v1/chat/completions", json={**HELLO, "stream": True}, timeout=10
    ) as response:
        frames = [line for line in response.iter_lines() if line]
    assert frames[-1] == "data: [DONE]"
    httpx.post(url + "/v1/chat/completions", json={"model": "qwen/qwen3-8b"}, timeout=10)
    get_json(url, "/__fake__/requests")  # admin calls are not journaled

    code, _, err = server.stop(signal.SIGTERM)
    assert code == 0, err

    text = journal.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = text.splitlines()
    assert json.loads(lines[0]) == {"kept": True}
    entries = [json.loads(line) for line in lines[1:]]
    assert [(e["method"], e["path"], e["status"], e["stream"]) for e in entries] == [
        ("GET", "/v1/models", 200, False),
        ("POST", "/v1/chat/completions", 200, False),
        ("POST", "/v1/chat/completions", 200, True),
        ("POST", "/v1/chat/completions", 400, False),
    ]
    assert entries[1]["json"] == HELLO
    assert entries[1]["model"] == "qwen/qwen3-8b"
    assert entries[3]["json"] == {"model": "qwen/qwen3-8b"}


# -- --scenario ---------------------------------------------------------------------------
SCENARIO_JSON = """{
  "models": [{"id": "acme/tiny-llm", "loaded": true, "context_length": 2048}],
  "rules": [
    {"route": "chat", "times": 1, "reply": {"content": "scripted hello"}},
    {"route": "chat", "when": {"contains": "weather"}, "reply": {"content": "sunny"}}
  ]
}
"""

SCENARIO_TOML = """\
[[models]]
id = "acme/tiny-llm"
loaded = true
context_length = 2048

[[rules]]
route = "chat"
times = 1
reply = { content = "scripted hello" }

[[rules]]
route = "chat"
when = { contains = "weather" }
reply = { content = "sunny" }
"""


@pytest.mark.parametrize(("suffix", "text"), [(".json", SCENARIO_JSON), (".toml", SCENARIO_TOML)])
def test_scenario_file_models_and_rules_are_served(
    run: Any, tmp_path: Path, suffix: str, text: str
) -> None:
    scenario = tmp_path / f"scenario{suffix}"
    scenario.write_text(text, encoding="utf-8")
    server = run("--port", "0", "--scenario", str(scenario), command="script")
    url = server.wait_ready()

    ids = [m["id"] for m in get_json(url, "/v1/models")["data"]]
    assert ids == [*DEFAULT_IDS, "acme/tiny-llm"]
    native = get_json(url, "/api/v0/models/acme/tiny-llm")
    assert (native["state"], native["max_context_length"]) == ("loaded", 2048)

    def answer(content: str) -> str:
        body = {"model": "acme/tiny-llm", "messages": [{"role": "user", "content": content}]}
        response = httpx.post(url + "/v1/chat/completions", json=body, timeout=10)
        assert response.status_code == 200, response.text
        text: str = response.json()["choices"][0]["message"]["content"]
        return text

    assert answer("hi") == "scripted hello"
    assert answer("and the weather?") == "sunny"
    assert answer("hi") not in ("scripted hello", "sunny")

    rules = get_json(url, "/__fake__/rules")["rules"]
    assert [(r["times"], r["calls"]) for r in rules] == [(1, 1), (None, 1)]
    assert f"(scripted at {scenario} $.rules[0])" in rules[0]["description"]

    # The admin reset returns to the scenario, not to an empty fake.
    assert httpx.post(url + "/__fake__/reset", timeout=10).status_code == 200
    rules = get_json(url, "/__fake__/rules")["rules"]
    assert [(r["times"], r["calls"]) for r in rules] == [(1, 0), (None, 0)]
    assert answer("hi") == "scripted hello"
    assert "acme/tiny-llm" in [m["id"] for m in get_json(url, "/v1/models")["data"]]

    code, _, err = server.stop()
    assert code == 0, err


# -- settings -----------------------------------------------------------------------------
def test_seed_gives_the_in_process_fakes_answer(run: Any) -> None:
    server = run("--port", "0", "--seed", "7")
    url = server.wait_ready()
    over_cli = httpx.post(url + "/v1/chat/completions", json=HELLO, timeout=10).json()
    server.stop()

    def in_process(seed: int) -> Any:
        with FakeLMStudio(seed=seed) as fake:
            return httpx.post(fake.url + "/v1/chat/completions", json=HELLO, timeout=10).json()

    same = in_process(7)
    assert over_cli["choices"] == same["choices"]
    assert over_cli["id"] == same["id"]
    assert over_cli["choices"] != in_process(0)["choices"]


def test_profile_openai_adds_created_to_models(run: Any) -> None:
    server = run("--port", "0", "--profile", "openai", command="script")
    url = server.wait_ready()
    document = get_json(url, "/v1/models")
    assert list(document) == ["object", "data"]
    for entry in document["data"]:
        assert isinstance(entry["created"], int)
    server.stop()


def test_default_profile_models_have_no_created(run: Any) -> None:
    server = run("--port", "0")
    url = server.wait_ready()
    for entry in get_json(url, "/v1/models")["data"]:
        assert list(entry) == ["id", "object", "owned_by"]
    server.stop()


def test_no_jit_lists_only_loaded_models(run: Any) -> None:
    server = run("--port", "0", "--no-jit")
    url = server.wait_ready()
    assert [m["id"] for m in get_json(url, "/v1/models")["data"]] == ["qwen/qwen3-8b"]
    body = {"model": "qwen2-vl-7b-instruct", "messages": HELLO["messages"]}
    response = httpx.post(url + "/v1/chat/completions", json=body, timeout=10)
    assert response.status_code == 400
    server.stop()


def test_api_token_is_required(run: Any) -> None:
    token = "sk-lm-abcd1234:abcdefghij0123456789"
    server = run("--port", "0", "--api-token", token, command="script")
    url = server.wait_ready()

    missing = httpx.get(url + "/v1/models", timeout=10)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"
    wrong = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401
    document = get_json(url, "/v1/models", headers={"Authorization": f"Bearer {token}"})
    assert document["object"] == "list"
    assert get_json(url, "/lmstudio-greeting") == {"lmstudio": True}  # probes need no token
    server.stop()


def test_cors_answers_preflights(run: Any) -> None:
    server = run("--port", "0", "--cors")
    url = server.wait_ready()
    preflight = httpx.options(
        url + "/v1/models",
        headers={"Origin": "http://app.test", "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert httpx.get(url + "/v1/models", timeout=10).headers["Access-Control-Allow-Origin"] == "*"
    server.stop()


# -- refusals -----------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
@pytest.mark.parametrize("command", ["module", "script"])
def test_non_loopback_host_is_refused_without_allow_remote(
    run: Any, command: str, host: str
) -> None:
    # The check comes before any socket is bound, so nothing listens on `host` here.
    code, err = refused(run, "--host", host, "--port", "0", command=command)
    assert code != 0
    assert f"refusing to listen on {host}" in err
    assert "--allow-remote" in err


def test_port_in_use_exits_2(run: Any) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = refused(run, "--port", str(port))
    assert code == 2
    assert err.startswith("lmstudio-fake: ")
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "in use" in err.lower()


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "unknown-key.json",
            '{"rules": [{"route": "chat", "repy": {"content": "x"}}]}',
            ["$.rules[0]", "'repy' was unexpected"],
        ),
        ("wrong-type.json", '{"seed": "seven"}', ["$.seed", "'seven' is not of type 'integer'"]),
        (
            "bad-value.toml",
            '[[models]]\nid = "m"\ntype = "chatbot"\n',
            ["$.models[0].type", "'chatbot'"],
        ),
        ("broken.json", '{\n  "seed": 1,\n}\n', ["not valid JSON", "line 3 column 1"]),
        ("broken.toml", "seed = \n", ["not valid TOML", "line 1"]),
    ],
)
def test_bad_scenario_exits_2_naming_the_field(
    run: Any, tmp_path: Path, name: str, text: str, expected: list[str]
) -> None:
    scenario = tmp_path / name
    scenario.write_text(text, encoding="utf-8")
    code, err = refused(run, "--port", "0", "--scenario", str(scenario), command="script")
    assert code == 2
    assert err.startswith(f"lmstudio-fake: {scenario}")
    for fragment in expected:
        assert fragment in err


def test_missing_scenario_file_exits_2(run: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    code, err = refused(run, "--port", "0", "--scenario", str(missing))
    assert code == 2
    assert f"{missing}: cannot read the scenario file" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--port", "70000"], "--port must be from 0 to 65535, got 70000"),
        (["--port", "-1"], "--port must be from 0 to 65535, got -1"),
        (["--port", "http"], "invalid int value: 'http'"),
        (["--seed", "-3"], "--seed must be a non-negative integer"),
        (["--profile", "ollama"], "invalid choice: 'ollama'"),
        (["--port", "0", "--journal", "no/such/dir/j.jsonl"], "cannot open --journal"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(run: Any, args: list[str], fragment: str) -> None:
    code, err = refused(run, *args)
    assert code == 2
    assert fragment in err
    assert "usage: lmstudio-fake" in err


def test_journal_records_a_request_in_flight_at_sigterm(run: Any, tmp_path: Path) -> None:
    scenario = tmp_path / "slow.json"
    slow = {"chunks": ["a"] * 40, "interval": 0.25}
    scenario.write_text(json.dumps({"rules": [{"route": "chat", "stream": slow}]}))
    journal = tmp_path / "requests.jsonl"
    server = run("--port", "0", "--scenario", str(scenario), "--journal", str(journal))
    url = server.wait_ready()
    started = threading.Event()

    def stream() -> None:
        body = {**HELLO, "stream": True}
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=10) as response,
        ):
            for _ in response.iter_lines():
                started.set()

    client = threading.Thread(target=stream, daemon=True)
    client.start()
    assert started.wait(10), "the stream did not start"
    code, _, err = server.stop(signal.SIGTERM)
    client.join(10)
    assert code == 0, err

    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert [(e["method"], e["path"], e["stream"]) for e in entries] == [
        ("POST", "/v1/chat/completions", True)
    ]
    assert entries[0]["json"] == {**HELLO, "stream": True}


def test_flags_win_over_the_scenario_and_the_scenario_over_defaults(
    run: Any, tmp_path: Path
) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"api_token": None, "profile": "openai", "jit": True}))
    server = run("--port", "0", "--api-token", "secret", "--no-jit", "--scenario", str(scenario))
    url = server.wait_ready()
    assert httpx.get(url + "/v1/models", timeout=10).status_code == 401  # --api-token won
    listed = get_json(url, "/v1/models", headers={"Authorization": "Bearer secret"})
    assert [m["id"] for m in listed["data"]] == ["qwen/qwen3-8b"]  # --no-jit won
    assert "created" in listed["data"][0]  # the scenario's profile applies
    server.stop()


# -- the API token off the command line -------------------------------------------------
def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.parametrize("source", ["file", "environment"])
def test_the_api_token_can_stay_out_of_ps(run: Any, tmp_path: Path, source: str) -> None:
    secret = "sk-lm-tok3n:s3cr3t"
    if source == "file":
        (tmp_path / "token").write_text(secret + "\n", encoding="utf-8")
        server = run("--port", "0", "--api-token-file", str(tmp_path / "token"))
    else:
        server = run("--port", "0", env={"LMSTUDIO_FAKE_API_TOKEN": secret})
    url = server.wait_ready()
    assert secret not in _cmdline(server.process.pid)
    assert httpx.get(url + "/v1/models", timeout=10).status_code == 401
    authorized = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(url + "/v1/models", headers=authorized, timeout=10).status_code == 200
    server.stop()


def test_an_empty_token_file_is_refused(run: Any, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n", encoding="utf-8")
    code, err = refused(run, "--port", "0", "--api-token-file", str(tmp_path / "token"))
    assert code == 2 and "is empty" in err


def test_allow_remote_without_a_token_warns(run: Any) -> None:
    server = run("--port", "0", "--allow-remote")
    server.wait_ready()
    code, _, err = server.stop()
    assert code == 0
    assert "warning: --allow-remote without an API token" in err


def test_lm_studios_settings_from_flags(run: Any) -> None:
    server = run(
        "--port", "0", "--no-jit", "--single-loaded-fallback", "--no-auto-evict",
        "--reasoning-format", "think", "--profile", "lmstudio-0.3.9",
    )  # fmt: skip
    url = server.wait_ready()
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    answer = httpx.post(url + "/v1/chat/completions", json=body, timeout=10)
    assert answer.status_code == 200 and answer.json()["model"] == "qwen/qwen3-8b"  # #619
    assert get_json(url, "/lms-status")["version"] == "0.3.9"
    code, _, err = server.stop()
    assert code == 0, err
