"""The door pages' examples are tests: every ``python`` block of ``docs/doors/*.md`` runs, on
its own (each block starts the fake it uses)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOORS = Path(__file__).resolve().parents[1] / "docs" / "doors"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOORS.glob("*.md")):
        blocks = [body for lang, body in BLOCK.findall(page.read_text()) if lang == "python"]
        found += [(f"{page.name}#{index}", body) for index, body in enumerate(blocks, 1)]
    return found


def test_every_door_page_has_examples() -> None:
    pages = {name.split("#")[0] for name, _ in python_blocks()}
    assert pages == {page.name for page in DOORS.glob("*.md")}


@pytest.mark.parametrize(("where", "code"), python_blocks(), ids=[n for n, _ in python_blocks()])
def test_python_example_runs(where: str, code: str) -> None:
    exec(compile(code, str(DOORS / where.split("#")[0]), "exec"), {"__name__": "door_example"})
