"""Loading the plugin imports nothing heavy: a suite that never asks for the fake pays nothing."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import Project

HEAVY = (
    "aiohttp",
    "anyio",
    "fake_server",
    "faker",
    "fastjsonschema",
    "httpx",
    "jsonschema",
    "pytest_lmstudio.provider",
)


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "import pytest_lmstudio.plugin\n"
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(child.stdout) == []


def test_a_run_that_does_not_use_the_fake_imports_nothing_heavy(project: Project) -> None:
    project.tests(
        f"""
        import sys

        HEAVY = {HEAVY!r}

        def test_plain():
            assert [name for name in HEAVY if name in sys.modules] == []

        def test_deselected(lmstudio_fake):
            pass
        """
    )
    result = project.run_subprocess("-k", "plain", "--lmstudio-seed=3", "--lmstudio-live")
    result.assert_outcomes(passed=1, deselected=1)
