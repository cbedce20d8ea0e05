"""Requests per second of non-streaming chat completions: the fake against a bare aiohttp server.

Three servers (four with ``--before``), measured side by side in one run, each in its own
subprocess (one core for the server, one for the load generator):

* ``fake-on``: ``FakeLMStudio`` with schema validation on (the default),
* ``fake-off``: the same with validation off,
* ``fake-before`` (with ``--before COMMIT``): the fake of that commit of this repository, with
  validation on: the figure before a change beside the one after (``make bench`` measures the
  fake before its split into engine, doors and HTTP shell),
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
concurrency, and the ratios fake/bare. Target: validation on at least 0.6x bare aiohttp at
every concurrency.

    .venv/bin/python tests/benchmarks/bench_throughput.py [--seconds S]
        [--concurrency 1,16,64] [--rounds N] [--retries N] [--generator auto|wrk|python]
        [--before COMMIT] [--json out.json]

Progress goes to stderr, the table to stdout. Exit status: 0 when the target is met, 1 when it
is missed, 2 when a run failed (a server that did not start or answered anything but 200, a
failed connection, an error inside the fake: the figures are then suspect) or on a usage error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from _before import REFACTOR_BASE, archived
from _harness import (
    CHAT_BODY,
    CHAT_PATH,
    CLIENT_CPU,
    MODEL,
    SERVER_CPU,
    THROUGHPUT_VS_BARE,
    ServerProcess,
    bounded,
    can_pin,
    int_list,
    json_bytes,
    log,
    machine,
    pin,
    serve_bare,
    serve_fake,
)
from _load import (
    REQUEST_TIMEOUT,
    CpuWatch,
    Run,
    busy_fraction,
    python_load,
    write_wrk_script,
    wrk_load,
    wrk_seconds,
)

ServerKind = Literal["fake-on", "fake-off", "fake-before", "bare"]
SERVERS: tuple[ServerKind, ...] = ("fake-on", "fake-off", "fake-before", "bare")
LABELS: dict[ServerKind, str] = {
    "fake-on": "fake, validation on",
    "fake-off": "fake, validation off",
    "fake-before": "fake before, validation on",
    "bare": "bare aiohttp",
}

DEFAULT_SECONDS = 3.0
DEFAULT_CONCURRENCY = (1, 16, 64)
DEFAULT_ROUNDS = 3
DEFAULT_RETRIES = 2
#: Other jobs often come in bursts: let one pass before measuring again.
RETRY_PAUSE = 1.0
WARMUP_SECONDS = 1.0
#: CPUs busier than this while the benchmark is idle: another job shares the machine.
BUSY_FRACTION = 0.15
#: A run during which other processes used more of the CPUs than this is flagged as noisy.
FOREIGN_CPU = 0.1
PARSE_SECONDS = bounded(float, 0.2, 60.0, "--seconds")
PARSE_LEVELS = int_list(1, 1024, "--concurrency", most=8)
PARSE_ROUNDS = bounded(int, 3, 20, "--rounds")
PARSE_RETRIES = bounded(int, 0, 5, "--retries")


# -- the servers (run with --serve, each in its own process) ------------------------------------
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
    empty = len(json_bytes(document))
    document["choices"][0]["message"]["content"] = "x" * max(0, size - empty)
    return json_bytes(document)


def serve(kind: ServerKind, body_bytes: int, root: Path | None) -> None:
    if kind != "bare":
        serve_fake(lambda fake: fake.set_validation(kind != "fake-off"), root=root)
        return
    from aiohttp import web

    body = bare_body(body_bytes)

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    serve_bare(handler)


def start_server(
    kind: ServerKind, workdir: Path, use_pin: bool, body_bytes: int = 0, root: Path | None = None
) -> ServerProcess:
    args = ["--body-bytes", str(body_bytes)] if kind == "bare" else []
    if root is not None:
        args += ["--root", str(root)]
    cpu = SERVER_CPU if use_pin else None
    return ServerProcess(__file__, kind, args, cpu=cpu, workdir=workdir)


def check_server(server: ServerProcess, body: bytes) -> int:
    """One request before any load: a 200 with a JSON body (else we would time error pages).
    Returns the answer's size in bytes."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(
            "POST", CHAT_PATH, body=body, headers={"Content-Type": "application/json"}
        )
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


