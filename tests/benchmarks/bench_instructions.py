"""Instructions executed per request and per test, counted by valgrind's callgrind: the figures
of the per-request path that other processes on a shared machine do not move at all.

* A request kind (``chat``, ``chat-stream``, ...): each checkout's fake runs in a child process
  under callgrind; a warm-up, then the counters are zeroed (``callgrind_control -z``),
  ``--requests`` requests of the kind are sent over one keep-alive connection, and the
  counters dumped (``-d``): their total over the requests is the cost. The same client and
  bodies as ``bench_request_cpu.py``.
* ``test``: the per-test suite of ``bench_plugin.py`` (``lmstudio_fake.chat.reply()`` and
  ``lmstudio_sync_provider.complete()``) run by pytest under callgrind, with ``--tests`` + 2
  tests and with 2; the difference of the two totals over ``--tests`` is what one test costs
  (pytest, the plugin, the provider and the fake's thread), start-up and collection left out.

Slow (callgrind runs Python about 50 times slower: a minute or two a kind and checkout) and
needs valgrind (``make bench`` installs it when it can). ``--before COMMIT`` counts that
commit of this repository beside the checkout (``_before.archived``); ``--root`` any other:

    python tests/benchmarks/bench_instructions.py --root /tmp/old --root . --json out.json
    python tests/benchmarks/bench_instructions.py --before 81671e8 --kind chat,test
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from _before import archived
from _harness import PLUGINS, pytest_env, write_suite
from bench_request_cpu import FAKE_CHILD, KINDS

ROOT = Path(__file__).resolve().parents[2]
WARM_UP = 30
#: A zero or dump is read by callgrind while the fake runs: requests keep it running meanwhile.
CONTROL_TIMEOUT = 120.0
#: A suite under callgrind: its start-up alone takes a minute.
TEST_RUN_TIMEOUT = 900.0


def _control(pid: int, flag: str, send: Callable[[], None]) -> None:
    control = subprocess.Popen(
        ["callgrind_control", flag, str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + CONTROL_TIMEOUT
    while control.poll() is None:
        if time.monotonic() > deadline:
            control.kill()
            raise RuntimeError(f"callgrind_control {flag} did not answer")
        send()
        time.sleep(0.05)


def count(root: Path, kind: str, requests: int) -> float:
    """Instructions per request of ``root``'s fake answering ``kind``."""
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        out = Path(tmp) / "callgrind.out"
        child = textwrap.dedent(FAKE_CHILD.format(root=str(root)))
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        process = subprocess.Popen(
            [*valgrind, sys.executable, "-c", child],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            # One hash seed for every run: set and dict layouts move the count by about 1 %.
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline())
            data = json.dumps(KINDS[kind]).encode()
            headers = {"Content-Type": "application/json"}
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            sent = [0]

            def send() -> None:
                connection.request("POST", "/v1/chat/completions", data, headers)
                response = connection.getresponse()
                response.read()
                assert response.status == 200, response.status
                sent[0] += 1

            for _ in range(WARM_UP):  # validators compiled, caches filled
                send()
            _control(process.pid, "-z", send)
            sent[0] = 0
            for _ in range(requests):
                send()
            _control(process.pid, "-d", send)
            connection.close()
        finally:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(600)
        return _total(Path(sorted(glob.glob(f"{out}.*"))[0])) / sent[0]


def count_per_test(root: Path, tests: int) -> float:
    """Instructions per test of ``bench_plugin.py``'s lmstudio suite on ``root``'s plugin and
    fake: the totals of ``tests`` + 2 tests and of 2, run side by side, differenced."""
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        # Once without callgrind first: the bytecode caches written before either counted run
        # starts (the two run at once and would race to write them).
        warm = write_suite(Path(tmp), "lmstudio", 1)
        subprocess.run(
            _suite_command(),
            cwd=warm,
            env=_suite_env(root, warm),
            capture_output=True,
            check=True,
            timeout=TEST_RUN_TIMEOUT,
        )
        runs = []
        for n in (2, tests + 2):
            project = write_suite(Path(tmp), "lmstudio", n)
            out = project / "callgrind.out"
            valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
            command = [*valgrind, *_suite_command()]
            env = _suite_env(root, project)
            process = subprocess.Popen(
                command,
                cwd=project,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            runs.append((n, project, out, process))
        totals = []
        for n, project, out, process in runs:
            if process.wait(TEST_RUN_TIMEOUT) != 0:
                raise RuntimeError(f"the {n}-test suite failed under callgrind ({root})")
            passed = json.loads((project / "timer.json").read_text())["ends"]
            if len(passed) != n:
                raise RuntimeError(f"the {n}-test suite ran {len(passed)} tests ({root})")
            totals.append(_total(out))
        return (totals[1] - totals[0]) / tests


def _suite_command() -> list[str]:
    plugins = ["-p", PLUGINS["lmstudio"], "-p", "bench_timer"]
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins]


def _suite_env(root: Path, project: Path) -> dict[str, str]:
    return {
        **pytest_env(autoload=False),
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": str(root),
        "BENCH_TIMER_OUT": str(project / "timer.json"),
    }


def _total(dump: Path) -> int:
    found = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.MULTILINE)
    assert found is not None, f"no total in {dump}"
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", action="append", help="a checkout whose fake to count (repeat to compare)"
    )
    parser.add_argument(
        "--before", metavar="COMMIT", help="also count this commit of the repository, first"
    )
    parser.add_argument(
        "--kind", default="chat,chat-stream", help="of: " + ", ".join([*KINDS, "test"])
    )
    parser.add_argument("--requests", type=int, default=300, help="requests a kind (300)")
    parser.add_argument("--tests", type=int, default=100, help="tests counted by test (100)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kind.split(",") if k.strip()]
    if set(kinds) - {*KINDS, "test"} or not 10 <= args.requests <= 10_000:
        parser.error(f"--kind takes {', '.join([*KINDS, 'test'])}; --requests 10 to 10000")
    if not 10 <= args.tests <= 1000:
        parser.error("--tests takes 10 to 1000")
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        parser.error("needs valgrind (apt-get install valgrind)")
    roots = [Path(r).resolve() for r in (args.root or [str(ROOT)])]
    labels = {str(root): str(root) for root in roots}
    with tempfile.TemporaryDirectory(prefix="bench-instructions-before-") as tmp:
        if args.before:
            before = archived(args.before, Path(tmp))
            roots.insert(0, before)
            labels[str(before)] = args.before
        results: dict[str, dict[str, float]] = {}
        for kind in kinds:
            unit = "test" if kind == "test" else "request"
            for root in roots:
                if kind == "test":
                    figure = count_per_test(root, args.tests)
                else:
                    figure = count(root, kind, args.requests)
                results.setdefault(labels[str(root)], {})[kind] = figure
                print(
                    f"{kind:12} {figure:14,.0f} instructions/{unit}  {labels[str(root)]}",
                    flush=True,
                )
    if args.json:
        report = {
            "requests": args.requests,
            "tests": args.tests,
            "before_commit": args.before,
            "results": results,
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
