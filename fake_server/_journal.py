"""The journal: every request the fake received, for assertions and failure reports.

Bounded: it keeps the most recent ``limit`` requests (``DEFAULT_JOURNAL_LIMIT``) and counts
the ones it let go (``dropped``), so a long CI run against one fake does not grow without
limit. ``reset()`` empties it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDictProxy

DEFAULT_JOURNAL_LIMIT = 10_000

__all__ = ["DEFAULT_JOURNAL_LIMIT", "Journal", "RecordedRequest"]


@dataclass(eq=False)
class RecordedRequest:
    """One request as the fake saw it, and how it answered (``headers`` ignore case)."""

    method: str
    path: str
    query: str
    headers: CIMultiDictProxy[str]
    body: bytes
    time: float
    json: Any = None
    status: int | None = None
    model: str | None = None
    stream: bool = False
    rule: Any = None
    duration: float | None = None
    error: str | None = None
    fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for the admin API and ``--journal`` files)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": redacted(self.headers),
            "json": self.json,
            "body": None if self.json is not None else self.body.decode("utf-8", "replace"),
            "time": self.time,
            "duration": self.duration,
            "status": self.status,
            "model": self.model,
            "stream": self.stream,
            "rule": None if self.rule is None else self.rule.describe(),
            "error": self.error,
            "fault": self.fault,
        }

    def summary(self) -> str:
        model = f" model={self.model}" if self.model else ""
        rule = f" rule=#{self.rule.id}" if self.rule is not None else " default"
        status = self.status if self.status is not None else "(no answer)"
        fault = f" [{self.fault}]" if self.fault else ""
        return f"{self.method} {self.path}{model} -> {status}{rule}{fault}"


def redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credentials cut short, for what leaves the process (files, admin API)."""
    out = dict(headers)
    for name, value in headers.items():
        if name.lower() in ("authorization", "x-api-key") and value:
            scheme, _, secret = value.partition(" ")
            shown = scheme if secret else ""
            out[name] = f"{shown} {secret[:6] if secret else value[:6]}...(redacted)".strip()
    return out


class Journal:
    """A thread-safe, bounded list of ``RecordedRequest``."""

    def __init__(self, limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"journal limit must be at least 1, got {limit}")
        self._entries: deque[RecordedRequest] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self.limit = limit
        self.dropped = 0
        self.total = 0

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            if len(self._entries) == self.limit:
                self.dropped += 1
            self._entries.append(entry)
            self.total += 1

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0
            self.total = 0

    def __len__(self) -> int:
        return len(self._entries)
