"""The real JavaScript SDK, ``@lmstudio/sdk`` from the npm registry, against the fake.

For each version (1.5.0 as published; 2.0.0 with ``@lmstudio/lms-isomorphic`` pinned to 0.4.6,
see ``js/sdk-2.0.0/package.json``), ``node js/exchange.mjs`` lists the downloaded and the
loaded models, gets a model, responds and streams, through the recording proxy of
``frames.py``; every frame of the exchange is checked against the SDK's published schema (in
the test, and again by the ``fake`` fixture at teardown, which counts them).

The JS SDK drops any message that fails its own checks (stricter than the schema: the
reference's §6.0) and then waits forever, so each step has ``STEP_SECONDS``; a step that runs
out fails the test naming the step, with what the SDK said it dropped (its
``communicationWarning`` frames quote the message) and the last frames exchanged.

Skipped, saying so, where ``node`` (18+) or ``npm`` is not on PATH. npm installs each version
once into a cache outside the checkout (``_node.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from fake_server import FakeLMStudio
from tests.doc_blocks import DOCS, blocks_of

from ._node import EXCHANGE, INSTALL_SECONDS, VERSIONS, install, node_or_skip
from .conftest import SCHEMA
from .frames import Frame, FrameRecorder

MODEL = "qwen/qwen3-8b"
STEP_SECONDS = 15.0
#: node's start, plus each step's limit.
RUN_SECONDS = 30.0 + 5 * STEP_SECONDS
REPLY = "Hello from the fake!"
PIECES = ["One, ", "two, ", "three."]
TOKEN = "sk-lm-Abc12345:Zyx9876543210abcdefG"

# The first run of a version installs it with npm (at most INSTALL_SECONDS).
pytestmark = pytest.mark.timeout(INSTALL_SECONDS + RUN_SECONDS + 30)


@pytest.fixture(scope="module")
def node() -> str:
    return node_or_skip()


class SchemaOnlyServer:
    """Not the fake: a websocket server that accepts any auth and answers
    ``listDownloadedModels`` with a model info exactly as ``lms.json`` has it, without the
    fields ``@lmstudio/sdk`` 2 requires beyond it (the reference's §8.3): the SDK drops it.
    What a test looks like when the fake sends something the JS SDK refuses."""

    INFO = {
        "type": "llm",
        "modelKey": MODEL,
        "format": "gguf",
        "displayName": "Qwen3 8B",
        "path": "qwen/qwen3-8b-GGUF/qwen3-8b-Q4_K_M.gguf",
        "sizeBytes": 4_500_000_000,
        "vision": False,
        "trainedForToolUse": True,
        "maxContextLength": 40960,
    }

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.host = ""

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        number, namespace = len(self.frames), request.match_info["namespace"]

        async def send(answer: dict[str, Any]) -> None:
            self.frames.append(Frame(number, namespace, False, json.dumps(answer)))
            await ws.send_json(answer)

        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            self.frames.append(Frame(number, namespace, True, message.data))
            frame = json.loads(message.data)
            if "authVersion" in frame:
                await send({"success": True})
            elif frame.get("endpoint") == "listDownloadedModels":
                await send({"type": "rpcResult", "callId": frame["callId"], "result": [self.INFO]})
        return ws

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/{namespace}", self.socket)
        runner = web.AppRunner(app, shutdown_timeout=0.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.host = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return runner


@pytest.fixture
def schema_only_server() -> Iterator[SchemaOnlyServer]:
    server = SchemaOnlyServer()
    server.thread.start()
    runner = asyncio.run_coroutine_threadsafe(server.start(), server.loop).result(10)
    yield server
    asyncio.run_coroutine_threadsafe(runner.cleanup(), server.loop).result(10)
    server.loop.call_soon_threadsafe(server.loop.stop)
    server.thread.join(10)
    server.loop.close()


def run_exchange(
    node: str,
    sdk_dir: Path,
    recorder: FrameRecorder | SchemaOnlyServer,
    *,
    step_seconds: float = STEP_SECONDS,
    env: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], str]:
    """Run the script against the recording proxy: its exit code, result line and stderr."""
    command = [node, str(EXCHANGE), str(sdk_dir), f"ws://{recorder.host}", MODEL]
    command.append(str(int(step_seconds * 1000)))
    # Only the variables given: an LM_API_TOKEN from outside must not change the run.
    environment = {k: v for k, v in os.environ.items() if k != "LM_API_TOKEN"}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            env={**environment, **(env or {})},
        )
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


def explain(result: dict[str, Any], stderr: str, frames: list[Frame]) -> str:
    """Why a run failed: the step, what the SDK refused, the last frames exchanged."""
    lines = [f"@lmstudio/sdk {result.get('sdk')}: step {result.get('step')!r} failed: "]
    lines[0] += str(result.get("error"))
    if result.get("error") == "timeout":
        lines.append(
            "  (no answer the SDK accepted within the step's time: the JS SDK drops a "
            "message that fails its checks, and then waits forever)"
        )
    for frame in frames:
        if frame.to_server and frame.json.get("type") == "communicationWarning":
            lines.append(f"  the SDK dropped a message of ours: {frame.json.get('warning')}")
    lines.append("last frames:")
    for frame in frames[-8:]:
        arrow = "C->S" if frame.to_server else "S->C"
        lines.append(f"  [{frame.namespace}] {arrow} {frame.text[:300]}")
    lines.append("node's stderr (tail):")
    lines += [f"  {line}" for line in stderr.strip().splitlines()[-15:]]
    return "\n".join(lines)


@pytest.mark.parametrize("version", VERSIONS)
def test_js_sdk_lists_models_responds_and_streams(
    node: str, version: str, fake: FakeLMStudio, recorder: FrameRecorder
) -> None:
    sdk_dir = install(version)
    fake.chat.when(contains="Say hello").reply(REPLY)
    fake.chat.when(contains="Count to three").stream(PIECES)
    code, result, stderr = run_exchange(node, sdk_dir, recorder)
    frames = list(recorder.frames)
    assert code == 0, explain(result, stderr, frames)
    assert result["sdk"] == version

    assert {m["modelKey"] for m in result["downloaded"]} == {m.id for m in fake.catalog}
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

    # Every frame, both ways, fits the SDK's published schema (the client's strictly, ours
    # with the fields JS requires beyond it allowed); a refusal by the SDK would fail here.
    assert SCHEMA.check(frames) == len(frames) >= 25
    assert {frame.namespace for frame in frames} == {"system", "llm"}


def test_a_message_the_js_sdk_drops_fails_the_run_quoting_its_complaint(
    node: str, schema_only_server: SchemaOnlyServer
) -> None:
    """The harness's answer to the JS SDK's silent drop: the step runs out, and the failure
    quotes the ``communicationWarning`` in which the SDK named what it refused and why."""
    sdk_dir = install("2.0.0")
    code, result, stderr = run_exchange(node, sdk_dir, schema_only_server, step_seconds=1.0)
    assert (code, result["error"], result["step"]) == (3, "timeout", "listDownloadedModels")
    message = explain(result, stderr, schema_only_server.frames)
    assert "step 'listDownloadedModels' failed: timeout" in message
    assert "the SDK dropped a message of ours: Received invalid result for rpc" in message
    assert "endpointName = listDownloadedModels" in message
    assert "publisher: Required" in message


def test_js_sdk_stalled_prediction_fails_at_the_step_limit_naming_it(
    node: str, fake: FakeLMStudio, recorder: FrameRecorder
) -> None:
    """What the harness does when the SDK gets no answer it accepts: here the fake holds the
    prediction after one fragment (what a dropped message looks like to the JS SDK)."""
    sdk_dir = install(VERSIONS[-1])
    fake.chat.when(contains="Say hello").stream(PIECES, stall_after=1)
    code, result, stderr = run_exchange(node, sdk_dir, recorder, step_seconds=1.0)
    assert code == 3, result
    assert result["error"] == "timeout"
    assert result["step"] == "respond"
    assert result["steps"] == ["listDownloadedModels", "listLoaded", "model"]
    message = explain(result, stderr, list(recorder.frames))
    assert "step 'respond' failed: timeout" in message
    assert '"content":"One, "' in message  # the last frames show where it stopped
    fake.reset()  # lets the held prediction go


@pytest.mark.parametrize(
    ("token", "works"),
    [(TOKEN, True), ("sk-lm-Abc12345:WrongWrongWrongWrong", False)],
    ids=["right-token", "wrong-token"],
)
def test_js_sdk_2_authenticates_with_lm_api_token(
    node: str, fake: FakeLMStudio, recorder: FrameRecorder, token: str, works: bool
) -> None:
    """@lmstudio/sdk 2 reads ``LM_API_TOKEN`` (what ``lmstudio_env`` sets for a token in
    LM Studio's form) and sends its halves; the fake refuses a wrong one as LM Studio does."""
    sdk_dir = install("2.0.0")
    fake.require_api_token(TOKEN)
    if works:  # (a rule never used would fail the fake's check at teardown)
        fake.chat.when(contains="Say hello").reply(REPLY)
        fake.chat.when(contains="Count to three").stream(PIECES)
    code, result, stderr = run_exchange(node, sdk_dir, recorder, env={"LM_API_TOKEN": token})
    frames = list(recorder.frames)
    auth = next(frame.json for frame in frames if frame.to_server)
    assert (auth["clientIdentifier"], auth["clientPasskey"]) == tuple(token[6:].split(":"))
    if works:
        assert code == 0, explain(result, stderr, frames)
        assert result["respond"]["content"] == REPLY
    else:
        assert code == 2, result
        assert result["step"] == "listDownloadedModels"
        assert result["error"].startswith("Failed to authenticate: ")
    assert SCHEMA.check(frames) == len(frames)


def test_the_door_pages_js_example_runs(
    node: str, fake: FakeLMStudio, recorder: FrameRecorder, tmp_path: Path
) -> None:
    """The ``js`` block of docs/doors/sdk.md, run with node (``port`` set to the proxy's)."""
    (block,) = [b for b in blocks_of(DOCS / "doors" / "sdk.md") if b.language == "js"]
    sdk_dir = install(VERSIONS[-1])
    # In the SDK's folder, so that its import of "@lmstudio/sdk" finds node_modules there.
    script = sdk_dir / f"doc-example-{os.getpid()}.mjs"
    script.write_text(f"const port = {recorder.port};\n{block.code}", encoding="utf-8")
    fake.chat.reply("Hello from the fake.")
    try:
        done = subprocess.run(
            [node, str(script)], capture_output=True, text=True, timeout=RUN_SECONDS
        )
    finally:
        script.unlink()
    assert (done.returncode, done.stdout) == (0, "Hello from the fake.\n"), done.stderr
    assert SCHEMA.check(list(recorder.frames)) == len(recorder.frames)
