"""CPU time the fake spends per request, read from its own process (``/proc``): a figure that
other processes on a busy machine barely move, unlike requests per second.

Each kind of request is sent sequentially over one keep-alive connection to a fake in a child
process; the child's user+system CPU time over the batch, divided by the requests, is the cost.
A bare aiohttp handler answering a fixed body is measured the same way, as the floor.
``--root DIR`` measures the fake of another checkout (an older commit, say) with the same
client, so two versions can be compared side by side:

    python tests/benchmarks/bench_request_cpu.py --root /tmp/old --json old.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERTZ = os.sysconf("SC_CLK_TCK")
CHAT_BODY: dict[str, Any] = {
    "model": "qwen/qwen3-8b",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
        {"role": "user", "content": "Write one sentence about the sea."},
    ],
    "max_tokens": 64,
}
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "email": {"type": "string", "format": "email"},
        "role": {"enum": ["admin", "user", "guest"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "active": {"type": "boolean"},
        "score": {"type": "number"},
        "joined": {"type": "string", "format": "date"},
        "city": {"type": "string"},
        "zip": {"type": ["string", "null"]},
    },
    "required": ["name", "age", "email", "role", "tags", "active", "score", "joined"],
    "additionalProperties": False,
}
KINDS: dict[str, dict[str, Any]] = {
    "chat": CHAT_BODY,
    "chat-stream": {**CHAT_BODY, "stream": True},
    "chat-schema": {
        **CHAT_BODY,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": SCHEMA},
        },
    },
}
FAKE_CHILD = """
import sys
sys.path.insert(0, {root!r})
from fake_server import FakeLMStudio
with FakeLMStudio() as fake:
    print(fake.port, flush=True)
    sys.stdin.read()
"""
BARE_CHILD = """
import asyncio, json, sys
from aiohttp import web
BODY = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "choices": []}).encode()
async def chat(request):
    await request.read()
    return web.Response(body=BODY, content_type="application/json")
async def main():
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HERTZ


def measure(child: str, body: dict[str, Any], requests: int) -> float:
    """CPU microseconds per request of the server in ``child``."""
    process = subprocess.Popen(
        [sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(50):  # warm up: first answers compile validators and caches
            connection.request("POST", "/v1/chat/completions", data, headers)
            connection.getresponse().read()
        before = cpu_seconds(process.pid)
        for _ in range(requests):
            connection.request("POST", "/v1/chat/completions", data, headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
        spent = cpu_seconds(process.pid) - before
        connection.close()
        return spent / requests * 1e6
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose fake to measure")
    parser.add_argument("--requests", type=int, default=2000, help="requests a kind (2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is kept (3)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not 10 <= args.requests <= 100_000 or not 1 <= args.rounds <= 20:
        parser.error("--requests takes 10 to 100000, --rounds 1 to 20")
    started = time.monotonic()
    child = textwrap.dedent(FAKE_CHILD.format(root=str(Path(args.root).resolve())))
    results: dict[str, float] = {}
    for kind, body in [("bare", CHAT_BODY), *KINDS.items()]:
        if (
            kind != "bare"
            and "schema" in kind
            and not (Path(args.root) / "fake_server/_schema_json").exists()
        ):
            continue  # a checkout from before structured output
        source = textwrap.dedent(BARE_CHILD) if kind == "bare" else child
        rounds = sorted(measure(source, body, args.requests) for _ in range(args.rounds))
        results[kind] = rounds[len(rounds) // 2]
        print(
            f"{kind:12} {results[kind]:8.1f} us CPU/request  (rounds: "
            f"{', '.join(f'{r:.1f}' for r in rounds)})",
            flush=True,
        )
    print(
        f"root {args.root}; {args.requests} requests x {args.rounds} rounds; "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"root": args.root, "us_per_request": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
