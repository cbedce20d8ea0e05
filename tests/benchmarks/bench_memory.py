"""Memory of the fake: 1,000 concurrent open streams, and the journal after 100,000 requests.

The fake runs in its own subprocess on 127.0.0.1 (``FakeLMStudio()``, validation on), driven
by commands on its stdin; its resident memory is read from ``/proc/PID/status`` (``VmRSS``;
``VmHWM`` is its peak). Linux only.

* **Open streams.** ``fake.chat.when(stream=True).stream([...], stall_after=1)``: every streamed
  request gets its first ``data:`` frame, then the fake holds it open, sending nothing more,
  until ``reset()``. An asyncio raw-socket client in this process opens ``--streams``
  connections (in batches, so the listen backlog does not overflow), sends one streamed chat
  request on each and waits for its first frame: then all are open at once in the fake. RSS
  before (after a warm-up), with the streams open, and after ``reset()`` released them and the
  client closed its sockets. Target: under 200 MiB with 1,000 open.
* **Journal.** ``--requests`` non-streaming chat completions (default answers, 16 keep-alive
  connections, pre-built request bytes) with RSS and the journal's size read at checkpoints.
  The journal keeps the last ``DEFAULT_JOURNAL_LIMIT`` (10,000) requests and counts the ones it
  let go (``journal.dropped``), so its memory stops growing once it is full; ``reset()`` empties
  it. No target of its own: the table shows the policy at work.

    .venv/bin/python tests/benchmarks/bench_memory.py [--streams 1000] [--requests 100000]
        [--json out.json]

Progress goes to stderr, the table to stdout. Exit status 0 when the target is met, 1 when it
is missed, 2 when a run failed (the fake did not start, a stream or a request failed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from _harness import (
    CHAT_BODY,
    MEMORY_MIB,
    MODEL,
    ROOT,
    ServerProcess,
    build_request,
    json_bytes,
    log,
)

BATCH = 50
CONNECTIONS = 16
COMMAND_TIMEOUT = 30.0
STREAM_TIMEOUT = 30.0
MAX_STREAMS = 5000
MAX_REQUESTS = 1_000_000
STREAM_BODY = json_bytes(
    {"model": MODEL, "messages": [{"role": "user", "content": "hold this"}], "stream": True}
)


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# -- the fake, in its own process (--serve), driven by commands on stdin -------------------------
def serve() -> int:
    sys.path.insert(0, str(ROOT))
    raise_fd_limit(MAX_STREAMS * 2 + 256)
    from fake_server import FakeLMStudio

    with FakeLMStudio() as fake:
        print(f"listening on {fake.url}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stall":
                fake.chat.when(stream=True).stream(["held ", "open"], stall_after=1)
            elif command == "reset":
                fake.reset()
            elif command != "stats":
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
                continue
            journal = fake.journal
            stats = {
                "journal_entries": len(journal),
                "journal_total": journal.total,
                "journal_dropped": journal.dropped,
                "journal_limit": journal.limit,
                "errors": len(fake.errors),
                "first_error": fake.errors[0][:1000] if fake.errors else None,
                "open_connections": fake.open_connections(),
            }
            print(json.dumps(stats), flush=True)
    return 0


class Fake(ServerProcess):
    """The fake in its own process (``--serve fake``), driven by commands on its stdin."""

    def __init__(self) -> None:
        super().__init__(__file__, "fake")

    def command(self, name: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        line = self.read_line(COMMAND_TIMEOUT)
        if line is None:
            raise RuntimeError(f"the fake did not answer within {COMMAND_TIMEOUT:.0f} s")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def memory(self) -> dict[str, float]:
        """VmRSS and VmHWM of the fake's process, in MiB."""
        out = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
        return out


