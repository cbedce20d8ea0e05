"""Run every benchmark in one go and write ``docs/benchmarks.md`` (``make bench``).

Each benchmark script runs as its own subprocess with ``--json`` into a temporary directory,
with counts small enough that the whole run takes about 5 minutes on 2 cores (each script has a
time limit, and the run as a whole a budget: ``--budget`` seconds, default 900; a benchmark that
would start past it is skipped). Their progress is printed as it comes, prefixed with their name.
A benchmark that fails (a non-zero exit without its JSON, a time-out) does not stop the others:
its section of the report says that it failed and why.

This module runs; ``_report.py`` writes the page from what the run left: the benchmarks' JSON
and ``run.json`` (the machine: CPU model, cores, Python, package versions, load average before
and after, date, commit; and how each benchmark ended). ``--keep DIR`` keeps those files, and
``--from DIR`` writes the page again from them without running anything.

    .venv/bin/python tests/benchmarks/run_all.py [--only NAME,...] [--budget SECONDS]
        [--out docs/benchmarks.md] [--keep DIR]
    .venv/bin/python tests/benchmarks/run_all.py --from DIR [--out docs/benchmarks.md]

Exit status 0 when every benchmark ran, 1 when one failed or was skipped (missed targets do
not fail the command: they are the report's subject).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _report
from _before import REFACTOR_BASE
from _harness import cpu_model, log
from _report_page import Outcome

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
DEFAULT_BUDGET = 1300.0
PACKAGES = (
    "pytest-lmstudio",
    "aiohttp",
    "httpx",
    "openai",
    "lmstudio",
    "respx",
    "pytest-httpserver",
    "pytest",
    "matplotlib",
)


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...]
    timeout: float
    title: str

    @property
    def command(self) -> str:
        """The script and its arguments, as the page shows them (``--json`` left out)."""
        return " ".join((self.script, *self.args))


BENCHES = (
    Bench(
        "throughput",
        "bench_throughput.py",
        ("--seconds", "2", "--rounds", "5", "--before", REFACTOR_BASE),
        300,
        "server throughput",
    ),
    Bench(
        "streaming",
        "bench_streaming.py",
        ("--chunks", "1000", "--streams", "10", "--rounds", "7"),
        120,
        "streaming",
    ),
    Bench(
        "provider-async",
        "bench_provider.py",
        ("--requests", "2000", "--rounds", "10"),
        150,
        "provider (async)",
    ),
    Bench(
        "provider-sync",
        "bench_provider.py",
        ("--sync", "--requests", "2000", "--rounds", "10"),
        150,
        "provider (sync)",
    ),
    Bench(
        "plugin",
        "bench_plugin.py",
        ("--tests", "300", "--rounds", "7", "--before", REFACTOR_BASE, "--startup-runs", "15"),
        420,
        "per test, start-up, import and reset",
    ),
    Bench(
        "cold-start",
        "bench_cold_start.py",
        ("--rounds", "15", "--baseline-commit", "c2f5688"),
        150,
        "cold start",
    ),
    Bench(
        "instructions",
        "bench_instructions.py",
        ("--before", REFACTOR_BASE, "--kind", "chat,test", "--requests", "200", "--tests", "60"),
        420,
        "instructions per request and per test",
    ),
    Bench("timing", "bench_timing.py", ("--pairs", "200", "--runs", "3"), 120, "timing"),
    Bench("scale", "bench_scale.py", ("--rounds", "5"), 300, "scale"),
    Bench(
        "memory", "bench_memory.py", ("--streams", "1000", "--requests", "100000"), 180, "memory"
    ),
    # Quoted as they print themselves (their sections are their own tables).
    Bench(
        "request-cpu",
        "bench_request_cpu.py",
        ("--requests", "2000", "--rounds", "3"),
        240,
        "CPU per request",
    ),
    Bench(
        "structured",
        "bench_structured.py",
        ("--seconds", "2", "--rounds", "3"),
        180,
        "structured output",
    ),
    Bench(
        "doors-responses",
        "bench_doors_responses.py",
        ("--seconds", "2", "--rounds", "3"),
        180,
        "the Responses door",
    ),
    Bench(
        "doors-messages",
        "bench_doors_messages.py",
        ("--rounds", "3"),
        120,
        "the Anthropic door",
    ),
    Bench(
        "sdk",
        "bench_sdk.py",
        ("--rounds", "6", "--requests", "150"),
        90,
        "LM Studio's SDK door",
    ),
)


# -- running ------------------------------------------------------------------------------------
def bench_env() -> dict[str, str]:
    """This environment, with bytecode caching on: as on a developer's machine. (Without it,
    every run compiles the project's modules again, and import and start-up figures measure the
    compiler.)"""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_bench(bench: Bench, workdir: Path, timeout: float) -> Outcome:
    out_json = workdir / f"{bench.name}.json"
    command = [sys.executable, str(HERE / bench.script), *bench.args, "--json", str(out_json)]
    log(f"== {bench.name}: {' '.join(command[1:])} (at most {timeout:.0f} s)")
    started = time.perf_counter()
    tail: list[str] = []
    stdout_path = workdir / f"{bench.name}.stdout"
    with stdout_path.open("w") as stdout:
        process = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=bench_env(),
            start_new_session=True,  # its own process group, ended as one on a time-out
        )

        def pump() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                line = line.rstrip("\n")
                print(f"  [{bench.name}] {line}", file=sys.stderr, flush=True)
                tail.append(line)
                del tail[:-40]

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        reader.join(5)
    seconds = time.perf_counter() - started
    printed = stdout_path.read_text(errors="replace").splitlines()[-40:]
    outcome = Outcome(
        bench.name,
        bench.command,
        "ok",
        seconds,
        process.returncode,
        stderr_tail=list(tail),
        stdout_tail=printed,
    )
    if timed_out:
        outcome.status = "failed"
        outcome.reason = f"stopped after its time limit of {timeout:.0f} s"
    elif out_json.exists():
        try:
            outcome.data = json.loads(out_json.read_text())
        except ValueError as exc:
            outcome.status, outcome.reason = "failed", f"its JSON could not be read: {exc}"
        else:
            if process.returncode == 1:
                outcome.status = "missed"
            elif process.returncode != 0:
                outcome.status = "failed"
                outcome.reason = (
                    f"exit status {process.returncode}: the run flagged a problem "
                    "(its figures are shown but suspect)"
                )
    else:
        outcome.status = "failed"
        outcome.reason = f"exit status {process.returncode}, no results written"
    log(f"== {bench.name}: {outcome.status} in {seconds:.0f} s {outcome.reason}".rstrip())
    return outcome


# -- the machine ----------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    wrk = shutil.which("wrk")
    if wrk:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=5)
            first = (done.stdout or done.stderr).strip().splitlines()
            out["wrk"] = first[0].split(" [")[0].removeprefix("wrk ") if first else "yes"
    else:
        out["wrk"] = "not on PATH (the Python load generator was used)"
    return out


def git_commit() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=5,
        )
        if done.returncode == 0:
            dirty = subprocess.run(
                # The report and its charts (the previous run's) do not count.
                [
                    "git",
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                    "--",
                    ".",
                    ":!docs/benchmarks.md",
                    ":!docs/benchmarks",
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=5,
            ).stdout.strip()
            return done.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    return "unknown"


def machine_before() -> dict[str, Any]:
    """The machine and the moment, as the page shows them."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version() + f" ({platform.python_implementation()})",
        "versions": versions(),
        "load_before": os.getloadavg()[0],
        "bytecode": "PYTHONDONTWRITEBYTECODE was set here and is removed for the benchmarks"
        if os.environ.get("PYTHONDONTWRITEBYTECODE")
        else "written (the default)",
    }


