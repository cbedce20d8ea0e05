"""Cost of ``LMStudioProvider.complete()`` beside a raw httpx post and the openai SDK.

One process, one run, one fake: a ``FakeLMStudio`` (in a background thread, as in the tests)
answers ``POST /v1/chat/completions`` with a fixed scripted reply. Three clients send the same
request, one at a time, on keep-alive connections:

* ``provider``: ``LMStudioProvider.complete(request)`` (validation, request building, retries
  wrapper, size-capped read, structural checks, a ``CompletionResponse``);
* ``httpx``: ``AsyncClient.post(path, json=body)`` then ``response.json()``: the floor;
* ``openai``: the official SDK's ``AsyncOpenAI().chat.completions.create(...)``.

``--sync`` measures the blocking twins instead (``SyncLMStudioProvider``, ``httpx.Client``,
``openai.OpenAI``). Every client is warmed up, then measured in interleaved rounds (the order
rotates each round) so machine noise hits all alike; the figures are the total time of each
client over all rounds. Targets (issue 3): provider <= 1.15x httpx's time, and faster than openai.

    .venv/bin/python tests/benchmarks/bench_provider.py [--requests N] [--rounds R] [--sync]
        [--profile]

Exit status 0 when both targets are met, 1 when one is missed, 2 when openai is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from fake_server import FakeLMStudio  # noqa: E402
from pytest_lmstudio import (  # noqa: E402
    CompletionRequest,
    LMStudioConfig,
    LMStudioProvider,
    Message,
    SyncLMStudioProvider,
)

MODEL = "qwen/qwen3-8b"
SYSTEM = "You are a helpful assistant. Answer briefly."
USER = "Write one sentence about the sea."
REPLY = "The sea is a restless blue mirror that remembers every storm it has ever held."
PATH = "/v1/chat/completions"
BODY: dict[str, Any] = {
    "model": MODEL,
    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
    "max_tokens": 64,
}
REQUEST = CompletionRequest(
    model=MODEL, messages=[Message.system(SYSTEM), Message.user(USER)], max_tokens=64
)


def _check(name: str, content: str) -> None:
    if content != REPLY:
        raise SystemExit(f"{name} got {content!r}, not the scripted reply")


async def run_async(url: str, requests: int, rounds: int, profile: bool) -> dict[str, float]:
    import openai

    provider = LMStudioProvider(LMStudioConfig(endpoint=url))
    raw = httpx.AsyncClient(base_url=url, timeout=30)
    sdk = openai.AsyncOpenAI(base_url=url + "/v1", api_key="lm-studio", max_retries=0)

    async def with_provider() -> str:
        return (await provider.complete(REQUEST)).content

    async def with_httpx() -> str:
        response = await raw.post(PATH, json=BODY)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    async def with_openai() -> str:
        completion = await sdk.chat.completions.create(
            model=MODEL,
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
            max_tokens=64,
        )
        return completion.choices[0].message.content or ""

    clients: dict[str, Callable[[], Awaitable[str]]] = {
        "provider": with_provider,
        "httpx": with_httpx,
        "openai": with_openai,
    }
    try:
        for name, call in clients.items():  # warm up: connections, caches, imports
            for _ in range(50):
                _check(name, await call())
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(requests):
                await with_provider()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        totals = dict.fromkeys(clients, 0.0)
        per_round = max(1, requests // rounds)
        names = list(clients)
        for number in range(rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                call = clients[name]
                gc.collect()
                started = time.perf_counter()
                for _ in range(per_round):
                    await call()
                totals[name] += time.perf_counter() - started
        return {name: per_round * rounds / total for name, total in totals.items()}
    finally:
        await provider.aclose()
        await raw.aclose()
        await sdk.close()


def run_sync(url: str, requests: int, rounds: int) -> dict[str, float]:
    import openai

    provider = SyncLMStudioProvider(LMStudioConfig(endpoint=url))
    raw = httpx.Client(base_url=url, timeout=30)
    sdk = openai.OpenAI(base_url=url + "/v1", api_key="lm-studio", max_retries=0)

    def with_provider() -> str:
        return provider.complete(REQUEST).content

    def with_httpx() -> str:
        response = raw.post(PATH, json=BODY)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    def with_openai() -> str:
        completion = sdk.chat.completions.create(
            model=MODEL,
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
            max_tokens=64,
        )
        return completion.choices[0].message.content or ""

    clients: dict[str, Callable[[], str]] = {
        "provider": with_provider,
        "httpx": with_httpx,
        "openai": with_openai,
    }
    try:
        for name, call in clients.items():
            for _ in range(50):
                _check(name, call())
        totals = dict.fromkeys(clients, 0.0)
        per_round = max(1, requests // rounds)
        names = list(clients)
        for number in range(rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                call = clients[name]
                gc.collect()
                started = time.perf_counter()
                for _ in range(per_round):
                    call()
                totals[name] += time.perf_counter() - started
        return {name: per_round * rounds / total for name, total in totals.items()}
    finally:
        provider.close()
        raw.close()
        sdk.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per client")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--sync", action="store_true", help="the blocking clients instead")
    parser.add_argument("--profile", action="store_true", help="cProfile the provider first")
    args = parser.parse_args(argv)
    try:
        import openai
    except ImportError:
        print("the openai package is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 2
    with FakeLMStudio(seed=0) as fake:
        fake.chat.reply(REPLY, usage={"prompt_tokens": 20, "completion_tokens": 16})
        if args.sync:
            rates = run_sync(fake.url, args.requests, args.rounds)
        else:
            rates = asyncio.run(run_async(fake.url, args.requests, args.rounds, args.profile))
        fake.check()
    mode = "sync" if args.sync else "async (asyncio)"
    per_client = max(1, args.requests // args.rounds) * args.rounds
    print(
        f"{mode}: {per_client} sequential requests per client, {args.rounds} interleaved "
        f"rounds, openai {openai.__version__}, httpx {httpx.__version__}, "
        f"Python {sys.version.split()[0]}"
    )
    print(f"{'client':<10}{'req/s':>10}{'time vs httpx':>16}")
    for name, rate in rates.items():
        print(f"{name:<10}{rate:>10.0f}{rates['httpx'] / rate:>15.3f}x")
    ratio = rates["httpx"] / rates["provider"]
    faster = rates["provider"] / rates["openai"]
    met = ratio <= 1.15 and faster > 1.0
    print(
        f"provider time / httpx time = {ratio:.3f} (target <= 1.15); "
        f"provider is {faster:.2f}x the openai SDK's rate (target > 1): "
        f"{'targets met' if met else 'TARGET MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
