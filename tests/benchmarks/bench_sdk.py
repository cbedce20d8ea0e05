"""``respond()`` through LM Studio's own Python SDK beside the same prompt through
``/v1/chat/completions`` with the openai SDK, against one fake in the same run.

A ``FakeLMStudio`` runs in a child process (CPU 1 on a machine of 2 or more cores), scripted to
answer every chat with one sentence; this process (CPU 0) is the client, one call at a time:

* ``lmstudio``: ``lms.Client("127.0.0.1:PORT").llm.model(MODEL).respond(chat, config=...)``:
  a ``predict`` channel on the SDK's ``llm`` websocket (its fragments, then ``success``);
* ``openai``: ``openai.OpenAI(base_url=...).chat.completions.create(...)`` on a keep-alive
  HTTP connection.

Both send the harness's chat (a system and a user message, at most 64 tokens) and must get
the same text back. After a warm-up each client makes ``--requests`` round trips per round,
in ``--rounds`` rounds whose order alternates, so that a slow moment does not always fall on
the same side. The table shows round trips per second (median of the rounds) and the ratio
lmstudio / openai.

    .venv/bin/python tests/benchmarks/bench_sdk.py [--rounds 6] [--requests 150] [--json F]

Progress goes to stderr, the table to stdout. Exit status 0, or 2 when a run failed (a package
missing, a server that did not start, a wrong answer, an error inside the fake).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import (
    CHAT_BODY,
    CLIENT_CPU,
    MODEL,
    SERVER_CPU,
    ServerProcess,
    bounded,
    can_pin,
    log,
    machine,
    pin,
    rotated,
    serve_fake,
)

if TYPE_CHECKING:
    from fake_server import FakeLMStudio

REPLY = "The sea is a restless blue mirror that remembers every storm it has ever held."
SYSTEM, USER = (message["content"] for message in CHAT_BODY["messages"])
MAX_TOKENS = int(CHAT_BODY["max_tokens"])
WARMUP = 20
CLIENTS = ("lmstudio", "openai")


def configure(fake: FakeLMStudio) -> None:
    fake.chat.reply(REPLY)


def lmstudio_caller(port: int) -> tuple[Callable[[], str], Callable[[], None]]:
    """One ``respond()`` round trip, and how to close the client."""
    import lmstudio as lms

    client = lms.Client(f"127.0.0.1:{port}")
    model = client.llm.model(MODEL)

    def call() -> str:
        chat = lms.Chat(SYSTEM)
        chat.add_user_message(USER)
        return model.respond(chat, config={"maxTokens": MAX_TOKENS}).content

    return call, client.close


def openai_caller(port: int) -> tuple[Callable[[], str], Callable[[], None]]:
    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="lm-studio")
    messages: Any = CHAT_BODY["messages"]

    def call() -> str:
        answer = client.chat.completions.create(
            model=MODEL, messages=messages, max_tokens=MAX_TOKENS
        )
        return answer.choices[0].message.content or ""

    return call, client.close


def rate(call: Callable[[], str], requests: int, who: str) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        text = call()
        if text != REPLY:
            raise RuntimeError(f"{who} got {text!r}, not the scripted reply")
    return requests / (time.perf_counter() - started)


def measure(port: int, rounds: int, requests: int) -> dict[str, list[float]]:
    callers = {"lmstudio": lmstudio_caller(port), "openai": openai_caller(port)}
    runs: dict[str, list[float]] = {name: [] for name in CLIENTS}
    try:
        for name, (call, _) in callers.items():  # connections open, schemas compiled
            rate(call, WARMUP, name)
        for turn in range(rounds):
            for name in rotated(CLIENTS, turn):
                runs[name].append(rate(callers[name][0], requests, name))
            log(
                f"round {turn + 1}/{rounds}: "
                + ", ".join(f"{n} {runs[n][-1]:.0f}/s" for n in CLIENTS)
            )
    finally:
        for _, close in callers.values():
            close()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=bounded(int, 1, 100, "--rounds"), default=6)
    parser.add_argument("--requests", type=bounded(int, 1, 100_000, "--requests"), default=150)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to CPUs")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        pin(args.cpu)
        serve_fake(configure)
        return 0
    for package in ("lmstudio", "openai"):
        try:
            __import__(package)
        except ImportError:
            log(f"bench_sdk: the {package} package is not installed (pip install -e '.[test]')")
            return 2
    pinned = can_pin(args.no_pin)
    server = ServerProcess(__file__, "fake", cpu=SERVER_CPU if pinned else None)
    if pinned:
        pin(CLIENT_CPU)
    try:
        runs = measure(server.port, args.rounds, args.requests)
    except Exception as exc:
        log(f"bench_sdk: run failed: {exc!r}")
        return 2
    finally:
        server.stop()
    if server.stats.get("errors"):
        log(f"bench_sdk: errors inside the fake: {server.stats.get('first_error')}")
        return 2
    medians = {name: statistics.median(values) for name, values in runs.items()}
    ratio = medians["lmstudio"] / medians["openai"]
    import lmstudio
    import openai

    print(
        f"{args.requests} sequential round trips per client per round, {args.rounds} "
        f"alternating rounds; lmstudio {lmstudio.__version__}, openai {openai.__version__}"
    )
    print(f"{'client':<44}{'round trips/s':>14}")
    print(f"{'lmstudio: respond() over the llm websocket':<44}{medians['lmstudio']:>14.0f}")
    print(f"{'openai: POST /v1/chat/completions':<44}{medians['openai']:>14.0f}")
    print(f"ratio lmstudio / openai: {ratio:.2f}")
    if args.json:
        report = {
            "rounds": args.rounds,
            "requests": args.requests,
            "median": medians,
            "ratio": ratio,
            "runs": runs,
            "versions": {"lmstudio": lmstudio.__version__, "openai": openai.__version__},
            "machine": machine(),
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
