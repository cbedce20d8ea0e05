"""What every dialect and the HTTP shell share: the request a handler gets, the answers it
returns (JSON, raw bytes, an event stream, a fault), and a route's declaration.

A dialect never writes to a socket: it returns one of these and the shell delivers it (with
Express's headers, the stream's timing and the scripted faults).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from .._journal import RecordedRequest
from ..engine import Decision, Engine, Fault, State, Stream

__all__ = [
    "ApiAnswer",
    "Call",
    "ErrorForms",
    "FaultOut",
    "Handler",
    "JsonOut",
    "Out",
    "RawOut",
    "Route",
    "Socket",
    "SocketOut",
    "SocketSession",
    "SseOut",
    "fault_out",
]


class ApiAnswer(Exception):
    """Raised inside a handler to answer at once with ``status`` and ``document``."""

    def __init__(self, status: int, document: Any, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.document = document
        self.headers = dict(headers or {})


@dataclass(slots=True)
class JsonOut:
    """A JSON answer. ``express`` (LM Studio's routes): Express's headers and compact JSON;
    else (the fake's own admin API) a plain JSON answer. ``fault`` delivers it badly."""

    status: int
    document: Any
    headers: Mapping[str, str] | None = None
    fault: Fault | None = None
    express: bool = True


@dataclass(slots=True)
class RawOut:
    """Bytes sent as they are (a scripted ``raw()``)."""

    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)
    fault: Fault | None = None


@dataclass(slots=True)
class SseOut:
    """An event stream: ``events`` are whole SSE events (``data: ...\\n\\n``), in order.

    The events before index ``timed`` follow ``plan``'s schedule, except the first ``lead``
    (a door's opening events, sent at once: the schedule's first event is ``events[lead]``);
    the rest go at once. The plan's faults count events. ``error_event(message)`` is the
    door's mid-stream error event; ``done`` the closing event, if the door has one.
    ``on_done`` is called once the whole stream is sent, its closing event included (a
    stateful door stores the answer then). ``slots``: each timed event's place in the
    schedule (due at ``ttft + slot * interval``), for a door whose framing events go with
    the content event they open or close; None: event i in slot i (after the ``lead``).
    """

    events: list[str]
    timed: int
    plan: Stream | None
    error_event: Callable[[str], str]
    done: str | None = None
    fault: Fault | None = None
    lead: int = 0
    on_done: Callable[[], None] | None = None
    slots: Sequence[int] | None = None


@dataclass(slots=True)
class FaultOut:
    """No answer at all: the connection hangs, drops, resets or gets garbage."""

    fault: Fault


class Socket(Protocol):
    """The shell's side of an upgraded websocket, as a door's session drives it."""

    async def send(self, text: str) -> None:
        """Send one text frame (waits while the peer's buffer is full)."""

    async def close(self) -> None:
        """End the connection with a websocket close frame (code 1000)."""

    def cut(self, *, reset: bool = False) -> None:
        """Take the connection away with no close frame (``reset``: a TCP RST)."""

    def write_raw(self, data: bytes) -> None:
        """Bytes straight onto the connection, outside websocket framing (garbage)."""

    async def held(self) -> None:
        """Return when held answers are let go (``reset()`` or ``close()``)."""


class SocketSession(Protocol):
    """One websocket connection's protocol, fed every frame the client sends."""

    async def receive(self, text: str | None) -> None:
        """A text frame; None for a frame that is not text (binary)."""

    async def closed(self) -> None:
        """The connection is gone: stop whatever still answers on it."""


@dataclass(slots=True)
class SocketOut:
    """Upgrade to a websocket: ``open(socket)`` makes the session that speaks on it; frames
    up to ``max_message_bytes`` are read."""

    open: Callable[[Socket], SocketSession]
    max_message_bytes: int
    #: unused: a session applies its calls' faults itself (the field every answer has)
    fault: Fault | None = None


Out = JsonOut | RawOut | SseOut | FaultOut | SocketOut


class Call(NamedTuple):
    """One request as a handler sees it: the parsed JSON body (``json``; None when empty),
    the raw body, the journal entry, and the state snapshot taken when it arrived. A named
    tuple, like ``Turn``: immutable, and cheap to build once a request."""

    method: str
    path: str
    match_info: Mapping[str, str]
    headers: Mapping[str, str]
    raw: bytes
    json: Any
    entry: RecordedRequest
    state: State
    engine: Engine

    @property
    def content_type(self) -> str:
        """The body's media type: ``Content-Type`` without its parameters, in lower case
        (read when a handler asks: most never do)."""
        return self.headers.get("Content-Type", "").partition(";")[0].strip().lower()


Handler = Callable[[Call], Awaitable[Out]]


@dataclass(frozen=True, slots=True)
class ErrorForms:
    """How a door words the errors the shell answers for it: a body that cannot be read
    (``bad_body(state, message)``) and a missing or (``wrong=True``) wrong API token
    (``unauthorized(state, wrong)``)."""

    bad_body: Callable[[State, str], Any]
    unauthorized: Callable[[State, bool], Any]


@dataclass(frozen=True, slots=True)
class Route:
    """One route of a door. ``body``: the shell reads the body as ``"json"`` (parsed, a 400
    in the door's words when it is not JSON), ``"raw"`` (bytes only) or ``"none"``.
    ``auth``: the fake's API token is required. ``journal``: the request is journaled.
    ``local_only``: the fake's own API, answered only to requests addressed to its own host,
    from no other origin, in JSON (no DNS rebinding, no cross-site form posts)."""

    method: str
    path: str
    handler: Handler
    errors: ErrorForms | None = None
    body: str = "json"
    auth: bool = True
    journal: bool = True
    local_only: bool = False
    #: the door (``when(api=...)`` and the journal name it); empty for routes of no door
    api: str = ""
    #: the JSON Schema of the request body (a name under ``schemas/``), for what reads the
    #: route table: the fuzz suite draws bodies from it
    schema: str | None = None
    #: a header that carries the API token bare, taken besides ``Authorization: Bearer``
    #: (the Anthropic door's ``x-api-key``); empty: Authorization only
    token_header: str = ""


def fault_out(decision: Decision) -> FaultOut | None:
    """The fault that replaces the whole answer, if the decision has one."""
    fault = decision.fault
    if fault is not None and fault.replaces_answer:
        return FaultOut(fault)
    return None
