"""client.mjs against ``lmstudio-fake`` in a subprocess, as a CI job of a Node project runs it.

Skipped, with the reason, where ``node`` is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")
#: ``lmstudio-fake`` beside this interpreter: the command the package installs.
CLI = Path(sys.executable).with_name("lmstudio-fake")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (Node 18+ needed)")


def test_the_node_client_talks_to_the_command_line_fake(tmp_path: Path) -> None:
    journal = tmp_path / "requests.jsonl"
    command = [str(CLI), "--port", "0", "--journal", str(journal)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as fake:
        try:
            assert fake.stdout is not None
            ready = fake.stdout.readline()  # "lmstudio-fake listening on http://127.0.0.1:PORT"
            assert "listening on" in ready, ready
            env = {**os.environ, "LMSTUDIO_ENDPOINT": ready.split()[-1]}
            run = subprocess.run(
                [str(NODE), "client.mjs"],
                cwd=HERE,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            fake.send_signal(signal.SIGINT)
            fake.wait(timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["Hello from the fake.", "1 request(s)"]
    assert fake.returncode == 0
    [entry] = [json.loads(line) for line in journal.read_text().splitlines()]
    assert (entry["path"], entry["status"]) == ("/v1/chat/completions", 200)
