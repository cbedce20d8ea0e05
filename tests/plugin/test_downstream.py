"""A downstream project: our package installed into a fresh venv, whose tests use ``lmstudio_fake``.

Proof that packaging, the ``pytest11`` entry point and the shipped schemas work outside our source
tree. The package is built the standard way, ``python -m build``: the sdist, then the wheel built
from that sdist (what ``pip install <sdist>`` does too), so an sdist that lacks a file the wheel
needs fails here. Slow (two isolated builds and a venv install, several seconds with a warm pip
cache and up to a few minutes with a cold one), so it runs once per session on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
BUILD_TIMEOUT_SECONDS = 300
INSTALL_TIMEOUT_SECONDS = 300
RUN_TIMEOUT_SECONDS = 120

PYPROJECT = """\
[project]
name = "downstream"
version = "0"

[tool.pytest.ini_options]
asyncio_mode = "strict"
asyncio_default_fixture_loop_scope = "function"
filterwarnings = ["error"]
"""

TESTS = """\
import gc
import json
from pathlib import Path

import fake_server
import pytest_lmstudio
import pytest

from fake_server._schemas import _root

from pytest_lmstudio import CompletionRequest, Message

REQUEST = CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user("Capital of France?")])


def test_sync(lmstudio_fake, lmstudio_sync_provider):
    lmstudio_fake.chat.reply("Paris.")
    assert lmstudio_sync_provider.complete(REQUEST).content == "Paris."
    assert lmstudio_fake.requests[-1].json["messages"][0]["content"] == "Capital of France?"


@pytest.mark.asyncio
async def test_async(lmstudio_fake, lmstudio_provider):
    lmstudio_fake.chat.stream(["Pa", "ris."])
    pieces = [chunk.content async for chunk in lmstudio_provider.stream(REQUEST)]
    assert "".join(pieces) == "Paris."


@pytest.mark.lmstudio(scenario="scenario.json", seed=3)
def test_marker_and_a_scenario_checked_against_the_shipped_schema(lmstudio_fake):
    assert [model.id for model in lmstudio_fake.catalog][-1] == "acme/tiny-1b"
    assert lmstudio_fake.seed == 3


