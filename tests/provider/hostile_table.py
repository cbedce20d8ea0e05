"""Print what the provider does against each hostile server: case x call x client, the error
it ends in, the seconds it took, and the memory it cost.

    python -m tests.provider.hostile_table                  # every cell, timeout 1 s
    python -m tests.provider.hostile_table --case gzip-bomb --max-bytes 16777216

Each cell runs in a process of its own, so that its peak RSS (``ru_maxrss``) is its own: the
table shows it, and how far it rose over the process's size just before the call (after the
imports, and after the server made its payload). The figures are for reading, not asserting:
``test_hostile.py`` asserts the classes and a generous time bound on every cell.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from .hostile import BY_NAME, CASES, CLIENTS, MODES, Timing, _bomb, expected, leaks, run

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def _rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / MIB  # KiB on Linux, bytes on macOS


def cell(name: str, mode: str, client: str, timing: Timing, patience: float) -> dict[str, object]:
    """Run one cell here; what the table prints of it."""
    case = BY_NAME[name]
    if name == "gzip-bomb":
        _bomb(timing.bomb_bytes, stream=mode == "stream")  # the server's payload, made before
    # Warm up the imports and the loop on a case that costs nothing.
    run(BY_NAME["token-fields"], mode, client, timing, patience)
    before = _rss_mib()
    outcome = run(case, mode, client, timing, patience)
    after = _rss_mib()
    error = outcome.error
    want = expected(case, mode)
    if outcome.hung:
        result = f"HUNG (> {patience:g} s)"
    elif error is None:
        result = f"ends, {len(outcome.chunks)} chunks"
    else:
        result = type(error).__name__
    ok = not outcome.hung and (
        (want is None and error is None) or (want is not None and isinstance(error, want))
    )
    return {
        "case": name,
        "mode": mode,
        "client": client,
        "result": result,
        "expected": "ends" if want is None else want.__name__,
        "ok": ok and (error is None or not leaks(error)),
        "leaks": leaks(error) if error is not None else [],
        "seconds": round(outcome.seconds, 2),
        "rss_mib": round(after, 1),
        "rise_mib": round(after - before, 1),
        "chunks": len(outcome.chunks),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1.0, help="timeout_seconds (1)")
    parser.add_argument("--max-bytes", type=int, default=16 * MIB, help="max_response_bytes")
    parser.add_argument("--bomb-bytes", type=int, default=256 * MIB, help="the bomb, inflated")
    parser.add_argument("--case", action="append", choices=sorted(BY_NAME), help="only these")
    parser.add_argument(
        "--cell", nargs=3, metavar=("CASE", "MODE", "CLIENT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    timing = Timing(timeout=args.timeout, max_bytes=args.max_bytes, bomb_bytes=args.bomb_bytes)
    patience = 2 * timing.timeout + 5
    if args.cell:
        print(json.dumps(cell(*args.cell, timing, patience)))
        return 0

    names = args.case or [case.name for case in CASES]
    print(
        f"timeout_seconds={timing.timeout:g}, max_retries=0, "
        f"max_response_bytes={timing.max_bytes}, gzip bomb inflating to {timing.bomb_bytes} "
        f"bytes; a trickle is a byte every {timing.trickle:g} s; Python {sys.version.split()[0]}"
    )
    header = (
        f"{'case':<15} {'call':<9} {'client':<8} {'result':<22} {'seconds':>7} "
        f"{'peak RSS MiB':>12} {'rise MiB':>9}  check"
    )
    print(header)
    print("-" * len(header))
    started = time.monotonic()
    failures = 0
    for name in names:
        for mode in MODES:
            for client in CLIENTS:
                command = [sys.executable, "-m", "tests.provider.hostile_table", "--cell"]
                command += [name, mode, client, "--timeout", str(timing.timeout)]
                command += ["--max-bytes", str(timing.max_bytes)]
                command += ["--bomb-bytes", str(timing.bomb_bytes)]
                done = subprocess.run(
                    command, cwd=ROOT, capture_output=True, text=True, check=False
                )
                if done.returncode != 0:
                    failures += 1
                    print(f"{name:<15} {mode:<9} {client:<8} crashed: {done.stderr.strip()[-300:]}")
                    continue
                row = json.loads(done.stdout.strip().splitlines()[-1])
                check = "ok" if row["ok"] else f"WANTED {row['expected']}"
                if row["leaks"]:
                    check += f"; TOKEN IN {', '.join(row['leaks'])}"
                failures += not row["ok"]
                print(
                    f"{name:<15} {mode:<9} {client:<8} {row['result']:<22} {row['seconds']:>7.2f} "
                    f"{row['rss_mib']:>12.1f} {row['rise_mib']:>9.1f}  {check}"
                )
    print(f"{failures} cell(s) not as wanted; {time.monotonic() - started:.0f} s in all")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
