"""Instructions the fake executes per request, counted by valgrind's callgrind: the one figure
of the per-request path that other processes on a shared machine do not move at all.

Each checkout's fake runs in a child process under callgrind; a warm-up, then the counters are
zeroed (``callgrind_control -z``), ``--requests`` requests of a kind are sent over one
keep-alive connection, and the counters dumped (``-d``): their total over the requests is the
cost. The same client and bodies as ``bench_request_cpu.py``. Slow (callgrind runs the fake
about 50 times slower: a minute or two a kind) and needs valgrind, so ``run_all.py`` does not
run it; use it to compare two versions of the code, side by side:

    python tests/benchmarks/bench_instructions.py --root /tmp/old --root . --json out.json
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

from bench_request_cpu import FAKE_CHILD, KINDS

ROOT = Path(__file__).resolve().parents[2]
WARM_UP = 30
#: A zero or dump is read by callgrind while the fake runs: requests keep it running meanwhile.
CONTROL_TIMEOUT = 120.0


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
        dump = sorted(glob.glob(f"{out}.*"))[0]
        text = Path(dump).read_text()
        found = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        assert found is not None, f"no total in {dump}"
        return int(found.group(1)) / sent[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", action="append", help="a checkout whose fake to count (repeat to compare)"
    )
    parser.add_argument("--kind", default="chat,chat-stream", help="of: " + ", ".join(KINDS))
    parser.add_argument("--requests", type=int, default=300, help="requests a kind (300)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kind.split(",") if k.strip()]
    if set(kinds) - set(KINDS) or not 10 <= args.requests <= 10_000:
        parser.error(f"--kind takes {', '.join(KINDS)}; --requests 10 to 10000")
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        parser.error("needs valgrind (apt-get install valgrind)")
    roots = [Path(r).resolve() for r in (args.root or [str(ROOT)])]
    results: dict[str, dict[str, float]] = {}
    for kind in kinds:
        for root in roots:
            figure = count(root, kind, args.requests)
            results.setdefault(str(root), {})[kind] = figure
            print(f"{kind:12} {figure:12,.0f} instructions/request  {root}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"requests": args.requests, "results": results}))
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
