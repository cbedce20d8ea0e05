"""``python -m tests.fuzz.fuzz``: fuzz a fake subprocess, print the verdict, exit 1 on a failure.

Bounded twice: the HTTP fuzz stops at ``--requests`` or ``--seconds``, whichever comes first,
and the whole run (pools, fuzz, admin phase, shutdown) is cancelled at ``--hard-limit``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from .campaign import Plan, run
from .harness import exit_on_sigterm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000, help="HTTP fuzz requests")
    parser.add_argument("--seconds", type=float, default=470.0, help="HTTP fuzz time limit")
    parser.add_argument("--hard-limit", type=float, default=570.0, help="whole run, seconds")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", type=int, default=300, help="examples drawn per schema")
    parser.add_argument("--wire-rounds", type=int, default=20, help="rounds of socket probes")
    parser.add_argument("--admin-requests", type=int, default=400)
    parser.add_argument("--rss-limit-mib", type=int, default=1024, help="verdict fails above")
    parser.add_argument("--rss-abort-mib", type=int, default=3072, help="the run stops above")
    parser.add_argument("--workdir", type=Path, default=Path(".fuzz"))
    parser.add_argument("--keep", action="store_true", help="keep the journal file of a pass")
    parser.add_argument("--kinds", help="only these damage kinds, comma-separated")
    parser.add_argument("--skip", default="", help="not these damage kinds, comma-separated")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    plan = Plan(
        requests=args.requests,
        seconds=args.seconds,
        concurrency=args.concurrency,
        seed=args.seed,
        pool_default=args.pool,
        wire_rounds=args.wire_rounds,
        admin_requests=args.admin_requests,
        rss_limit_mib=args.rss_limit_mib,
        rss_abort_mib=args.rss_abort_mib,
        workdir=args.workdir,
        kinds=frozenset(args.kinds.split(",")) if args.kinds else None,
        skip=frozenset(filter(None, args.skip.split(","))),
    )
    started = time.monotonic()
    try:
        outcome = asyncio.run(asyncio.wait_for(run(plan), args.hard_limit))
    except asyncio.TimeoutError:
        print(f"FAIL: the run did not finish within {args.hard_limit:.0f} s", file=sys.stderr)
        return 1
    verdict = outcome.verdict
    print(verdict.render())
    journal = plan.workdir / "journal.jsonl"
    size = journal.stat().st_size / 1e6 if journal.exists() else 0.0
    if verdict.ok and not args.keep:
        journal.unlink(missing_ok=True)
        where = f"journal ({size:.0f} MB) deleted"
    else:
        where = f"journal ({size:.0f} MB) and the fake's stderr in {plan.workdir}"
    print(f"\n(wall time {time.monotonic() - started:.1f} s; {where})")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
