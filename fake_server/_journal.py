"""The journal: every request the fake received, for assertions and failure reports.

A request is journaled when it arrives (its status, rule and timing are filled in as it is
answered), so a client that gives up early is still recorded.

Bounded in count and in bytes: it keeps the most recent ``limit`` requests
(``DEFAULT_JOURNAL_LIMIT``) holding at most ``max_bytes`` of bodies
(``DEFAULT_JOURNAL_BYTES``), and counts the ones it let go (``dropped``). A body longer than
``body_limit`` (``DEFAULT_BODY_LIMIT``) is kept as its first ``body_limit`` bytes, with
``body_length`` its real length and no parsed ``json``. ``reset()`` empties it.

What leaves the process (``to_json()``: the admin API, ``--journal`` files) is strict JSON,
one line per request, with credentials redacted.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from multidict import CIMultiDictProxy

from ._json import dumps

DEFAULT_JOURNAL_LIMIT = 10_000
DEFAULT_JOURNAL_BYTES = 64 * 1024 * 1024
DEFAULT_BODY_LIMIT = 1024 * 1024
#: How long ``wait_for_requests()`` waits unless told: far more than a busy machine needs to
#: accept a request the client has sent, short enough that a missing one fails the test soon.
DEFAULT_WAIT_SECONDS = 5.0
REDACTED = "[redacted]"
#: Headers whose value is a credential: never shown outside the process.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
#: Query parameters whose value is a credential.
SECRET_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token"})

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "DEFAULT_JOURNAL_BYTES",
    "DEFAULT_JOURNAL_LIMIT",
    "DEFAULT_WAIT_SECONDS",
    "Journal",
    "RecordedRequest",
    "wait_failure",
    "wait_problem",
]


@dataclass(eq=False)
class RecordedRequest:
    """One request as the fake saw it, and how it answered (``headers`` ignore case).

    ``body`` holds at most the journal's ``body_limit`` bytes; ``body_length`` is the length
    the request had (None until the body is read).
    """

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
    body_length: int | None = None
    #: the door the request came through (``openai``, ``rest-v0``, ...; empty for none)
    api: str = ""
    #: for a request no route serves (LM Studio's catch-all answers it): the route it most
    #: likely meant (``/v1`` left out, a near-miss path), or why none is served
    hint: str | None = None

    @property
    def truncated(self) -> bool:
        """The body was longer than the journal keeps."""
        return self.body_length is not None and self.body_length > len(self.body)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, credentials redacted (for the admin API and ``--journal``)."""
        return {
            "method": self.method,
            "path": self.path,
            "api": self.api,
            "query": redacted_query(self.query),
            "headers": redacted(self.headers),
            "json": self.json,
            "body": None if self.json is not None else self.body.decode("utf-8", "replace"),
            "body_length": self.body_length,
            "truncated": self.truncated,
            "time": self.time,
            "duration": self.duration,
            "status": self.status,
            "model": self.model,
            "stream": self.stream,
            "rule": None if self.rule is None else self.rule.describe(),
            "error": self.error,
            "fault": self.fault,
            "hint": self.hint,
        }

    def to_json(self) -> str:
        """``to_dict()`` as one line of strict JSON. A body nested too deeply to encode is
        shown as its text instead of its parsed JSON."""
        document = self.to_dict()
        try:
            return dumps(document)
        except RecursionError:
            document["json"] = None
            document["body"] = self.body.decode("utf-8", "replace")
            return dumps(document)

    def summary(self) -> str:
        model = f" model={self.model}" if self.model else ""
        rule = f" rule=#{self.rule.id}" if self.rule is not None else " default"
        status = self.status if self.status is not None else "(no answer)"
        fault = f" [{self.fault}]" if self.fault else ""
        hint = f" -- {self.hint}" if self.hint else ""
        return f"{self.method} {self.path}{model} -> {status}{rule}{fault}{hint}"


