"""Requests per second of default chat answers with a ``response_format`` json_schema against the
same request without one: what structured output costs the fake.

One fake (``FakeLMStudio``, validation on) in a subprocess on 127.0.0.1 serves both requests:

* ``schema``: ``POST /v1/chat/completions`` (model, a system and a user message) with
  ``response_format: {"type": "json_schema", ...}`` carrying the schema of a 10-field pydantic
  model (nested object, enum, ``Literal``, optional, list, date-time, UUID, constrained fields),
  as pydantic-ai and instructor send it; the fake answers JSON that fits it;
* ``plain``: the same request without ``response_format``; the fake answers seeded sentences.

Both are checked first (a 200 with a chat completion; the schema answer's content parses and
fits the schema, finished by ``stop``). The load generator is a minimal asyncio-streams
HTTP/1.1 keep-alive client in this process (pre-built request bytes, Content-Length framing) at
each concurrency level; after a warm-up the two requests are measured in interleaved rounds
(schema, plain, schema, ...), so machine noise hits both alike. On Linux with 2 or more cores the
server runs on CPU 1 and the client on CPU 0. The table gives the median per request and level
with the lowest and highest round, and the ratio of the medians schema/plain.

    .venv/bin/python tests/benchmarks/bench_structured.py [--seconds 2] [--rounds 5]
        [--concurrency 1,16] [--json out.json]

Progress goes to stderr, the table to stdout. Exit status: 0 when the run completed, 2 when it
failed (a server that did not start, an answer that was not a 200 or did not fit, a failed
connection, an error recorded inside the fake) or on a usage error. There is no target: the
ratio is the result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import enum
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
PATH = "/v1/chat/completions"
MODEL = "qwen/qwen3-8b"
KINDS = ("schema", "plain")
DEFAULT_SECONDS = 2.0
DEFAULT_ROUNDS = 5
DEFAULT_CONCURRENCY = (1, 16)
WARMUP_SECONDS = 1.0
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10.0
SERVER_CPU = 1
CLIENT_CPU = 0
#: CPUs busier than this while the benchmark is idle: another job shares the machine.
BUSY_FRACTION = 0.15
URL_LINE = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)$")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _pin(cpu: int | None) -> None:
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {cpu})


# -- the requests -------------------------------------------------------------------------------
def output_schema() -> dict[str, Any]:
    """The schema of a realistic 10-field model, as ``model_json_schema()`` writes it."""
    from pydantic import BaseModel, EmailStr, Field

    class Tier(str, enum.Enum):
        free = "free"
        pro = "pro"
        enterprise = "enterprise"

    class Address(BaseModel):
        street: str
        city: str
        postcode: str = Field(pattern=r"^\d{5}$")
        country: str = Field(min_length=2, max_length=2)

    class Account(BaseModel):
        id: uuid.UUID
        name: str = Field(min_length=1, max_length=80)
        email: EmailStr
        tier: Tier
        status: Literal["active", "suspended", "closed"]
        seats: int = Field(ge=1, le=500)
        balance: float = Field(ge=0)
        address: Address
        tags: list[str] = Field(default_factory=list, max_length=5)
        renews_at: datetime.datetime | None = None

    return Account.model_json_schema()


def request_bodies() -> dict[str, dict[str, Any]]:
    plain: dict[str, Any] = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You extract account records. Answer with JSON."},
            {"role": "user", "content": "Ada Lovelace, ada@example.com, 12 seats on Pro."},
        ],
    }
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "Account", "strict": True, "schema": output_schema()},
    }
    return {"schema": {**plain, "response_format": response_format}, "plain": plain}


# -- the server (run with --serve, in its own process) ------------------------------------------
def serve() -> None:
    sys.path.insert(0, str(ROOT))
    from fake_server import FakeLMStudio

    with FakeLMStudio() as fake:
        print(f"listening on {fake.url}", flush=True)
        with contextlib.suppress(OSError, ValueError):  # until the parent closes our stdin
            while sys.stdin.buffer.read(65536):
                pass
        errors = fake.errors
        stats = {
            "requests": fake.journal.total,
            "errors": len(errors),
            "first_error": errors[0][:2000] if errors else None,
        }
    print(json.dumps(stats), flush=True)


def start_server(pin: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve"]
    if pin:
        command += ["--cpu", str(SERVER_CPU)]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    match = URL_LINE.match((lines[0] if lines else "").strip())
    if match is None:
        process.kill()
        raise RuntimeError(f"the fake did not print its URL within {START_TIMEOUT:.0f} s")
    return process, match.group(1)


def stop_server(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Close stdin (the polite stop), then kill; returns the stats the fake printed."""
    try:
        out, _ = process.communicate(timeout=REQUEST_TIMEOUT)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        process.kill()
        return {}
    for line in (out or "").splitlines()[::-1]:
        with contextlib.suppress(ValueError):
            stats: dict[str, Any] = json.loads(line)
            return stats
    return {}


