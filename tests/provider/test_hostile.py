"""The provider against hostile servers (``hostile.py``): every case, with ``complete()`` and
``stream()``, with the async client (asyncio) and the blocking one, over real sockets.

Each call must end in the ``ProviderError`` its case names (one ends normally) within twice the
timeout and a second (a generous bound: the figures are ``hostile_table.py``'s business), and no
piece of the API token may show in the error, what it is chained to, their ``args`` or their
attributes.
"""

from __future__ import annotations

import anyio
import pytest

from pytest_lmstudio import (
    LMStudioProvider,
    ProviderError,
    ProviderTimeoutError,
    SyncLMStudioProvider,
)

from .hostile import (
    BY_NAME,
    CASES,
    CHUNK,
    CLIENTS,
    MODES,
    REQUEST,
    Timing,
    config,
    event,
    expected,
    leaks,
    run,
)
from .servers import HostileServer, Peer, request_of

TIMING = Timing(timeout=0.5)
#: The promise: within twice the timeout (a head, then a chunk), with a second for the machine.
BOUND = 2 * TIMING.timeout + 1.0
#: How long to wait for a call that broke the promise, before calling it hung.
PATIENCE = BOUND + 3.0


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_a_hostile_server_ends_in_an_error_in_time(name: str, mode: str, client: str) -> None:
    case = BY_NAME[name]
    outcome = run(case, mode, client, TIMING, PATIENCE)
    assert not outcome.hung, f"still running after {PATIENCE} s"
    want = expected(case, mode)
    if want is None:
        assert outcome.error is None, f"{outcome.error!r}"
        assert outcome.chunks == list(case.chunks)
    else:
        assert isinstance(outcome.error, want), f"{outcome.error!r}"
        assert isinstance(outcome.error, ProviderError)
        if name.startswith("nested"):  # a parse failure, chained to what the parser raised
            assert outcome.error.__cause__ is not None
        assert leaks(outcome.error) == []
    assert outcome.seconds < BOUND


@pytest.mark.parametrize("name", ["head-trickle", "endless-100", "empty-deltas", "done-trickle"])
def test_deadlines_hold_under_trio(name: str) -> None:
    case = BY_NAME[name]
    outcome = run(case, "stream", "trio", TIMING, PATIENCE)
    assert not outcome.hung
    want = expected(case, "stream")
    assert outcome.error is None if want is None else isinstance(outcome.error, want)
    assert outcome.seconds < BOUND


@pytest.mark.parametrize("name", ["head-trickle", "endless-100", "empty-deltas"])
def test_the_async_client_keeps_its_deadlines_on_a_borrowed_transport(name: str) -> None:
    # The deadline cancels the call: no help from the provider's own transport is needed.
    outcome = run(BY_NAME[name], "stream", "asyncio", TIMING, PATIENCE, borrowed=True)
    assert isinstance(outcome.error, ProviderTimeoutError)
    assert outcome.seconds < BOUND


@pytest.mark.parametrize(
    ("name", "mode"), [("empty-deltas", "stream"), ("done-trickle", "complete")]
)
def test_the_sync_client_checks_its_deadlines_between_reads_on_a_borrowed_transport(
    name: str, mode: str
) -> None:
    # Nothing can interrupt a blocking read inside a transport of the caller's, but bytes that
    # keep coming without a chunk (or without the answer's end) are caught between two reads.
    # A head trickled byte by byte is beyond reach there: the README says so.
    outcome = run(BY_NAME[name], mode, "sync", TIMING, PATIENCE, borrowed=True)
    assert isinstance(outcome.error, ProviderTimeoutError)
    assert outcome.seconds < BOUND


def keepalive_streams(peer: Peer) -> None:
    """Request after request on one connection, each answered with a chunked stream: two
    chunks, ``[DONE]``, and a comment after it (what the drain reads)."""
    while True:
        peer.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
        peer.send(b"Transfer-Encoding: chunked\r\n\r\n")
        events = event(CHUNK % "Hel") + event(CHUNK % "lo") + event("[DONE]")
        for part in (events, b": after done\n\n"):
            peer.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        peer.send(b"0\r\n\r\n")
        try:
            request_of(peer.conn)
        except ConnectionError:
            return


def test_the_drain_after_done_lets_the_connection_serve_again() -> None:
    with HostileServer(keepalive_streams) as server:
        with SyncLMStudioProvider(config(server.url, TIMING)) as provider:
            for _ in range(2):
                assert [chunk.content for chunk in provider.stream(REQUEST)] == ["Hel", "lo"]

        async def main() -> None:
            async with LMStudioProvider(config(server.url, TIMING)) as provider:
                for _ in range(2):
                    chunks = [chunk.content async for chunk in provider.stream(REQUEST)]
                    assert chunks == ["Hel", "lo"]

        anyio.run(main)
    assert server.connections == 2  # one per client
