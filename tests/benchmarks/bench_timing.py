"""Timing accuracy of the fake: scripted latency, and the schedule of a long stream.

What a test scripts is what a client should measure. Two questions, answered
side by side in one run, against one ``FakeLMStudio`` in its own process on 127.0.0.1 (so that
the client and the server do not share a GIL; ``--thread`` runs it in a thread of this process
instead, as the tests do):

* **Latency.** ``fake.chat.when(contains="slow").reply("pong", delay=0.05)`` beside
  ``fake.chat.reply("pong")``: the same answer with and without the scripted 50 ms. The client
  (httpx, one keep-alive connection) sends the two in pairs, the order alternating, and each
  pair gives an error: the delayed request's latency, minus its undelayed twin's, minus 50 ms.
  So the client's and the server's own costs cancel, and what is left is how late the scripted
  delay really is. Target: median error at most 3 ms (the p99 is reported, not targeted).
* **Stream schedule.** ``fake.chat.stream(100 chunks, interval=0.01)``: chunk ``i`` is due
  ``i * 10 ms`` after the first, so the first-to-last duration is scripted at 990 ms. Several
  runs; each reports that duration, the request-to-last-chunk time, and the worst lateness of
  any chunk against its due time (a drifting schedule would grow it chunk after chunk). A
  100-chunk stream without interval, in the same run, shows what the chunks cost on their own.
  Target: every run's duration within 5 % of 990 ms.

    .venv/bin/python tests/benchmarks/bench_timing.py [--pairs 300] [--runs 5] [--thread]
        [--json out.json]

Prints progress on stderr and a table on stdout. Exit status 0 when both targets are met, 1 when
one is missed, 2 when the fake cannot start. About 20 s with the defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import (
    CHAT_PATH,
    LATENCY_ERROR,
    MODEL,
    ROOT,
    STREAM_DURATION_ERROR,
    ServerProcess,
    log,
    serve_fake,
)

sys.path.insert(0, str(ROOT))

import httpx

from fake_server import FakeLMStudio

DELAY = 0.050
CHUNKS = 100
INTERVAL = 0.010
SCRIPTED_STREAM = (CHUNKS - 1) * INTERVAL
SCENARIO: dict[str, Any] = {
    "rules": [
        {
            "route": "chat",
            "when": {"contains": "slow"},
            "reply": {"content": "pong"},
            "delay": DELAY,
        },
        {
            "route": "chat",
            "when": {"contains": "paced"},
            "stream": {"chunks": [f"c{i:02d} " for i in range(CHUNKS)], "interval": INTERVAL},
        },
        {
            "route": "chat",
            "when": {"contains": "burst"},
            "stream": {"chunks": [f"c{i:02d} " for i in range(CHUNKS)]},
        },
        {"route": "chat", "reply": {"content": "pong"}},
    ]
}


def body(word: str, *, stream: bool = False) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": f"ping {word}"}],
        "stream": stream,
    }


# -- the fake, in its own process (--serve) or in a thread --------------------------------------
@contextlib.contextmanager
def fake_url(thread: bool) -> Iterator[str]:
    if thread:
        with FakeLMStudio(scenario=SCENARIO) as fake:
            yield fake.url
        return
    with tempfile.TemporaryDirectory() as workdir:
        scenario = Path(workdir) / "timing.json"
        scenario.write_text(json.dumps(SCENARIO))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = ServerProcess(__file__, "fake", ["--scenario", str(scenario)], env=env)
        try:
            yield server.url
        finally:
            server.stop()


# -- measurements ------------------------------------------------------------------------------
def latency(client: httpx.Client, word: str) -> float:
    started = time.perf_counter()
    response = client.post(CHAT_PATH, json=body(word))
    response.read()
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or response.json()["choices"][0]["message"]["content"] != "pong":
        raise RuntimeError(f"unexpected answer: {response.status_code} {response.text[:200]}")
    return elapsed


def latency_pairs(client: httpx.Client, pairs: int) -> tuple[list[float], list[float]]:
    plain: list[float] = []
    delayed: list[float] = []
    for i in range(pairs):
        if i % 2:
            plain.append(latency(client, "fast"))
            delayed.append(latency(client, "slow"))
        else:
            delayed.append(latency(client, "slow"))
            plain.append(latency(client, "fast"))
    return plain, delayed


@dataclass
class StreamRun:
    duration: float  # first chunk to last chunk
    total: float  # request sent to last chunk
    worst_lateness: float  # the latest chunk against first + i * interval
    last_lateness: float


def stream_run(client: httpx.Client, word: str, interval: float) -> StreamRun:
    started = time.perf_counter()
    arrivals: list[float] = []
    with client.stream("POST", CHAT_PATH, json=body(word, stream=True)) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and '"content":"c' in line:
                arrivals.append(time.perf_counter())
    if len(arrivals) != CHUNKS:
        raise RuntimeError(f"expected {CHUNKS} chunks, got {len(arrivals)}")
    first = arrivals[0]
    lateness = [t - (first + i * interval) for i, t in enumerate(arrivals)]
    return StreamRun(arrivals[-1] - first, arrivals[-1] - started, max(lateness), lateness[-1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float, sign: bool = False) -> str:
    return f"{seconds * 1000:+.2f} ms" if sign else f"{seconds * 1000:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300, help="latency pairs (default 300)")
    parser.add_argument("--runs", type=int, default=5, help="stream runs (default 5)")
    parser.add_argument("--warmup", type=int, default=20, help="pairs before measuring")
    parser.add_argument("--thread", action="store_true", help="the fake in a thread, not a process")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve", choices=("fake",), help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve_fake(scenario=Path(args.scenario))
        return 0
    if args.pairs < 10 or args.runs < 1:
        parser.error("--pairs must be at least 10 and --runs at least 1")

    where = "a thread of this process" if args.thread else "its own process"
    try:
        context = fake_url(args.thread)
        url = context.__enter__()
    except (RuntimeError, OSError) as exc:
        print(f"bench_timing: {exc}", file=sys.stderr)
        return 2
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            log(f"fake at {url} in {where}; warming up")
            latency_pairs(client, args.warmup)
            stream_run(client, "burst", 0.0)
            log(f"latency: {args.pairs} pairs (about {args.pairs * 0.06:.0f} s)")
            plain, delayed = latency_pairs(client, args.pairs)
            log(f"streams: {args.runs} runs of {CHUNKS} chunks every {INTERVAL * 1000:g} ms")
            runs = []
            bursts = []
            for _ in range(args.runs):
                runs.append(stream_run(client, "paced", INTERVAL))
                bursts.append(stream_run(client, "burst", 0.0))
    finally:
        context.__exit__(None, None, None)

    errors = [d - p - DELAY for p, d in zip(plain, delayed, strict=True)]
    median_error = statistics.median(errors)
    p99_error = percentile(errors, 0.99)
    durations = [r.duration for r in runs]
    worst_duration_error = max(abs(d - SCRIPTED_STREAM) / SCRIPTED_STREAM for d in durations)
    latency_ok = abs(median_error) <= LATENCY_ERROR
    stream_ok = worst_duration_error <= STREAM_DURATION_ERROR

    def row(name: str, scripted: str, values: list[float], target: str, met: str) -> str:
        return (
            f"| {name} | {scripted} | {ms(statistics.median(values))} | "
            f"{ms(percentile(values, 0.99))} | {ms(min(values))} | {ms(max(values))} | "
            f"{target} | {met} |"
        )

    yes = {True: "yes", False: "**no**"}
    print(
        f"\nTiming accuracy: the fake in {where} on 127.0.0.1, httpx client, "
        f"{args.pairs} latency pairs, {args.runs} stream runs\n"
    )
    print("| measure | scripted | median | p99 | min | max | target | met |")
    print("|---|---|---|---|---|---|---|---|")
    print(row("latency without delay", "0", plain, "", ""))
    print(row("latency with delay=0.05", "50 ms", delayed, "", ""))
    print(
        f"| error: delayed - undelayed - 50 ms | 0 | {ms(median_error, True)} | "
        f"{ms(p99_error, True)} | {ms(min(errors), True)} | {ms(max(errors), True)} | "
        f"median <= {LATENCY_ERROR * 1000:g} ms | {yes[latency_ok]} |"
    )
    print(
        row(
            f"stream {CHUNKS} x {INTERVAL * 1000:g} ms: first to last chunk",
            f"{SCRIPTED_STREAM * 1000:g} ms",
            durations,
            f"each within {STREAM_DURATION_ERROR * 100:g} %",
            yes[stream_ok],
        )
    )
    print(
        row(
            "  request to last chunk",
            f"{SCRIPTED_STREAM * 1000:g} ms",
            [r.total for r in runs],
            "",
            "",
        )
    )
    print(row("  worst chunk lateness", "0", [r.worst_lateness for r in runs], "", ""))
    print(row("  last chunk lateness", "0", [r.last_lateness for r in runs], "", ""))
    print(
        row(
            f"stream {CHUNKS} x 0 ms: request to last chunk", "0", [b.total for b in bursts], "", ""
        )
    )
    print(
        f"\nstream duration error: worst {worst_duration_error * 100:.2f} % "
        f"(runs: {', '.join(f'{d * 1000:.1f}' for d in durations)} ms)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "where": where,
                    "latency": {
                        "plain": plain,
                        "delayed": delayed,
                        "median_error": median_error,
                        "p99_error": p99_error,
                    },
                    "stream": {
                        "scripted": SCRIPTED_STREAM,
                        "runs": [vars(r) for r in runs],
                        "bursts": [vars(b) for b in bursts],
                        "worst_duration_error": worst_duration_error,
                    },
                    "targets_met": latency_ok and stream_ok,
                },
                indent=2,
            )
        )
    return 0 if latency_ok and stream_ok else 1


if __name__ == "__main__":
    sys.exit(main())