def check_answers(url: str, bodies: dict[str, dict[str, Any]]) -> dict[str, int]:
    """One request of each kind before any load: a 200 chat completion; the schema answer is
    JSON that fits. Returns each answer's size in bytes."""
    import httpx
    import jsonschema

    sizes = {}
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        for kind, body in bodies.items():
            response = client.post(PATH, json=body)
            if response.status_code != 200:
                raise RuntimeError(f"{kind}: status {response.status_code}: {response.text[:500]}")
            choice = response.json()["choices"][0]
            if choice["finish_reason"] != "stop":
                raise RuntimeError(f"{kind}: finish_reason {choice['finish_reason']!r}")
            if kind == "schema":
                schema = body["response_format"]["json_schema"]["schema"]
                try:
                    jsonschema.validate(json.loads(choice["message"]["content"]), schema)
                except (ValueError, jsonschema.ValidationError) as exc:
                    raise RuntimeError(f"the schema answer does not fit: {exc}") from None
            sizes[kind] = len(response.content)
    return sizes


# -- the load generator -------------------------------------------------------------------------
@dataclass
class Run:
    rps: float
    requests: int
    seconds: float
    non_200: int = 0
    errors: int = 0
    #: CPU time the server process used per request (Linux): less sensitive to other jobs
    #: than requests per second.
    server_cpu_ms: float | None = None


@dataclass
class Cell:
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        return min(r.rps for r in self.runs), max(r.rps for r in self.runs)

    @property
    def cpu_ms(self) -> float | None:
        known = [r.server_cpu_ms for r in self.runs if r.server_cpu_ms is not None]
        return statistics.median(known) if known else None


def build_request(url: str, body: bytes) -> bytes:
    host_port = url.removeprefix("http://")
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host_port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _load(url: str, request: bytes, connections: int, seconds: float) -> Run:
    host, _, port = url.removeprefix("http://").partition(":")
    loop = asyncio.get_running_loop()
    pairs = [await asyncio.open_connection(host, int(port)) for _ in range(connections)]
    done = non_200 = errors = 0
    deadline = loop.time() + seconds

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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process (Linux), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def load(url: str, request: bytes, connections: int, seconds: float, pid: int) -> Run:
    before = cpu_seconds(pid)
    run = asyncio.run(_load(url, request, connections, seconds))
    after = cpu_seconds(pid)
    if before is not None and after is not None and run.requests:
        run.server_cpu_ms = (after - before) * 1000 / run.requests
    return run


# -- the run ------------------------------------------------------------------------------------
def busy_fraction(seconds: float = 1.0) -> float | None:
    """How busy the CPUs are while we do nothing (Linux): other jobs make the figures noisy."""

    def ticks() -> tuple[int, int] | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        except (OSError, ValueError):
            return None
        return sum(fields) - fields[3] - fields[4], sum(fields)

    before = ticks()
    time.sleep(seconds)
    after = ticks()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def format_table(levels: Sequence[int], cells: dict[int, dict[str, Cell]], header: str) -> str:
    columns = [
        "concurrency",
        "json_schema (rps)",
        "no schema (rps)",
        "schema/plain",
        "server CPU ms/request",
    ]
    rows = []
    for level in levels:
        row = [str(level)]
        for kind in KINDS:
            low, high = cells[level][kind].spread
            row.append(f"{cells[level][kind].median:,.0f} [{low:,.0f}-{high:,.0f}]")
        row.append(f"{cells[level]['schema'].median / cells[level]['plain'].median:.2f}x")
        schema_cpu, plain_cpu = (cells[level][kind].cpu_ms for kind in KINDS)
        if schema_cpu is None or plain_cpu is None:
            row.append("n/a")
        else:
            row.append(f"{schema_cpu:.2f} vs {plain_cpu:.2f}")
        rows.append(row)
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    lines = [header, ""]
    lines.append(" | ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines += [
        "",
        "median of the rounds [lowest-highest]; schema/plain: ratio of the medians; server CPU:",
        "the fake process's CPU time per request, median of the rounds, schema vs no schema",
    ]
    return "\n".join(lines)


