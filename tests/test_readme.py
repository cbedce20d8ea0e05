"""The README's examples are tests: every ``python`` block runs (the plugin section's run as
a project in tests/plugin), every ``json`` block is a
scenario the fake accepts, every ``toml`` block is a provider config file.

The provider's examples are production code that finds LM Studio through the environment, so
each block runs with ``LMSTUDIO_ENDPOINT`` pointed at a fake LM Studio and no LM Studio home.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import LMStudioConfig

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


PLUGIN_SECTION = "## Test your code with the pytest plugin"


def blocks(language: str) -> list[str]:
    """The README's blocks, except the plugin section's: those are test files, which
    tests/plugin/test_readme_examples.py runs with the plugin."""
    text = README.read_text()
    before, _, rest = text.partition(PLUGIN_SECTION)
    after = rest.split("\n## ", 1)[1] if "\n## " in rest else ""
    return [body for lang, body in BLOCK.findall(before + after) if lang == language]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


def test_readme_opens_with_the_two_commands() -> None:
    first = blocks("sh")[0].splitlines()
    assert first[0].startswith("make serve") and first[1].startswith("make test")


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[-1][:40])
def test_python_example_runs(
    code: str,
    server: FakeLMStudio,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.reset()
    for variable in ("LMSTUDIO_CONFIG", "LMSTUDIO_API_TOKEN", "LMSTUDIO_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LMSTUDIO_ENDPOINT", server.url)
    monkeypatch.setenv("HOME", str(tmp_path))  # discover(): no LM Studio home here
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    if "LMStudioProvider()" in code:  # production code reading its environment
        assert server.requests, "the example never reached the server"
        assert capsys.readouterr().out.strip()
    server.check()


@pytest.mark.parametrize("text", blocks("json"))
def test_json_example_is_a_valid_scenario(text: str) -> None:
    with FakeLMStudio(scenario=json.loads(text)) as fake:
        assert fake.rules


@pytest.mark.parametrize("text", blocks("toml"))
def test_toml_example_is_a_provider_config(text: str, tmp_path: Path) -> None:
    file = tmp_path / "lmstudio.toml"
    file.write_text(text)
    config = LMStudioConfig.load(file, env={})
    assert config != LMStudioConfig()
