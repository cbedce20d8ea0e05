"""The projects of ``examples/`` pass their own tests, each run by pytest in a subprocess from its
folder (its own ``pytest.ini``), as its users would run it, with our package installed.

Plugin auto-loading is off in those runs and each names the plugins it uses (by their entry
point names): this venv has a dozen pytest plugins (hypothesis, faker, xdist ...) that a
downstream project would not have, and loading them would cost each run seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.doc_blocks import DOCS, ROOT, blocks_of

EXAMPLES = ROOT / "examples"
#: Each example, the plugins its run loads, and the programs it needs besides Python.
PROJECTS = {
    "openai-app": {"plugins": ("lmstudio",), "needs": ()},
    "pydantic-ai-app": {"plugins": ("lmstudio", "anyio"), "needs": ()},
    "node-client": {"plugins": (), "needs": ("node",)},
}
RUN_TIMEOUT_SECONDS = 180


def test_every_example_is_run() -> None:
    folders = {path.name for path in EXAMPLES.iterdir() if path.is_dir()}
    assert folders == set(PROJECTS)
    listed = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert all(f"({name}/)" in listed for name in PROJECTS)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_example_passes(name: str) -> None:
    missing = [program for program in PROJECTS[name]["needs"] if shutil.which(program) is None]
    if missing:
        pytest.skip(f"examples/{name} needs {', '.join(missing)}, which is not installed")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "LMSTUDIO_", "OPENAI_"))
    }
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = [arg for plugin in PROJECTS[name]["plugins"] for arg in ("-p", plugin)]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins],
        cwd=EXAMPLES / name,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.fullmatch(r"\d+ passed in [\d.]+s( \(.*\))?", summary), summary


def test_the_node_example_is_the_one_the_cli_page_shows() -> None:
    [shown] = [block.code for block in blocks_of(DOCS / "cli.md") if block.language == "js"]
    source = (EXAMPLES / "node-client" / "client.mjs").read_text(encoding="utf-8")
    assert source.endswith(shown)