def run_benchmark(args: argparse.Namespace) -> int:
    levels: list[int] = args.concurrency
    pin = not args.no_pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2
    estimate = len(KINDS) * (WARMUP_SECONDS + len(levels) * args.rounds * args.seconds)
    log(
        f"structured: {len(KINDS)} requests x {len(levels)} concurrency levels x {args.rounds} "
        f"rounds x {args.seconds:g} s; about {estimate:.0f} s"
    )
    busy = busy_fraction()
    if busy is not None and busy > BUSY_FRACTION:
        log(f"WARNING: the CPUs were {busy:.0%} busy before the run: the figures will be noisy")
    if pin:
        _pin(CLIENT_CPU)
    bodies = request_bodies()
    encoded = {k: json.dumps(b, separators=(",", ":")).encode() for k, b in bodies.items()}
    cells: dict[int, dict[str, Cell]] = {n: {k: Cell() for k in KINDS} for n in levels}
    process, url = start_server(pin)
    try:
        answer_bytes = check_answers(url, bodies)
        log("answers checked: " + ", ".join(f"{k} {n} bytes" for k, n in answer_bytes.items()))
        requests = {k: build_request(url, body) for k, body in encoded.items()}
        for kind in KINDS:
            warm = load(url, requests[kind], max(levels), WARMUP_SECONDS, process.pid)
            log(f"warm-up {kind}: {warm.rps:,.0f} rps")
        for level in levels:
            for index in range(args.rounds):
                for kind in KINDS:
                    run = load(url, requests[kind], level, args.seconds, process.pid)
                    cells[level][kind].runs.append(run)
                    cpu = "" if run.server_cpu_ms is None else f", {run.server_cpu_ms:.2f} ms CPU"
                    log(
                        f"c={level} round {index + 1}/{args.rounds} {kind}: {run.rps:,.0f} rps{cpu}"
                    )
    finally:
        stats = stop_server(process)
    header = (
        f"POST {PATH}, default answers (non-streaming): with a 10-field model's json_schema "
        f"({len(encoded['schema'])}-byte request, {answer_bytes['schema']}-byte answer) and "
        f"without ({len(encoded['plain'])}-byte request, {answer_bytes['plain']}-byte answer); "
        f"{args.rounds} rounds x {args.seconds:g} s per request and concurrency, interleaved"
        + ("; server pinned to CPU 1, client to CPU 0" if pin else "")
    )
    print(format_table(levels, cells, header))
    ratios = {n: cells[n]["schema"].median / cells[n]["plain"].median for n in levels}
    dirty = [
        (n, k, r) for n in levels for k in KINDS for r in cells[n][k].runs if r.non_200 or r.errors
    ]
    for level, kind, r in dirty:
        print(f"WARNING: c={level} {kind}: {r.non_200} non-200 answers, {r.errors} errors")
    if stats.get("errors"):
        print(f"WARNING: the fake recorded {stats['errors']} error(s):\n{stats['first_error']}")
    if args.json:
        import aiohttp

        report = {
            "benchmark": "structured",
            "machine": {
                "cores": os.cpu_count(),
                "os": platform.platform(),
                "python": platform.python_version(),
                "aiohttp": aiohttp.__version__,
            },
            "generator": "python",
            "pinned": pin,
            "busy_before": busy,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "request_bytes": {k: len(b) for k, b in encoded.items()},
            "answer_bytes": answer_bytes,
            "results": {
                str(level): {
                    kind: {
                        "median_rps": cells[level][kind].median,
                        "median_server_cpu_ms": cells[level][kind].cpu_ms,
                        "runs": [asdict(r) for r in cells[level][kind].runs],
                    }
                    for kind in KINDS
                }
                | {"ratio": ratios[level]}
                for level in levels
            },
            "server_stats": stats,
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 2 if dirty or stats.get("errors") else 0


def _positive(kind: type[float] | type[int], low: float, high: float) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value

    return parse


def _levels(text: str) -> list[int]:
    parse = _positive(int, 1, 1024)
    levels = [parse(part) for part in text.split(",") if part.strip()]
    if not levels:
        raise argparse.ArgumentTypeError("at least one concurrency level")
    return levels


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Requests per second of default chat answers with a json_schema "
        "response_format against the same request without one, in one run."
    )
    p.add_argument(
        "--seconds",
        type=_positive(float, 0.2, 60),
        default=DEFAULT_SECONDS,
        help=f"length of each measurement (default {DEFAULT_SECONDS:g})",
    )
    p.add_argument(
        "--rounds",
        type=_positive(int, 1, 50),
        default=DEFAULT_ROUNDS,
        help=f"interleaved rounds per level (default {DEFAULT_ROUNDS}; median reported)",
    )
    p.add_argument(
        "--concurrency",
        type=_levels,
        default=list(DEFAULT_CONCURRENCY),
        help="open keep-alive connections, comma-separated levels (default 1,16)",
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument(
        "--no-pin", action="store_true", help="do not pin the server and the client to CPUs 1 and 0"
    )
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.serve:
        _pin(args.cpu)
        serve()
        return 0
    # SIGTERM unwinds like Ctrl-C, so the finally block stops the server (it also stops on its
    # own when this process dies: its stdin closes).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return run_benchmark(args)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        log(f"bench_structured: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