def format_table(
    levels: Sequence[int],
    kinds: Sequence[ServerKind],
    cells: dict[int, dict[ServerKind, Cell]],
    header: str,
) -> str:
    before = "fake-before" in kinds
    columns = [
        "concurrency",
        *(f"{LABELS[k]} (rps)" for k in kinds),
        "on/bare",
        "off/bare",
        *(["before/bare", "on/before"] if before else []),
    ]
    rows = []
    for level in levels:
        row = [str(level)]
        for kind in kinds:
            cell = cells[level][kind]
            low, high = cell.spread
            row.append(f"{cell.median:,.0f} [{low:,.0f}-{high:,.0f}]")
        bare = cells[level]["bare"].median
        for kind in ("fake-on", "fake-off", *(["fake-before"] if before else [])):
            ratio = cells[level][kind].median / bare if bare else math.nan
            row.append(f"{ratio:.2f}x")
        if before:
            row.append(
                f"{cells[level]['fake-on'].median / cells[level]['fake-before'].median:.2f}x"
            )
        rows.append(row)
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    lines = [header, ""]
    lines.append(" | ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    lines.append("median of the rounds [lowest-highest]; on/bare and off/bare: ratios of medians")
    return "\n".join(lines)


def noisy(run: Run) -> bool:
    return run.foreign_cpu is not None and run.foreign_cpu > FOREIGN_CPU


def describe(run: Run) -> str:
    notes = []
    if run.non_200 or run.errors:
        notes.append(f"{run.non_200} non-200, {run.errors} errors")
    if noisy(run):
        notes.append(f"other processes used {run.foreign_cpu:.0%} of the CPUs")
    return f"{run.rps:,.0f} rps" + (f" ({'; '.join(notes)})" if notes else "")


def run_benchmark(args: argparse.Namespace) -> int:
    levels: list[int] = args.concurrency
    kinds = [k for k in SERVERS if k != "fake-before" or args.before]
    seconds: float = args.seconds
    rounds: int = args.rounds
    use_pin = can_pin(args.no_pin)
    wrk = shutil.which("wrk") if args.generator in ("auto", "wrk") else None
    if args.generator == "wrk" and wrk is None:
        log("--generator wrk: wrk is not on PATH")
        return 2
    measured = wrk_seconds(seconds) if wrk else seconds
    generator = f"wrk ({wrk}, 1 thread)" if wrk else "python asyncio streams (in-process)"
    count = len(kinds) * len(levels) * rounds
    estimate = len(kinds) * WARMUP_SECONDS + count * (measured + 0.3)
    longest = estimate + (count * (measured + 0.3 + RETRY_PAUSE) if args.retries else 0)
    log(
        f"throughput: {len(kinds)} servers x {len(levels)} concurrency levels x {rounds} rounds"
        f" x {measured:g} s; load generator: {generator}; about {estimate:.0f} s"
        f" ({longest:.0f} s at most with retries)"
    )
    busy = busy_fraction()
    if busy is not None and busy > BUSY_FRACTION:
        log(
            f"WARNING: the CPUs were {busy:.0%} busy before the run: another job shares the "
            "machine, and the figures will be noisy"
        )
    if use_pin:
        pin(CLIENT_CPU)
    body = json_bytes(CHAT_BODY)
    servers: dict[ServerKind, ServerProcess] = {}
    answer_bytes: dict[ServerKind, int] = {}
    cells: dict[int, dict[ServerKind, Cell]] = {n: {k: Cell() for k in kinds} for n in levels}
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = Path(tmp)
        try:
            before = archived(args.before, workdir / "before") if args.before else None
            for kind in ("fake-on", "fake-off", *(["fake-before"] if before else [])):
                servers[kind] = start_server(kind, workdir, use_pin, root=before)
                answer_bytes[kind] = check_server(servers[kind], body)
            size = answer_bytes["fake-on"]
            servers["bare"] = start_server("bare", workdir, use_pin, body_bytes=size)
            answer_bytes["bare"] = check_server(servers["bare"], body)
            log(
                "answers checked (200, JSON): "
                + ", ".join(f"{k} {n} bytes" for k, n in answer_bytes.items())
            )
            script = write_wrk_script(workdir, body) if wrk else None

            def load(server: ServerProcess, connections: int, duration: float) -> Run:
                with CpuWatch(server.process.pid) as watch:
                    if wrk is not None and script is not None:
                        run = wrk_load(wrk, script, server.url, connections, duration)
                    else:
                        run = python_load(server.url, body, connections, duration)
                run.foreign_cpu = watch.foreign
                return run

            # Retries are bounded per measurement and in total, so a busy machine cannot make
            # the run last more than twice as long.
            retries_left = len(levels) * rounds * len(kinds)
            for kind in kinds:
                warm = load(servers[kind], max(levels), WARMUP_SECONDS)
                log(f"warm-up {kind}: {describe(warm)}")
            for level in levels:
                for index in range(rounds):
                    for kind in kinds:
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
                server.stop()
    header = (
        f"POST {CHAT_PATH} (non-streaming, {len(body)}-byte request, "
        f"{answer_bytes['fake-on']}-byte answer); {rounds} rounds x {measured:g} s "
        f"per server and concurrency, interleaved; load generator: {generator}"
        + ("; server pinned to CPU 1, load generator to CPU 0" if use_pin else "")
    )
    if args.before:
        header += f"; fake before: commit {args.before}"
    print(format_table(levels, kinds, cells, header))
    ratios = {
        level: {
            kind: cells[level][kind].median / cells[level]["bare"].median
            for kind in kinds
            if kind != "bare"
        }
        for level in levels
    }
    worst = min(r["fake-on"] for r in ratios.values())
    verdict = "met" if worst >= THROUGHPUT_VS_BARE else "MISSED"
    print(
        f"\nvalidation on / bare, lowest over the concurrency levels: {worst:.2f}x "
        f"(target >= {THROUGHPUT_VS_BARE}x: {verdict})"
    )
    served = [f"{k} {s.stats['requests']:,}" for k, s in servers.items() if s.stats.get("requests")]
    if served:
        print(f"requests the fakes journaled (warm-up and checks included): {', '.join(served)}")
    kept_noisy = [
        r for level in levels for kind in kinds for r in cells[level][kind].runs if noisy(r)
    ]
    retried = sum(len(cells[level][kind].discarded) for level in levels for kind in kinds)
    if retried:
        print(f"measurements taken again because other processes took CPU: {retried}")
    if kept_noisy:
        print(
            f"NOTE: other processes used over {FOREIGN_CPU:.0%} of the CPUs during "
            f"{len(kept_noisy)} of the {len(levels) * rounds * len(kinds)} measurements "
            "kept: rerun on a quiet machine"
        )
    dirty = [
        (level, kind, r)
        for level in levels
        for kind in kinds
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
            "pinned": use_pin,
            "busy_before": busy,
            "seconds": measured,
            "rounds": rounds,
            "request_bytes": len(body),
            "answer_bytes": answer_bytes,
            "before_commit": args.before,
            "target_ratio": THROUGHPUT_VS_BARE,
            "target_met": worst >= THROUGHPUT_VS_BARE,
            "results": {
                str(level): {
                    kind: {
                        "median_rps": cells[level][kind].median,
                        "runs": [asdict(r) for r in cells[level][kind].runs],
                        "discarded": [asdict(r) for r in cells[level][kind].discarded],
                    }
                    for kind in kinds
                }
                | {
                    "ratio_on": ratios[level]["fake-on"],
                    "ratio_off": ratios[level]["fake-off"],
                }
                | (
                    {
                        "ratio_before": ratios[level]["fake-before"],
                        "ratio_on_to_before": cells[level]["fake-on"].median
                        / cells[level]["fake-before"].median,
                    }
                    if args.before
                    else {}
                )
                for level in levels
            },
            "server_stats": {k: s.stats for k, s in servers.items()},
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.json}")
    if dirty or fake_errors:
        return 2
    return 0 if worst >= THROUGHPUT_VS_BARE else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Requests per second of non-streaming chat completions: the fake with "
        "validation on and off against a bare aiohttp server, in one run."
    )
    p.add_argument(
        "--seconds",
        type=PARSE_SECONDS,
        default=DEFAULT_SECONDS,
        help=f"length of each measurement (default {DEFAULT_SECONDS:g}; wrk rounds it to whole "
        "seconds)",
    )
    p.add_argument(
        "--concurrency",
        type=PARSE_LEVELS,
        default=list(DEFAULT_CONCURRENCY),
        help="open connections, comma-separated levels (default 1,16,64)",
    )
    p.add_argument(
        "--rounds",
        type=PARSE_ROUNDS,
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
        type=PARSE_RETRIES,
        default=DEFAULT_RETRIES,
        help="times a measurement is taken again when other processes took over "
        f"{FOREIGN_CPU:.0%}% of the CPUs meanwhile (default {DEFAULT_RETRIES}; Linux only)",
    )
    p.add_argument(
        "--before",
        metavar="COMMIT",
        help="also measure the fake of this commit of the repository (make bench: the last "
        f"commit before the fake's split, {REFACTOR_BASE})",
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument(
        "--no-pin", action="store_true", help="do not pin the server and the load to CPUs 1 and 0"
    )
    p.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    p.add_argument("--body-bytes", type=int, default=365, help=argparse.SUPPRESS)
    p.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.serve is not None:
        pin(args.cpu)
        serve(args.serve, args.body_bytes, args.root)
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
