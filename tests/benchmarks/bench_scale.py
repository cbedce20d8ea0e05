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

Target: the per-test cost at the largest size within 10 % of that at the smallest.
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
from pathlib import Path
from typing import Any

from _harness import SCALE_GROWTH, int_list, log, run_suite, write_suite

PER_FILE = 100
TAIL = 100
WARMUP_TESTS = 10
MAX_REPEATS = 10
MAX_TESTS = 20_000


def time_suite(project: Path, kind: str, tests: int, timeout: float) -> dict[str, float]:
    """One run of a suite: the per-test cost after the first ``WARMUP_TESTS``, after the first
    test alone, over the last ``TAIL`` tests; the run's wall time and peak RSS."""
    run = run_suite(project, kind, tests, timeout)
    ends = run.ends
    tail = min(TAIL, tests - 1)
    skip = min(WARMUP_TESTS, tests - 1)
    return {
        "per_test_ms": (ends[-1] - ends[skip - 1]) / (tests - skip) * 1000,
        "after_first_ms": (ends[-1] - ends[0]) / (tests - 1) * 1000,
        "last_per_test_ms": (ends[-1] - ends[-1 - tail]) / tail * 1000,
        "wall_s": run.wall_s,
        "peak_rss_mib": run.peak_rss_mib,
    }


def repeats(tests: int, largest: int) -> int:
    """Runs of a suite per round: a short run is noisy, so small suites run several times
    (each run a sample), up to a fifth of the largest suite's tests in all."""
    return min(MAX_REPEATS, max(1, largest // (tests * 5)))


def sizes(text: str) -> list[int]:
    """At least two suite sizes, smallest first."""
    return sorted(set(int_list(2, MAX_TESTS, "--sizes", least=2)(text)))


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
        projects = {n: write_suite(work, "lmstudio", n, PER_FILE) for n in chosen}
        controls = {n: write_suite(work, args.control, n, PER_FILE) for n in control}
        log(
            f"scale: suites of {', '.join(map(str, chosen))} tests, {args.rounds} rounds"
            + (f"; {args.control} at {control[0]} and {control[1]}" if control else "")
        )
        # Warm-up: bytecode, caches.
        time_suite(projects[chosen[0]], "lmstudio", chosen[0], args.timeout)
        if control:
            time_suite(controls[control[0]], args.control, control[0], args.timeout)
        for number in range(args.rounds):
            order = chosen if number % 2 == 0 else chosen[::-1]
            samples = [size for size in order for _ in range(repeats(size, chosen[-1]))]
            for n in samples:
                if n in control:
                    result = time_suite(controls[n], args.control, n, args.timeout)
                    control_runs[n].append(result)
                    log(
                        f"round {number + 1}/{args.rounds} {args.control} {n} tests: "
                        f"{result['per_test_ms']:.3f} ms/test"
                    )
                result = time_suite(projects[n], "lmstudio", n, args.timeout)
                runs[n].append(result)
                log(
                    f"round {number + 1}/{args.rounds} {n} tests: "
                    f"{result['per_test_ms']:.3f} ms/test (after the first: "
                    f"{result['after_first_ms']:.3f}, last {TAIL}: "
                    f"{result['last_per_test_ms']:.3f}), {result['wall_s']:.1f} s wall, "
                    f"peak RSS {result['peak_rss_mib']:.0f} MiB"
                )
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        log(f"bench_scale: {exc}")
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
    met = abs(growth) <= SCALE_GROWTH
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
        f"(target within {SCALE_GROWTH * 100:.0f} %: {'met' if met else 'MISSED'})"
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
            "target_growth": SCALE_GROWTH,
            "growth": growth,
            "target_met": met,
            "results": {str(n): summary[n] for n in chosen},
            "control": control_summary,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