def test_the_fake_validates_requests_with_the_shipped_schemas(lmstudio_fake):
    import httpx

    body = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "x"}],
            "temperature": 5}
    response = httpx.post(lmstudio_fake.url + "/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert "temperature" in json.dumps(response.json())


def test_installed_not_from_the_source_tree():
    for module in (fake_server, pytest_lmstudio):
        assert "site-packages" in Path(module.__file__).parts, module.__file__
    schemas = Path(fake_server.__file__).parent / "schemas"
    assert (schemas / "scenario.schema.json").is_file()
    assert Path(str(_root())) == schemas  # not a schemas/ folder found elsewhere


def test_lmstudio_env_with_the_openai_sdk(lmstudio_env, lmstudio_fake):
    import openai

    lmstudio_fake.chat.reply("from the environment")
    with openai.OpenAI(max_retries=0) as client:  # OPENAI_BASE_URL and OPENAI_API_KEY
        answer = client.chat.completions.create(
            model="qwen/qwen3-8b", messages=[{"role": "user", "content": "hi"}]
        )
    assert answer.choices[0].message.content == "from the environment"


def test_the_wired_openai_client(lmstudio_openai, lmstudio_fake):
    lmstudio_fake.chat.reply("Paris.")
    answer = lmstudio_openai.chat.completions.create(
        model="qwen/qwen3-8b", messages=[{"role": "user", "content": "Capital of France?"}]
    )
    assert answer.choices[0].message.content == "Paris."


@pytest.mark.asyncio
async def test_the_wired_async_openai_client(lmstudio_async_openai, lmstudio_fake):
    lmstudio_fake.chat.stream(["Pa", "ris."])
    stream = await lmstudio_async_openai.chat.completions.create(
        model="qwen/qwen3-8b", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    pieces = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert "".join(p for p in pieces if p) == "Paris."


def test_the_version(lmstudio_fake):
    assert pytest_lmstudio.__version__ == fake_server.__version__


def test_nothing_was_left_open():
    gc.collect()
"""

SCENARIO = '{"models": [{"id": "acme/tiny-1b"}]}'


def _run(args: list[str], *, timeout: float, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env() -> dict[str, str]:
    """This environment without what would point the child at our tree or change its pytest."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "LMSTUDIO_", "COV_", "VIRTUAL_ENV"))
        and name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
    }


@dataclass(frozen=True)
class Installed:
    sdist: Path
    wheel: Path  # built from the sdist
    python: Path  # of a fresh venv with the wheel, pytest-asyncio and openai installed


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Our sdist, the wheel built from it, and a fresh venv with that wheel installed."""
    work = tmp_path_factory.mktemp("downstream-build")
    env = _clean_env()
    # Neither --sdist nor --wheel: the sdist, then the wheel from the unpacked sdist, each in an
    # isolated environment with the build-system requirements, as a release build does.
    _run(
        [sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(ROOT)],
        timeout=BUILD_TIMEOUT_SECONDS,
        cwd=work,
        env=env,
    )
    [sdist] = (work / "dist").glob("pytest_lmstudio-*.tar.gz")
    [wheel] = (work / "dist").glob("pytest_lmstudio-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=60, cwd=work)
    python = venv / "bin" / "python"
    # The running pip installs into the new venv: no ensurepip, same index and cache settings.
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            str(wheel),
            "pytest-asyncio",
            "openai",
        ],
        timeout=INSTALL_TIMEOUT_SECONDS,
        cwd=work,
        env=env,
    )
    return Installed(sdist=sdist, wheel=wheel, python=python)


def _assert_each_schema_shipped_once(sdist: Path, wheel: Path) -> None:
    """The sdist has the schema files at schemas/, the wheel inside the package; no other copy."""
    names = sorted(path.relative_to(SCHEMAS).as_posix() for path in SCHEMAS.rglob("*.json"))
    assert names and "scenario.schema.json" in names
    top = sdist.name.removesuffix(".tar.gz") + "/"
    with tarfile.open(sdist) as archive:
        members = archive.getmembers()
    assert [m.name for m in members if not (m.isfile() or m.isdir())] == []  # no links
    in_sdist = [m.name.removeprefix(top) for m in members]
    assert sorted(n for n in in_sdist if n.endswith(".json") and not n.startswith("tests/")) == [
        f"schemas/{name}" for name in names
    ]
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = archive.namelist()
    assert len(in_wheel) == len(set(in_wheel))
    assert sorted(n for n in in_wheel if n.endswith(".json")) == [
        f"fake_server/schemas/{name}" for name in names
    ]
    assert [n for n in in_wheel if "schemas/" in n and not n.startswith("fake_server/")] == []


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT_SECONDS + INSTALL_TIMEOUT_SECONDS + RUN_TIMEOUT_SECONDS + 60)
def test_a_downstream_project_uses_the_plugin_built_from_the_sdist(
    installed: Installed, tmp_path: Path
) -> None:
    _assert_each_schema_shipped_once(installed.sdist, installed.wheel)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "scenario.json").write_text(SCENARIO, encoding="utf-8")
    (tmp_path / "test_downstream_app.py").write_text(textwrap.dedent(TESTS), encoding="utf-8")
    assert not (tmp_path / "conftest.py").exists()
    output = _run(
        [str(installed.python), "-m", "pytest", "-p", "no:cacheprovider", "-v", "--trace-config"],
        timeout=RUN_TIMEOUT_SECONDS,
        cwd=tmp_path,
        env=_clean_env(),
    )
    site_packages = f"{os.sep}site-packages{os.sep}pytest_lmstudio{os.sep}plugin.py"
    import pytest_lmstudio

    name = f"pytest-lmstudio-{pytest_lmstudio.__version__} at "
    registered = [line for line in output.splitlines() if name in line]
    assert registered and site_packages in registered[0], output
    assert "PLUGIN registered: <module 'pytest_lmstudio.plugin'" in output
    assert any(line.startswith("lmstudio: fake http://127.0.0.1:") for line in output.splitlines())
    assert "10 passed" in output, output
    assert str(ROOT) not in output.replace(str(tmp_path), "")
