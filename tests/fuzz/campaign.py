"""One fuzz run against a fake subprocess, start to verdict.

Phases: (1) the HTTP fuzz, ``concurrency`` keep-alive connections drawing requests from one
seeded stream, with the raw-socket probes beside it; (2) the fake settles, then its journal
file, its journal count, ``GET /__fake__/check`` and its RSS are read; (3) the admin phase:
the routes that change the fake's state (load a scenario, reset, clear the journal) one at a
time, ``/__fake__/check`` read after each scenario before a reset wipes its errors; (4) the
fake is stopped and its stderr read.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bodies import draw_pool
from .client import Connection, NoReply, Reply, build_request
from .damage import DAMAGES, Context, Damage, Probe, make_probe
from .harness import FakeProcess, read_journal
from .routes import Router, Target, targets
from .verdict import Tally, Verdict
from .wire import WIRE_PROBES, WireProbe, slow_stream_scenario

HOST = "127.0.0.1"
REPLY_TIMEOUT = 30.0
ADMIN_SECONDS = 30.0  # the admin phase stops at this, whatever its count


@dataclass
class Plan:
    requests: int = 100_000
    seconds: float = 470.0  # the HTTP fuzz stops at this, whatever its count
    concurrency: int = 50
    seed: int = 1
    pool: dict[str, int] = field(default_factory=dict)  # schema -> examples; default below
    pool_default: int = 300
    wire_rounds: int = 20  # every raw-socket probe this many times
    wire_long: bool = True  # include the probes that take seconds
    costly_every: int = 2000  # about one big upload per this many requests
    admin_requests: int = 400
    subset: bool = False  # every (route, damage) once instead of a random stream
    kinds: frozenset[str] | None = None  # only these damage kinds (to chase one problem)
    skip: frozenset[str] = frozenset()  # not these
    rss_limit_mib: int = 1024  # the verdict fails above this
    rss_abort_mib: int = 3072  # the run stops above this (the machine is shared)
    workdir: Path = Path(".fuzz")


@dataclass
class Outcome:
    verdict: Verdict
    covered: set[tuple[str, str]]  # (route label, damage) pairs sent
    targets: list[Target]


def build_context(plan: Plan, table: list[Target]) -> Context:
    pools: dict[str, list[str]] = {}
    near: dict[str, list[str]] = {}
    for schema in sorted({t.schema for t in table if t.schema}):
        count = plan.pool.get(schema, plan.pool_default)
        valid, missed = draw_pool(schema, count, plan.seed)
        pools[schema] = [_text(body) for body in valid]
        near[schema] = [_text(body) for body in missed]
    return Context(host=HOST, models={}, pools=pools, near=near)


def _text(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _damages(plan: Plan) -> list[Damage]:
    return [
        d
        for d in DAMAGES
        if (plan.kinds is None or d.name in plan.kinds) and d.name not in plan.skip
    ]


def _random_stream(
    plan: Plan, table: list[Target], ctx: Context, router: Router
) -> Iterator[Probe]:
    rng = random.Random(plan.seed)
    # LM Studio's inference routes most; the fake's own admin API (whose journal listing
    # costs the fake a few MB of JSON per call) seldom.
    weights = [0.02 if t.admin else 3.0 if t.body == "json" else 1.0 for t in table]
    usable = {t.label: [d for d in _damages(plan) if d.applies(t)] for t in table}
    weights = [w if usable[t.label] else 0.0 for t, w in zip(table, weights, strict=True)]
    while True:
        target = rng.choices(table, weights)[0]
        damages = usable[target.label]
        damage: Damage = rng.choice(damages)
        if damage.costly and rng.random() * plan.costly_every > len(damages):
            continue
        probe = make_probe(rng, target, damage, ctx, router)
        if not probe.destructive:
            yield probe


def _every_pair(plan: Plan, table: list[Target], ctx: Context, router: Router) -> Iterator[Probe]:
    """Every damage on every route it applies to; a costly one on its first route only."""
    rng = random.Random(plan.seed)
    done_costly: set[str] = set()
    for target in table:
        for damage in _damages(plan):
            if not damage.applies(target) or damage.name in done_costly:
                continue
            if damage.costly:
                done_costly.add(damage.name)
            for _ in range(10):
                probe = make_probe(rng, target, damage, ctx, router)
                if not probe.destructive:
                    yield probe
                    break


def judge(verdict: Verdict, probe: Probe, reply: Reply | None, error: str) -> None:
    """Count one answer and note what is wrong with it."""
    tally = verdict.http
    status = reply.status if reply is not None else None
    tally.count(probe.kind, probe.label, status)
    what = f"{probe.method} {probe.path[:80]} ({probe.kind}): {probe.data[:200]!r}"
    if reply is None:
        tally.fail("no answer", f"{error} <- {what}")
        verdict.journal_slack += int(probe.journaled)
        return
    if probe.journaled and not reply.express and reply.status < 500:
        verdict.http_layer += 1  # refused by aiohttp before any handler: no journal line
    elif probe.journaled:
        verdict.journal_expected += 1
    body = reply.body[:200].decode("utf-8", "replace")
    if reply.status >= 500:
        tally.fail(f"5xx on {probe.kind}", f"{reply.status} {body} <- {what}")
    elif probe.expect is not None and reply.status != probe.expect:
        tally.fail(f"{probe.kind} not {probe.expect}", f"{reply.status} {body} <- {what}")
    elif probe.reject and 200 <= reply.status < 300:
        tally.fail(f"{probe.kind} accepted", f"{reply.status} {body[:100]} <- {what}")


class Stop:
    """When the fuzz phases end: at their deadline, or at once if the watchdog says so."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.why = ""

    def __bool__(self) -> bool:
        return bool(self.why) or time.monotonic() >= self.deadline


