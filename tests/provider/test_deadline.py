"""Deadlines: each socket operation of the provider's own transport waits only the time left."""

from __future__ import annotations

import time

import anyio
import httpcore
import pytest

from pytest_lmstudio.provider._deadline import (
    AsyncDeadlineBackend,
    AsyncDeadlineScope,
    AsyncDeadlineTransport,
    Deadline,
    DeadlineBackend,
    DeadlineScope,
    DeadlineTransport,
    _cut,
)


def test_a_deadline_counts_down() -> None:
    deadline = Deadline(0.05)
    assert 0 < deadline.left() <= 0.05 and not deadline.expired()
    time.sleep(0.06)
    assert deadline.expired() and deadline.left() < 0


def test_timeouts_are_cut_to_the_time_left_inside_a_scope_only() -> None:
    assert _cut(30.0, httpcore.ReadTimeout) == 30.0
    assert _cut(None, httpcore.ReadTimeout) is None
    with DeadlineScope(Deadline(1.0)):
        cut = _cut(30.0, httpcore.ReadTimeout)
        assert cut is not None and 0.9 < cut <= 1.0
        with DeadlineScope(Deadline(0.0)), pytest.raises(httpcore.WriteTimeout):
            _cut(30.0, httpcore.WriteTimeout)
        assert _cut(0.5, httpcore.ReadTimeout) == 0.5  # the outer deadline is back
    assert _cut(30.0, httpcore.ReadTimeout) == 30.0


@pytest.mark.anyio
async def test_the_async_scope_cancels_at_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError), AsyncDeadlineScope(Deadline(0.1)):
        await anyio.sleep(5)
    assert time.monotonic() - started < 2
    assert _cut(30.0, httpcore.ReadTimeout) == 30.0


def test_the_provider_s_transports_hold_their_sockets_to_the_deadline() -> None:
    assert isinstance(DeadlineTransport()._pool._network_backend, DeadlineBackend)
    transport = AsyncDeadlineTransport()
    assert isinstance(transport._pool._network_backend, AsyncDeadlineBackend)
