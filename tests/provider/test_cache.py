"""The cache slot: time to live, single flight through generations, miss refresh throttle."""

from __future__ import annotations

import pytest

from pytest_lmstudio.provider._cache import MISSING, CacheSlot


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ttl() -> None:
    clock = Clock()
    slot: CacheSlot[str] = CacheSlot(60.0, clock)
    assert slot.lookup() is MISSING
    slot.store("models")
    assert slot.lookup() == "models"
    assert slot.lookup(force=True) is MISSING
    clock.now = 59.9
    assert slot.lookup() == "models"
    clock.now = 60.0
    assert slot.lookup() is MISSING


def test_zero_ttl_never_serves_from_cache() -> None:
    slot: CacheSlot[str] = CacheSlot(0.0, Clock())
    slot.store("x")
    assert slot.lookup() is MISSING


def test_waiters_take_the_outcome_of_the_fetch_they_waited_for() -> None:
    slot: CacheSlot[str] = CacheSlot(0.0, Clock())  # even with no caching at all
    seen = slot.generation
    assert slot.after_wait(seen) is MISSING  # nobody fetched: fetch now
    slot.store("fresh")
    assert slot.after_wait(seen) == "fresh"
    seen = slot.generation
    error = RuntimeError("server down")
    slot.fail(error)
    with pytest.raises(RuntimeError, match="server down"):
        slot.after_wait(seen)


def test_failure_keeps_the_old_value() -> None:
    slot: CacheSlot[str] = CacheSlot(60.0, Clock())
    slot.store("old")
    slot.fail(RuntimeError())
    assert slot.lookup() == "old"


def test_miss_refresh_is_throttled() -> None:
    clock = Clock()
    slot: CacheSlot[str] = CacheSlot(300.0, clock)
    assert slot.may_refresh_on_miss()
    slot.store("x")
    assert not slot.may_refresh_on_miss()
    clock.now = 4.9
    assert not slot.may_refresh_on_miss()
    clock.now = 5.0
    assert slot.may_refresh_on_miss()


def test_clear() -> None:
    slot: CacheSlot[str] = CacheSlot(60.0, Clock())
    slot.store("x")
    seen = slot.generation
    slot.clear()
    assert slot.lookup() is MISSING
    assert slot.after_wait(seen) is MISSING
    assert repr(MISSING) == "MISSING"
