"""The pytest plugin's own costs: start-up, the per-test reset, and a whole test against respx
and pytest-httpserver.

Three measurements, in one run:

* ``startup``: wall time of ``pytest --co -q`` on one trivial test in a temporary project, with
  the installed plugin (loaded by its entry point) and with ``-p no:lmstudio``, run alternately
  (``--startup-runs`` times each); the medians and their difference. Every installed plugin
  loads, as in a real suite. A second pair does the same with auto-loading off, the plugin
  alone (``-p pytest_lmstudio.plugin``) against nothing: less noise around the same figure.
  Target: at most 20 ms more.
* ``import``: ``import pytest_lmstudio`` (and ``from pytest_lmstudio import LMStudioProvider``,
  which loads the provider and httpx) in a fresh interpreter: the median wall time of
  ``python -c "import ..."`` against ``python -c "pass"`` run alternately (``--import-runs``
  times each), and the cumulative import time ``python -X importtime`` reports (median of the
  same runs; the imports the interpreter makes at start-up are subtracted). No target of its
  own: it is reported beside the start-up figure.
* ``reset``: ``fake.reset()`` on a started ``FakeLMStudio``, timed one call at a time, on a clean
  fake and after a test's worth of scripting (one rule, one model). Target: at most 50 us.
* ``per-test``: 300 generated tests that script one chat answer and make one call, written three
  ways, each run as its own pytest subprocess with only its plugin loaded:
    - ``lmstudio``: ``lmstudio_fake.chat.reply(...)`` and ``lmstudio_sync_provider.complete()``;
    - ``respx``: ``respx_mock.post(url).respond(json=...)`` and an ``httpx.Client.post`` whose
      JSON is parsed (one client for the module);
    - ``httpserver``: ``httpserver.expect_request(...).respond_with_json(...)`` and the same
      ``httpx.Client.post``.
    - with ``--before COMMIT``, the ``lmstudio`` suite again on the plugin and fake of that
      commit of this repository (``_before``): the figure before a change beside the one after.
  A small plugin in each run records the time from the end of the first test to the end of the
  last, so interpreter start-up, collection and one-off session set-up (a server started by the
  first test) are left out; the figure is that time / 299. The three run alternately
  (``--rounds`` times each) and the medians are compared. Targets: at most 1.2x respx and at
  most 0.7x pytest-httpserver.

    .venv/bin/python tests/benchmarks/bench_plugin.py [--startup-runs N] [--reset-iterations N]
        [--import-runs N] [--tests N] [--rounds R] [--only startup,import,reset,per-test]
        [--before COMMIT] [--json out.json]

Progress goes to stderr, the table to stdout. Exit status: 0 when every target measured is met,
1 when one is missed, 2 when a run failed (a pytest run that did not pass, a missing plugin).
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
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _before import REFACTOR_BASE, archived
from _harness import (
    PER_TEST_VS_HTTPSERVER,
    PER_TEST_VS_RESPX,
    REPLY,
    RESET_US,
    ROOT,
    STARTUP_MS,
    TESTS,
    log,
    pytest_env,
    rotated,
    run_suite,
    timed_run,
    write_suite,
)

sys.path.insert(0, str(ROOT))

RUN_TIMEOUT_SECONDS = 300
BUSY_LOAD = 0.5  # load average per core above which the machine is not quiet


@dataclass
class Results:
    machine: dict[str, Any] = field(default_factory=dict)
    startup: dict[str, Any] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)
    reset: dict[str, Any] = field(default_factory=dict)
    per_test: dict[str, Any] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)


# -- start-up --------------------------------------------------------------------------------
def measure_startup(runs: int, work: Path) -> dict[str, Any]:
    project = work / "startup"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (project / "test_trivial.py").write_text("def test_trivial():\n    pass\n", encoding="utf-8")
    pytest = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
    pairs: dict[str, tuple[list[str], list[str], dict[str, str]]] = {
        "all plugins": (pytest, [*pytest, "-p", "no:lmstudio"], pytest_env(autoload=True)),
        "plugin alone": (
            [*pytest, "-p", "pytest_lmstudio.plugin"],
            pytest,
            pytest_env(autoload=False),
        ),
    }
    out: dict[str, Any] = {}
    for name, (with_plugin, without, env) in pairs.items():
        # Warm the file cache and the bytecode.
        timed_run(with_plugin, project, env, RUN_TIMEOUT_SECONDS)
        timed_run(without, project, env, RUN_TIMEOUT_SECONDS)
        times: dict[str, list[float]] = {"with": [], "without": []}
        for i in range(runs):
            # Alternate which goes first so that a slow moment does not favour one side.
            order = [("with", with_plugin), ("without", without)]
            for label, args in order if i % 2 == 0 else order[::-1]:
                times[label].append(timed_run(args, project, env, RUN_TIMEOUT_SECONDS))
        with_ms = statistics.median(times["with"]) * 1000
        without_ms = statistics.median(times["without"]) * 1000
        out[name] = {
            "runs": runs,
            "with_ms": with_ms,
            "without_ms": without_ms,
            "difference_ms": with_ms - without_ms,
            "with_all_ms": [t * 1000 for t in times["with"]],
            "without_all_ms": [t * 1000 for t in times["without"]],
        }
        log(f"startup {name}: {with_ms:.0f} ms with, {without_ms:.0f} ms without")
    return out


# -- import ----------------------------------------------------------------------------------
IMPORTS = {
    "import pytest_lmstudio": "import pytest_lmstudio",
    "from pytest_lmstudio import LMStudioProvider": "from pytest_lmstudio import LMStudioProvider",
}


def importtime_us(statement: str, cwd: Path) -> tuple[float, int]:
    """(wall seconds, the sum of the top-level cumulative import times in microseconds) of
    ``python -X importtime -c statement``."""
    args = [sys.executable, "-X", "importtime", "-c", statement]
    started = time.perf_counter()
    done = subprocess.run(
        args, cwd=cwd, env=pytest_env(autoload=True), capture_output=True, text=True, timeout=60
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    total = 0
    for line in done.stderr.splitlines():
        # "import time:  self [us] | cumulative | imported package": top level has one space
        parts = line.split("|")
        if len(parts) == 3 and parts[2].startswith(" ") and not parts[2].startswith("  "):
            try:
                total += int(parts[1])
            except ValueError:
                continue
    return elapsed, total


def measure_import(runs: int, work: Path) -> dict[str, Any]:
    cwd = work / "import"
    cwd.mkdir()
    statements = {"nothing": "pass", **IMPORTS}
    for statement in statements.values():  # warm the file cache and the bytecode
        importtime_us(statement, cwd)
    walls: dict[str, list[float]] = {name: [] for name in statements}
    cumulative: dict[str, list[int]] = {name: [] for name in statements}
    names = list(statements)
    for i in range(runs):
        for name in rotated(names, i):
            wall, total = importtime_us(statements[name], cwd)
            walls[name].append(wall)
            cumulative[name].append(total)
    base_wall = statistics.median(walls["nothing"]) * 1000
    base_us = statistics.median(cumulative["nothing"])
    out: dict[str, Any] = {"runs": runs, "interpreter_ms": base_wall}
    for name in IMPORTS:
        wall_ms = statistics.median(walls[name]) * 1000
        out[name] = {
            "wall_ms": wall_ms,
            "wall_difference_ms": wall_ms - base_wall,
            "importtime_ms": (statistics.median(cumulative[name]) - base_us) / 1000,
        }
        log(
            f"{name}: +{wall_ms - base_wall:.1f} ms wall, "
            f"{out[name]['importtime_ms']:.1f} ms by -X importtime"
        )
    return out


# -- reset -----------------------------------------------------------------------------------
def measure_reset(iterations: int) -> dict[str, Any]:
    from fake_server import FakeLMStudio

    def timed(fake: FakeLMStudio, before: Callable[[], object] | None) -> list[float]:
        samples = []
        clock = time.perf_counter_ns
        for _ in range(iterations):
            if before is not None:
                before()
            started = clock()
            fake.reset()
            samples.append((clock() - started) / 1000)
        return samples

    out: dict[str, Any] = {}
    with FakeLMStudio() as fake:
        timed(fake, None)  # warm-up

        def script() -> None:
            fake.chat.reply(REPLY, times=1)
            fake.add_model("acme/tiny-1b")

        for name, before in (("clean", None), ("after scripting", script)):
            samples = timed(fake, before)
            out[name] = {
                "iterations": iterations,
                "median_us": statistics.median(samples),
                "mean_us": statistics.fmean(samples),
                "p95_us": sorted(samples)[int(len(samples) * 0.95)],
            }
            log(f"reset {name}: median {out[name]['median_us']:.1f} us")
    return out


# -- per test --------------------------------------------------------------------------------
def time_suite(
    project: Path, kind: str, tests: int, code: Path | None = None
) -> tuple[float, float]:
    """(seconds per test after the first, wall seconds of the whole run): the first test also
    pays for one-off session set-up (a server started on first use), so it is left out."""
    run = run_suite(project, kind, tests, RUN_TIMEOUT_SECONDS, code)
    return (run.ends[-1] - run.ends[0]) / (tests - 1), run.wall_s


#: The lmstudio suite run on the plugin and fake of ``--before``'s commit.
BEFORE = "lmstudio-before"


def measure_per_test(
    tests: int, rounds: int, work: Path, before: str | None = None
) -> dict[str, Any]:
    kinds = list(TESTS) + ([BEFORE] if before else [])
    projects = {kind: write_suite(work, kind, tests) for kind in TESTS}
    projects[BEFORE] = projects["lmstudio"]
    code = {BEFORE: archived(before, work / "before")} if before else {}

    def time_kind(kind: str) -> tuple[float, float]:
        suite = "lmstudio" if kind == BEFORE else kind
        return time_suite(projects[kind], suite, tests, code.get(kind))

    for kind in kinds:
        time_kind(kind)  # warm-up (and a check that the suite passes)
    per_test: dict[str, list[float]] = {kind: [] for kind in kinds}
    walls: dict[str, list[float]] = {kind: [] for kind in kinds}
    for i in range(rounds):
        for kind in rotated(kinds, i):
            seconds, wall = time_kind(kind)
            per_test[kind].append(seconds)
            walls[kind].append(wall)
            log(f"per-test {kind} round {i + 1}: {seconds * 1000:.3f} ms/test")
    out: dict[str, Any] = {
        kind: {
            "tests": tests,
            "rounds": rounds,
            "median_ms_per_test": statistics.median(per_test[kind]) * 1000,
            "all_ms_per_test": [s * 1000 for s in per_test[kind]],
            "median_wall_s": statistics.median(walls[kind]),
        }
        for kind in kinds
    }
    ours = out["lmstudio"]["median_ms_per_test"]
    out["ratio_to_respx"] = ours / out["respx"]["median_ms_per_test"]
    out["ratio_to_httpserver"] = ours / out["httpserver"]["median_ms_per_test"]
    if before:
        out[BEFORE]["commit"] = before
        out["ratio_to_before"] = ours / out[BEFORE]["median_ms_per_test"]
    return out


# -- report ----------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(results: Results) -> None:
    rows: list[tuple[str, str, str, str]] = []
    for name, data in results.startup.items():
        ok = data["difference_ms"] <= STARTUP_MS
        rows.append(
            (
                f"start-up, {name} (median of {data['runs']})",
                f"{data['with_ms']:.1f} ms with, {data['without_ms']:.1f} ms without: "
                f"{data['difference_ms']:+.1f} ms",
                f"<= {STARTUP_MS:g} ms",
                verdict(ok),
            )
        )
        if not ok:
            results.missed.append(f"startup {name}")
    if results.imports:
        for name in IMPORTS:
            data = results.imports[name]
            rows.append(
                (
                    f"{name} (median of {results.imports['runs']})",
                    f"{data['wall_difference_ms']:+.1f} ms wall over a bare interpreter; "
                    f"{data['importtime_ms']:.1f} ms by -X importtime",
                    "",
                    "",
                )
            )
    for name, data in results.reset.items():
        ok = data["median_us"] <= RESET_US
        rows.append(
            (
                f"reset(), {name} (median of {data['iterations']})",
                f"{data['median_us']:.1f} us "
                f"(mean {data['mean_us']:.1f}, p95 {data['p95_us']:.1f})",
                f"<= {RESET_US:g} us",
                verdict(ok),
            )
        )
        if not ok:
            results.missed.append(f"reset {name}")
    if results.per_test:
        data = results.per_test
        for kind in [k for k in (*TESTS, BEFORE) if k in data]:
            entry = data[kind]
            rows.append(
                (
                    f"per test, {kind} ({entry['tests']} tests, median of {entry['rounds']})",
                    f"{entry['median_ms_per_test']:.3f} ms "
                    f"(run {entry['median_wall_s']:.2f} s wall)",
                    "",
                    "",
                )
            )
        for name, key, target in (
            ("lmstudio / respx", "ratio_to_respx", PER_TEST_VS_RESPX),
            ("lmstudio / httpserver", "ratio_to_httpserver", PER_TEST_VS_HTTPSERVER),
        ):
            ok = data[key] <= target
            rows.append((name, f"{data[key]:.2f}x", f"<= {target:g}x", verdict(ok)))
            if not ok:
                results.missed.append(name)
        if "ratio_to_before" in data:
            ratio = data["ratio_to_before"]
            name = f"lmstudio / lmstudio at {data[BEFORE]['commit']}"
            rows.append((name, f"{ratio:.2f}x", "", ""))
    headers = ("measure", "result", "target", "")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(4)]
    for row in [headers, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    machine = results.machine
    print(
        f"\npython {machine['python']}, pytest {machine['pytest']}, {machine['cpus']} CPUs, "
        f"load average {machine['load_before']:.2f} before and {machine['load_after']:.2f} after"
    )
    if max(machine["load_before"], machine["load_after"]) > BUSY_LOAD * machine["cpus"]:
        print("note: the machine was busy during the run; rerun on a quiet machine.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--startup-runs", type=int, default=21, metavar="N")
    parser.add_argument("--reset-iterations", type=int, default=20_000, metavar="N")
    parser.add_argument("--import-runs", type=int, default=15, metavar="N")
    parser.add_argument("--tests", type=int, default=300, metavar="N")
    parser.add_argument("--rounds", type=int, default=3, metavar="R")
    parser.add_argument("--only", default="startup,import,reset,per-test", metavar="LIST")
    parser.add_argument(
        "--before",
        metavar="COMMIT",
        help="per-test: also run the lmstudio suite on the plugin and fake of this commit "
        f"(make bench: {REFACTOR_BASE}, the last before the fake's split)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    chosen = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = chosen - {"startup", "import", "reset", "per-test"}
    counts = (
        args.startup_runs,
        args.import_runs,
        args.reset_iterations,
        args.tests - 1,
        args.rounds,
    )
    if unknown or min(counts) < 1:
        parser.error(f"bad arguments: {', '.join(sorted(unknown)) or 'counts too small'}")

    import pytest

    results = Results(
        machine={
            "python": sys.version.split()[0],
            "pytest": pytest.__version__,
            "cpus": os.cpu_count() or 1,
            "load_before": os.getloadavg()[0],
        }
    )
    work = Path(tempfile.mkdtemp(prefix="bench-plugin-"))
    try:
        if "startup" in chosen:
            results.startup = measure_startup(args.startup_runs, work)
        if "import" in chosen:
            results.imports = measure_import(args.import_runs, work)
        if "reset" in chosen:
            results.reset = measure_reset(args.reset_iterations)
        if "per-test" in chosen:
            results.per_test = measure_per_test(args.tests, args.rounds, work, args.before)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results.machine["load_after"] = os.getloadavg()[0]
    report(results)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(results), indent=2) + "\n", encoding="utf-8")
    return 1 if results.missed else 0


if __name__ == "__main__":
    sys.exit(main())
