"""Requests per second of non-streaming chat completions: the fake against a bare aiohttp server.

Three servers, measured side by side in one run, each in its own subprocess (one core for the
server, one for the load generator):

* ``fake-on``: ``FakeLMStudio`` with schema validation on (the default),
* ``fake-off``: the same with validation off,
* ``bare``: a bare aiohttp application with one handler that reads the body and answers a fixed
  JSON body of the size the fake answers, ``access_log=None``: the ceiling for this stack.

The load is ``POST /v1/chat/completions`` with a small realistic body (model, a system and a
user message, ``max_tokens``), on keep-alive connections, at each concurrency level. The load
generator is ``wrk`` when it is on PATH, else a minimal asyncio-streams HTTP/1.1 client in this
process (pre-built request bytes, Content-Length framing; aiohttp's and httpx's clients cost too
much per request and would hide the server's cost). Each server is checked first (a 200 with a
JSON body), warmed up, then measured in interleaved rounds (A, B, C, A, B, C, ...) so machine
noise hits all three alike; a measurement during which other processes took more than 10 % of
the CPUs is taken again (``--retries`` times at most). The table gives the median per server and
concurrency, and the ratios fake/bare. Issue 6's target: validation on at least 0.6x bare at
every concurrency.

    .venv/bin/python tests/benchmarks/bench_throughput.py [--seconds S]
        [--concurrency 1,16,64] [--rounds N] [--retries N] [--generator auto|wrk|python]
        [--json out.json]

Progress goes to stderr, the table to stdout. Exit status: 0 when the target is met, 1 when it
is missed, 2 when a run failed (a server that did not start or answered anything but 200, a
failed connection, an error inside the fake: the figures are then suspect) or on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import platform
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
PATH = "/v1/chat/completions"
MODEL = "qwen/qwen3-8b"
REQUEST_BODY: dict[str, Any] = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
        {"role": "user", "content": "Write one sentence about the sea."},
    ],
    "max_tokens": 64,
}

ServerKind = Literal["fake-on", "fake-off", "bare"]
SERVERS: tuple[ServerKind, ...] = ("fake-on", "fake-off", "bare")
LABELS: dict[ServerKind, str] = {
    "fake-on": "fake, validation on",
    "fake-off": "fake, validation off",
    "bare": "bare aiohttp",
}
TARGET_RATIO = 0.6

DEFAULT_SECONDS = 3.0
DEFAULT_CONCURRENCY = (1, 16, 64)
DEFAULT_ROUNDS = 3
MIN_ROUNDS = 3
MAX_ROUNDS = 20
DEFAULT_RETRIES = 2
#: Other jobs often come in bursts: let one pass before measuring again.
RETRY_PAUSE = 1.0
MAX_RETRIES = 5
MAX_SECONDS = 60.0
MAX_CONCURRENCY = 1024
MAX_LEVELS = 8
WARMUP_SECONDS = 1.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
#: A request that takes longer than this is a failure, not a slow answer.
REQUEST_TIMEOUT = 10.0
#: Extra time a wrk or Python load run may take beyond its duration before it is killed.
RUN_GRACE = 30.0
#: CPUs busier than this while the benchmark is idle: another job shares the machine.
BUSY_FRACTION = 0.15
#: A run during which other processes used more of the CPUs than this is flagged as noisy.
FOREIGN_CPU = 0.1
SERVER_CPU = 1
LOADGEN_CPU = 0
URL_LINE = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)$")


# -- the servers (run with --serve, each in its own process) ------------------------------------
def _pin(cpu: int | None) -> None:
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {cpu})


def _wait_for_stdin_eof() -> None:
    """The parent closes our stdin to stop us (and we stop if it dies)."""
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(65536):
            pass


def bare_body(size: int) -> bytes:
    """A chat-completion-shaped JSON document of exactly ``size`` bytes (at least its minimum)."""
    document: dict[str, Any] = {
        "id": "chatcmpl-0000000000000000000000",
        "object": "chat.completion",
        "created": 1700000000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": ""},
            }
        ],
        "usage": {"prompt_tokens": 13, "completion_tokens": 6, "total_tokens": 19},
    }
    empty = len(json.dumps(document, separators=(",", ":")).encode())
    document["choices"][0]["message"]["content"] = "x" * max(0, size - empty)
    return json.dumps(document, separators=(",", ":")).encode()


def serve_bare(body_bytes: int) -> None:
    from aiohttp import web

    body = bare_body(body_bytes)

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    async def run() -> None:
        app = web.Application()
        app.router.add_post(PATH, handler)
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
            _wait_for_stdin_eof()
            loop.call_soon_threadsafe(stop.set)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
        print(json.dumps({"stopped": True}), flush=True)

    asyncio.run(run())


def serve_fake(validate: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from fake_server import FakeLMStudio

    with FakeLMStudio() as fake:
        fake.set_validation(validate)
        print(f"listening on {fake.url}", flush=True)
        _wait_for_stdin_eof()
        journal = getattr(fake, "journal", None)
        stats = {
            "requests": getattr(journal, "total", None),
            "errors": len(fake.errors),
            "first_error": fake.errors[0][:2000] if fake.errors else None,
        }
    print(json.dumps(stats), flush=True)


# -- the parent's handle on a server process ----------------------------------------------------
@dataclass
class Server:
    kind: ServerKind
    process: subprocess.Popen[str]
    url: str
    stderr_path: Path
    body_bytes: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.url.removeprefix("http://").partition(":")
        return host, int(port)


def _read_line(process: subprocess.Popen[str], timeout: float) -> str | None:
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


def start_server(kind: ServerKind, workdir: Path, pin: bool, body_bytes: int = 0) -> Server:
    stderr_path = workdir / f"{kind}.stderr"
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", kind]
    if kind == "bare":
        command += ["--body-bytes", str(body_bytes)]
    if pin:
        command += ["--cpu", str(SERVER_CPU)]
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=ROOT,
        )
    line = _read_line(process, START_TIMEOUT)
    match = URL_LINE.match((line or "").strip())
    if match is None:
        stop_server(process)
        detail = stderr_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"the {kind} server did not print its URL within {START_TIMEOUT:.0f} s "
            f"(got {line!r}); its stderr:\n{detail}"
        )
    return Server(kind, process, match.group(1), stderr_path)


def stop_server(process: subprocess.Popen[str]) -> str:
    """Close stdin (the polite stop), then kill; returns what it printed since its URL line."""
    out = ""
    try:
        out, _ = process.communicate(timeout=STOP_TIMEOUT)  # closes stdin first
    except (subprocess.TimeoutExpired, ValueError, OSError):
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
            process.communicate(timeout=STOP_TIMEOUT)
    return out or ""


def check_server(server: Server, body: bytes) -> int:
    """One request before any load: a 200 with a JSON body (else we would time error pages).
    Returns the answer's size in bytes."""
    host, port = server.host_port
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        content_type = response.getheader("Content-Type") or ""
    finally:
        connection.close()
    problem = None
    if response.status != 200:
        problem = f"status {response.status}"
    elif "json" not in content_type:
        problem = f"Content-Type {content_type!r}"
    else:
        try:
            document = json.loads(data)
        except ValueError:
            problem = "a body that is not JSON"
        else:
            if not isinstance(document, dict) or not document.get("choices"):
                problem = "a JSON body without choices"
    if problem is not None:
        raise RuntimeError(
            f"the {server.kind} server answered {problem} instead of a chat completion: "
            f"{data[:500]!r}"
        )
    return len(data)


