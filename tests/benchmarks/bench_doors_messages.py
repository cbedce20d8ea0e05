"""The Anthropic door beside the OpenAI door, on the same fake in the same run.

One ``FakeLMStudio`` (validation on, the default) runs in a subprocess on 127.0.0.1; this
process is the client (``http.client``, one keep-alive connection per door). In interleaved
rounds (chat, messages, chat, ...) it measures, for each door:

* requests per second of plain answers: ``POST /v1/chat/completions`` and
  ``POST /v1/messages`` with the same one-message conversation, answered by the fake's default
  (seeded) text;
* events per second of streamed answers: the same request with ``stream: true``, answered by
  a scripted stream of ``--chunks`` pieces (``data:`` chunks and ``[DONE]`` on the OpenAI door;
  ``message_start`` ... ``message_stop`` on the Anthropic door), every SSE event counted.

The table shows the median of the rounds and the ratio messages / chat. On Linux with 2 or
more cores the fake runs on CPU 1 and the client on CPU 0.

    .venv/bin/python tests/benchmarks/bench_doors_messages.py [--rounds 5] [--requests 300]
        [--streams 20] [--chunks 200] [--json out.json]

Progress goes to stderr, the table to stdout. Exit status 0, or 2 when a run failed (a
server that did not start, an answer that was not a 200, a stream short of its events).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MODEL = "qwen/qwen3-8b"
DOORS = {"chat": "/v1/chat/completions", "messages": "/v1/messages"}
SERVER_CPU = 1
CLIENT_CPU = 0
START_TIMEOUT = 30.0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def serve(chunks: int) -> None:
    """The fake, until its standard input closes."""
    pin(SERVER_CPU)
    sys.path.insert(0, str(ROOT))
    from fake_server import FakeLMStudio

    with FakeLMStudio() as fake:
        fake.chat.when(stream=True).stream([f"w{i} " for i in range(chunks)])
        print(f"listening on {fake.port}", flush=True)
        sys.stdin.read()
        print(json.dumps({"errors": fake.errors[:1]}), flush=True)


def body(door: str, stream: bool) -> bytes:
    document: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Tell me about the sea."}],
        "stream": stream,
    }
    if door == "messages":
        document["max_tokens"] = 1024
    return json.dumps(document).encode()


def plain_rate(connection: http.client.HTTPConnection, door: str, count: int) -> float:
    payload = body(door, False)
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    for _ in range(count):
        connection.request("POST", DOORS[door], payload, headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200 or not data:
            raise RuntimeError(f"{door}: HTTP {response.status}: {data[:200]!r}")
    return count / (time.perf_counter() - started)


def event_rate(
    connection: http.client.HTTPConnection, door: str, count: int, expected: int
) -> float:
    payload = body(door, True)
    headers = {"Content-Type": "application/json"}
    events = 0
    started = time.perf_counter()
    for _ in range(count):
        connection.request("POST", DOORS[door], payload, headers)
        response = connection.getresponse()
        data = response.read()
        got = data.count(b"\n\n")
        if response.status != 200 or got != expected:
            raise RuntimeError(f"{door}: HTTP {response.status}, {got} events, not {expected}")
        events += got
    return events / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.chunks)
        return 0
    pin(CLIENT_CPU)
    command = [sys.executable, __file__, "--serve", "--chunks", str(args.chunks)]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdin is not None and server.stdout is not None
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            log(f"the fake did not start: {line!r}")
            return 2
        port = int(line.rsplit(" ", 1)[1])
        # chat: a chunk per piece, the finish chunk, [DONE]; messages: message_start, ping,
        # content_block_start, a delta per piece, content_block_stop, message_delta, message_stop
        expected = {"chat": args.chunks + 2, "messages": args.chunks + 6}
        connections = {door: http.client.HTTPConnection("127.0.0.1", port) for door in DOORS}
        results: dict[str, dict[str, list[float]]] = {
            door: {"requests_per_second": [], "events_per_second": []} for door in DOORS
        }
        for door in DOORS:  # warm up: schemas compiled, connections open
            plain_rate(connections[door], door, 20)
            event_rate(connections[door], door, 2, expected[door])
        for index in range(args.rounds):
            for door in DOORS:
                connection = connections[door]
                rate = plain_rate(connection, door, args.requests)
                events = event_rate(connection, door, args.streams, expected[door])
                results[door]["requests_per_second"].append(rate)
                results[door]["events_per_second"].append(events)
                log(f"round {index + 1}/{args.rounds} {door}: {rate:.0f} req/s, {events:.0f} ev/s")
    except (RuntimeError, OSError) as exc:
        log(f"run failed: {exc}")
        return 2
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
            out = server.communicate(timeout=10)[0]  # closes the fake's input: it stops
            stats = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
            if stats.get("errors"):
                log(f"errors inside the fake: {stats['errors']}")
        if server.poll() is None:
            server.kill()
    medians = {
        door: {key: statistics.median(values) for key, values in measures.items()}
        for door, measures in results.items()
    }
    print(f"{'':24} {'/v1/chat/completions':>22} {'/v1/messages':>14} {'ratio':>7}")
    for key, label in (
        ("requests_per_second", "requests/s (plain)"),
        ("events_per_second", "events/s (streamed)"),
    ):
        chat, messages = medians["chat"][key], medians["messages"][key]
        print(f"{label:24} {chat:22.0f} {messages:14.0f} {messages / chat:7.2f}")
    if args.json:
        report = {
            "rounds": args.rounds,
            "requests": args.requests,
            "streams": args.streams,
            "chunks": args.chunks,
            "median": medians,
            "runs": results,
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