async def _watch_rss(fake: FakeProcess, plan: Plan, stop: Stop, verdict: Verdict) -> None:
    """Sample the fake's RSS until cancelled; past the abort cap, stop the fuzz and kill the
    fake (the machine is shared: a fake that balloons must not take it down)."""
    while True:
        rss = fake.rss_kib()
        verdict.rss_peak_kib = max(verdict.rss_peak_kib, rss)
        if rss > plan.rss_abort_mib * 1024:
            stop.why = f"the fake's RSS reached {rss // 1024} MiB (abort cap {plan.rss_abort_mib})"
            verdict.aborted = stop.why
            fake.kill()
            return
        await asyncio.sleep(0.2)


async def _http_phase(
    port: int, stream: Iterator[Probe], plan: Plan, stop: Stop, verdict: Verdict
) -> set[tuple[str, str]]:
    covered: set[tuple[str, str]] = set()
    sent = 0

    async def worker() -> None:
        nonlocal sent
        conn = Connection(HOST, port)
        try:
            while sent < plan.requests and not stop:
                probe = next(stream, None)
                if probe is None:
                    return
                sent += 1
                covered.add((probe.label, probe.kind))
                try:
                    reply: Reply | None = await conn.request(
                        probe.data, REPLY_TIMEOUT, head=probe.method == "HEAD"
                    )
                    error = ""
                except NoReply as exc:
                    reply, error = None, str(exc)
                judge(verdict, probe, reply, error)
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(plan.concurrency)))
    return covered


async def _wire_phase(port: int, plan: Plan, stop: Stop, verdict: Verdict) -> None:
    probes = [p for p in WIRE_PROBES if plan.wire_long or not p.long]
    queue = [p for _ in range(plan.wire_rounds) for p in probes]
    random.Random(plan.seed).shuffle(queue)
    long_ones = [p for p in queue if p.long][:1]  # one slowloris check is enough
    queue = [p for p in queue if not p.long]

    async def one(probe: WireProbe) -> None:
        try:
            result = await asyncio.wait_for(probe.run(HOST, port), 30)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
            verdict.wire.count(probe.name, probe.category, None)
            verdict.wire.fail(f"{probe.name} failed", repr(exc))
            return
        worst = max((r.status for r in result.replies), default=None)
        verdict.wire.count(probe.name, probe.category, worst)
        verdict.journal_expected += result.journal_min
        verdict.journal_slack += result.journal_max - result.journal_min
        if worst is not None and worst >= 500:
            bodies = [r.body[:160] for r in result.replies]
            verdict.wire.fail(f"5xx on {probe.name}", repr(bodies))
        if result.failure:
            verdict.wire.fail(f"{probe.name}", result.failure)
        note = f"{probe.name}: {result.note}"
        if result.note and note not in verdict.notes:
            verdict.notes.append(note)

    async def lane(items: list[WireProbe]) -> None:
        for probe in items:
            if stop:
                return
            await one(probe)

    lanes = [queue[i::4] for i in range(4)]
    await asyncio.gather(*(lane(items) for items in [*lanes, long_ones]))


async def _admin(conn: Connection, method: str, path: str, body: bytes | None = None) -> Reply:
    headers = [(b"Content-Type", b"application/json")] if body is not None else []
    return await conn.request(build_request(method, path, HOST, headers, body), REPLY_TIMEOUT)


def _admin_probes(plan: Plan, table: list[Target], ctx: Context, router: Router) -> Iterator[Probe]:
    """The state-changing admin routes: every damage once (subset), else at random."""
    rng = random.Random(plan.seed + 1)
    destructive = [t for t in table if t.destructive]
    pairs = [(t, d) for t in destructive for d in DAMAGES if d.applies(t) and not d.costly]
    if plan.subset:
        for target, damage in pairs:
            yield make_probe(rng, target, damage, ctx, router)
        return
    for _ in range(plan.admin_requests if pairs else 0):
        target, damage = rng.choice(pairs)
        yield make_probe(rng, target, damage, ctx, router)


