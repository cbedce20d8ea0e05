"""What the SDK door's endpoints share: the request an endpoint gets, the channel it streams
on, its failures, and the wire faults scripted for it.

An RPC endpoint returns its result (``VOID`` for none); a channel endpoint sends its packets
and returns (the session then closes the channel). Either raises ``SdkError`` to answer with
LM Studio's serialized error (``rpcError``, ``channelError``).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..._journal import RecordedRequest
from ...engine import Engine, Fault, State
from .._base import Socket
from ._frames import Field, channel_send

__all__ = [
    "MALFORMED_FRAME",
    "Channel",
    "ChannelHandler",
    "Endpoint",
    "Gone",
    "Namespace",
    "Request",
    "RpcHandler",
    "SdkError",
    "Sender",
]

#: A text frame that is not JSON (the ``malformed`` fault).
MALFORMED_FRAME = '{"type":"channelSend","channelId":'


class SdkError(Exception):
    """Answer with ``error`` (a serialized LM Studio error); ``status`` is what the journal
    shows for it (404 for a model not found, 400 for a bad request, a scripted status)."""

    def __init__(self, error: Mapping[str, Any], status: int = 400) -> None:
        super().__init__(error.get("title", "error"))
        self.error = dict(error)
        self.status = status


class Gone(Exception):
    """Nothing more is sent for this call: the connection was taken away (a scripted fault),
    or ``frame`` (a scripted ``raw()``) goes out in place of the answer."""

    def __init__(self, frame: str | None = None) -> None:
        super().__init__(frame or "gone")
        self.frame = frame


#: Sends one text frame on the session's socket (frames never interleave).
Sender = Callable[[str], Awaitable[None]]


@dataclass(eq=False)
class Request:
    """One RPC call or channel as an endpoint sees it: its parameter (checked against the
    endpoint's fields), the state snapshot taken when it arrived, its journal entry."""

    namespace: str
    endpoint: str
    parameter: Any
    state: State
    engine: Engine
    entry: RecordedRequest
    socket: Socket
    sender: Sender
    #: a wire fault that delivers this answer badly (``truncate``, ``slow_body``)
    fault: Fault | None = None
    sent_bytes: int = 0

    async def send(self, text: str) -> None:
        """Send a frame of this answer, badly when its fault says so."""
        fault = self.fault
        cut = fault is not None and fault.kind == "truncate"
        if cut and fault is not None and self.sent_bytes + len(text) > fault.after_bytes:
            self.settle(f"truncate: the connection cut after {self.sent_bytes} bytes")
            self.socket.cut()
            raise Gone
        if fault is not None and fault.kind == "slow_body" and fault.bytes_per_second > 0:
            if not self.sent_bytes:
                self.settle(f"slow_body: {fault.bytes_per_second:g} bytes/s")
            await asyncio.sleep(len(text) / fault.bytes_per_second)
        self.sent_bytes += len(text)
        await self.sender(text)

    def settle(self, note: str) -> None:
        """Record how the answer went on the wire (kept with chaos's prefix when chaos
        injected the fault)."""
        previous = self.entry.fault or ""
        if previous.startswith("chaos ("):
            note = f"{previous.split(': ', 1)[0]}: {note}"
        self.entry.fault = note

    async def break_off(self, fault: Fault) -> NoReturn:
        """A fault that replaces the answer: the connection hangs, drops, resets or gets
        garbage (for every call on it: the SDKs keep one socket per namespace)."""
        socket = self.socket
        if fault.kind == "hang":
            self.settle("hang: waiting for reset() or close()")
            await socket.held()
            self.settle("hang: released by reset() or close()")
            socket.cut()
        elif fault.kind == "reset_connection":
            self.settle("reset_connection: TCP reset")
            socket.cut(reset=True)
        elif fault.kind == "garbage":
            self.settle(f"garbage: {fault.size} random bytes")
            seed = hashlib.sha256(f"{self.state.seed}:{self.entry.path}".encode()).digest()
            socket.write_raw(random.Random(seed).randbytes(fault.size))
            socket.cut()
        elif fault.kind == "malformed":
            self.settle("malformed: a frame that is not JSON")
            await self.sender(MALFORMED_FRAME)
        else:
            self.settle("drop: the connection closed")
            socket.cut()
        raise Gone


class Channel:
    """A channel the client opened: packets go out as ``channelSend``; ``cancelled`` is set
    when the client sends ``{"type": "cancel"}``."""

    def __init__(self, request: Request, channel_id: int) -> None:
        self.request = request
        self.id = channel_id
        self.cancelled = asyncio.Event()

    async def send(self, packet: Mapping[str, Any]) -> None:
        await self.request.send(channel_send(self.id, packet))

    async def finish(self, packet: Mapping[str, Any]) -> None:
        """Send the final packet; the journal shows the call answered before the client
        sees it (a test reading ``fake.requests`` right after its call returns finds it)."""
        entry = self.request.entry
        entry.status = entry.status or 200
        await self.send(packet)


RpcHandler = Callable[[Request], Awaitable[Any]]
ChannelHandler = Callable[[Request, Channel], Awaitable[None]]


@dataclass(frozen=True)
class Endpoint:
    """An endpoint of a namespace: its handler and the fields its parameter (an RPC's) or
    creation parameter (a channel's) must have; None: it takes none."""

    handler: Any  # RpcHandler or ChannelHandler
    fields: Mapping[str, Field] | None = None
    #: a check beyond the fields' types (a specifier's shape): zod-style lines, empty if fine
    extra: Callable[[Any], list[str]] | None = None


@dataclass(frozen=True)
class Namespace:
    """One websocket namespace's RPC and channel endpoints."""

    name: str
    rpcs: Mapping[str, Endpoint] = field(default_factory=dict)
    channels: Mapping[str, Endpoint] = field(default_factory=dict)
