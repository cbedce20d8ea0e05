"""Chunks per second of a 1,000-chunk chat stream: the fake against a bare aiohttp SSE handler.

Two servers, each in its own subprocess on 127.0.0.1 (port 0), measured side by side in one run:

* ``fake``: ``FakeLMStudio`` (validation on, the default) with
  ``fake.chat.stream([1,000 pieces])`` and no scripted delay: it builds, checks and writes each
  ``data:`` frame as it would for a test;
* ``bare``: a bare aiohttp application, one handler that reads the body and writes the same
  1,000 frames (the bytes the fake sent, captured before the run, pre-built) and
  ``data: [DONE]``, one ``write()`` per frame, as the fake does: the ceiling for this stack.

The client is the same for both: a minimal asyncio-streams HTTP/1.1 client in this process
(pre-built request bytes, one connection per stream, the chunked body decoded and its
``data:`` frames counted), so the servers' cost is what differs. ``--concurrency`` streams run
at once (default 1 and 8). The servers and the client are measured in interleaved rounds
(fake, bare, fake, ...); each round reads ``--streams`` streams per server and concurrency,
and gives chunks per second = frames received / elapsed time. The table shows the median of
the rounds and the ratio fake/bare. On Linux with 2 or more cores the servers run on CPU 1 and
the client on CPU 0.

    .venv/bin/python tests/benchmarks/bench_streaming.py [--chunks 1000] [--streams 10]
        [--rounds 5] [--concurrency 1,8] [--json out.json]

Target: the fake at least 0.6x bare aiohttp's chunks per second. Progress goes to
stderr, the table to stdout. Exit status 0 when the target is met, 1 when missed, 2 when a run
failed (a server that did not start, a stream that did not carry every chunk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    CLIENT_CPU,
    MODEL,
    SERVER_CPU,
    STREAMING_VS_BARE,
    ServerProcess,
    build_request,
    can_pin,
    int_list,
    json_bytes,
    log,
    machine,
    pin,
    serve_bare,
    serve_fake,
)

SERVERS = ("fake", "bare")
STREAM_TIMEOUT = 60.0
MAX_CHUNKS = 100_000
#: The request of every stream.
STREAM_REQUEST = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "Stream a long answer."}],
    "stream": True,
}


# -- the servers (run with --serve, each in its own process) ------------------------------------
def serve(kind: str, chunks: int, frames_file: str) -> None:
    if kind == "fake":
        serve_fake(lambda fake: fake.chat.stream([f"w{i} " for i in range(chunks)]))
        return
    from aiohttp import web

    frames = [bytes.fromhex(h) for h in json.loads(Path(frames_file).read_text())]

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Connection": "keep-alive",
            },
        )
        await response.prepare(request)
        for frame in frames:
            await response.write(frame)
        await response.write_eof()
        return response

    serve_bare(handler)


# -- the client ---------------------------------------------------------------------------------
def sse_request(port: int, body: bytes) -> bytes:
    """A streamed request, on a connection of its own (the server closes it at the end)."""
    return build_request(port, body, accept="text/event-stream", close=True)


def dechunk(data: bytes) -> bytes:
    """The body of a chunked HTTP/1.1 answer (its head already removed)."""
    out = bytearray()
    at = 0
    while True:
        end = data.index(b"\r\n", at)
        size = int(data[at:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2 : end + 2 + size]
        at = end + 2 + size + 2


async def one_stream(port: int, request: bytes) -> bytes:
    """One streamed request; returns the decoded body (the SSE bytes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if head[9:12] != b"200":
            raise RuntimeError(f"answer {head[:200]!r}")
        rest = await reader.read()  # Connection: close: until the server closes
    finally:
        writer.close()
    if b"transfer-encoding: chunked" in head.lower():
        return dechunk(rest)
    return rest


def count_frames(body: bytes) -> int:
    """``data:`` frames with a JSON payload (not ``[DONE]``)."""
    return body.count(b"data: {")


async def measure(port: int, request: bytes, streams: int, concurrency: int, chunks: int) -> float:
    """Chunks per second over ``streams`` streams, ``concurrency`` at a time."""
    loop = asyncio.get_running_loop()
    frames = 0
    pending = streams

    async def worker() -> None:
        nonlocal frames, pending
        while pending > 0:
            pending -= 1
            body = await asyncio.wait_for(one_stream(port, request), STREAM_TIMEOUT)
            got = count_frames(body)
            if got < chunks:
                raise RuntimeError(f"a stream carried {got} frames, not {chunks}")
            frames += got

    started = loop.time()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, streams))))
    return frames / (loop.time() - started)


def capture_frames(port: int, request: bytes) -> list[bytes]:
    """The fake's stream, cut into its frames (each ``data: ...\\n\\n``)."""
    body = asyncio.run(one_stream(port, request))
    return [part + b"\n\n" for part in body.split(b"\n\n") if part]


