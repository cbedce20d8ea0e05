"""The event-stream writer: a door's events on a schedule, with the scripted stream faults.

The events from ``lead`` to ``timed`` are due at ``ttft + i * interval`` (plus seeded jitter)
measured from the start, so a long stream does not drift; the opening and closing events go
at once.
``drop_after``, ``stall_after`` and ``error_after`` count events sent.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable

from aiohttp import web

from .._journal import RecordedRequest
from ..dialects import SseOut
from ..engine import Fault, State, Stream
from ._express import sse_headers
from ._faults import MALFORMED_BODY, Handled, cut, paced_write, settle, split_points

__all__ = ["send_sse"]


class _Wire:
    """Writes a stream's bytes, cut at seeded places, truncated or paced when a fault says."""

    def __init__(
        self,
        request: web.Request,
        entry: RecordedRequest,
        response: web.StreamResponse,
        fault: Fault | None,
        split: random.Random | None,
    ) -> None:
        self.request = request
        self.entry = entry
        self.response = response
        self.fault = fault
        self.split = split
        self.sent = 0
        self.note = ""
        if fault is not None and fault.kind == "slow_body":
            self.note = settle(entry, 200, f"slow_body: {fault.bytes_per_second:g} bytes/s").note

    async def send(self, data: bytes) -> None:
        fault = self.fault
        if fault is not None and fault.kind == "truncate":
            room = fault.after_bytes - self.sent
            if room < len(data):
                handled = settle(
                    self.entry, 200, f"truncate: the stream cut after {fault.after_bytes} bytes"
                )
                await self.response.write(data[: max(room, 0)])
                cut(self.request)
                raise handled
        self.sent += len(data)
        pieces = [data]
        if self.split is not None:
            points = [0, *split_points(len(data), self.split), len(data)]
            pieces = [data[a:b] for a, b in itertools.pairwise(points)]
        for piece in pieces:
            if fault is not None and fault.kind == "slow_body":
                await paced_write(self.response.write, piece, fault.bytes_per_second)
            else:
                await self.response.write(piece)
            if self.split is not None:
                await asyncio.sleep(0.001)  # let each piece leave as its own segment


async def send_sse(
    request: web.Request,
    entry: RecordedRequest,
    out: SseOut,
    state: State,
    wait_released: Callable[[], Awaitable[None]],
) -> web.StreamResponse:
    """Write ``out``'s events then its closing event, with its plan's timing and faults."""
    fault = out.fault
    response = web.StreamResponse(status=200, headers=sse_headers(state.cors))
    await response.prepare(request)
    entry.status = response.status  # sent: a test reading the journal at [DONE] sees it
    plan = out.plan or Stream(chunks=())
    rng = random.Random(plan.split_seed if plan.split_seed is not None else state.seed)
    split = rng if plan.split_seed is not None else None
    wire = _Wire(request, entry, response, fault, split)
    if fault is not None and fault.kind == "malformed":
        handled = settle(entry, 200, "malformed: a stream event that is not JSON")
        await wire.send(b"data: " + MALFORMED_BODY + b"\n\n")
        await response.write_eof()
        raise handled
    loop = asyncio.get_running_loop()
    start = loop.time()
    # One step past the last event: a fault scripted "after all the events" still happens.
    for index in range(len(out.events) + 1):
        if index == plan.drop_after:
            handled = settle(entry, 200, f"stream dropped after {index} chunks")
            cut(request)
            raise handled
        if index == plan.stall_after:
            settle(entry, 200, f"stream stalled after {index} chunks")
            await wait_released()
            handled = settle(entry, 200, f"stream stalled after {index} chunks, released")
            cut(request)
            raise handled
        if index == plan.error_after:
            error = out.error_event(plan.error_message)
            handled = settle(entry, 200, f"stream error event after {index} chunks")
            await wire.send(error.encode())
            await response.write_eof()
            raise handled
        if index == len(out.events):
            break
        if out.lead <= index < out.timed and (plan.ttft or plan.interval or plan.jitter):
            slot = index - out.lead if out.slots is None else out.slots[index]
            due = start + plan.ttft + slot * plan.interval
            if plan.jitter:
                due += rng.uniform(0.0, plan.jitter)
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        await wire.send(out.events[index].encode())
    closing = plan.done and out.done is not None
    if plan.done and out.done is not None:
        await wire.send(out.done.encode())
    if out.on_done is not None and (closing or out.done is None):
        out.on_done()
    await response.write_eof()
    if wire.note:
        raise Handled(200, wire.note)
    return response
