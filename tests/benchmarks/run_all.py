"""Run every benchmark of issue 6 in one go and write ``docs/benchmarks.md`` (``make bench``).

Each benchmark script runs as its own subprocess with ``--json`` into a temporary directory,
with counts small enough that the whole run takes about 5 minutes on 2 cores (each script has a
time limit, and the run as a whole a budget: ``--budget`` seconds, default 540; a benchmark that
would start past it is skipped). Their progress is printed as it comes, prefixed with their name.
A benchmark that fails (a non-zero exit without its JSON, a time-out) does not stop the others:
its section of the report says that it failed and why.

The report has one table per question, with the ratio against the alternative measured in the
same run, the targets of issue 6 (met / MISSED), the machine (CPU model, cores, Python, package
versions, load average before and after, date) and PNG charts in ``docs/benchmarks/`` where a
picture reads faster (when matplotlib is installed: ``pip install -e '.[bench]'``).

    .venv/bin/python tests/benchmarks/run_all.py [--only NAME,...] [--budget SECONDS]
        [--out docs/benchmarks.md] [--keep DIR]

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
DEFAULT_BUDGET = 540.0
PACKAGES = (
    "pytest-lmstudio",
    "aiohttp",
    "httpx",
    "openai",
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


BENCHES = (
    Bench(
        "throughput",
        "bench_throughput.py",
        ("--seconds", "2", "--rounds", "3"),
        240,
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
        ("--startup-runs", "15", "--import-runs", "11", "--tests", "300", "--rounds", "5"),
        300,
        "per test, start-up, import and reset",
    ),
    Bench("timing", "bench_timing.py", ("--pairs", "200", "--runs", "3"), 120, "timing"),
    Bench("scale", "bench_scale.py", ("--rounds", "5"), 300, "scale"),
    Bench(
        "memory", "bench_memory.py", ("--streams", "1000", "--requests", "100000"), 180, "memory"
    ),
)


@dataclass
class Outcome:
    bench: Bench
    status: str  # "ok", "missed", "failed", "skipped"
    seconds: float = 0.0
    exit_code: int | None = None
    data: dict[str, Any] | None = None
    reason: str = ""
    stdout: str = ""
    stderr_tail: list[str] = field(default_factory=list)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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
    outcome = Outcome(bench, "ok", seconds, process.returncode, stderr_tail=list(tail))
    outcome.stdout = stdout_path.read_text(errors="replace")
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
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


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


# -- the report ---------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def spread(values: list[float]) -> str:
    """A few runs one by one; many as their count and range."""
    if len(values) <= 7:
        return ", ".join(f"{v:.3f}" for v in values)
    return f"{len(values)} runs, {min(values):.3f} to {max(values):.3f}"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


class Report:
    def __init__(self, outcomes: dict[str, Outcome], charts_dir: Path, link_prefix: str) -> None:
        self.outcomes = outcomes
        self.charts_dir = charts_dir
        self.link_prefix = link_prefix
        self.targets: list[list[str]] = []
        self.charts: list[str] = []
        self.chart_note = ""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            self.plt: Any = plt
        except ImportError:
            self.plt = None
            self.chart_note = (
                "Charts skipped: matplotlib is not installed (`pip install -e '.[bench]'`)."
            )

    def target(self, question: str, figure: str, target: str, ok: bool | None) -> str:
        shown = "no figure" if ok is None else verdict(ok)
        self.targets.append([question, figure, target, shown])
        return shown

    def chart(self, name: str, alt: str, draw: Callable[[Any, Any], None]) -> list[str]:
        if self.plt is None:
            return []
        try:
            figure, axes = self.plt.subplots(figsize=(7, 3.6), dpi=100)
            draw(figure, axes)
            axes.grid(axis="y", alpha=0.3)
            figure.tight_layout()
            self.charts_dir.mkdir(parents=True, exist_ok=True)
            path = self.charts_dir / f"{name}.png"
            figure.savefig(path)
            self.plt.close(figure)
        except Exception as exc:  # a chart must not cost the report
            log(f"chart {name}: {exc!r}")
            return [f"(chart {name} could not be drawn: {exc})", ""]
        self.charts.append(str(path))
        return [f"![{alt}]({self.link_prefix}{name}.png)", ""]

    def failed(self, *names: str) -> list[str]:
        """Lines saying which of ``names`` gave no figures and why (empty when all did)."""
        lines: list[str] = []
        for name in names:
            outcome = self.outcomes.get(name)
            if outcome is None:
                lines += [f"Not run (`--only` left out `{name}`).", ""]
            elif outcome.data is None:
                word = "skipped" if outcome.status == "skipped" else "failed"
                lines += [f"**{name} {word}**: {outcome.reason}.", ""]
                detail = [line for line in outcome.stderr_tail if line.strip()][-12:]
                if detail:
                    lines += ["Its last lines:", "", "```", *detail, "```", ""]
        return lines

    def state(self, *names: str) -> str:
        """What the targets table says for a benchmark without figures."""
        for name in names:
            outcome = self.outcomes.get(name)
            if outcome is not None:
                return outcome.status if outcome.data is None else "not measured"
        return "not run"

    def flagged(self, name: str) -> list[str]:
        outcome = self.outcomes.get(name)
        if outcome is not None and outcome.data is not None and outcome.status == "failed":
            return [f"Note: {outcome.reason}.", ""]
        return []

    # -- sections ---------------------------------------------------------------------------
    def per_test(self) -> list[str]:
        lines = ["## Per test: the plugin against respx and pytest-httpserver", ""]
        gone = self.failed("plugin")
        data = (self.outcomes["plugin"].data or {}) if "plugin" in self.outcomes else {}
        per = data.get("per_test") or {}
        if gone or not per:
            self.target("per test / respx", self.state("plugin"), "<= 1.2x", None)
            self.target("per test / pytest-httpserver", self.state("plugin"), "<= 0.7x", None)
            return lines + (gone or ["Not measured."])
        tests = per["lmstudio"]["tests"]
        lines += [
            f"{tests} generated tests, each scripting one chat answer and making one call, one "
            "pytest subprocess per suite with only its plugin loaded; the time from the end of "
            f"the first test to the end of the last / {tests - 1} (start-up, collection and "
            f"one-off set-up left out); median of {per['lmstudio']['rounds']} alternating runs.",
            "",
        ]
        names = {
            "lmstudio": "pytest-lmstudio: `lmstudio_fake.chat.reply()` + "
            "`lmstudio_sync_provider.complete()`",
            "respx": "respx: `respx_mock.post(url).respond(json=...)` + `httpx.Client.post`",
            "httpserver": "pytest-httpserver: `expect_request().respond_with_json()` + "
            "`httpx.Client.post`",
        }
        ours = per["lmstudio"]["median_ms_per_test"]
        rows = []
        for kind, label in names.items():
            entry = per[kind]
            runs = ", ".join(f"{v:.3f}" for v in entry["all_ms_per_test"])
            ratio = ours / entry["median_ms_per_test"]
            rows.append(
                [
                    label,
                    f"{entry['median_ms_per_test']:.3f} ms",
                    runs,
                    "1.00x" if kind == "lmstudio" else f"{ratio:.2f}x",
                ]
            )
        lines += table(["suite", "per test (median)", "runs (ms)", "ours / this"], rows)
        r1 = self.target(
            "per test / respx",
            f"{per['ratio_to_respx']:.2f}x",
            "<= 1.2x",
            per["ratio_to_respx"] <= 1.2,
        )
        r2 = self.target(
            "per test / pytest-httpserver",
            f"{per['ratio_to_httpserver']:.2f}x",
            "<= 0.7x",
            per["ratio_to_httpserver"] <= 0.7,
        )
        lines += [
            f"Targets: at most 1.2x respx ({per['ratio_to_respx']:.2f}x: {r1}), at most 0.7x "
            f"pytest-httpserver ({per['ratio_to_httpserver']:.2f}x: {r2}).",
            "",
        ]

        def draw(figure: Any, axes: Any) -> None:
            labels = ["pytest-lmstudio", "respx", "pytest-httpserver"]
            values = [per[k]["median_ms_per_test"] for k in ("lmstudio", "respx", "httpserver")]
            bars = axes.bar(labels, values, color=["#d95f02", "#7570b3", "#1b9e77"])
            axes.bar_label(bars, fmt="%.2f ms")
            axes.set_ylabel("ms per test (median)")
            axes.set_title(f"Per-test cost, {tests} tests: one scripted answer, one call")

        return lines + self.chart("per_test", "per-test cost", draw)

    def throughput(self) -> list[str]:
        lines = ["## Server throughput: non-streaming chat completions", ""]
        gone = self.failed("throughput")
        if gone:
            self.target(
                "throughput, validation on / bare aiohttp",
                self.state("throughput"),
                ">= 0.6x",
                None,
            )
            return lines + gone
        data = self.outcomes["throughput"].data or {}
        results = data["results"]
        levels = list(results)
        lines += [
            f"`POST /v1/chat/completions` ({data['request_bytes']}-byte request, "
            f"{data['answer_bytes']['fake-on']}-byte answer) on keep-alive connections; "
            f"load generator {data['generator_detail']}; each server in its own process"
            + (" pinned to CPU 1, the load on CPU 0" if data.get("pinned") else "")
            + f"; {data['rounds']} interleaved rounds x {data['seconds']:g} s, median "
            "[lowest-highest]. The bare aiohttp handler reads the body and answers a fixed body "
            "of the fake's answer size: the ceiling for this stack.",
            "",
        ]
        rows = []
        for level in levels:
            cell = results[level]
            row = [level]
            for kind in ("fake-on", "fake-off", "bare"):
                rps = [r["rps"] for r in cell[kind]["runs"]]
                row.append(f"{cell[kind]['median_rps']:,.0f} [{min(rps):,.0f}-{max(rps):,.0f}]")
            row += [f"{cell['ratio_on']:.2f}x", f"{cell['ratio_off']:.2f}x"]
            rows.append(row)
        lines += table(
            [
                "concurrency",
                "fake, validation on (req/s)",
                "fake, validation off",
                "bare aiohttp",
                "on / bare",
                "off / bare",
            ],
            rows,
        )
        worst = min(results[level]["ratio_on"] for level in levels)
        shown = self.target(
            "throughput, validation on / bare aiohttp (lowest concurrency level)",
            f"{worst:.2f}x",
            ">= 0.6x at every concurrency",
            worst >= 0.6,
        )
        lines += [
            f"Target: validation on at least 0.6x bare at every concurrency: {shown} "
            f"(lowest {worst:.2f}x).",
            "",
        ]
        lines += self.flagged("throughput")

        def draw(figure: Any, axes: Any) -> None:
            width = 0.27
            colors = {"fake-on": "#d95f02", "fake-off": "#fdb863", "bare": "#7570b3"}
            labels = {
                "fake-on": "fake, validation on",
                "fake-off": "validation off",
                "bare": "bare aiohttp",
            }
            for i, kind in enumerate(("fake-on", "fake-off", "bare")):
                xs = [j + (i - 1) * width for j in range(len(levels))]
                ys = [results[level][kind]["median_rps"] for level in levels]
                axes.bar(xs, ys, width, label=labels[kind], color=colors[kind])
            axes.set_xticks(range(len(levels)), [f"c={level}" for level in levels])
            axes.set_ylabel("requests/s (median)")
            axes.set_title("Non-streaming chat completions")
            axes.legend(fontsize=8)

        return lines + self.chart("throughput", "throughput chart", draw)

    def streaming(self) -> list[str]:
        lines = ["## Streaming: chunks per second of a 1,000-chunk stream", ""]
        gone = self.failed("streaming")
        if gone:
            self.target("streaming / bare aiohttp SSE", self.state("streaming"), ">= 0.6x", None)
            return lines + gone
        data = self.outcomes["streaming"].data or {}
        results = data["results"]
        lines += [
            f"`fake.chat.stream([{data['chunks']:,} pieces])` with no scripted delay against a "
            f"bare aiohttp handler writing the same {data['frames_per_stream']:,} pre-built "
            f"frames ({data['stream_bytes']:,} bytes, one `write()` each); each server in its own "
            "process"
            + (" on CPU 1" if data.get("pinned") else "")
            + "; the same raw asyncio client for both (one connection per stream, the chunked "
            f"body decoded, `data:` frames counted); {data['rounds']} interleaved rounds of "
            f"{data['streams']} streams, median.",
            "",
        ]
        rows = [
            [
                level,
                f"{cell['fake']['median_chunks_per_s']:,.0f}",
                f"{cell['bare']['median_chunks_per_s']:,.0f}",
                f"{cell['ratio']:.2f}x",
            ]
            for level, cell in results.items()
        ]
        lines += table(
            ["streams at once", "fake (chunks/s)", "bare aiohttp (chunks/s)", "fake / bare"], rows
        )
        worst = min(cell["ratio"] for cell in results.values())
        shown = self.target(
            "streaming chunks/s / bare aiohttp SSE (lowest)",
            f"{worst:.2f}x",
            ">= 0.6x",
            worst >= 0.6,
        )
        lines += [f"Target: at least 0.6x bare aiohttp: {shown} (lowest {worst:.2f}x).", ""]
        return lines

    def provider(self) -> list[str]:
        lines = [
            "## Provider: `complete()` and `stream()` against raw httpx and the openai SDK",
            "",
        ]
        present = {
            n: self.outcomes[n].data
            for n in ("provider-async", "provider-sync")
            if n in self.outcomes and self.outcomes[n].data
        }
        gone = self.failed("provider-async", "provider-sync")
        if not present:
            self.target(
                "provider time / raw httpx",
                self.state("provider-async", "provider-sync"),
                "<= 1.15x",
                None,
            )
            self.target(
                "provider time / openai SDK",
                self.state("provider-async", "provider-sync"),
                "< 1.0x",
                None,
            )
            return lines + gone
        first = next(iter(present.values()))
        assert first is not None
        lines += [
            f"One `FakeLMStudio` in a thread, a fixed scripted reply (whole, or "
            f"{first['stream_pieces']} pieces streamed); {first['requests_per_client']} "
            f"sequential requests per client in {first['rounds']} interleaved rounds on "
            "keep-alive connections; time per request, and its ratio to raw httpx's "
            "(`post()` + `json()`, or `stream()` with the `data:` lines parsed) and to the "
            f"openai SDK's (openai {first['versions']['openai']}, httpx "
            f"{first['versions']['httpx']}).",
            "",
        ]
        rows = []
        worst_httpx = 0.0
        worst_openai = 0.0
        bars: dict[str, dict[str, float]] = {}
        for _name, data in present.items():
            assert data is not None
            for what, result in data["results"].items():
                rates = result["requests_per_second"]
                label = f"{data['mode']} {what}()"
                bars[label] = {k: 1e6 / v for k, v in rates.items()}
                rows.append(
                    [
                        label,
                        *(f"{1e6 / rates[k]:,.0f} us" for k in ("provider", "httpx", "openai")),
                        f"{result['time_ratio_to_httpx']:.2f}x",
                        f"{result['time_ratio_to_openai']:.2f}x",
                    ]
                )
                worst_httpx = max(worst_httpx, result["time_ratio_to_httpx"])
                worst_openai = max(worst_openai, result["time_ratio_to_openai"])
        lines += table(
            [
                "call",
                "provider",
                "raw httpx",
                "openai SDK",
                "provider / httpx",
                "provider / openai",
            ],
            rows,
        )
        a = self.target(
            "provider time / raw httpx (worst of async, sync, complete, stream)",
            f"{worst_httpx:.2f}x",
            "<= 1.15x",
            worst_httpx <= 1.15,
        )
        b = self.target(
            "provider time / openai SDK (worst)",
            f"{worst_openai:.2f}x",
            "< 1.0x",
            worst_openai < 1.0,
        )
        lines += [
            f"Targets: at most 1.15x raw httpx ({worst_httpx:.2f}x at worst: {a}); below 1.0x "
            f"the openai SDK ({worst_openai:.2f}x at worst: {b}).",
            "",
        ]
        if gone:
            lines += gone

        def draw(figure: Any, axes: Any) -> None:
            labels = list(bars)
            width = 0.27
            colors = {"provider": "#d95f02", "httpx": "#7570b3", "openai": "#1b9e77"}
            for i, client in enumerate(("provider", "httpx", "openai")):
                xs = [j + (i - 1) * width for j in range(len(labels))]
                axes.bar(
                    xs, [bars[k][client] for k in labels], width, label=client, color=colors[client]
                )
            axes.set_xticks(range(len(labels)), labels)
            axes.set_ylabel("microseconds per request")
            axes.set_title("Client cost on the same fake (lower is better)")
            axes.legend(fontsize=8)

        return lines + self.chart("provider", "provider chart", draw)

    def startup(self) -> list[str]:
        lines = ["## Start-up: the plugin's cost to a run that does not use it, and the import", ""]
        gone = self.failed("plugin")
        data = (self.outcomes["plugin"].data or {}) if "plugin" in self.outcomes else {}
        if gone or not data.get("startup"):
            self.target("plugin start-up", self.state("plugin"), "<= 20 ms", None)
            return lines + (gone or ["Not measured."])
        lines += [
            "Wall time of `pytest --co -q` on one trivial test, with and without the plugin, "
            "run alternately (median); `import` in a fresh interpreter against `python -c pass` "
            "(median wall time, and the cumulative time `-X importtime` reports).",
            "",
        ]
        rows = []
        for name, entry in data["startup"].items():
            what = (
                "every installed plugin, with and without `-p no:lmstudio`"
                if name == "all plugins"
                else "auto-loading off, `-p pytest_lmstudio.plugin` against nothing"
            )
            rows.append(
                [
                    f"pytest start-up, {what} ({entry['runs']} runs each)",
                    f"medians {entry['with_ms']:.1f} ms with, {entry['without_ms']:.1f} ms "
                    f"without; fastest {min(entry['with_all_ms']):.1f} and "
                    f"{min(entry['without_all_ms']):.1f} ms",
                    f"{entry['difference_ms']:+.1f} ms (fastest runs: "
                    f"{min(entry['with_all_ms']) - min(entry['without_all_ms']):+.1f} ms)",
                ]
            )
        imports = data.get("imports") or {}
        for name, entry in imports.items():
            if not isinstance(entry, dict):
                continue
            rows.append(
                [
                    f"`{name}` ({imports['runs']} runs)",
                    f"{entry['wall_ms']:.1f} ms against {imports['interpreter_ms']:.1f} ms",
                    f"{entry['wall_difference_ms']:+.1f} ms wall, {entry['importtime_ms']:.1f} ms "
                    "by -X importtime",
                ]
            )
        for name, entry in (data.get("reset") or {}).items():
            rows.append(
                [
                    f"`fake.reset()`, {name} ({entry['iterations']:,} calls)",
                    f"median {entry['median_us']:.1f} us, p95 {entry['p95_us']:.1f} us",
                    f"target <= 50 us: {verdict(entry['median_us'] <= 50)}",
                ]
            )
        lines += table(["measure", "figures", "cost"], rows)
        alone = data["startup"].get("plugin alone") or next(iter(data["startup"].values()))
        every = data["startup"].get("all plugins")
        shown = self.target(
            "plugin start-up (plugin alone; every plugin loaded in the next column)",
            f"{alone['difference_ms']:+.1f} ms"
            + (f" ({every['difference_ms']:+.1f} ms)" if every else ""),
            "<= 20 ms",
            alone["difference_ms"] <= 20,
        )
        lines += [
            f"Target: at most 20 ms: {shown}, judged on the plugin-alone pair "
            f"({alone['difference_ms']:+.1f} ms). Both pairs measure the same cost; the pair "
            "with every installed plugin"
            + (f" ({every['difference_ms']:+.1f} ms)" if every else "")
            + " adds the other plugins' start-up, several hundred ms that vary by tens of ms "
            "from run to run on a shared machine, so its difference of two medians is shown, "
            "not judged.",
            "",
        ]
        return lines

    def timing(self) -> list[str]:
        lines = ["## Timing accuracy: scripted latency and stream intervals", ""]
        gone = self.failed("timing")
        if gone:
            self.target("scripted latency, median error", self.state("timing"), "<= 3 ms", None)
            return lines + gone
        data = self.outcomes["timing"].data or {}
        latency = data["latency"]
        stream = data["stream"]
        pairs = len(latency["plain"])

        def median(values: list[float]) -> float:
            ordered = sorted(values)
            mid = len(ordered) // 2
            return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

        runs = stream["runs"]
        lines += [
            f"The fake in {data['where']}, an httpx client. Latency: {pairs} pairs of the same "
            "answer with and without `delay=0.05`, order alternating; the error is the delayed "
            "latency minus its twin's minus 50 ms. Stream: 100 chunks every 10 ms "
            f"(scripted first to last: {stream['scripted'] * 1000:.0f} ms), {len(runs)} runs.",
            "",
        ]
        durations = [r["duration"] * 1000 for r in runs]
        rows = [
            ["latency without delay (median)", f"{median(latency['plain']) * 1000:.2f} ms"],
            ["latency with delay=0.05 (median)", f"{median(latency['delayed']) * 1000:.2f} ms"],
            ["error, median", f"{latency['median_error'] * 1000:+.2f} ms"],
            ["error, p99", f"{latency['p99_error'] * 1000:+.2f} ms"],
            [
                "stream first to last chunk, per run",
                ", ".join(f"{d:.1f}" for d in durations) + " ms",
            ],
            ["stream duration error, worst", f"{stream['worst_duration_error'] * 100:.2f} %"],
            [
                "worst chunk lateness, per run",
                ", ".join(f"{r['worst_lateness'] * 1000:.2f}" for r in runs) + " ms",
            ],
            [
                "100 chunks with no interval, request to last chunk (median)",
                f"{median([b['total'] for b in stream['bursts']]) * 1000:.2f} ms",
            ],
        ]
        lines += table(["measure", "figure"], rows)
        a = self.target(
            "scripted latency, median error",
            f"{latency['median_error'] * 1000:+.2f} ms",
            "<= 3 ms",
            abs(latency["median_error"]) <= 0.003,
        )
        b = self.target(
            "stream of 100 x 10 ms, duration error (worst run)",
            f"{stream['worst_duration_error'] * 100:.2f} %",
            "<= 5 %",
            stream["worst_duration_error"] <= 0.05,
        )
        lines += [
            f"Targets: latency median error at most 3 ms: {a}; every stream within 5 % of its "
            f"scripted duration (issue 5): {b}.",
            "",
        ]
        return lines

    def scale(self) -> list[str]:
        lines = ["## Scale: per-test cost at 100, 1,000 and 5,000 tests", ""]
        gone = self.failed("scale")
        if gone:
            self.target(
                "per-test cost, largest suite / smallest", self.state("scale"), "within 10 %", None
            )
            return lines + gone
        data = self.outcomes["scale"].data or {}
        results = data["results"]
        sizes = list(results)
        samples = ", ".join(str(len(results[n]["rounds"])) for n in sizes)
        lines += [
            "Generated suites of `lmstudio_fake.chat.reply()` + `lmstudio_sync_provider.complete()`"
            f" tests, {data['tests_per_file']} per file, only the plugin loaded; per test: from "
            f"the end of test {data['warmup_tests']} to the end of the last (start-up, "
            f"collection and the first {data['warmup_tests']} tests left out: the same steady "
            f"state at every size); median of the runs, in {data['rounds']} alternating rounds "
            f"(runs per size: {samples}: a short suite runs several times a round, since a "
            "short run is noisy). Beside it: the "
            "figure counted from the first test, the cost of the last 100 tests of the run, and "
            "the run's peak RSS (pytest's own, the fake included: it runs in a thread).",
            "",
        ]
        rows = []
        for n in sizes:
            s = results[n]
            rows.append(
                [
                    f"{int(n):,}",
                    f"{s['per_test_ms']:.3f} ms",
                    f"{s['ratio_to_smallest']:.2f}x",
                    spread(s["rounds"]),
                    f"{s['after_first_ms']:.3f} ms",
                    f"{s['last_per_test_ms']:.3f} ms",
                    f"{s['wall_s']:.1f} s",
                    f"{s['peak_rss_mib']:.0f} MiB",
                ]
            )
        lines += table(
            [
                "tests",
                "per test",
                "vs smallest",
                "runs (ms)",
                "from the first test",
                "last 100 tests",
                "run wall",
                "peak RSS",
            ],
            rows,
        )
        growth = data["growth"]
        shown = self.target(
            f"per-test cost at {int(sizes[-1]):,} tests / at {int(sizes[0]):,}",
            f"{growth * 100:+.1f} %",
            "within 10 %",
            abs(growth) <= 0.10,
        )
        lines += [
            f"Target: the cost per test at {int(sizes[-1]):,} tests within 10 % of that at "
            f"{int(sizes[0]):,}: {shown} ({growth * 100:+.1f} %).",
            "",
        ]
        control = data.get("control") or {}
        if control:
            low_n, high_n = list(control["results"])
            low = control["results"][low_n]
            high = control["results"][high_n]
            lines += [
                f"Control, the same measure on the {control['kind']} suite of the per-test "
                f"question (pytest's own growth), in the same rounds: {low['per_test_ms']:.3f} "
                f"ms at {int(low_n):,} tests ({spread(low['rounds'])}),"
                f" {high['per_test_ms']:.3f} ms at {int(high_n):,} "
                f"({spread(high['rounds'])}): "
                f"{control['growth'] * 100:+.1f} %.",
                "",
            ]

        def draw(figure: Any, axes: Any) -> None:
            xs = [int(n) for n in sizes]
            axes.plot(
                xs,
                [results[n]["per_test_ms"] for n in sizes],
                "o-",
                color="#d95f02",
                label="per test (after the first 10)",
            )
            axes.plot(
                xs,
                [results[n]["last_per_test_ms"] for n in sizes],
                "s--",
                color="#7570b3",
                label="last 100 tests of the run",
            )
            if control:
                points = sorted((int(n), v["per_test_ms"]) for n, v in control["results"].items())
                axes.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    "^:",
                    color="#1b9e77",
                    label=f"{control['kind']} (control)",
                )
            axes.set_xscale("log")
            axes.set_xticks(xs, [f"{x:,}" for x in xs])
            axes.set_ylim(bottom=0)
            axes.set_xlabel("tests in the suite")
            axes.set_ylabel("ms per test")
            axes.set_title("Per-test cost against suite size (flat is the goal)")
            axes.legend(fontsize=8)

        return lines + self.chart("scale", "scale chart", draw)

    def memory(self) -> list[str]:
        lines = ["## Memory: 1,000 open streams, and the journal after 100,000 requests", ""]
        gone = self.failed("memory")
        if gone:
            self.target("RSS with 1,000 open streams", self.state("memory"), "< 200 MiB", None)
            return lines + gone
        data = self.outcomes["memory"].data or {}
        streams = data.get("streams")
        journal = data.get("journal")
        lines += [
            "The fake in its own process (validation on); its resident memory is `VmRSS` from "
            "`/proc/PID/status`.",
            "",
        ]
        if streams:
            lines += [
                f"**Open streams.** `fake.chat.when(stream=True).stream([...], stall_after=1)`; a "
                f"raw asyncio client opens {streams['streams']:,} streamed requests (in batches "
                "of 50) and waits for each one's first frame, so all are held open by the fake "
                "at once; then `reset()` releases them.",
                "",
            ]
            rows = [
                ["before (after a warm-up)", f"{streams['rss_before_mib']:.1f} MiB", ""],
                [
                    f"{streams['streams']:,} streams open",
                    f"{streams['rss_open_mib']:.1f} MiB",
                    f"+{streams['per_stream_kib']:.1f} KiB per stream; the fake held "
                    f"{streams['fake_connections_open']:,} connections; opened in "
                    f"{streams['seconds_to_open']:.2f} s",
                ],
                [
                    "released by `reset()`",
                    f"{streams['rss_after_release_mib']:.1f} MiB",
                    f"{streams['fake_connections_after_release']} connections left; peak "
                    f"{streams['peak_mib']:.1f} MiB (freed memory stays with the process)",
                ],
            ]
            lines += table(["state", "RSS", "note"], rows)
            shown = self.target(
                f"RSS of the fake with {streams['streams']:,} open streams",
                f"{streams['rss_open_mib']:.1f} MiB",
                "< 200 MiB",
                streams["rss_open_mib"] < 200,
            )
            lines += [f"Target: under 200 MiB with 1,000 streams open: {shown}.", ""]
        if journal:
            lines += [
                f"**Journal.** {journal['requests']:,} non-streaming chat completions (default "
                "answers, 16 keep-alive connections). Policy: the journal keeps the most recent "
                f"{journal['journal_limit']:,} requests (`DEFAULT_JOURNAL_LIMIT`; "
                "`FakeLMStudio(journal_limit=N)` changes it), counts the ones it let go in "
                "`fake.journal.dropped`, and `reset()` (every test, under the plugin) empties "
                "it; so a long CI run cannot grow it without limit.",
                "",
            ]
            rows = [
                [
                    f"{row['requests']:,}",
                    f"{row['rss_mib']:.1f} MiB",
                    f"{row['journal_entries']:,}",
                    f"{row['journal_dropped']:,}",
                ]
                for row in journal["checkpoints"]
            ]
            rows.append(["then `reset()`", f"{journal['rss_after_reset_mib']:.1f} MiB", "0", "0"])
            lines += table(["requests", "RSS", "journal keeps", "dropped"], rows)
            full = next(
                (
                    r
                    for r in journal["checkpoints"]
                    if r["journal_entries"] >= journal["journal_limit"]
                ),
                None,
            )
            if full is not None:
                growth = journal["rss_after_mib"] - full["rss_mib"]
                per_entry = (full["rss_mib"] - journal["rss_before_mib"]) * 1024 / full["requests"]
                lines += [
                    f"A full journal costs about {per_entry:.1f} KiB per kept request "
                    f"({full['rss_mib'] - journal['rss_before_mib']:.1f} MiB for "
                    f"{full['requests']:,}); from {full['requests']:,} to "
                    f"{journal['requests']:,} requests RSS moved {growth:+.1f} MiB.",
                    "",
                ]

            def draw(figure: Any, axes: Any) -> None:
                points = journal["checkpoints"]
                axes.plot(
                    [p["requests"] for p in points],
                    [p["rss_mib"] for p in points],
                    "o-",
                    color="#d95f02",
                    label="RSS of the fake",
                )
                axes.axvline(
                    journal["journal_limit"],
                    color="#999999",
                    linestyle=":",
                    label=f"journal limit ({journal['journal_limit']:,})",
                )
                axes.set_ylim(bottom=0)
                axes.set_xlabel("requests served")
                axes.set_ylabel("MiB")
                axes.set_title("Fake's memory over 100,000 requests (bounded journal)")
                axes.legend(fontsize=8)

            lines += self.chart("journal_memory", "journal memory chart", draw)
        return lines


def render(
    outcomes: dict[str, Outcome],
    machine: dict[str, Any],
    out: Path,
) -> str:
    charts_dir = out.parent / out.stem
    report = Report(outcomes, charts_dir, f"{out.stem}/")
    sections: list[str] = []
    for make in (
        report.per_test,
        report.throughput,
        report.streaming,
        report.provider,
        report.startup,
        report.timing,
        report.scale,
        report.memory,
    ):
        try:
            sections += make()
        except Exception as exc:  # one broken section must not lose the others
            sections += [f"(this section could not be written: {exc!r})", ""]
    head = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`tests/benchmarks/run_all.py`) on {machine['date']}, commit "
        f"{machine['commit']}, in {machine['wall_s']:.0f} s. Every figure on this page comes "
        "from that one run; each ratio compares two things measured side by side in it. Rerun "
        "on a quiet machine: other jobs sharing the CPUs move these figures more than most "
        "code changes. The scripts and how they measure: `tests/benchmarks/README.md`.",
        "",
        "## Machine",
        "",
    ]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    head += table(
        ["", ""],
        [
            ["CPU", f"{machine['cpu']} ({machine['cores']} cores)"],
            ["OS", machine["os"]],
            ["Python", machine["python"]],
            ["bytecode cache", machine["bytecode"]],
            ["packages", versions],
            [
                "load average (1 min)",
                f"{machine['load_before']:.2f} before, {machine['load_after']:.2f} after",
            ],
        ],
    )
    head += ["## Targets (issue 6)", ""]
    head += table(["question", "this run", "target", ""], report.targets)
    runs = [
        [
            o.bench.name,
            o.bench.script + " " + " ".join(o.bench.args),
            f"{o.seconds:.0f} s",
            o.status + (f": {o.reason}" if o.reason else ""),
        ]
        for o in outcomes.values()
    ]
    tail = [
        "## The runs",
        "",
        *table(["benchmark", "command (plus --json)", "time", "status"], runs),
    ]
    if report.chart_note:
        tail += [report.chart_note, ""]
    return "\n".join(head + sections + tail).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [b.name for b in BENCHES]
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(names)}")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="seconds in all")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the report to write")
    parser.add_argument("--keep", type=Path, help="copy the JSON and outputs to this directory")
    args = parser.parse_args(argv)
    chosen = names if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(names)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    machine: dict[str, Any] = {
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
    log(
        f"run_all: {len(chosen)} benchmarks, budget {args.budget:.0f} s; load average "
        f"{machine['load_before']:.2f} on {machine['cores']} cores"
    )
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        workdir = Path(tmp)
        for bench in BENCHES:
            if bench.name not in chosen:
                continue
            left = args.budget - (time.perf_counter() - started)
            if left < 30:
                outcomes[bench.name] = Outcome(
                    bench, "skipped", reason=f"the run's budget of {args.budget:.0f} s was spent"
                )
                log(f"== {bench.name}: skipped, budget spent")
                continue
            outcomes[bench.name] = run_bench(bench, workdir, min(bench.timeout, left))
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for path in workdir.iterdir():
                shutil.copy(path, args.keep / path.name)
    machine["load_after"] = os.getloadavg()[0]
    machine["wall_s"] = time.perf_counter() - started
    text = render(outcomes, machine, args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    log(f"run_all: wrote {args.out} in {machine['wall_s']:.0f} s")
    for outcome in outcomes.values():
        log(
            f"  {outcome.bench.name:<15} {outcome.status:<8} {outcome.seconds:5.0f} s "
            + outcome.reason
        )
    return 0 if all(o.status in ("ok", "missed") for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