def run(args: argparse.Namespace) -> int:
    use_pin = can_pin(args.no_pin)
    if use_pin:
        pin(CLIENT_CPU)
    cpu = SERVER_CPU if use_pin else None
    body = json_bytes(STREAM_REQUEST)
    levels: list[int] = args.concurrency
    results: dict[int, dict[str, list[float]]] = {n: {k: [] for k in SERVERS} for n in levels}
    servers: dict[str, ServerProcess] = {}
    with tempfile.TemporaryDirectory(prefix="bench-streaming-") as tmp:
        workdir = Path(tmp)
        try:
            chunks = ["--chunks", str(args.chunks)]
            servers["fake"] = ServerProcess(__file__, "fake", chunks, cpu=cpu, workdir=workdir)
            port = servers["fake"].port
            frames = capture_frames(port, sse_request(port, body))
            content = sum(1 for f in frames if f.startswith(b"data: {"))
            if content < args.chunks:
                raise RuntimeError(f"the fake's stream has {content} frames, not {args.chunks}")
            frames_file = workdir / "frames.json"
            frames_file.write_text(json.dumps([f.hex() for f in frames]))
            frames_arg = ["--frames", str(frames_file)]
            servers["bare"] = ServerProcess(__file__, "bare", frames_arg, cpu=cpu, workdir=workdir)
            stream_bytes = sum(len(f) for f in frames)
            log(
                f"streaming: {len(frames)} frames ({content} with content, {stream_bytes:,} "
                f"bytes) per stream; {args.rounds} rounds x {args.streams} streams per server "
                f"at concurrency {','.join(map(str, levels))}"
            )
            requests = {kind: sse_request(s.port, body) for kind, s in servers.items()}

            async def rounds() -> None:
                for kind in SERVERS:  # warm-up
                    await measure(servers[kind].port, requests[kind], 3, 1, content)
                for level in levels:
                    for number in range(args.rounds):
                        order = SERVERS if number % 2 == 0 else SERVERS[::-1]
                        for kind in order:
                            rate = await measure(
                                servers[kind].port, requests[kind], args.streams, level, content
                            )
                            results[level][kind].append(rate)
                            log(
                                f"c={level} round {number + 1}/{args.rounds} {kind}: "
                                f"{rate:,.0f} chunks/s"
                            )

            asyncio.run(rounds())
        finally:
            for server in servers.values():
                server.stop()
    fake_errors = servers["fake"].stats.get("errors") if "fake" in servers else None
    print(
        f"{args.chunks}-chunk chat stream, no scripted delay; {args.rounds} rounds x "
        f"{args.streams} streams per server and concurrency, interleaved"
        + ("; servers on CPU 1, client on CPU 0" if use_pin else "")
    )
    print()
    print("| concurrency | fake (chunks/s) | bare aiohttp (chunks/s) | fake/bare |")
    print("|---|---|---|---|")
    ratios = {}
    for level in levels:
        fake = statistics.median(results[level]["fake"])
        bare = statistics.median(results[level]["bare"])
        ratios[level] = fake / bare
        print(f"| {level} | {fake:,.0f} | {bare:,.0f} | {ratios[level]:.2f}x |")
    worst = min(ratios.values())
    met = worst >= STREAMING_VS_BARE
    print(
        f"\nfake/bare, lowest: {worst:.2f}x (target >= {STREAMING_VS_BARE}x: "
        f"{'met' if met else 'MISSED'})"
    )
    if fake_errors:
        print(f"WARNING: the fake recorded {fake_errors} error(s)")
    if args.json:
        report = {
            "benchmark": "streaming",
            "machine": machine(),
            "chunks": args.chunks,
            "frames_per_stream": len(frames),
            "stream_bytes": stream_bytes,
            "streams": args.streams,
            "rounds": args.rounds,
            "pinned": use_pin,
            "target_ratio": STREAMING_VS_BARE,
            "target_met": met,
            "results": {
                str(level): {
                    "fake": {
                        "median_chunks_per_s": statistics.median(results[level]["fake"]),
                        "rounds": results[level]["fake"],
                    },
                    "bare": {
                        "median_chunks_per_s": statistics.median(results[level]["bare"]),
                        "rounds": results[level]["bare"],
                    },
                    "ratio": ratios[level],
                }
                for level in levels
            },
            "server_stats": {k: s.stats for k, s in servers.items()},
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.json}")
    if fake_errors:
        return 2
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1000, help="pieces per stream")
    parser.add_argument("--streams", type=int, default=10, help="streams per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--concurrency", type=int_list(1, 64, "--concurrency"), default=[1, 8], help="default 1,8"
    )
    parser.add_argument("--json", help="also write the figures as JSON")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to CPUs")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--frames", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        pin(args.cpu)
        serve(args.serve, args.chunks, args.frames)
        return 0
    if not 1 <= args.chunks <= MAX_CHUNKS or not 1 <= args.streams <= 1000:
        parser.error(f"--chunks 1 to {MAX_CHUNKS}, --streams 1 to 1000")
    if not 1 <= args.rounds <= 50:
        parser.error("--rounds 1 to 50")
    started = time.perf_counter()
    try:
        code = run(args)
    except (RuntimeError, OSError, ValueError, asyncio.TimeoutError) as exc:
        log(f"bench_streaming: {exc}")
        return 2
    log(f"bench_streaming: {time.perf_counter() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
