"""What the benchmark scripts share: their targets, the request they send, servers in child
processes, raw HTTP/1.1 request bytes, CPU pinning, the machine's description, and generated
pytest suites timed test by test.

Every ``bench_*.py`` imports it as ``_harness`` (a script's own folder is first on
``sys.path``), so each script still runs on its own: ``python tests/benchmarks/bench_x.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import queue
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from aiohttp import web

    from fake_server import FakeLMStudio

ROOT = Path(__file__).resolve().parents[2]
CHAT_PATH = "/v1/chat/completions"
MODEL = "qwen/qwen3-8b"
#: A small realistic chat request: a system and a user message, a token limit.
CHAT_BODY: dict[str, Any] = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
        {"role": "user", "content": "Write one sentence about the sea."},
    ],
    "max_tokens": 64,
}

# -- targets: each script judges its figures by these, and the report quotes them ---------------
#: The plugin's per-test time over respx's and over pytest-httpserver's, at most.
PER_TEST_VS_RESPX = 1.2
PER_TEST_VS_HTTPSERVER = 0.7
#: What loading the plugin adds to pytest's start-up, at most.
STARTUP_MS = 20.0
#: ``fake.reset()``, median, at most.
RESET_US = 50.0
#: Requests per second with validation on over bare aiohttp's, at least, at every concurrency.
THROUGHPUT_VS_BARE = 0.6
#: Chunks per second of a stream over a bare aiohttp SSE handler's, at least.
STREAMING_VS_BARE = 0.6
#: The provider's time per call over raw httpx's, at most; over the openai SDK's, below.
PROVIDER_VS_HTTPX = 1.15
PROVIDER_VS_OPENAI = 1.0
#: Scripted latency: the median error, at most (seconds).
LATENCY_ERROR = 0.003
#: A paced stream's first-to-last duration: the error of every run, at most (a fraction).
STREAM_DURATION_ERROR = 0.05
#: The per-test cost of the largest suite against the smallest's: the growth, at most.
SCALE_GROWTH = 0.10
#: The fake's RSS with 1,000 streams open, below (MiB).
MEMORY_MIB = 200.0
#: A fresh process's import + start + first default answer of the fake, at most (seconds).
COLD_START_S = 0.25

# -- processes ---------------------------------------------------------------------------------
#: On a machine of 2 or more cores the servers run on CPU 1 and the load or client on CPU 0.
SERVER_CPU = 1
CLIENT_CPU = 0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
URL_LINE = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)$")

T = TypeVar("T")


def log(text: str) -> None:
    """Progress, on stderr (the table goes to stdout)."""
    print(text, file=sys.stderr, flush=True)


def rotated(items: Sequence[T], turn: int) -> list[T]:
    """``items`` starting at ``turn`` (modulo their count): each round starts with another one,
    so that a slow moment does not always fall on the same side."""
    at = turn % len(items)
    return [*items[at:], *items[:at]]


def can_pin(no_pin: bool = False) -> bool:
    """Pin the servers and the load to CPUs of their own: Linux, 2 or more cores."""
    return not no_pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def pin(cpu: int | None) -> None:
    """Run this process on ``cpu`` only (nothing when None or not possible)."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {cpu})


def wait_for_stdin_eof() -> None:
    """The parent closes a server's stdin to stop it (and it closes when the parent dies)."""
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(65536):
            pass


# -- command-line values -------------------------------------------------------------------------
def bounded(
    kind: type[int] | type[float], low: float, high: float, option: str
) -> Callable[[str], Any]:
    """An argparse type: an int or a float from ``low`` to ``high``."""
    what = "an integer" if kind is int else "a number"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} takes {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} must be {low:g} to {high:g}")
        return value

    return parse


def int_list(
    low: int, high: int, option: str, *, most: int = 8, least: int = 1
) -> Callable[[str], list[int]]:
    """An argparse type: ``least`` to ``most`` comma-separated integers, ``low`` to ``high``."""

    def parse(text: str) -> list[int]:
        try:
            values = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} takes integers separated by commas, got {text!r}"
            ) from None
        if not least <= len(values) <= most:
            raise argparse.ArgumentTypeError(f"{option} takes {least} to {most} values")
        if any(not low <= v <= high for v in values):
            raise argparse.ArgumentTypeError(f"each value of {option} must be {low} to {high}")
        return values

    return parse


# -- the machine ---------------------------------------------------------------------------------
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What a script's JSON says of the machine it ran on."""
    import aiohttp

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