# -- open streams ---------------------------------------------------------------------------
async def open_stream(port: int, request: bytes) -> asyncio.StreamWriter:
    """A streamed request whose first frame has arrived; the connection stays open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if head[9:12] != b"200":
        writer.close()
        raise RuntimeError(f"a streamed request got {head[:100]!r}")
    seen = b""
    while b"data: {" not in seen:
        data = await reader.read(65536)
        if not data:
            raise RuntimeError("a stream closed before its first frame")
        seen += data
    return writer


async def hold_streams(fake: Fake, count: int) -> dict[str, Any]:
    request = build_request(fake.port, STREAM_BODY, accept="text/event-stream")
    writers: list[asyncio.StreamWriter] = []
    try:
        for first in range(0, count, BATCH):
            batch = min(BATCH, count - first)
            writers += await asyncio.wait_for(
                asyncio.gather(*(open_stream(fake.port, request) for _ in range(batch))),
                STREAM_TIMEOUT,
            )
        stats = await asyncio.to_thread(fake.command, "stats")
        memory = fake.memory()
        log(
            f"streams: {len(writers)} open, the fake holds {stats['open_connections']} "
            f"connections, RSS {memory['VmRSS']:.1f} MiB"
        )
        return {"open": len(writers), "fake_connections": stats["open_connections"], **memory}
    finally:
        await asyncio.to_thread(fake.command, "reset")  # releases the stalled streams
        for writer in writers:
            writer.close()
        await asyncio.gather(*(writer.wait_closed() for writer in writers), return_exceptions=True)


def measure_streams(count: int) -> dict[str, Any]:
    fake = Fake()
    try:
        # Warm-up: a few streams opened and released, so that imports and first-use caches
        # are in the figure before, not counted as the streams' cost.
        fake.command("stall")
        asyncio.run(hold_streams(fake, min(BATCH, count)))
        fake.command("stall")
        time.sleep(0.2)
        before = fake.memory()
        log(f"streams: RSS before {before['VmRSS']:.1f} MiB; opening {count}")
        started = time.perf_counter()
        held = asyncio.run(hold_streams(fake, count))
        opened_in = time.perf_counter() - started
        time.sleep(0.5)
        after = fake.memory()
        stats = fake.command("stats")
        log(
            f"streams: released; RSS {after['VmRSS']:.1f} MiB, the fake holds "
            f"{stats['open_connections']} connections"
        )
    finally:
        fake.stop()
    per_stream_kib = (held["VmRSS"] - before["VmRSS"]) * 1024 / count
    return {
        "streams": count,
        "rss_before_mib": before["VmRSS"],
        "rss_open_mib": held["VmRSS"],
        "rss_after_release_mib": after["VmRSS"],
        "peak_mib": after["VmHWM"],
        "per_stream_kib": per_stream_kib,
        "fake_connections_open": held["fake_connections"],
        "fake_connections_after_release": stats["open_connections"],
        "seconds_to_open": opened_in,
        "errors": stats["errors"],
        "target_mib": MEMORY_MIB,
        "target_met": held["VmRSS"] < MEMORY_MIB,
    }


# -- journal ---------------------------------------------------------------------------------
async def send_requests(port: int, request: bytes, count: int) -> int:
    """``count`` requests on ``CONNECTIONS`` keep-alive connections; returns non-200 answers."""
    left = count
    non_200 = 0

    async def worker() -> None:
        nonlocal left, non_200
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left > 0:
                left -= 1
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if head[9:12] != b"200":
                    non_200 += 1
                at = head.lower().find(b"\r\ncontent-length:")
                end = head.index(b"\r\n", at + 2)
                await reader.readexactly(int(head[at + 17 : end]))
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(min(CONNECTIONS, count))))
    return non_200


def checkpoints(total: int) -> list[int]:
    marks = [1_000, 10_000, 25_000, 50_000, 75_000, 100_000, 250_000, 500_000, 1_000_000]
    points = [m for m in marks if m < total] + [total]
    return sorted(set(points))


def measure_journal(total: int) -> dict[str, Any]:
    fake = Fake()
    rows: list[dict[str, Any]] = []
    non_200 = 0
    try:
        request = build_request(fake.port, json_bytes(CHAT_BODY))
        asyncio.run(send_requests(fake.port, request, 200))  # warm-up
        fake.command("reset")
        time.sleep(0.2)
        before = fake.memory()
        stats = fake.command("stats")
        rows.append({"requests": 0, "rss_mib": before["VmRSS"], **stats})
        log(f"journal: RSS before {before['VmRSS']:.1f} MiB; sending {total:,} requests")
        sent = 0
        started = time.perf_counter()
        for mark in checkpoints(total):
            non_200 += asyncio.run(send_requests(fake.port, request, mark - sent))
            sent = mark
            stats = fake.command("stats")
            memory = fake.memory()
            rows.append({"requests": sent, "rss_mib": memory["VmRSS"], **stats})
            log(
                f"journal: {sent:,} requests ({sent / (time.perf_counter() - started):,.0f}/s), "
                f"{stats['journal_entries']:,} kept, {stats['journal_dropped']:,} dropped, "
                f"RSS {memory['VmRSS']:.1f} MiB"
            )
        fake.command("reset")
        time.sleep(0.2)
        after_reset = fake.memory()
    finally:
        fake.stop()
    return {
        "requests": total,
        "rss_before_mib": before["VmRSS"],
        "rss_after_mib": rows[-1]["rss_mib"],
        "rss_after_reset_mib": after_reset["VmRSS"],
        "journal_limit": rows[-1]["journal_limit"],
        "journal_entries": rows[-1]["journal_entries"],
        "journal_dropped": rows[-1]["journal_dropped"],
        "non_200": non_200,
        "errors": rows[-1]["errors"],
        "checkpoints": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000, help="open streams (default 1000)")
    parser.add_argument("--requests", type=int, default=100_000, help="journal requests")
    parser.add_argument("--only", default="streams,journal", help="streams, journal or both")
    parser.add_argument("--json", type=Path, metavar="FILE")
    parser.add_argument("--serve", choices=("fake",), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve()
    chosen = {part.strip() for part in args.only.split(",") if part.strip()}
    if not chosen or chosen - {"streams", "journal"}:
        parser.error("--only takes streams and/or journal")
    if not 1 <= args.streams <= MAX_STREAMS or not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--streams 1 to {MAX_STREAMS}, --requests 1 to {MAX_REQUESTS}")
    if not Path("/proc/self/status").exists():
        log("bench_memory: needs Linux (/proc/PID/status)")
        return 2
    raise_fd_limit(args.streams + 256)
    report: dict[str, Any] = {"benchmark": "memory", "python": sys.version.split()[0]}
    try:
        if "streams" in chosen:
            report["streams"] = measure_streams(args.streams)
        if "journal" in chosen:
            report["journal"] = measure_journal(args.requests)
    except (RuntimeError, OSError, ValueError, asyncio.TimeoutError) as exc:
        log(f"bench_memory: {exc}")
        return 2
    failed = False
    print("| measure | RSS of the fake process | note |")
    print("|---|---|---|")
    if "streams" in report:
        s = report["streams"]
        verdict = "met" if s["target_met"] else "MISSED"
        print(f"| before | {s['rss_before_mib']:.1f} MiB | after a warm-up |")
        print(
            f"| {s['streams']:,} streams open | {s['rss_open_mib']:.1f} MiB | "
            f"+{s['per_stream_kib']:.1f} KiB per stream; target < {MEMORY_MIB:g} MiB: {verdict} |"
        )
        print(
            f"| released (reset) | {s['rss_after_release_mib']:.1f} MiB | "
            f"{s['fake_connections_after_release']} connections left |"
        )
        failed = failed or bool(s["errors"]) or s["fake_connections_open"] < s["streams"]
    if "journal" in report:
        j = report["journal"]
        for row in j["checkpoints"]:
            print(
                f"| after {row['requests']:,} requests | {row['rss_mib']:.1f} MiB | "
                f"journal keeps {row['journal_entries']:,}, dropped {row['journal_dropped']:,} |"
            )
        print(f"| after reset() | {j['rss_after_reset_mib']:.1f} MiB | journal emptied |")
        failed = failed or bool(j["non_200"]) or bool(j["errors"])
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if failed:
        return 2
    return 0 if report.get("streams", {}).get("target_met", True) else 1


if __name__ == "__main__":
    sys.exit(main())
