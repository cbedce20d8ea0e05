"""``python -m tests.fuzz.load``: chat requests at a steady concurrency against a fake
subprocess, half of them streamed; every answer checked, the journal exact, latency printed.

Exit 1 on any error: a status other than 200, a stream without its ``[DONE]``, a JSON answer
without choices, a journal line missing or extra or not strict JSON, a server traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from .client import Connection, NoReply, build_request
from .harness import FakeProcess, exit_on_sigterm, read_journal

HOST = "127.0.0.1"


def _request(host: str, model: str, n: int, stream: bool) -> bytes:
    body = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a load test."},
            {"role": "user", "content": f"request {n}: say something"},
        ],
        "stream": stream,
    }
    headers = [(b"Content-Type", b"application/json")]
    return build_request("POST", "/v1/chat/completions", host, headers, json.dumps(body).encode())


def _problem(status: int, body: bytes, stream: bool) -> str | None:
    if status != 200:
        return f"status {status}: {body[:120]!r}"
    if stream:
        return None if body.rstrip().endswith(b"data: [DONE]") else "stream without [DONE]"
    try:
        return None if json.loads(body)["choices"] else "no choices"
    except (ValueError, KeyError) as exc:
        return f"not a chat completion: {exc!r}"


async def _load(port: int, total: int, concurrency: int, seconds: float) -> dict[str, object]:
    host = f"{HOST}:{port}"
    conn = Connection(HOST, port)
    listed = await conn.request(build_request("GET", "/v1/models", host), 10)
    model = json.loads(listed.body)["data"][0]["id"]
    await conn.close()
    latencies: dict[bool, list[float]] = {False: [], True: []}
    errors: Counter[str] = Counter()
    next_n = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal next_n
        conn = Connection(HOST, port)
        try:
            while next_n < total and time.monotonic() < deadline:
                n, next_n = next_n, next_n + 1
                stream = n % 2 == 1
                started = time.perf_counter()
                try:
                    reply = await conn.request(_request(host, model, n, stream), 30)
                except NoReply as exc:
                    errors[f"no answer: {exc}"] += 1
                    continue
                latencies[stream].append(time.perf_counter() - started)
                problem = _problem(reply.status, reply.body, stream)
                if problem:
                    errors[problem] += 1
        finally:
            await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "sent": next_n,
        "journaled": next_n + 1,  # and the GET /v1/models that found the model
        "seconds": time.monotonic() - started,
        "latencies": latencies,
        "errors": errors,
    }


async def _state(port: int) -> tuple[int, str, int | None]:
    conn = Connection(HOST, port)
    try:
        check = await conn.request(build_request("GET", "/__fake__/check", HOST), 30)
        listed = await conn.request(build_request("GET", "/__fake__/requests", HOST), 60)
        total = json.loads(listed.body).get("total") if listed.status == 200 else None
        return check.status, check.body.decode("utf-8", "replace")[:300], total
    finally:
        await conn.close()


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.load", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=240.0, help="time limit")
    parser.add_argument("--workdir", type=Path, default=Path(".fuzz/load"))
    args = parser.parse_args(argv)
    exit_on_sigterm()
    fake = FakeProcess(args.workdir)
    fake.start()
    try:
        rss_before = fake.rss_kib()
        result = asyncio.run(_load(fake.port, args.requests, args.concurrency, args.seconds))
        expected = int(str(result["journaled"]))
        lines = fake.wait_journal(expected)
        check_status, check_body, total = asyncio.run(_state(fake.port))
        rss_after = fake.rss_kib()
        cpu = fake.cpu_seconds()
    finally:
        fake.stop()
    journal = read_journal(fake.journal)
    log = fake.log()
    sent = int(str(result["sent"]))
    seconds = float(str(result["seconds"]))
    latencies: dict[bool, list[float]] = result["latencies"]  # type: ignore[assignment]
    errors: Counter[str] = result["errors"]  # type: ignore[assignment]
    both = latencies[False] + latencies[True]
    failures = [f"{n} x {e}" for e, n in errors.most_common(5)]
    if sent < args.requests:
        failures.append(f"only {sent} of {args.requests} requests within {args.seconds:.0f} s")
    if lines != expected or journal.bad_count:
        failures.append(f"journal: {lines} lines, expected {expected}, {journal.bad_count} bad")
    if total != expected:
        failures.append(f"the fake's journal total {total}, expected {expected}")
    if check_status != 200:
        failures.append(f"GET /__fake__/check: {check_status} {check_body}")
    if log.noise:
        failures.append(f"fake stderr: {len(log.noise)} lines, {log.tracebacks} tracebacks")
    print(f"requests            {sent:,} (half streamed) at concurrency {args.concurrency}")
    print(f"time                {seconds:.1f} s ({sent / max(seconds, 1e-9):,.0f} req/s)")
    print(f"fake CPU            {cpu:.1f} s ({sent / max(cpu, 1e-9):,.0f} requests per CPU second)")
    print(f"errors              {sum(errors.values())}")
    print(f"latency ms          p50 {_ms(both, 0.5)}  p90 {_ms(both, 0.9)}  p99 {_ms(both, 0.99)}")
    print(
        f"  non-streamed      p50 {_ms(latencies[False], 0.5)}  p99 {_ms(latencies[False], 0.99)}"
    )
    print(f"  streamed (whole)  p50 {_ms(latencies[True], 0.5)}  p99 {_ms(latencies[True], 0.99)}")
    print(f"  mean / max        {statistics.fmean(both) * 1000 if both else 0:.1f} / "
          f"{max(both, default=0) * 1000:.1f}")  # fmt: skip
    strict = "yes" if not journal.bad_count else "no"
    print(f"journal lines       {lines:,} of {expected:,} expected (strict JSON: {strict})")
    print(f"fake RSS            {rss_before // 1024} MiB before, {rss_after // 1024} MiB after")
    print(f"VERDICT: {'PASS' if not failures else 'FAIL'}")
    for failure in failures:
        print(f"  - {failure}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