# -- requests ------------------------------------------------------------------------------------
def json_bytes(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def build_request(
    port: int,
    body: bytes,
    *,
    accept: str = "application/json",
    close: bool = False,
    host: str = "127.0.0.1",
) -> bytes:
    """The bytes of one ``POST /v1/chat/completions``, built once and sent many times: a raw
    asyncio client costs far less per request than aiohttp's or httpx's, which would hide the
    server's cost."""
    head = (
        f"POST {CHAT_PATH} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Accept: {accept}\r\n"
        f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n"
    )
    return head.encode("ascii") + body


# -- servers in child processes --------------------------------------------------------------------
def serve_fake(
    configure: Callable[[FakeLMStudio], object] | None = None,
    *,
    root: Path | None = None,
    **options: Any,
) -> None:
    """Child side: a ``FakeLMStudio(**options)`` of the checkout (or of ``root``: an earlier
    commit's, from ``_before``), scripted by ``configure``, until stdin closes; then one JSON
    line of what it served and the errors it recorded."""
    sys.path.insert(0, str(root or ROOT))
    from fake_server import FakeLMStudio

    with FakeLMStudio(**options) as fake:
        if configure is not None:
            configure(fake)
        print(f"listening on {fake.url}", flush=True)
        wait_for_stdin_eof()
        stats = {
            "requests": fake.journal.total,
            "errors": len(fake.errors),
            "first_error": fake.errors[0][:2000] if fake.errors else None,
        }
    print(json.dumps(stats), flush=True)


def serve_bare(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
    """Child side: a bare aiohttp application with ``handler`` on ``POST /v1/chat/completions``
    and no access log, the ceiling for this stack, until stdin closes."""
    from aiohttp import web

    async def run() -> None:
        app = web.Application()
        app.router.add_post(CHAT_PATH, handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def watch() -> None:
            wait_for_stdin_eof()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch, daemon=True).start()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
        print(json.dumps({"stopped": True}), flush=True)

    asyncio.run(run())


class ServerProcess:
    """Parent side: ``python SCRIPT --serve KIND ARGS`` on 127.0.0.1, started and waited for
    (it prints ``listening on URL``), stopped by closing its stdin, killed if it does not stop.
    A server also stops on its own when the parent dies: its stdin closes."""

    def __init__(
        self,
        script: str | Path,
        kind: str,
        args: Sequence[str] = (),
        *,
        cpu: int | None = None,
        workdir: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        command = [sys.executable, str(Path(script).resolve()), "--serve", kind, *args]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        #: Where its stderr goes (None: this process's stderr).
        self.stderr_path = workdir / f"{kind}.stderr" if workdir is not None else None
        with contextlib.ExitStack() as stack:
            stderr = stack.enter_context(self.stderr_path.open("w")) if self.stderr_path else None
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                cwd=ROOT,
                env=env,
            )
        #: What it printed last when it stopped, when that was a JSON object.
        self.stats: dict[str, Any] = {}
        line = self.read_line(START_TIMEOUT)
        match = URL_LINE.match((line or "").strip())
        if match is None:
            self.stop()
            detail = ""
            if self.stderr_path is not None:
                detail = "; its stderr:\n" + self.stderr_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"the {kind} server did not print its URL within {START_TIMEOUT:.0f} s "
                f"(got {line!r}){detail}"
            )
        self.url = match.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])

    def read_line(self, timeout: float) -> str | None:
        """Its next line of stdout, or None after ``timeout`` seconds."""
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> str:
        """Close stdin (the polite stop), then kill; returns what it printed since its URL
        line, and keeps its last JSON line in ``stats``."""
        out = ""
        try:
            out, _ = self.process.communicate(timeout=STOP_TIMEOUT)  # closes stdin first
        except (subprocess.TimeoutExpired, ValueError, OSError):
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
                self.process.communicate(timeout=STOP_TIMEOUT)
        for line in (out or "").splitlines()[::-1]:
            with contextlib.suppress(ValueError):
                stats = json.loads(line)
                if isinstance(stats, dict):
                    self.stats = stats
                    break
        return out or ""


# -- generated pytest suites ----------------------------------------------------------------------
#: What every generated test scripts and checks.
REPLY = "Paris."
#: The answer respx and pytest-httpserver send: a chat completion as LM Studio writes it.
ANSWER: dict[str, Any] = {
    "id": "chatcmpl-benchmark",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": REPLY},
        }
    ],
    "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
    "stats": {},
    "system_fingerprint": MODEL,
}
#: What the respx and pytest-httpserver tests post.
QUESTION: dict[str, Any] = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "Capital of France?"}],
}

