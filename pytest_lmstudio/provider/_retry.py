"""When to retry, and how long to wait: openai-python's policy, with the clock left to the caller.

Transient failures only: a connection that could not be made or broke before any answer, a
timeout before the first byte (for a stream: before its first chunk), and 429 / 502 / 503 /
504. Never another 4xx, never a 500 (LM Studio's 500s are template or engine failures that a
retry repeats). The wait doubles from ``initial_delay`` up to ``max_delay``, less up to 25 % of
jitter; a ``Retry-After`` header (seconds or an HTTP date) replaces it, capped at
``max_retry_after``. The provider closes the failed response before it sleeps, and sleeps
through the ``sleep`` it was given.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ._defaults import (
    RETRY_INITIAL_DELAY_SECONDS,
    RETRY_JITTER_FRACTION,
    RETRY_MAX_DELAY_SECONDS,
    RETRY_MAX_RETRY_AFTER_SECONDS,
    RETRY_STATUSES,
)

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``Retry-After`` (or ``retry-after-ms``), or None when absent or bad.

    ``now`` is the wall-clock time (``time.time()``), used for the HTTP-date form.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    header = headers.get("retry-after")
    if header is None:
        return None
    header = header.strip()
    try:
        value = float(header)
    except ValueError:
        try:
            date = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, date.timestamp() - now)
    return value if math.isfinite(value) and value >= 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    """How many retries, and how long each wait is."""

    max_retries: int
    initial_delay: float = RETRY_INITIAL_DELAY_SECONDS
    max_delay: float = RETRY_MAX_DELAY_SECONDS
    max_retry_after: float = RETRY_MAX_RETRY_AFTER_SECONDS

    def retries_status(self, status: int) -> bool:
        return status in RETRY_STATUSES

    def delay(self, retry: int, retry_after: float | None, random: float) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first); ``random`` in [0, 1)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        backoff = min(self.initial_delay * 2.0**retry, self.max_delay)
        return backoff * (1.0 - RETRY_JITTER_FRACTION * random)
