"""The load generators of ``bench_throughput.py`` and the CPU other processes take meanwhile.

Two generators: ``wrk`` (one thread, a Lua script for the POST body) when it is on PATH, else a
minimal asyncio-streams HTTP/1.1 keep-alive client in the benchmark's own process (pre-built
request bytes, Content-Length framing): aiohttp's and httpx's clients cost too much per request
and would hide the server's cost. ``make bench`` installs wrk where it can (Debian's package,
as root); without it the Python one stands in.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import CHAT_PATH, build_request

#: A request that takes longer than this is a failure, not a slow answer.
REQUEST_TIMEOUT = 10.0
#: Extra time a wrk or Python load run may take beyond its duration before it is killed.
RUN_GRACE = 30.0


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


# -- the Python generator ------------------------------------------------------------------------
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


def python_load(url: str, body: bytes, connections: int, seconds: float) -> Run:
    host, _, port = url.removeprefix("http://").partition(":")
    request = build_request(int(port), body, host=host)
    return asyncio.run(_python_load(host, int(port), request, connections, seconds))


# -- wrk -----------------------------------------------------------------------------------------
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


def wrk_load(wrk: str, script: Path, url: str, connections: int, seconds: float) -> Run:
    duration = wrk_seconds(seconds)
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={REQUEST_TIMEOUT:.0f}s",
        "-s",
        str(script),
        url + CHAT_PATH,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + RUN_GRACE, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    return parse_wrk(result.stdout, duration)


# -- the CPU other processes take ------------------------------------------------------------------
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