# -- load generators ----------------------------------------------------------------------------
@dataclass
class Run:
    rps: float
    requests: int
    seconds: float
    non_200: int = 0
    errors: int = 0
    latency_ms: float | None = None
    #: CPU used by other processes during the run, as a fraction of the machine (Linux).
    foreign_cpu: float | None = None


def build_request(host: str, port: int, body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


async def _python_load(
    host: str, port: int, request: bytes, connections: int, seconds: float
) -> Run:
    loop = asyncio.get_running_loop()
    pairs = [await asyncio.open_connection(host, port) for _ in range(connections)]
    done = 0
    non_200 = 0
    errors = 0
    start = loop.time()
    deadline = start + seconds

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal done, non_200, errors
        try:
            while True:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if head[9:12] != b"200":
                    non_200 += 1
                at = head.lower().find(b"\r\ncontent-length:")
                if at < 0:
                    raise ValueError("an answer without Content-Length")
                end = head.index(b"\r\n", at + 2)
                await reader.readexactly(int(head[at + 17 : end]))
                if loop.time() > deadline:
                    return
                done += 1
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errors += 1
        finally:
            writer.close()

    tasks = [asyncio.create_task(worker(r, w)) for r, w in pairs]
    _, pending = await asyncio.wait(tasks, timeout=seconds + REQUEST_TIMEOUT)
    for task in pending:  # a request that hung past the timeout
        task.cancel()
        errors += 1
    await asyncio.gather(*pending, return_exceptions=True)
    return Run(done / seconds, done, seconds, non_200, errors)


def python_load(server: Server, body: bytes, connections: int, seconds: float) -> Run:
    host, port = server.host_port
    request = build_request(host, port, body)
    return asyncio.run(_python_load(host, port, request, connections, seconds))


def wrk_seconds(seconds: float) -> int:
    """wrk takes whole seconds."""
    return max(1, round(seconds))


def write_wrk_script(workdir: Path, body: bytes) -> Path:
    text = body.decode()
    if "]==]" in text:
        raise ValueError("the request body cannot be quoted for Lua")
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{text}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["Accept"] = "application/json"\n'
    )
    return script


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str, seconds: int) -> Run:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    if rps is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    non_200 = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    latency = re.search(r"^\s*Latency\s+([\d.]+)(us|ms|s|m)\b", output, re.M)
    return Run(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        seconds=float(seconds),
        non_200=int(non_200.group(1)) if non_200 else 0,
        errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        latency_ms=float(latency.group(1)) * _UNITS[latency.group(2)] if latency else None,
    )


