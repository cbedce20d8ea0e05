"""The README's plugin section is a test suite of its own: its examples run as test files in
a project, with our plugin, pytest-asyncio and anyio loaded, and all pass."""

from __future__ import annotations

import re
from pathlib import Path

from tests.plugin.conftest import ANYIO_PLUGIN, ASYNCIO_INI, ASYNCIO_PLUGIN, Project

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def plugin_examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Test your code with the pytest plugin", 1)[1].split("\n## ", 1)[0]
    return BLOCK.findall(section)


def test_the_section_has_its_examples() -> None:
    assert len(plugin_examples()) >= 4


def test_every_example_passes(project: Project) -> None:
    examples = plugin_examples()
    for index, code in enumerate(examples):
        project.tests(code, name=f"test_readme_{index}")
    project.ini_lines(ASYNCIO_INI)
    result = project.run_subprocess("-q", "-W", "error", plugins=(*ASYNCIO_PLUGIN, *ANYIO_PLUGIN))
    tests = sum(code.count("\ndef test_") + code.count("\nasync def test_") for code in examples)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=tests)
