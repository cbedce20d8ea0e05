"""Cold start: what a fresh process (each xdist worker, each CI job) pays before its first
answer, for the fake beside pytest-httpserver and respx.

Each subject runs in a fresh interpreter (``python -c``), which times itself from its first
line: the import, the start, then the first answer, over a real socket on 127.0.0.1 for the two
servers. The client is the standard library's ``http.client``, imported before the clock starts
(it is the test's, not the server's); respx answers an ``httpx.Client`` in process (``import
respx`` loads httpx), so its figure has no server and no socket.

* ``fake``: ``import fake_server``; ``FakeLMStudio().start()``; ``POST /v1/chat/completions``
  with nothing scripted (the default answer of ``qwen/qwen3-8b``), a 200 with a chat completion.
* ``httpserver``: ``import pytest_httpserver``; ``HTTPServer().start()``; one
  ``expect_request(...).respond_with_json(...)`` and the same POST.
* ``respx``: ``import respx, httpx``; a router mocking the POST; ``httpx.Client().post()``.
* ``aiohttp``: ``import aiohttp.web`` alone: the floor under any aiohttp server, the fake's
  included (aiohttp's package loads its client side too, which builds two TLS contexts).
* ``baseline`` (with ``--baseline DIR`` or ``--baseline-commit REV``): the fake of another
  checkout, or of a commit of this repository (``git archive`` into a temporary folder),
  measured the same way in the same rounds: the figure before a change, side by side with the
  one after. ``make bench`` measures the fake as it was before the cold-start work
  (``BEFORE_COMMIT``).

The subjects run in rotated order, ``--rounds`` times each, after one warm-up run each (so
bytecode is cached, as on a developer's machine); the medians are kept. The interpreter's own
start-up is the same for all and is reported apart (``python -c pass``). Target: the fake's
import + start + first answer at most 0.25 s.

    .venv/bin/python tests/benchmarks/bench_cold_start.py [--rounds 15]
        [--baseline DIR | --baseline-commit REV] [--json out.json]

Progress goes to stderr, the table to stdout. Exit status 0 when the target is met, 1 when it
is missed, 2 when a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from _before import archived
from _harness import COLD_START_S, ROOT, bounded, log, rotated

RUN_TIMEOUT_SECONDS = 60
#: The last commit before the cold-start work (Faker imported, validators compiled by every
#: process): ``run_all.py`` measures it beside the fake of today.
BEFORE_COMMIT = "c2f5688"
#: Bytecode written and read, as on a developer's machine: without it every run would compile
#: the modules again, and the figure would measure the compiler.
CHILD_ENV = {
    k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
}
PHASES = ("import_s", "start_s", "first_s")
#: What each child reports besides its phases: its CPU time (all threads) to the first answer,
#: which a busy machine moves less than wall time.
EXTRA = ("cpu_s",)

#: Measured before the clock starts in every child: the test's client, the JSON printer.
PRELUDE = """
import sys, time, json, http.client
{path}
def post(port, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", path, body, {{"Content-Type": "application/json"}})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    assert response.status == 200, (response.status, data[:300])
    return json.loads(data)
BODY = json.dumps({{"model": "qwen/qwen3-8b", "messages": [{{"role": "user", "content": "Hi"}}]}})
c0 = time.process_time()
t0 = time.perf_counter()
"""

FAKE = """
from fake_server import FakeLMStudio
t1 = time.perf_counter()
fake = FakeLMStudio()
fake.start()
t2 = time.perf_counter()
answer = post(fake.port, "/v1/chat/completions", BODY)
t3, c3 = time.perf_counter(), time.process_time()
assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"]
fake.close()
"""

HTTPSERVER = """
from pytest_httpserver import HTTPServer
t1 = time.perf_counter()
server = HTTPServer(host="127.0.0.1", port=0)
server.start()
t2 = time.perf_counter()
server.expect_request("/v1/chat/completions", method="POST").respond_with_json(
    {"object": "chat.completion", "choices": [{"message": {"content": "Hello"}}]}
)
answer = post(server.port, "/v1/chat/completions", BODY)
t3, c3 = time.perf_counter(), time.process_time()
assert answer["object"] == "chat.completion"
server.clear()
server.stop()
"""

RESPX = """
import httpx, respx
t1 = time.perf_counter()
router = respx.mock(assert_all_called=True)
router.start()
router.post("http://127.0.0.1:1234/v1/chat/completions").respond(
    json={"object": "chat.completion", "choices": [{"message": {"content": "Hello"}}]}
)
t2 = time.perf_counter()
with httpx.Client() as client:
    answer = client.post("http://127.0.0.1:1234/v1/chat/completions", content=BODY).json()
t3, c3 = time.perf_counter(), time.process_time()
assert answer["object"] == "chat.completion"
router.stop()
"""

AIOHTTP = """
import aiohttp.web
t1 = t2 = time.perf_counter()
t3, c3 = time.perf_counter(), time.process_time()
"""

REPORT = """
print(json.dumps({"import_s": t1 - t0, "start_s": t2 - t1, "first_s": t3 - t2, "cpu_s": c3 - c0}))
"""


def child_source(body: str, root: Path | None) -> str:
    path = f"sys.path.insert(0, {str(root)!r})" if root is not None else ""
    return PRELUDE.format(path=path) + body + REPORT


def run_child(source: str) -> tuple[dict[str, float], float]:
    """The phases a child reports, and the wall time of the whole process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        cwd="/",  # not the checkout: what is imported is what is installed (or --baseline's)
        env=CHILD_ENV,
        stdin=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"a child failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def measure(subjects: dict[str, str], rounds: int) -> dict[str, Any]:
    interpreter = [sys.executable, "-c", "pass"]
    for source in subjects.values():  # warm-up: bytecode and the file cache
        run_child(source)
    phases: dict[str, dict[str, list[float]]] = {
        name: {phase: [] for phase in (*PHASES, *EXTRA, "total_s", "process_s")}
        for name in subjects
    }
    bare: list[float] = []
    names = [*subjects, "(python -c pass)"]
    for turn in range(rounds):
        for name in rotated(names, turn):
            if name not in subjects:
                started = time.perf_counter()
                subprocess.run(
                    interpreter, check=True, timeout=RUN_TIMEOUT_SECONDS, cwd="/", env=CHILD_ENV
                )
                bare.append(time.perf_counter() - started)
                continue
            figures, wall = run_child(subjects[name])
            for phase in (*PHASES, *EXTRA):
                phases[name][phase].append(figures[phase])
            phases[name]["total_s"].append(sum(figures[phase] for phase in PHASES))
            phases[name]["process_s"].append(wall)
        totals = ", ".join(f"{n} {phases[n]['total_s'][-1] * 1000:.0f} ms" for n in subjects)
        log(f"round {turn + 1}/{rounds}: {totals}")
    out: dict[str, Any] = {"rounds": rounds, "interpreter_s": statistics.median(bare)}
    out["subjects"] = {
        name: {
            **{phase: statistics.median(values) for phase, values in by_phase.items()},
            "all_total_s": by_phase["total_s"],
        }
        for name, by_phase in phases.items()
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=bounded(int, 1, 200, "--rounds"), default=15, help="per subject (15)"
    )
    parser.add_argument(
        "--baseline", type=Path, metavar="DIR", help="also measure the fake of this checkout"
    )
    parser.add_argument(
        "--baseline-commit",
        metavar="REV",
        help=f"also measure the fake of this commit (run_all.py: {BEFORE_COMMIT})",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.baseline is not None and args.baseline_commit is not None:
        parser.error("--baseline and --baseline-commit: one or the other")
    if args.baseline is not None and not (args.baseline / "fake_server").is_dir():
        parser.error(f"--baseline {args.baseline}: no fake_server/ there (a checkout's root?)")
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        if args.baseline_commit is not None:
            try:
                args.baseline = archived(args.baseline_commit, Path(tmp))
            except (RuntimeError, OSError, tarfile.TarError, subprocess.SubprocessError) as exc:
                log(f"bench_cold_start: no baseline: {exc}")
                return 2
        return run(args)


def run(args: argparse.Namespace) -> int:
    subjects = {
        "fake": child_source(FAKE, ROOT),
        "httpserver": child_source(HTTPSERVER, None),
        "respx": child_source(RESPX, None),
        "aiohttp": child_source(AIOHTTP, None),
    }
    if args.baseline is not None:
        subjects["baseline"] = child_source(FAKE, args.baseline.resolve())
    started = time.monotonic()
    try:
        results = measure(subjects, args.rounds)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        log(f"bench_cold_start: {exc}")
        return 2
    subjects_out = results["subjects"]
    fake_total = subjects_out["fake"]["total_s"]
    results["target_s"] = COLD_START_S
    results["met"] = fake_total <= COLD_START_S
    results["vs_httpserver"] = fake_total / subjects_out["httpserver"]["total_s"]
    results["vs_respx"] = fake_total / subjects_out["respx"]["total_s"]
    if args.baseline is not None:
        results["baseline"] = args.baseline_commit or str(args.baseline)
        results["vs_baseline"] = fake_total / subjects_out["baseline"]["total_s"]

    columns = (*PHASES, "total_s", "cpu_s", "process_s")
    print(f"{'subject':12} " + " ".join(f"{c.removesuffix('_s'):>8}" for c in columns))
    for name, figures in subjects_out.items():
        cells = " ".join(f"{figures[p] * 1000:6.0f}ms" for p in columns)
        print(f"{name:12} {cells}")
    print(
        f"fake / httpserver {results['vs_httpserver']:.2f}x, fake / respx "
        f"{results['vs_respx']:.2f}x"
        + (f", fake / baseline {results['vs_baseline']:.2f}x" if args.baseline else "")
    )
    print(
        f"target: the fake's import + start + first answer <= {COLD_START_S * 1000:.0f} ms: "
        f"{'met' if results['met'] else 'MISSED'} ({fake_total * 1000:.0f} ms); "
        f"python -c pass {results['interpreter_s'] * 1000:.0f} ms; {args.rounds} rounds, "
        f"{time.monotonic() - started:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if results["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
