"""Shielding a cleanup from cancellation: the async client's way, and its sync twin's.

``scripts/unasync.py`` writes the sync client from the async one by renaming tokens
(``AsyncShieldCancellation`` becomes ``ShieldCancellation``); this pair gives each client what a
rename alone cannot.
"""

from __future__ import annotations

from types import TracebackType

import anyio

__all__ = ["AsyncShieldCancellation", "ShieldCancellation"]


class AsyncShieldCancellation:
    """``with AsyncShieldCancellation(): await cleanup()`` runs the cleanup to its end even when
    the task is cancelled (an anyio cancel scope with ``shield=True``)."""

    def __init__(self) -> None:
        self._scope = anyio.CancelScope(shield=True)

    def __enter__(self) -> None:
        self._scope.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self._scope.__exit__(exc_type, exc, tb)


class ShieldCancellation:
    """The sync twin: nothing cancels a blocking call from outside, so there is nothing to do."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