async def _admin_phase(port: int, probes: Iterator[Probe], verdict: Verdict) -> set[Any]:
    """One state-changing admin request at a time, each followed by a check and a reset."""
    conn = Connection(HOST, port)
    tally: Tally = verdict.admin
    covered: set[tuple[str, str]] = set()
    deadline = time.monotonic() + ADMIN_SECONDS
    try:
        for probe in probes:
            if time.monotonic() >= deadline:
                break
            covered.add((probe.label, probe.kind))
            try:
                reply = await conn.request(probe.data, REPLY_TIMEOUT, probe.method == "HEAD")
            except NoReply as exc:
                tally.count(probe.kind, probe.label, None)
                tally.fail("no answer", f"{exc} <- {probe.label} ({probe.kind})")
                continue
            tally.count(probe.kind, probe.label, reply.status)
            what = f"{probe.label} ({probe.kind}): {probe.data[:160]!r}"
            if reply.status >= 500:
                tally.fail(f"5xx on {probe.kind}", f"{reply.body[:200]!r} <- {what}")
            elif probe.reject and reply.status < 300:
                tally.fail(f"{probe.kind} accepted", what)
            check = await _admin(conn, "GET", "/__fake__/check")
            message = json.loads(check.body).get("message", "") if check.status == 409 else ""
            if "inside the fake server" in message:
                tally.fail("errors inside the fake (check)", f"{message[:300]} <- {what}")
            await _admin(conn, "POST", "/__fake__/reset")
    finally:
        await conn.close()
    return covered


async def _setup(port: int, ctx: Context) -> None:
    conn = Connection(HOST, port)
    try:
        listed = await _admin(conn, "GET", "/api/v0/models")
        for model in json.loads(listed.body)["data"]:
            kind = "embeddings" if model.get("type") == "embeddings" else "llm"
            ctx.models.setdefault(kind, []).append(model["id"])
        loaded = await _admin(conn, "POST", "/__fake__/scenario", slow_stream_scenario())
        if loaded.status != 200:
            raise RuntimeError(f"the fuzz's own scenario was refused: {loaded.body!r}")
    finally:
        await conn.close()


async def _read_state(port: int, verdict: Verdict) -> None:
    conn = Connection(HOST, port)
    try:
        check = await _admin(conn, "GET", "/__fake__/check")
        verdict.check_status = check.status
        if check.status != 200:
            verdict.check_message = json.loads(check.body).get("message", check.body.decode())
        requests = await _admin(conn, "GET", "/__fake__/requests")
        if requests.status == 200:
            verdict.journal_total = json.loads(requests.body).get("total")
        else:
            verdict.journal_total_error = f"{requests.status} {requests.body[:200]!r}"
    except (NoReply, ValueError) as exc:
        verdict.check_message = f"could not read the fake's state: {exc}"
    finally:
        await conn.close()


async def run(plan: Plan) -> Outcome:
    table = targets()
    router = Router(table)
    clock = time.monotonic()
    ctx = build_context(plan, table)
    pools_seconds = time.monotonic() - clock
    fake = FakeProcess(plan.workdir)
    fake.start()
    ctx.host = f"{HOST}:{fake.port}"
    verdict = Verdict(rss_limit_kib=plan.rss_limit_mib * 1024)
    verdict.phases["pools"] = pools_seconds
    started, cpu = time.monotonic(), time.process_time()
    watchdog: asyncio.Task[None] | None = None
    try:
        await _setup(fake.port, ctx)
        verdict.rss_before_kib = fake.rss_kib()
        stream = (_every_pair if plan.subset else _random_stream)(plan, table, ctx, router)
        stop = Stop(plan.seconds)
        watchdog = asyncio.create_task(_watch_rss(fake, plan, stop, verdict))
        covered, _ = await asyncio.gather(
            _http_phase(fake.port, stream, plan, stop, verdict),
            _wire_phase(fake.port, plan, stop, verdict),
        )
        verdict.phases["fuzz"] = time.monotonic() - started
        if verdict.http.sent < plan.requests and not plan.subset and not stop.why:
            verdict.notes.append(
                f"the fuzz stopped at its time limit ({plan.seconds:.0f} s) after "
                f"{verdict.http.sent:,} of {plan.requests:,} requests (the machine's load?)"
            )
        clock = time.monotonic()
        await asyncio.to_thread(fake.wait_journal, verdict.journal_expected)
        await _read_state(fake.port, verdict)
        verdict.phases["settle+state"] = time.monotonic() - clock
        verdict.journal_lines = fake.journal_lines()
        if verdict.aborted:
            return Outcome(verdict, covered, table)
        verdict.journal = read_journal(fake.journal)
        verdict.rss_after_kib = fake.rss_kib()
        verdict.fake_cpu = fake.cpu_seconds()
        clock = time.monotonic()
        admin = _admin_probes(plan, table, ctx, router)
        covered |= await _admin_phase(fake.port, admin, verdict)
        verdict.phases["admin"] = time.monotonic() - clock
        if fake.journal_lines() != verdict.journal_lines:
            verdict.notes.append("the admin phase added journal lines (admin is not journaled)")
    finally:
        if watchdog is not None:
            watchdog.cancel()
        fake.stop()
        verdict.seconds = time.monotonic() - started
        verdict.client_cpu = time.process_time() - cpu
    verdict.log = fake.log()
    return Outcome(verdict, covered, table)
