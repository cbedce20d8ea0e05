"""docs/provider.md's examples are tests: each ``python`` block runs against the fake server.

The examples are production code: they find LM Studio through the environment, so each runs with
``LMSTUDIO_ENDPOINT`` pointed at a fake LM Studio (its default catalog and answers).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import LMStudioConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "provider.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(DOC.read_text()) if lang == language]


def test_the_section_has_examples() -> None:
    text = DOC.read_text()
    assert text.startswith("## Use the provider in production")
    assert len(blocks("python")) >= 6


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[-1][:40])
def test_python_example_runs(
    code: str,
    fake: FakeLMStudio,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for variable in ("LMSTUDIO_CONFIG", "LMSTUDIO_API_TOKEN", "LMSTUDIO_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LMSTUDIO_ENDPOINT", fake.url)
    monkeypatch.setenv("HOME", str(DOC.parent))  # discover(): no LM Studio home here
    exec(compile(code, str(DOC), "exec"), {"__name__": "doc_example"})
    assert capsys.readouterr().out.strip()
    assert fake.requests, "the example never reached the server"
    fake.check()


@pytest.mark.parametrize("text", blocks("toml"))
def test_toml_example_loads(text: str, tmp_path: Path) -> None:
    file = tmp_path / "lmstudio.toml"
    file.write_text(text)
    config = LMStudioConfig.load(file, env={})
    assert config != LMStudioConfig()
