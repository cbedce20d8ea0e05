"""The real JavaScript SDK, ``@lmstudio/sdk`` from the npm registry, against the fake.

For each version (1.5.0 as published; 2.0.0 with ``@lmstudio/lms-isomorphic`` pinned to 0.4.6,
see ``js/sdk-2.0.0/package.json``), ``node js/exchange.mjs`` lists the downloaded and the
loaded models, gets a model, responds and streams, through a relay that keeps every websocket
frame; each of those frames is then checked against the SDK's published schema.

The JS SDK drops any message that fails its own checks (stricter than the schema: the
reference's §6.0) and then waits forever, so each step has ``STEP_SECONDS``; a step that runs
out fails the test with what the SDK said it dropped (its ``communicationWarning`` frames name
the message) and the last frames exchanged.

Skipped, saying so, where ``node`` (18+) or ``npm`` is not on PATH. npm installs each version
once into a cache outside the checkout (``_node.py``): about 10 s per version the first time,
nothing after.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fake_server import FakeLMStudio
from tests.sdk._lms_schema import Frame, Report, check_frames, load_errors
from tests.sdk._node import EXCHANGE, VERSIONS, install, node_or_skip
from tests.sdk._relay import FrameRelay

MODEL = "qwen/qwen3-8b"
STEP_SECONDS = 15.0
#: node's start, plus each step's limit.
RUN_SECONDS = 30.0 + 5 * STEP_SECONDS
REPLY = "Hello from the fake!"
PIECES = ["One, ", "two, ", "three."]

# npm's first install of a version is bounded by _node.INSTALL_SECONDS (240 s).
pytestmark = pytest.mark.timeout(240 + RUN_SECONDS + 30)


@pytest.fixture(scope="module")
def node() -> str:
    return node_or_skip()


def run_exchange(node: str, sdk_dir: Path, port: int) -> tuple[int, dict[str, Any], str]:
    """Run the script; its exit code, its result line and its stderr."""
    command = [node, str(EXCHANGE), str(sdk_dir), f"ws://127.0.0.1:{port}", MODEL]
    command.append(str(int(STEP_SECONDS * 1000)))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node did not finish within {RUN_SECONDS:.0f} s; stderr:\n{exc.stderr}")
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    if not isinstance(result, dict) or "steps" not in result:
        pytest.fail(
            f"node exited {done.returncode} without its result line; stdout:\n"
            f"{done.stdout[-2000:]}\nstderr:\n{done.stderr[-3000:]}"
        )
    return done.returncode, result, done.stderr


def explain(result: dict[str, Any], stderr: str, frames: list[Frame], report: Report) -> str:
    """Why a run failed: the step, what the SDK refused, the last frames exchanged."""
    lines = [f"@lmstudio/sdk {result.get('sdk')}: step {result.get('step')!r} failed: "]
    lines[0] += str(result.get("error"))
    if result.get("error") == "timeout":
        lines.append(
            f"  (no answer the SDK accepted within {STEP_SECONDS:.0f} s: the JS SDK drops a "
            "message that fails its checks and waits forever)"
        )
    for warning in report.warnings_from_client:
        lines.append(f"  the SDK dropped a message of ours: {warning}")
    lines.append("last frames:")
    lines += [f"  {frame.describe()}" for frame in frames[-8:]]
    if report.problems:
        lines.append(report.summary())
    lines.append("node's stderr (tail):")
    lines += [f"  {line}" for line in stderr.strip().splitlines()[-15:]]
    return "\n".join(lines)


@pytest.mark.parametrize("version", VERSIONS)
def test_js_sdk_lists_models_responds_and_streams(node: str, version: str) -> None:
    problem = load_errors()
    if problem:
        pytest.fail(problem)
    sdk_dir = install(version)
    with FakeLMStudio() as fake, FrameRelay(fake.port) as relay:
        fake.chat.when(contains="Say hello").reply(REPLY)
        fake.chat.when(contains="Count to three").stream(PIECES)
        code, result, stderr = run_exchange(node, sdk_dir, relay.port)
        frames = relay.snapshot()
        catalog = {m.id: m.type for m in fake.catalog}
        errors = fake.errors
    report = check_frames(frames)
    assert code == 0, explain(result, stderr, frames, report)
    assert result["sdk"] == version
    assert not errors, errors

    assert {m["modelKey"] for m in result["downloaded"]} == set(catalog)
    kinds = {m["modelKey"]: m["type"] for m in result["downloaded"]}
    assert kinds["text-embedding-nomic-embed-text-v1.5"] == "embedding"
    assert kinds[MODEL] == "llm"
    assert result["loaded"] == [MODEL]
    assert result["model"] == MODEL
    assert result["respond"] == {"content": REPLY, "stopReason": "eosFound"}
    stream = result["stream"]
    assert stream["fragments"] == PIECES
    assert stream["content"] == "".join(PIECES)
    assert stream["stopReason"] == "eosFound"

    # Every frame of the exchange, both ways, fits the SDK's published schema (the client's
    # strictly, ours with the fields JS requires beyond it allowed).
    assert not report.problems, report.summary()
    namespaces = {frame.namespace for frame in frames}
    assert {"system", "llm"} <= namespaces
    assert report.checked == len(frames) >= 20
