"""The model cache's policy and state, shared by the async and the sync provider.

No locks and no I/O here: each provider wraps a ``CacheSlot`` in its own lock (``anyio.Lock`` or
``threading.Lock``) and fetches through its own transport. Single flight comes from the
``generation`` counter: a caller that waited for the lock while another fetched takes that
fetch's outcome (its value, or its error) instead of fetching again, so a hundred concurrent cold
callers make one request, and a failing server sees one failing request, not a hundred.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ._defaults import MISS_REFRESH_INTERVAL_SECONDS

__all__ = ["MISSING", "CacheSlot", "Missing"]

T = TypeVar("T")


class Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


class CacheSlot(Generic[T]):
    """One cached value with a time to live, and the outcome of the last fetch."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._value: T | Missing = MISSING
        self._error: BaseException | None = None
        self._fetched_at = float("-inf")
        self.generation = 0

    def lookup(self, *, force: bool = False) -> T | Missing:
        """The value if it is fresh and no refresh is forced; otherwise ``MISSING``."""
        if force or isinstance(self._value, Missing):
            return MISSING
        if self._clock() - self._fetched_at >= self._ttl:
            return MISSING
        return self._value

    def after_wait(self, seen: int, *, force: bool = False) -> T | Missing:
        """Called holding the lock: the outcome of a fetch finished since ``seen``, if any.

        Raises that fetch's error when it failed; ``MISSING`` means: fetch now.
        """
        if self.generation != seen:
            if self._error is not None:
                raise self._error
            return self._value
        return self.lookup(force=force)

    def store(self, value: T) -> T:
        self._value = value
        self._error = None
        self._fetched_at = self._clock()
        self.generation += 1
        return value

    def fail(self, error: BaseException) -> None:
        # The old value stays usable until it expires; only the waiters see the error.
        self._error = error
        self.generation += 1

    def may_refresh_on_miss(self) -> bool:
        """Whether a miss may refetch: at most once per ``MISS_REFRESH_INTERVAL_SECONDS``."""
        return self._clock() - self._fetched_at >= MISS_REFRESH_INTERVAL_SECONDS

    def clear(self) -> None:
        self._value = MISSING
        self._error = None
        self._fetched_at = float("-inf")
        self.generation += 1
