"""A deterministic slice of the fuzz, in ``make test``: every route of the fake's route table
with every damage kind that applies to it, once, and every raw-socket probe once, against a
fake subprocess; the same verdict as ``make fuzz`` (no 5xx, no traceback, journal exact and
strict JSON, RSS bounded)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from pathlib import Path

from .campaign import Plan, run
from .client import build_request
from .damage import DAMAGES, Context, make_probe
from .routes import Router, fake_routes, targets
from .wire import WIRE_PROBES

SUBSET = Plan(
    requests=10_000,
    seconds=60.0,
    concurrency=8,
    seed=7,
    pool_default=5,
    pool={"scenario.schema.json": 3},  # the slowest schema to draw from
    wire_rounds=1,
    wire_long=False,
    subset=True,
    rss_limit_mib=512,
)


def test_every_route_of_the_route_table_is_a_target() -> None:
    table = targets()
    assert [t.label for t in table] == [f"{r.method} {r.path}" for r in fake_routes()]
    missing = [t.label for t in table if t.body != "none" and t.schema is None]
    assert not missing, (
        f"routes with a body and no request schema the fuzz can find: {missing}; give the "
        "Route a schema, or teach tests/fuzz/routes.request_schema where it is"
    )


def test_path_parameters_get_values() -> None:
    rng = random.Random(0)
    for target in targets():
        for _ in range(20):
            path = target.sample_path(rng, ["qwen/qwen3-8b"])
            assert "{" not in path and path.startswith("/"), (target.label, path)
            assert Router(targets()).resolve("GET", path) is not None


def test_every_damage_builds_the_same_bytes_for_the_same_seed() -> None:
    table = targets()
    router = Router(table)
    ctx = Context("127.0.0.1:1", {"llm": ["m"]}, {}, {})
    for damage in DAMAGES:
        target = next(t for t in table if damage.applies(t))
        first = make_probe(random.Random(3), target, damage, ctx, router)
        again = make_probe(random.Random(3), target, damage, ctx, router)
        assert first.data == again.data, damage.name
        assert first.data.startswith(first.method.encode() + b" "), damage.name


def test_build_request_frames_a_body_and_chunks() -> None:
    assert build_request("POST", "/x", "h", body=b"{}").endswith(b"Content-Length: 2\r\n\r\n{}")
    chunked = build_request("POST", "/x", "h", chunks=[b"ab", b"c"])
    assert chunked.endswith(b"\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n")


def test_fuzz_subset_verdict(tmp_path: Path) -> None:
    outcome = asyncio.run(run(replace(SUBSET, workdir=tmp_path)))
    verdict = outcome.verdict
    labels = {label for label, _ in outcome.covered}
    kinds = {kind for _, kind in outcome.covered}
    assert labels == {t.label for t in outcome.targets}, "a route was not fuzzed"
    assert kinds == {d.name for d in DAMAGES}, "a damage kind was not sent"
    assert set(verdict.wire.kinds) == {p.name for p in WIRE_PROBES if not p.long}
    assert verdict.ok, "\n" + verdict.render()