def wrk_load(wrk: str, script: Path, server: Server, connections: int, seconds: float) -> Run:
    duration = wrk_seconds(seconds)
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={REQUEST_TIMEOUT:.0f}s",
        "-s",
        str(script),
        server.url + PATH,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + RUN_GRACE, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    return parse_wrk(result.stdout, duration)


# -- the run ------------------------------------------------------------------------------------
@dataclass
class Cell:
    runs: list[Run] = field(default_factory=list)
    #: Attempts replaced by a quieter one (other processes took CPU meanwhile).
    discarded: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        return min(r.rps for r in self.runs), max(r.rps for r in self.runs)


def parse_levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--concurrency takes integers separated by commas, got {text!r}"
        ) from None
    if not levels or len(levels) > MAX_LEVELS:
        raise argparse.ArgumentTypeError(f"--concurrency takes 1 to {MAX_LEVELS} levels")
    if any(not 1 <= n <= MAX_CONCURRENCY for n in levels):
        raise argparse.ArgumentTypeError(f"each concurrency must be 1 to {MAX_CONCURRENCY}")
    return levels


def parse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seconds takes a number, got {text!r}") from None
    if not 0.2 <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"--seconds must be 0.2 to {MAX_SECONDS:.0f}")
    return value


def parse_rounds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rounds takes an integer, got {text!r}") from None
    if not MIN_ROUNDS <= value <= MAX_ROUNDS:
        raise argparse.ArgumentTypeError(f"--rounds must be {MIN_ROUNDS} to {MAX_ROUNDS}")
    return value


def parse_retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--retries takes an integer, got {text!r}") from None
    if not 0 <= value <= MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"--retries must be 0 to {MAX_RETRIES}")
    return value


def machine() -> dict[str, Any]:
    import aiohttp

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