TIMER_PLUGIN = '''
"""When each test ends, and the run's peak RSS, written to $BENCH_TIMER_OUT."""
import json
import os
import resource
import sys
import time

_ends = []


def pytest_runtest_logfinish(nodeid, location):
    _ends.append(time.perf_counter())


def pytest_sessionfinish(session, exitstatus):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        peak //= 1024
    with open(os.environ["BENCH_TIMER_OUT"], "w") as out:
        json.dump({"ends": _ends, "exit": int(exitstatus), "peak_rss_kib": peak}, out)
'''

#: The same test written three ways: one scripted chat answer, one call, one check.
PROLOGUES = {
    "lmstudio": f"""
        from pytest_lmstudio import CompletionRequest, Message

        REQUEST = CompletionRequest(model={MODEL!r}, messages=[Message.user("Capital of France?")])
    """,
    "respx": f"""
        import httpx

        URL = "http://lmstudio.test{CHAT_PATH}"
        ANSWER = {ANSWER!r}
        BODY = {QUESTION!r}
        CLIENT = httpx.Client()
    """,
    "httpserver": f"""
        import httpx

        ANSWER = {ANSWER!r}
        BODY = {QUESTION!r}
        CLIENT = httpx.Client()
    """,
}
TESTS = {
    "lmstudio": f"""
        def test_{{n}}(lmstudio_fake, lmstudio_sync_provider):
            lmstudio_fake.chat.reply({REPLY!r})
            assert lmstudio_sync_provider.complete(REQUEST).content == {REPLY!r}
    """,
    "respx": f"""
        def test_{{n}}(respx_mock):
            respx_mock.post(URL).respond(json=ANSWER)
            response = CLIENT.post(URL, json=BODY)
            assert response.json()["choices"][0]["message"]["content"] == {REPLY!r}
    """,
    "httpserver": f"""
        def test_{{n}}(httpserver):
            httpserver.expect_request({CHAT_PATH!r}, method="POST").respond_with_json(ANSWER)
            response = CLIENT.post(httpserver.url_for({CHAT_PATH!r}), json=BODY)
            assert response.json()["choices"][0]["message"]["content"] == {REPLY!r}
    """,
}
#: The one plugin each suite runs with (auto-loading off).
PLUGINS = {
    "lmstudio": "pytest_lmstudio.plugin",
    "respx": "respx.plugin",
    "httpserver": "pytest_httpserver.pytest_plugin",
}


def pytest_env(*, autoload: bool) -> dict[str, str]:
    """This environment without pytest's, ours and PYTHONPATH; plugin auto-loading optional."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "LMSTUDIO_")) and name != "PYTHONPATH"
    }
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def timed_run(args: Sequence[str], cwd: Path, env: dict[str, str], timeout: float) -> float:
    """Wall seconds of a command that must succeed."""
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
            f"{done.stderr[-2000:]}"
        )
    return elapsed


def write_suite(work: Path, kind: str, tests: int, per_file: int | None = None) -> Path:
    """A project of ``tests`` tests of ``kind`` (``per_file`` to a file, default all in one)
    and the timer plugin."""
    project = work / f"suite-{kind}-{tests}"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (project / "bench_timer.py").write_text(TIMER_PLUGIN, encoding="utf-8")
    prologue = textwrap.dedent(PROLOGUES[kind])
    test = textwrap.dedent(TESTS[kind])
    size = per_file or tests
    for first in range(0, tests, size):
        numbers = range(first, min(first + size, tests))
        source = prologue + "".join("\n\n" + test.format(n=n) for n in numbers)
        name = f"test_{kind}.py" if per_file is None else f"test_{kind}_{first // size:04d}.py"
        (project / name).write_text(source, encoding="utf-8")
    return project


@dataclass(frozen=True)
class SuiteRun:
    #: ``time.perf_counter()`` at the end of each test.
    ends: list[float]
    wall_s: float
    peak_rss_mib: float


def run_suite(
    project: Path, kind: str, tests: int, timeout: float, code: Path | None = None
) -> SuiteRun:
    """One pytest subprocess on a suite of ``write_suite``, with only its plugin loaded (the
    plugin and fake of ``code``, an earlier commit's from ``_before``, when given)."""
    out = project / "timer.json"
    env = {**pytest_env(autoload=False), "BENCH_TIMER_OUT": str(out)}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    args += ["-p", PLUGINS[kind], "-p", "bench_timer"]
    wall = timed_run(args, project, env, timeout)
    data = json.loads(out.read_text(encoding="utf-8"))
    if data["exit"] != 0 or len(data["ends"]) != tests:
        raise RuntimeError(f"the {tests}-test {kind} suite did not pass (exit {data['exit']})")
    return SuiteRun(data["ends"], wall, data["peak_rss_kib"] / 1024)
