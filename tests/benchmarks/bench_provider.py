"""Cost of ``LMStudioProvider.complete()`` and ``stream()`` beside raw httpx and the openai SDK.

One process, one run, one fake: a ``FakeLMStudio`` (in a background thread, as in the tests)
answers ``POST /v1/chat/completions`` with a fixed scripted reply (whole, or as a 16-piece stream
when the request asks for one). Three clients send the same request, one at a time, on
keep-alive connections:

* ``provider``: ``LMStudioProvider.complete(request)`` (validation, request building, retries
  wrapper, size-capped read, structural checks, a ``CompletionResponse``), or
  ``provider.stream(request)`` read to the end;
* ``httpx``: ``AsyncClient.post(path, json=body)`` then ``response.json()``, or
  ``client.stream(...)`` whose ``data:`` lines are parsed with ``json.loads``: the floor;
* ``openai``: the official SDK's ``AsyncOpenAI().chat.completions.create(...)``
  (``stream=True`` for the stream).

``--sync`` measures the blocking twins instead (``SyncLMStudioProvider``, ``httpx.Client``,
``openai.OpenAI``). Every client is warmed up, then measured in interleaved rounds (the order
rotates each round) so machine noise hits all alike; the figures are the total time of each
client over all rounds. Targets: provider <= 1.15x httpx's time, and faster than openai.

    .venv/bin/python tests/benchmarks/bench_provider.py [--requests N] [--rounds R] [--sync]
        [--what complete,stream] [--profile] [--json out.json]

Progress goes to stderr, the table to stdout. Exit status 0 when the targets are met, 1 when
one is missed, 2 when openai is not installed or a client got a wrong answer.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _harness import (
    CHAT_BODY,
    CHAT_PATH,
    MODEL,
    PROVIDER_VS_HTTPX,
    PROVIDER_VS_OPENAI,
    ROOT,
    log,
    rotated,
)

sys.path.insert(0, str(ROOT))

import httpx

from fake_server import FakeLMStudio
from pytest_lmstudio import (
    CompletionRequest,
    LMStudioConfig,
    LMStudioProvider,
    Message,
    SyncLMStudioProvider,
)

REPLY = "The sea is a restless blue mirror that remembers every storm it has ever held."
#: The streamed reply: the same text in 16 pieces (a word and its space each).
PIECES = [word + " " for word in REPLY.split(" ")[:-1]] + [REPLY.split(" ")[-1]]
#: The same request three ways: a JSON body (httpx), messages (openai), a CompletionRequest.
BODY: dict[str, Any] = CHAT_BODY
STREAM_BODY: dict[str, Any] = {**BODY, "stream": True}
MESSAGES: Any = BODY["messages"]
SYSTEM, USER = (message["content"] for message in MESSAGES)
REQUEST = CompletionRequest(
    model=MODEL, messages=[Message.system(SYSTEM), Message.user(USER)], max_tokens=64
)
WHAT = ("complete", "stream")
WARMUP = 50


class WrongAnswer(Exception):
    pass


def _check(name: str, content: str) -> None:
    if content != REPLY:
        raise WrongAnswer(f"{name} got {content!r}, not the scripted reply")


def _sse_content(line: str) -> str:
    """The content of one ``data:`` line of a chat stream ('' for anything else)."""
    if not line.startswith("data: {"):
        return ""
    delta = json.loads(line[6:])["choices"]
    return str(delta[0]["delta"].get("content") or "") if delta else ""


async def measure_async(
    clients: dict[str, Callable[[], Awaitable[str]]], requests: int, rounds: int
) -> dict[str, float]:
    for name, call in clients.items():  # warm up: connections, caches, imports
        for _ in range(WARMUP):
            _check(name, await call())
    totals = dict.fromkeys(clients, 0.0)
    per_round = max(1, requests // rounds)
    names = list(clients)
    for number in range(rounds):
        for name in rotated(names, number):
            call = clients[name]
            gc.collect()
            started = time.perf_counter()
            for _ in range(per_round):
                await call()
            totals[name] += time.perf_counter() - started
    return {name: per_round * rounds / total for name, total in totals.items()}


def measure_sync(
    clients: dict[str, Callable[[], str]], requests: int, rounds: int
) -> dict[str, float]:
    for name, call in clients.items():
        for _ in range(WARMUP):
            _check(name, call())
    totals = dict.fromkeys(clients, 0.0)
    per_round = max(1, requests // rounds)
    names = list(clients)
    for number in range(rounds):
        for name in rotated(names, number):
            call = clients[name]
            gc.collect()
            started = time.perf_counter()
            for _ in range(per_round):
                call()
            totals[name] += time.perf_counter() - started
    return {name: per_round * rounds / total for name, total in totals.items()}


async def run_async(
    url: str, what: list[str], requests: int, rounds: int, profile: bool
) -> dict[str, dict[str, float]]:
    import openai

    provider = LMStudioProvider(LMStudioConfig(endpoint=url))
    raw = httpx.AsyncClient(base_url=url, timeout=30)
    sdk = openai.AsyncOpenAI(base_url=url + "/v1", api_key="lm-studio", max_retries=0)

    async def provider_complete() -> str:
        return (await provider.complete(REQUEST)).content

    async def httpx_complete() -> str:
        response = await raw.post(CHAT_PATH, json=BODY)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    async def openai_complete() -> str:
        completion = await sdk.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=64
        )
        return completion.choices[0].message.content or ""

    async def provider_stream() -> str:
        return "".join([chunk.content async for chunk in provider.stream(REQUEST)])

    async def httpx_stream() -> str:
        async with raw.stream("POST", CHAT_PATH, json=STREAM_BODY) as response:
            response.raise_for_status()
            return "".join([_sse_content(line) async for line in response.aiter_lines()])

    async def openai_stream() -> str:
        stream = await sdk.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=64, stream=True
        )
        parts = []
        async for chunk in stream:
            if chunk.choices:
                parts.append(chunk.choices[0].delta.content or "")
        return "".join(parts)

    table: dict[str, dict[str, Callable[[], Awaitable[str]]]] = {
        "complete": {
            "provider": provider_complete,
            "httpx": httpx_complete,
            "openai": openai_complete,
        },
        "stream": {"provider": provider_stream, "httpx": httpx_stream, "openai": openai_stream},
    }
    try:
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(requests):
                await provider_complete()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        out = {}
        for name in what:
            log(f"async {name}: {requests} requests per client, {rounds} rounds")
            out[name] = await measure_async(table[name], requests, rounds)
        return out
    finally:
        await provider.aclose()
        await raw.aclose()
        await sdk.close()


def run_sync(url: str, what: list[str], requests: int, rounds: int) -> dict[str, dict[str, float]]:
    import openai

    provider = SyncLMStudioProvider(LMStudioConfig(endpoint=url))
    raw = httpx.Client(base_url=url, timeout=30)
    sdk = openai.OpenAI(base_url=url + "/v1", api_key="lm-studio", max_retries=0)

    def provider_complete() -> str:
        return provider.complete(REQUEST).content

    def httpx_complete() -> str:
        response = raw.post(CHAT_PATH, json=BODY)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    def openai_complete() -> str:
        completion = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=64)
        return completion.choices[0].message.content or ""

    def provider_stream() -> str:
        return "".join([chunk.content for chunk in provider.stream(REQUEST)])

    def httpx_stream() -> str:
        with raw.stream("POST", CHAT_PATH, json=STREAM_BODY) as response:
            response.raise_for_status()
            return "".join([_sse_content(line) for line in response.iter_lines()])

    def openai_stream() -> str:
        stream = sdk.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=64, stream=True
        )
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    table: dict[str, dict[str, Callable[[], str]]] = {
        "complete": {
            "provider": provider_complete,
            "httpx": httpx_complete,
            "openai": openai_complete,
        },
        "stream": {"provider": provider_stream, "httpx": httpx_stream, "openai": openai_stream},
    }
    try:
        out = {}
        for name in what:
            log(f"sync {name}: {requests} requests per client, {rounds} rounds")
            out[name] = measure_sync(table[name], requests, rounds)
        return out
    finally:
        provider.close()
        raw.close()
        sdk.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per client")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--sync", action="store_true", help="the blocking clients instead")
    parser.add_argument(
        "--what", default=",".join(WHAT), help="complete, stream or both (default both)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the provider first")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures")
    args = parser.parse_args(argv)
    what = [part.strip() for part in args.what.split(",") if part.strip()]
    if not what or set(what) - set(WHAT) or args.requests < 1 or args.rounds < 1:
        parser.error("--what takes complete and/or stream; counts must be at least 1")
    try:
        import openai
    except ImportError:
        print("the openai package is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 2
    try:
        with FakeLMStudio(seed=0) as fake:
            fake.chat.stream(PIECES, usage={"prompt_tokens": 20, "completion_tokens": 16})
            if args.sync:
                rates = run_sync(fake.url, what, args.requests, args.rounds)
            else:
                rates = asyncio.run(
                    run_async(fake.url, what, args.requests, args.rounds, args.profile)
                )
            fake.check()
    except WrongAnswer as exc:
        print(f"bench_provider: {exc}", file=sys.stderr)
        return 2
    mode = "sync" if args.sync else "async"
    per_client = max(1, args.requests // args.rounds) * args.rounds
    print(
        f"{mode}: {per_client} sequential requests per client, {args.rounds} interleaved "
        f"rounds, openai {openai.__version__}, httpx {httpx.__version__}, "
        f"Python {sys.version.split()[0]}"
    )
    results: dict[str, Any] = {}
    all_met = True
    for name, by_client in rates.items():
        print(f"\n{name}()")
        print(f"{'client':<10}{'req/s':>10}{'time vs httpx':>16}")
        for client, rate in by_client.items():
            print(f"{client:<10}{rate:>10.0f}{by_client['httpx'] / rate:>15.3f}x")
        ratio = by_client["httpx"] / by_client["provider"]
        vs_openai = by_client["openai"] / by_client["provider"]
        met = ratio <= PROVIDER_VS_HTTPX and vs_openai < PROVIDER_VS_OPENAI
        all_met = all_met and met
        print(
            f"provider time / httpx time = {ratio:.3f} (target <= {PROVIDER_VS_HTTPX}); "
            f"provider time / openai time = {vs_openai:.3f} (target < {PROVIDER_VS_OPENAI:g}): "
            f"{'targets met' if met else 'TARGET MISSED'}"
        )
        results[name] = {
            "requests_per_second": by_client,
            "time_ratio_to_httpx": ratio,
            "time_ratio_to_openai": vs_openai,
            "target_met": met,
        }
    if args.json is not None:
        report = {
            "benchmark": "provider",
            "mode": mode,
            "requests_per_client": per_client,
            "rounds": args.rounds,
            "stream_pieces": len(PIECES),
            "versions": {"openai": openai.__version__, "httpx": httpx.__version__},
            "targets": {
                "time_ratio_to_httpx_max": PROVIDER_VS_HTTPX,
                "time_ratio_to_openai_below": PROVIDER_VS_OPENAI,
            },
            "results": results,
            "targets_met": all_met,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
