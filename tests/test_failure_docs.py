"""The README's "Testing failure modes" section: every ``python`` block runs, every ``json``
block is a scenario the fake accepts, and its table has a row for every fault the fake can
script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fake_server import FakeLMStudio
from fake_server.engine import CHAOS_CHOICES, FAULT_KINDS

README = Path(__file__).resolve().parents[1] / "README.md"
TITLE = "## Testing failure modes\n"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    return TITLE + text.split(TITLE, 1)[1].split("\n## ", 1)[0]


BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: What the table must script, beyond the fault actions: delays, stream faults and timing,
#: LM Studio's loading behaviours, chaos.
MORE = (
    "delay(",
    "drop_after=",
    "stall_after=",
    "error_after=",
    "done=False",
    "split_seed=",
    "ttft=",
    "interval=",
    "jitter=",
    "load_seconds=",
    'set_while_loading("503")',
    "ttl=",
    "fake.chaos(",
    "fail(429, retry_after=",
    "fail(503, retry_after=",
)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(section()) if lang == language]


def table_lines() -> list[str]:
    return [line.split("|")[1] for line in section().splitlines() if line.startswith("| `")]


def test_the_section_starts_with_its_title() -> None:
    assert TITLE in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("needle", [f"fake.chat.{kind}(" for kind in FAULT_KINDS] + list(MORE))
def test_the_table_has_a_row_for(needle: str) -> None:
    assert any(needle in line for line in table_lines()), needle


def test_every_chaos_fault_is_a_row() -> None:
    lines = " ".join(table_lines())
    for kind in CHAOS_CHOICES:
        assert (f"{kind}(" in lines) or (f"fail({kind}" in lines), kind


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[-1][:40])
def test_python_example_runs(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, str(README), "exec"), {"__name__": "failure_modes_example"})
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("text", blocks("json"))
def test_json_example_is_a_valid_scenario(text: str) -> None:
    with FakeLMStudio(scenario=json.loads(text)) as fake:
        assert fake.rules and fake.chaos_report()