def format_table(
    levels: Sequence[int], cells: dict[int, dict[ServerKind, Cell]], header: str
) -> str:
    columns = [
        "concurrency",
        *(f"{LABELS[k]} (rps)" for k in SERVERS),
        "on/bare",
        "off/bare",
    ]
    rows = []
    for level in levels:
        row = [str(level)]
        for kind in SERVERS:
            cell = cells[level][kind]
            low, high = cell.spread
            row.append(f"{cell.median:,.0f} [{low:,.0f}-{high:,.0f}]")
        bare = cells[level]["bare"].median
        for kind in ("fake-on", "fake-off"):
            ratio = cells[level][kind].median / bare if bare else math.nan
            row.append(f"{ratio:.2f}x")
        rows.append(row)
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    lines = [header, ""]
    lines.append(" | ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    lines.append("median of the rounds [lowest-highest]; on/bare and off/bare: ratios of medians")
    return "\n".join(lines)


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all CPUs, from /proc/stat (Linux)."""
    try:
        line = Path("/proc/stat").read_text().split("\n", 1)[0]
        fields = [int(x) for x in line.split()[1:9]]  # guest time is already in user time
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _process_ticks(pid: int) -> int:
    """User + system clock ticks of a live process (0 when unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


class CpuWatch:
    """Measures the CPU that processes other than ours used during one load run."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def _ours(self) -> float:
        """Seconds of CPU used by this process, its reaped children (wrk), and the server."""
        own = os.times()
        return (own.user + own.system + own.children_user + own.children_system) + _process_ticks(
            self.server_pid
        ) / self.hz

    def __enter__(self) -> CpuWatch:
        self.start_machine = _cpu_times()
        self.start_ours = self._ours()
        self.foreign: float | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        end_machine = _cpu_times()
        if self.start_machine is None or end_machine is None:
            return
        busy = (end_machine[0] - self.start_machine[0]) / self.hz
        total = (end_machine[1] - self.start_machine[1]) / self.hz
        if total > 0:
            self.foreign = max(0.0, busy - (self._ours() - self.start_ours)) / total


def busy_fraction(seconds: float = 1.0) -> float | None:
    """How busy the machine is while we do nothing: other jobs make the figures noisy."""
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def noisy(run: Run) -> bool:
    return run.foreign_cpu is not None and run.foreign_cpu > FOREIGN_CPU


def describe(run: Run) -> str:
    notes = []
    if run.non_200 or run.errors:
        notes.append(f"{run.non_200} non-200, {run.errors} errors")
    if noisy(run):
        notes.append(f"other processes used {run.foreign_cpu:.0%} of the CPUs")
    return f"{run.rps:,.0f} rps" + (f" ({'; '.join(notes)})" if notes else "")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_benchmark(args: argparse.Namespace) -> int:
    levels: list[int] = args.concurrency
    seconds: float = args.seconds
    rounds: int = args.rounds
    pin = not args.no_pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2
    wrk = shutil.which("wrk") if args.generator in ("auto", "wrk") else None
    if args.generator == "wrk" and wrk is None:
        log("--generator wrk: wrk is not on PATH")
        return 2
    measured = wrk_seconds(seconds) if wrk else seconds
    generator = f"wrk ({wrk}, 1 thread)" if wrk else "python asyncio streams (in-process)"
    count = len(SERVERS) * len(levels) * rounds
    estimate = len(SERVERS) * WARMUP_SECONDS + count * (measured + 0.3)
    longest = estimate + (count * (measured + 0.3 + RETRY_PAUSE) if args.retries else 0)
    log(
        f"throughput: {len(SERVERS)} servers x {len(levels)} concurrency levels x {rounds} rounds"
        f" x {measured:g} s; load generator: {generator}; about {estimate:.0f} s"
        f" ({longest:.0f} s at most with retries)"
    )
    busy = busy_fraction()
    if busy is not None and busy > BUSY_FRACTION:
        log(
            f"WARNING: the CPUs were {busy:.0%} busy before the run: another job shares the "
            "machine, and the figures will be noisy"
        )
    if pin:
        _pin(LOADGEN_CPU)
    body = json.dumps(REQUEST_BODY, separators=(",", ":")).encode()
    servers: dict[ServerKind, Server] = {}
    cells: dict[int, dict[ServerKind, Cell]] = {n: {k: Cell() for k in SERVERS} for n in levels}
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = Path(tmp)
        try:
            for kind in ("fake-on", "fake-off"):
                servers[kind] = start_server(kind, workdir, pin)
                servers[kind].body_bytes = check_server(servers[kind], body)
            size = servers["fake-on"].body_bytes
            servers["bare"] = start_server("bare", workdir, pin, body_bytes=size)
            servers["bare"].body_bytes = check_server(servers["bare"], body)
            log(
                "answers checked (200, JSON): "
                + ", ".join(f"{k} {s.body_bytes} bytes" for k, s in servers.items())
            )
            script = write_wrk_script(workdir, body) if wrk else None

            def load(server: Server, connections: int, duration: float) -> Run:
                with CpuWatch(server.process.pid) as watch:
                    if wrk is not None and script is not None:
                        run = wrk_load(wrk, script, server, connections, duration)
                    else:
                        run = python_load(server, body, connections, duration)
                run.foreign_cpu = watch.foreign
                return run

            # Retries are bounded per measurement and in total, so a busy machine cannot make
            # the run last more than twice as long.
            retries_left = len(levels) * rounds * len(SERVERS)
            for kind in SERVERS:
                warm = load(servers[kind], max(levels), WARMUP_SECONDS)
                log(f"warm-up {kind}: {describe(warm)}")
            for level in levels:
                for index in range(rounds):
                    for kind in SERVERS:
                        cell = cells[level][kind]
                        label = f"c={level} round {index + 1}/{rounds} {kind}"
                        # A measurement during which other jobs took CPU is taken again (a
                        # bounded number of times) and the quietest attempt is kept.
                        attempts = [load(servers[kind], level, seconds)]
                        log(f"{label}: {describe(attempts[-1])}")
                        while (
                            noisy(attempts[-1])
                            and len(attempts) <= args.retries
                            and retries_left > 0
                        ):
                            retries_left -= 1
                            log(f"{label}: again, after a {RETRY_PAUSE:g} s pause")
                            time.sleep(RETRY_PAUSE)
                            attempts.append(load(servers[kind], level, seconds))
                            log(f"{label}: {describe(attempts[-1])}")
                        best = min(attempts, key=lambda r: r.foreign_cpu or 0.0)
                        cell.runs.append(best)
                        cell.discarded += [r for r in attempts if r is not best]
        finally:
            for server in servers.values():
                out = stop_server(server.process)
                for line in out.splitlines()[::-1]:
                    with contextlib.suppress(ValueError):
                        server.stats = json.loads(line)
                        break
    header = (
        f"POST {PATH} (non-streaming, {len(body)}-byte request, "
        f"{servers['fake-on'].body_bytes}-byte answer); {rounds} rounds x {measured:g} s "
        f"per server and concurrency, interleaved; load generator: {generator}"
        + ("; server pinned to CPU 1, load generator to CPU 0" if pin else "")
    )
    print(format_table(levels, cells, header))
    ratios = {
        level: {
            kind: cells[level][kind].median / cells[level]["bare"].median
            for kind in ("fake-on", "fake-off")
        }
        for level in levels
    }
    worst = min(r["fake-on"] for r in ratios.values())
    verdict = "met" if worst >= TARGET_RATIO else "MISSED"
    print(
        f"\nvalidation on / bare, lowest over the concurrency levels: {worst:.2f}x "
        f"(target >= {TARGET_RATIO}x: {verdict})"
    )
    served = [f"{k} {s.stats['requests']:,}" for k, s in servers.items() if s.stats.get("requests")]
    if served:
        print(f"requests the fakes journaled (warm-up and checks included): {', '.join(served)}")
    kept_noisy = [
        r for level in levels for kind in SERVERS for r in cells[level][kind].runs if noisy(r)
    ]
    retried = sum(len(cells[level][kind].discarded) for level in levels for kind in SERVERS)
    if retried:
        print(f"measurements taken again because other processes took CPU: {retried}")
    if kept_noisy:
        print(
            f"NOTE: other processes used over {FOREIGN_CPU:.0%} of the CPUs during "
            f"{len(kept_noisy)} of the {len(levels) * rounds * len(SERVERS)} measurements "
            "kept: rerun on a quiet machine"
        )
    dirty = [
        (level, kind, r)
        for level in levels
        for kind in SERVERS
        for r in cells[level][kind].runs
        if r.non_200 or r.errors
    ]
    fake_errors = {k: s.stats.get("errors") for k, s in servers.items() if s.stats.get("errors")}
    for level, kind, r in dirty:
        print(f"WARNING: c={level} {kind}: {r.non_200} non-200 answers, {r.errors} errors")
    for kind, recorded in fake_errors.items():
        print(f"WARNING: {kind} recorded {recorded} error(s) inside the server")
        print(servers[kind].stats.get("first_error") or "")
    if args.json:
        report = {
            "benchmark": "throughput",
            "machine": machine(),
            "generator": "wrk" if wrk else "python",
            "generator_detail": generator,
            "pinned": pin,
            "busy_before": busy,
            "seconds": measured,
            "rounds": rounds,
            "request_bytes": len(body),
            "answer_bytes": {k: s.body_bytes for k, s in servers.items()},
            "target_ratio": TARGET_RATIO,
            "target_met": worst >= TARGET_RATIO,
            "results": {
                str(level): {
                    kind: {
                        "median_rps": cells[level][kind].median,
                        "runs": [asdict(r) for r in cells[level][kind].runs],
                        "discarded": [asdict(r) for r in cells[level][kind].discarded],
                    }
                    for kind in SERVERS
                }
                | {
                    "ratio_on": ratios[level]["fake-on"],
                    "ratio_off": ratios[level]["fake-off"],
                }
                for level in levels
            },
            "server_stats": {k: s.stats for k, s in servers.items()},
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.json}")
    if dirty or fake_errors:
        return 2
    return 0 if worst >= TARGET_RATIO else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Requests per second of non-streaming chat completions: the fake with "
        "validation on and off against a bare aiohttp server, in one run."
    )
    p.add_argument(
        "--seconds",
        type=parse_seconds,
        default=DEFAULT_SECONDS,
        help=f"length of each measurement (default {DEFAULT_SECONDS:g}; wrk rounds it to whole "
        "seconds)",
    )
    p.add_argument(
        "--concurrency",
        type=parse_levels,
        default=list(DEFAULT_CONCURRENCY),
        help="open connections, comma-separated levels (default 1,16,64)",
    )
    p.add_argument(
        "--rounds",
        type=parse_rounds,
        default=DEFAULT_ROUNDS,
        help=f"interleaved rounds per level (default {DEFAULT_ROUNDS}; the median is reported)",
    )
    p.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when on PATH (auto), or the Python one",
    )
    p.add_argument(
        "--retries",
        type=parse_retries,
        default=DEFAULT_RETRIES,
        help="times a measurement is taken again when other processes took over "
        f"{FOREIGN_CPU:.0%} of the CPUs meanwhile (default {DEFAULT_RETRIES}; Linux only)",
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument(
        "--no-pin", action="store_true", help="do not pin the server and the load to CPUs 1 and 0"
    )
    p.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    p.add_argument("--body-bytes", type=int, default=365, help=argparse.SUPPRESS)
    p.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.serve is not None:
        _pin(args.cpu)
        if args.serve == "bare":
            serve_bare(args.body_bytes)
        else:
            serve_fake(args.serve == "fake-on")
        return 0
    # SIGTERM unwinds like Ctrl-C, so the finally block stops the servers (they also stop on
    # their own when this process dies: their stdin closes).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return run_benchmark(args)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        log(f"bench_throughput: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
