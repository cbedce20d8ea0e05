"""instructor in JSON_SCHEMA mode against the fake, from a venv of its own.

instructor (1.17) pins ``jiter<0.15`` while the openai SDK this repository tests with (3.57) needs
``jiter>=0.16``: the two cannot share an environment without holding openai back to 3.3. So the
test builds a venv with instructor and its own pins (cached inside the running venv, keyed by the
requirements and the Python version, so later runs reuse it), and runs ``instructor_client.py``
there against the fake's URL; the objects it prints are validated again here.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_server import FakeLMStudio

from .conftest import fits
from .models import MODELS, SupportTicket, Weather

REQUIREMENTS = ("instructor>=1.17,<2", "email-validator>=2")
CLIENT = Path(__file__).with_name("instructor_client.py")
INSTALL_TIMEOUT = 300.0
RUN_TIMEOUT = 120.0
TICKET = {
    "subject": "Cannot log in after the update",
    "priority": 4,
    "status": "pending",
    "labels": ["account", "bug"],
    "created_at": "2025-05-02T18:30:00Z",
    "assignee": None,
}


def _clean_env() -> dict[str, str]:
    """This environment without what would point the child at our tree or our venv."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "LMSTUDIO_", "VIRTUAL_ENV"))
        and name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
    }


def _cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inside the running venv (``.venv/`` under ``make test``: ``make clean`` removes it), else
    a temporary folder (no reuse)."""
    if sys.prefix != sys.base_prefix and os.access(sys.prefix, os.W_OK):
        return Path(sys.prefix) / "isolated-venvs"
    return tmp_path_factory.mktemp("isolated-venvs")


@pytest.fixture(scope="session")
def instructor_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a venv with instructor installed; built once, then reused.

    An exclusive lock serialises xdist workers; a venv counts as built only once its marker file
    is written, so an interrupted install is redone."""
    key = hashlib.sha256(f"{REQUIREMENTS}{sys.version}".encode()).hexdigest()[:12]
    root = _cache_root(tmp_path_factory)
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"instructor-{key}"
    python = venv / "bin" / "python"
    built = venv / ".built"
    with (root / f"instructor-{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)],
                check=True,
                timeout=60,
            )
            # The running pip installs into the new venv: no ensurepip, same index and cache.
            pip = [sys.executable, "-m", "pip", "--python", str(python)]
            done = subprocess.run(
                [*pip, "install", "-q", *REQUIREMENTS],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                env=_clean_env(),
                check=False,
            )
            assert done.returncode == 0, f"pip install {REQUIREMENTS}:\n{done.stderr[-3000:]}"
            built.write_text(" ".join(REQUIREMENTS) + "\n")
    return python


def run_client(python: Path, fake: FakeLMStudio, calls: list[dict[str, str]]) -> list[Any]:
    done = subprocess.run(
        [str(python), str(CLIENT)],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**_clean_env(), "LMSTUDIO_FAKE_BASE_URL": fake.base_url},
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-3000:]}"
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture
def results(fake: FakeLMStudio, instructor_python: Path) -> Iterator[tuple[list[Any], list[Any]]]:
    """One run of the client (a process start and instructor's import cost more than the
    calls): every model's default answer through the sync client, one through the async client,
    one streamed (``create_partial``) and one scripted ``reply(json=...)``. Yields what it
    printed and the bodies the fake received."""
    fake.chat.when(contains="scripted").reply(json=TICKET, times=1)
    calls = [
        {"model": model.__name__, "prompt": f"Extract a {model.__name__}.", "client": "sync"}
        for model in MODELS
    ]
    calls += [
        {"model": "Weather", "prompt": "Weather in Oslo?", "client": "async"},
        {"model": "Weather", "prompt": "Weather in Oslo?", "client": "partial"},
        {"model": "SupportTicket", "prompt": "The scripted ticket.", "client": "sync"},
    ]
    printed = run_client(instructor_python, fake, calls)
    yield printed, [json.loads(r.body) for r in fake.requests]


# A first run builds the venv (about 30 s with a warm pip cache, longer on a cold one).
@pytest.mark.timeout(INSTALL_TIMEOUT + RUN_TIMEOUT)
def test_json_schema_mode_gives_validated_objects(
    results: tuple[list[Any], list[Any]],
) -> None:
    printed, bodies = results
    assert len(printed) == len(MODELS) + 3
    assert len(bodies) == len(printed)  # no retry: every first answer validated
    errors = [p for p in printed if "error" in p]
    assert not errors, "\n".join(f"{p['model']}: {p['error']}" for p in errors)

    *defaults, by_async, by_stream, scripted = zip(printed, bodies, strict=True)
    for (result, body), model in zip(defaults, MODELS, strict=True):
        assert result["model"] == model.__name__
        response_format = body["response_format"]
        assert response_format["type"] == "json_schema"
        assert response_format["json_schema"]["name"] == model.__name__
        schema = response_format["json_schema"]["schema"]
        model.model_validate(result["output"])
        fits(schema, result["output"])

    for result, body in (by_async, by_stream):
        Weather.model_validate(result["output"])
        fits(body["response_format"]["json_schema"]["schema"], result["output"])
    assert by_stream[1]["stream"] is True  # instructor names the schema PartialWeather

    assert SupportTicket.model_validate(scripted[0]["output"]) == SupportTicket.model_validate(
        TICKET
    )