def wait_problem(count: object, timeout: object, max_timeout: float) -> str | None:
    """What is wrong with a request to wait for ``count`` requests for ``timeout`` seconds,
    or None."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return f"the count of requests to wait for is a whole number from 0 up, got {count!r}"
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0 < timeout <= max_timeout
    ):
        return (
            f"the timeout is a number of seconds above 0 and at most {max_timeout:g}, "
            f"got {timeout!r}"
        )
    return None


def wait_failure(journal: Journal, count: int, timeout: float) -> str:
    """Why waiting for ``count`` requests failed: how many arrived, and which."""
    arrived = journal.snapshot()
    lines = [
        f"waited {timeout:g} s for {count} request(s) to reach the fake; "
        f"{journal.total} arrived" + (":" if arrived else ".")
    ]
    lines += [f"  {entry.summary()}" for entry in arrived[-10:]]
    if journal.total > len(arrived[-10:]):
        lines.append(f"  (the last 10 of {journal.total} shown)")
    lines.append(
        "Did the client send them to this fake (its url), and did the code under test run? "
        "A longer timeout helps only on a machine too busy to answer in time."
    )
    return "\n".join(lines)


def redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with every credential replaced (an authorization scheme is kept, no part of
    the secret), for what leaves the process."""
    out = dict(headers)
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS and value:
            scheme, _, secret = value.partition(" ")
            lowered = name.lower()
            keep = lowered.endswith("authorization") and bool(secret) and scheme.isalpha()
            out[name] = f"{scheme} {REDACTED}" if keep else REDACTED
    return out


def redacted_query(query: str) -> str:
    """The query string with the values of credential parameters replaced."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(k.lower() in SECRET_PARAMETERS for k, _ in pairs):
        return query
    return urlencode([(k, REDACTED if k.lower() in SECRET_PARAMETERS else v) for k, v in pairs])


class Journal:
    """A thread-safe list of ``RecordedRequest``, bounded in count and in body bytes."""

    def __init__(
        self,
        limit: int = DEFAULT_JOURNAL_LIMIT,
        *,
        max_bytes: int = DEFAULT_JOURNAL_BYTES,
        body_limit: int = DEFAULT_BODY_LIMIT,
    ) -> None:
        if limit < 1:
            raise ValueError(f"journal limit must be at least 1, got {limit}")
        if body_limit < 0 or max_bytes < body_limit:
            raise ValueError(
                f"the journal's body_limit ({body_limit}) must be from 0 to max_bytes ({max_bytes})"
            )
        self._entries: deque[RecordedRequest] = deque()
        self._lock = threading.Lock()
        # Notified at each arrival: wait_for() wakes then, not on a polling tick.
        self._arrived = threading.Condition(self._lock)
        self._bytes = 0
        self.limit = limit
        self.max_bytes = max_bytes
        self.body_limit = body_limit
        self.dropped = 0
        self.total = 0

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self._bytes += len(entry.body)
            self.total += 1
            self._trim()
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` requests have arrived since the journal was last cleared
        (True), or ``timeout`` seconds have passed (False). A request counts as soon as it
        arrives, before it is answered."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.total >= count, timeout)

    def keep_body(self, entry: RecordedRequest, data: bytes, parsed: Any) -> None:
        """Record ``entry``'s body (and its JSON), cut to ``body_limit`` bytes."""
        kept = data if len(data) <= self.body_limit else data[: self.body_limit]
        with self._lock:
            self._bytes += len(kept) - len(entry.body)
            entry.body = kept
            entry.body_length = len(data)
            entry.json = parsed if kept is data else None
            self._trim()

    def _trim(self) -> None:
        while len(self._entries) > self.limit or (
            self._bytes > self.max_bytes and len(self._entries) > 1
        ):
            gone = self._entries.popleft()
            self._bytes -= len(gone.body)
            self.dropped += 1

    @property
    def bytes(self) -> int:
        """The body bytes held now."""
        return self._bytes

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.dropped = 0
            self.total = 0

    def __len__(self) -> int:
        return len(self._entries)
