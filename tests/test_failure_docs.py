"""The failure-mode cookbook (``docs/failures.md``): its table has a row for every fault the fake
can script. Its examples run with every other page's, in ``tests/test_docs.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_server.engine import CHAOS_CHOICES, FAULT_KINDS

PAGE = Path(__file__).resolve().parents[1] / "docs" / "failures.md"
TITLE = "# Failure-mode cookbook\n"


def section() -> str:
    return PAGE.read_text(encoding="utf-8")


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


def table_lines() -> list[str]:
    return [line.split("|")[1] for line in section().splitlines() if line.startswith("| `")]


def test_the_section_starts_with_its_title() -> None:
    assert section().startswith(TITLE)


@pytest.mark.parametrize("needle", [f"fake.chat.{kind}(" for kind in FAULT_KINDS] + list(MORE))
def test_the_table_has_a_row_for(needle: str) -> None:
    assert any(needle in line for line in table_lines()), needle


def test_every_chaos_fault_is_a_row() -> None:
    lines = " ".join(table_lines())
    for kind in CHAOS_CHOICES:
        assert (f"{kind}(" in lines) or (f"fail({kind}" in lines), kind
