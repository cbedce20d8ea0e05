"""``lmstudio-fake --version`` and ``--log``, as real subprocesses."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

import fake_server
import pytest_lmstudio

from .conftest import HELLO

#: ``--log``'s line: method, path, model, status, rule or default, milliseconds.
LOG_LINE = re.compile(
    r"(?P<method>[A-Z]+) (?P<path>\S+)(?: model=(?P<model>\S+))? -> (?P<status>\d{3}) "
    r"(?P<rule>rule=#\d+|default)(?: \[[^]]*\])? (?P<ms>\d+\.\d) ms"
)


def test_one_version_everywhere() -> None:
    installed = version("pytest-lmstudio")
    assert pytest_lmstudio.__version__ == fake_server.__version__ == installed
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", installed)


@pytest.mark.parametrize("command", ["module", "script"])
def test_version_prints_and_exits_zero(run: Any, command: str) -> None:
    code, out, err = run("--version", command=command).finish()
    assert (code, out, err) == (0, f"lmstudio-fake {fake_server.__version__}\n", "")


@pytest.mark.parametrize("flag", ["--log", "-v"])
def test_log_prints_one_line_per_request_to_stderr(run: Any, tmp_path: Path, flag: str) -> None:
    scenario = tmp_path / "scenario.json"
    rule = {
        "route": "chat",
        "when": {"contains": "scripted"},
        "reply": {"content": "from the rule"},
    }
    scenario.write_text(json.dumps({"rules": [rule]}), encoding="utf-8")
    server = run("--port", "0", flag, "--scenario", str(scenario))
    url = server.wait_ready()
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/v1/models")
        client.post("/v1/chat/completions", json=HELLO)
        scripted = {**HELLO, "messages": [{"role": "user", "content": "scripted, please"}]}
        assert (
            client.post("/v1/chat/completions", json=scripted).json()["choices"][0]["message"][
                "content"
            ]
            == "from the rule"
        )
        client.post("/v1/chat/completions", json={**HELLO, "model": "no/such-model"})
        client.get("/__fake__/rules")  # the admin API is not journaled, nor logged
    code, out, err = server.stop()
    assert code == 0 and out == ""
    lines = [line for line in err.splitlines() if line != "lmstudio-fake stopped"]
    matches = [LOG_LINE.fullmatch(line) for line in lines]
    assert all(matches), lines
    seen = [(m["method"], m["path"], m["model"], m["status"], m["rule"]) for m in matches if m]
    assert seen == [
        ("GET", "/v1/models", None, "200", "default"),
        ("POST", "/v1/chat/completions", "qwen/qwen3-8b", "200", "default"),
        ("POST", "/v1/chat/completions", "qwen/qwen3-8b", "200", "rule=#1"),
        ("POST", "/v1/chat/completions", "no/such-model", "400", "default"),
    ]


def test_without_log_nothing_is_printed_per_request(run: Any) -> None:
    server = run("--port", "0")
    url = server.wait_ready()
    httpx.post(url + "/v1/chat/completions", json=HELLO, timeout=10)
    code, out, err = server.stop()
    assert (code, out, err.strip()) == (0, "", "lmstudio-fake stopped")
