"""The test-file blocks of the README and of ``docs/`` (a fence titled ``test_*.py``) are a test
suite of their own: they run as test files in one project, with our plugin, pytest-asyncio and
anyio loaded, and all pass."""

from __future__ import annotations

from pathlib import Path

from tests.doc_blocks import all_blocks
from tests.plugin.conftest import ANYIO_PLUGIN, ASYNCIO_INI, ASYNCIO_PLUGIN, Project

TEST_FILES = [block for block in all_blocks() if block.is_test_file]


def test_the_pages_have_their_test_files() -> None:
    pages = {block.page for block in TEST_FILES}
    assert {"README.md", "docs/getting-started.md", "docs/plugin.md"} <= pages
    assert all(Path(block.title or "").name.startswith("test_") for block in TEST_FILES)


def test_every_test_file_passes(project: Project) -> None:
    for index, block in enumerate(TEST_FILES):
        name = f"{Path(block.title or '').stem}_{index}"
        project.tests(f"# {block.id}\n{block.code}", name=name)
    project.ini_lines(ASYNCIO_INI)
    result = project.run_subprocess("-q", "-W", "error", plugins=(*ASYNCIO_PLUGIN, *ANYIO_PLUGIN))
    tests = sum(
        block.code.count("\ndef test_") + block.code.count("\nasync def test_")
        for block in TEST_FILES
    )
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=tests)
