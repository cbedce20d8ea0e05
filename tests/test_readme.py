"""The README's examples are tests: every ``python`` block runs, every ``json`` block is a
scenario the fake accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fake_server import FakeLMStudio

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == language]


def test_readme_opens_with_the_two_commands() -> None:
    first = blocks("sh")[0].splitlines()
    assert first[0].startswith("make serve") and first[1].startswith("make test")


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[-1][:40])
def test_python_example_runs(code: str) -> None:
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})


@pytest.mark.parametrize("text", blocks("json"))
def test_json_example_is_a_valid_scenario(text: str) -> None:
    with FakeLMStudio(scenario=json.loads(text)) as fake:
        assert fake.rules