def run(
    chosen: list[str], budget: float, keep: Path | None
) -> tuple[dict[str, Outcome], dict[str, Any]]:
    """Run the chosen benchmarks one after the other within ``budget`` seconds."""
    started = time.perf_counter()
    machine = machine_before()
    log(
        f"run_all: {len(chosen)} benchmarks, budget {budget:.0f} s; load average "
        f"{machine['load_before']:.2f} on {machine['cores']} cores"
    )
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        workdir = Path(tmp)
        for bench in BENCHES:
            if bench.name not in chosen:
                continue
            left = budget - (time.perf_counter() - started)
            if left < 30:
                outcomes[bench.name] = Outcome(
                    bench.name,
                    bench.command,
                    "skipped",
                    reason=f"the run's budget of {budget:.0f} s was spent",
                )
                log(f"== {bench.name}: skipped, budget spent")
                continue
            outcomes[bench.name] = run_bench(bench, workdir, min(bench.timeout, left))
        machine["load_after"] = os.getloadavg()[0]
        machine["wall_s"] = time.perf_counter() - started
        _report.save_run(workdir, outcomes, machine)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for path in workdir.iterdir():
                shutil.copy(path, keep / path.name)
            log(f"run_all: kept the JSON and outputs in {keep}")
    return outcomes, machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [b.name for b in BENCHES]
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(names)}")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="seconds in all")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the report to write")
    parser.add_argument("--keep", type=Path, help="copy the JSON and outputs to this directory")
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="DIR",
        help="run nothing: write the report from a run kept with --keep DIR",
    )
    args = parser.parse_args(argv)
    if args.source is not None:
        if args.only or args.keep:
            parser.error("--from runs nothing: it takes --out only")
        try:
            outcomes, machine = _report.load_run(args.source)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            parser.error(f"cannot read the run in {args.source}: {exc}")
        _report.write(outcomes, machine, args.out)
        log(f"run_all: wrote {args.out} from {args.source}")
        return 0
    chosen = names if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(names)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    outcomes, machine = run(chosen, args.budget, args.keep)
    _report.write(outcomes, machine, args.out)
    log(f"run_all: wrote {args.out} in {machine['wall_s']:.0f} s")
    for outcome in outcomes.values():
        log(f"  {outcome.name:<15} {outcome.status:<8} {outcome.seconds:5.0f} s " + outcome.reason)
    return 0 if all(o.status in ("ok", "missed") for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
