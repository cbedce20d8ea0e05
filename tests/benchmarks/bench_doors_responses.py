"""The Responses door's cost beside chat completions, on the same fake in the same run.

Two measures, each in interleaved rounds (chat, responses, chat, responses, ...) so machine
noise hits both doors alike:

* plain: requests/s of non-streamed default answers, ``POST /v1/chat/completions`` with
  ``max_tokens: 32`` against ``POST /v1/responses`` with ``max_output_tokens: 32``;
* streamed: SSE events/s of a scripted 200-piece stream through each door (the same
  ``fake.chat.stream`` rule answers both; chat sends 202 events with ``[DONE]``, responses
  209 with its lifecycle).

The fake runs in its own subprocess (one core), the load generator here: a minimal
asyncio-streams HTTP/1.1 client on keep-alive connections (pre-built request bytes; chunked
bodies parsed by hand), so the client's cost stays small beside the server's.

    .venv/bin/python tests/benchmarks/bench_doors_responses.py [--seconds S] [--rounds N]
        [--concurrency C] [--json out.json]

Progress goes to stderr, the table to stdout. Exit status 2 when a request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MODEL = "qwen/qwen3-8b"
STREAM_PIECES = 200
SERVER = f"""
import sys, time
from fake_server import FakeLMStudio
fake = FakeLMStudio().start()
fake.chat.when(stream=True).stream([f"w{{i}} " for i in range({STREAM_PIECES})])
print(fake.port, flush=True)
sys.stdin.read()
fake.close()
"""
BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": (
        "/v1/chat/completions",
        {
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Name three rivers of Europe."},
            ],
            "max_tokens": 32,
        },
    ),
    "responses": (
        "/v1/responses",
        {
            "model": MODEL,
            "instructions": "You are terse.",
            "input": "Name three rivers of Europe.",
            "max_output_tokens": 32,
        },
    ),
}


def request_bytes(port: int, path: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, int]:
    """One answer: its status and how many SSE events its body held (0 when not a stream)."""
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value:
            chunked = True
    if not chunked:
        await reader.readexactly(length)
        return status, 0
    events = 0
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        data = await reader.readexactly(size + 2)
        if size == 0:
            return status, events
        events += data.count(b"\n\n")


async def load(port: int, payload: bytes, seconds: float, concurrency: int) -> tuple[int, int]:
    """Requests and events answered in ``seconds`` by ``concurrency`` keep-alive clients."""
    deadline = time.perf_counter() + seconds
    done = [0, 0]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                writer.write(payload)
                status, events = await read_answer(reader)
                if status != 200:
                    raise RuntimeError(f"status {status}")
                done[0] += 1
                done[1] += events
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done[0], done[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        results: dict[str, dict[str, list[float]]] = {
            door: {"requests_per_second": [], "events_per_second": []} for door in BODIES
        }
        payloads = {
            (door, stream): request_bytes(port, path, {**body, "stream": stream})
            for door, (path, body) in BODIES.items()
            for stream in (False, True)
        }
        for stream in (False, True):  # warm up every path
            for door in BODIES:
                asyncio.run(load(port, payloads[door, stream], 0.2, 2))
        for index in range(args.rounds):
            for door in BODIES:
                plain, _ = asyncio.run(
                    load(port, payloads[door, False], args.seconds, args.concurrency)
                )
                _, events = asyncio.run(
                    load(port, payloads[door, True], args.seconds, args.concurrency)
                )
                results[door]["requests_per_second"].append(plain / args.seconds)
                results[door]["events_per_second"].append(events / args.seconds)
                print(
                    f"round {index + 1} {door}: {plain / args.seconds:.0f} req/s, "
                    f"{events / args.seconds:.0f} events/s",
                    file=sys.stderr,
                )
    except Exception as exc:
        print(f"failed: {exc!r}", file=sys.stderr)
        return 2
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=10)
    medians = {
        door: {name: statistics.median(values) for name, values in figures.items()}
        for door, figures in results.items()
    }
    ratio = {
        name: medians["responses"][name] / medians["chat"][name]
        for name in ("requests_per_second", "events_per_second")
    }
    print(f"{'door':<12}{'plain req/s':>14}{'stream events/s':>18}")
    for door, figures in medians.items():
        print(
            f"{door:<12}{figures['requests_per_second']:>14.0f}"
            f"{figures['events_per_second']:>18.0f}"
        )
    print(
        f"{'ratio':<12}{ratio['requests_per_second']:>13.2f}x"
        f"{ratio['events_per_second']:>17.2f}x  (responses / chat)"
    )
    if args.json is not None:
        document = {
            "settings": vars(args) | {"json": str(args.json)},
            "rounds": results,
            "medians": medians,
            "ratio_responses_to_chat": ratio,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
