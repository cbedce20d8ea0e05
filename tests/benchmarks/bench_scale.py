"""How the plugin's per-test cost grows with the size of the suite: 100, 1,000 and 5,000 tests.

Each suite is generated in a temporary project, 100 tests per file, every test the one
``bench_plugin.py`` times for the plugin: it scripts one chat answer on ``lmstudio_fake`` and
makes one call with ``lmstudio_sync_provider``. Each suite runs as its own pytest subprocess with
only the plugin loaded (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``, ``-p pytest_lmstudio.plugin``). A
small plugin in the run records when each test ends, so interpreter start-up, collection and
the first 10 tests are left out (the first starts the session's fake, and the next few still
cost about 1.5x a later one: first calls, caches filling): the per-test cost is the time from
the end of the 10th test to the end of the last, divided by the tests after the 10th, the same
steady state at every size. The cost after the first test alone, as ``bench_plugin.py``
measures it, is reported beside it.
It also reports the cost of the last 100 tests alone (a cost that grows within a run shows
there) and the run's peak RSS. As a control, the respx suite of ``bench_plugin.py`` runs at the
smallest and the largest size in the same rounds (``--control none`` to skip it): how much of
a growth is pytest's own. The sizes run alternately (``--rounds`` times each, smallest
first in odd rounds, largest first in even ones; a suite of under a fifth of the largest runs
several times a round, up to 10, each run a sample, since a short run is noisy) and the
medians of the samples are compared.

    .venv/bin/python tests/benchmarks/bench_scale.py [--sizes 100,1000,5000] [--rounds 3]
        [--json out.json]

Target (issue 6): the per-test cost at the largest size within 10 % of that at the smallest.
Each run is bounded (``--timeout`` seconds, default 120). Progress goes to stderr, the table to
stdout. Exit status 0 when the target is met, 1 when missed, 2 when a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench_plugin import BODIES, PLUGINS, PROLOGUES, pytest_env

TARGET_GROWTH = 0.10
PER_FILE = 100
TAIL = 100
WARMUP_TESTS = 10
MAX_REPEATS = 10
MAX_TESTS = 20_000

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


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def write_suite(work: Path, tests: int, kind: str = "lmstudio") -> Path:
    project = work / f"suite-{kind}-{tests}"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (project / "bench_timer.py").write_text(TIMER_PLUGIN, encoding="utf-8")
    prologue = textwrap.dedent(PROLOGUES[kind])
    body = textwrap.dedent(BODIES[kind])
    for first in range(0, tests, PER_FILE):
        numbers = range(first, min(first + PER_FILE, tests))
        source = prologue + "".join("\n\n" + body.format(n=n) for n in numbers)
        (project / f"test_scale_{first // PER_FILE:04d}.py").write_text(source, encoding="utf-8")
    return project


def run_suite(
    project: Path, tests: int, timeout: float, kind: str = "lmstudio"
) -> dict[str, float]:
    out = project / "timer.json"
    env = {**pytest_env(autoload=False), "BENCH_TIMER_OUT": str(out)}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    args += ["-p", PLUGINS[kind], "-p", "bench_timer"]
    started = time.perf_counter()
    done = subprocess.run(
        args, cwd=project, env=env, capture_output=True, text=True, timeout=timeout
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"the {tests}-test suite failed (exit {done.returncode}):\n{done.stdout[-3000:]}"
        )
    data = json.loads(out.read_text(encoding="utf-8"))
    ends: list[float] = data["ends"]
    if data["exit"] != 0 or len(ends) != tests:
        raise RuntimeError(f"the {tests}-test suite did not pass (exit {data['exit']})")
    tail = min(TAIL, tests - 1)
    skip = min(WARMUP_TESTS, tests - 1)
    return {
        "per_test_ms": (ends[-1] - ends[skip - 1]) / (tests - skip) * 1000,
        "after_first_ms": (ends[-1] - ends[0]) / (tests - 1) * 1000,
        "last_per_test_ms": (ends[-1] - ends[-1 - tail]) / tail * 1000,
        "wall_s": wall,
        "peak_rss_mib": data["peak_rss_kib"] / 1024,
    }


def repeats(tests: int, largest: int) -> int:
    """Runs of a suite per round: a short run is noisy, so small suites run several times
    (each run a sample), up to a fifth of the largest suite's tests in all."""
    return min(MAX_REPEATS, max(1, largest // (tests * 5)))


def sizes(text: str) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("integers separated by commas") from None
    if len(values) < 2 or any(not 2 <= v <= MAX_TESTS for v in values):
        raise argparse.ArgumentTypeError(f"at least two sizes, each 2 to {MAX_TESTS}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes, default=[100, 1000, 5000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--control",
        choices=("respx", "none"),
        default="respx",
        help="also run the respx suite at the smallest and largest sizes: how pytest's own "
        "cost grows (default respx)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per pytest run")
    parser.add_argument("--json", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds 1 to 20")
    chosen: list[int] = args.sizes
    load_before = os.getloadavg()[0]
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in chosen}
    control = [] if args.control == "none" else [chosen[0], chosen[-1]]
    control_runs: dict[int, list[dict[str, float]]] = {n: [] for n in control}
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        projects = {n: write_suite(work, n) for n in chosen}
        controls = {n: write_suite(work, n, args.control) for n in control}
        progress(
            f"scale: suites of {', '.join(map(str, chosen))} tests, {args.rounds} rounds"
            + (f"; {args.control} at {control[0]} and {control[1]}" if control else "")
        )
        run_suite(projects[chosen[0]], chosen[0], args.timeout)  # warm-up: bytecode, caches
        if control:
            run_suite(controls[control[0]], control[0], args.timeout, args.control)
        for number in range(args.rounds):
            order = chosen if number % 2 == 0 else chosen[::-1]
            samples = [size for size in order for _ in range(repeats(size, chosen[-1]))]
            for n in samples:
                if n in control:
                    result = run_suite(controls[n], n, args.timeout, args.control)
                    control_runs[n].append(result)
                    progress(
                        f"round {number + 1}/{args.rounds} {args.control} {n} tests: "
                        f"{result['per_test_ms']:.3f} ms/test"
                    )
                result = run_suite(projects[n], n, args.timeout)
                runs[n].append(result)
                progress(
                    f"round {number + 1}/{args.rounds} {n} tests: "
                    f"{result['per_test_ms']:.3f} ms/test (after the first: "
                    f"{result['after_first_ms']:.3f}, last {TAIL}: "
                    f"{result['last_per_test_ms']:.3f}), {result['wall_s']:.1f} s wall, "
                    f"peak RSS {result['peak_rss_mib']:.0f} MiB"
                )
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        progress(f"bench_scale: {exc}")
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary: dict[int, dict[str, Any]] = {}
    for n in chosen:
        summary[n] = {
            key: statistics.median(r[key] for r in runs[n])
            for key in (
                "per_test_ms",
                "after_first_ms",
                "last_per_test_ms",
                "wall_s",
                "peak_rss_mib",
            )
        }
        summary[n]["rounds"] = [r["per_test_ms"] for r in runs[n]]
    base = summary[chosen[0]]["per_test_ms"]
    for n in chosen:
        summary[n]["ratio_to_smallest"] = summary[n]["per_test_ms"] / base
    growth = summary[chosen[-1]]["ratio_to_smallest"] - 1
    met = abs(growth) <= TARGET_GROWTH
    control_summary: dict[str, Any] = {}
    if control:
        per = {n: statistics.median(r["per_test_ms"] for r in control_runs[n]) for n in control}
        control_summary = {
            "kind": args.control,
            "results": {
                str(n): {
                    "per_test_ms": per[n],
                    "rounds": [r["per_test_ms"] for r in control_runs[n]],
                }
                for n in control
            },
            "growth": per[control[1]] / per[control[0]] - 1,
        }
    print(
        f"lmstudio_fake + lmstudio_sync_provider, one scripted answer and one call per test, "
        f"{PER_FILE} tests per file; median of {args.rounds} runs per size\n"
    )
    print(
        f"| tests | per test (after the first {WARMUP_TESTS}) | vs smallest | "
        f"after the first test | last {TAIL} tests | run wall | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in chosen:
        s = summary[n]
        print(
            f"| {n:,} | {s['per_test_ms']:.3f} ms | {s['ratio_to_smallest']:.2f}x | "
            f"{s['after_first_ms']:.3f} ms | {s['last_per_test_ms']:.3f} ms | "
            f"{s['wall_s']:.1f} s | {s['peak_rss_mib']:.0f} MiB |"
        )
    print(
        f"\n{chosen[-1]:,} tests against {chosen[0]:,}: {growth * 100:+.1f} % per test "
        f"(target within {TARGET_GROWTH * 100:.0f} %: {'met' if met else 'MISSED'})"
    )
    if control_summary:
        low, high = (control_summary["results"][str(n)]["per_test_ms"] for n in control)
        print(
            f"{args.control}, the same measure: {low:.3f} ms at {control[0]:,} tests, "
            f"{high:.3f} ms at {control[1]:,}: {control_summary['growth'] * 100:+.1f} % "
            "(pytest's own growth)"
        )
    if args.json is not None:
        report = {
            "benchmark": "scale",
            "rounds": args.rounds,
            "tests_per_file": PER_FILE,
            "warmup_tests": WARMUP_TESTS,
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "target_growth": TARGET_GROWTH,
            "growth": growth,
            "target_met": met,
            "results": {str(n): summary[n] for n in chosen},
            "control": control_summary,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
