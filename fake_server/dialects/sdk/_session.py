"""One websocket of an SDK client: the auth handshake, then every frame dispatched by type.

Each RPC call and each channel runs as a task of its own, journaled as one request (method
``RPC`` or ``CHANNEL``, path ``/<namespace>/<endpoint>``, door ``sdk``), so calls overlap
as the SDKs multiplex them and a ``cancel`` reaches a streaming prediction.

What the fake does not understand gets LM Studio's ``communicationWarning``. Where LM Studio
would then leave the call unanswered for ever (an unknown endpoint, a parameter of the wrong
shape), the fake also fails the call with an error saying the same, so a test fails at once
instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import time
import traceback
from typing import Any

from ..._journal import RecordedRequest
from ..._json import MSG_TOO_DEEP, BodyError, dumps, parse_body
from .._base import Call, Socket
from ._frames import (
    channel_close,
    channel_error,
    check_auth,
    issues,
    preview_json,
    rpc_error,
    rpc_result,
    warning,
)
from ._protocol import Channel, Endpoint, Gone, Namespace, Request, SdkError
from ._shapes import error

__all__ = ["API", "AUTH_TIMEOUT_SECONDS", "Session", "auth_refusal"]

API = "sdk"
#: LM Studio gives a client this long to authenticate, then refuses it and closes.
AUTH_TIMEOUT_SECONDS = 10.0
#: An LM Studio API token; the SDKs send its two halves as identifier and passkey.
TOKEN = re.compile(r"sk-lm-([A-Za-z0-9]{8}):([A-Za-z0-9]{20})")
MSG_AUTH_TIMEOUT = "Authentication timed out"
MSG_TOKEN_REQUIRED = (
    "Authentication required: this server requires an API token. Pass api_token= to the "
    "SDK's client (or set LMSTUDIO_API_TOKEN / LM_API_TOKEN)."
)
MSG_TOKEN_INVALID = "Invalid passkey for the client identifier: the API token is not valid."
MSG_INSIDE = "pytest-lmstudio fake: error inside the server: {error}"
KEEP_ALIVE_ACK = dumps({"type": "keepAliveAck"})
AUTH_OK = dumps({"success": True})


def auth_refusal(token: str | None, identifier: str, passkey: str) -> str | None:
    """Why an auth packet is refused when the fake requires ``token`` (None: accepted).

    A token in LM Studio's form (``sk-lm-<8>:<20>``) is matched by its halves, as the SDKs
    send it; any other token string is matched against the passkey alone (the SDKs' legacy
    ``clientPasskey`` option)."""
    if token is None:
        return None
    match = TOKEN.fullmatch(token)
    if match is not None:
        ok = _same(identifier, match[1]) & _same(passkey, match[2])
    else:
        ok = _same(passkey, token)
    if ok:
        return None
    return MSG_TOKEN_REQUIRED if identifier.startswith("guest:") else MSG_TOKEN_INVALID


def _same(given: str, expected: str) -> bool:
    """Compared in constant time (no guessing the token byte by byte)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


class Session:
    """The protocol on one socket of namespace ``namespace`` (``dialects.SocketSession``)."""

    def __init__(self, call: Call, namespace: Namespace, socket: Socket) -> None:
        self._call = call
        self._namespace = namespace
        self._socket = socket
        self._lock = asyncio.Lock()
        self._authed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._channels: dict[int, Channel] = {}
        self._warnings = 0
        loop = asyncio.get_running_loop()
        self._auth_timer = loop.call_later(AUTH_TIMEOUT_SECONDS, self._spawn_auth_timeout)

    # -- the socket -------------------------------------------------------------------------
    async def _send(self, text: str) -> None:
        async with self._lock:
            await self._socket.send(text)

    async def _warn(self, text: str, kind: str) -> None:
        with contextlib.suppress(ConnectionResetError):
            await self._send(warning(text, kind))

    async def closed(self) -> None:
        self._auth_timer.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- frames in ----------------------------------------------------------------------------
    async def receive(self, text: str | None) -> None:
        if text is None:
            if self._authed:
                await self._warn("Received a binary frame: send JSON in text frames", "unknown")
            return
        try:
            frame = parse_body(text.encode("utf-8", "surrogatepass"))
        except BodyError as exc:
            if self._authed:  # before auth, LM Studio ignores what is not an auth packet
                self._journal_bad(text, f"not JSON: {exc}")
                await self._warn(f"Received a message that is not JSON: {exc}", "unknown")
            return
        if not self._authed:
            await self._authenticate(frame)
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "rpcCall":
            await self._rpc_call(frame, text)
        elif kind == "channelCreate":
            await self._channel_create(frame, text)
        elif kind == "channelSend":
            await self._channel_send(frame)
        elif kind == "keepAlive":
            await self._send(KEEP_ALIVE_ACK)
        elif kind == "communicationWarning":
            # The JavaScript SDK's way of saying an answer had the wrong shape (it dropped
            # it, and its call will never finish): a bug in the fake, reported to check().
            self._call.engine.record_error(
                f"SDK client on /{self._namespace.name} rejected a message from the fake: "
                f"{preview_json(frame.get('warning'))}"
            )
        elif kind in ("channelAck",):
            return
        elif isinstance(kind, str) and kind.startswith(("signal", "writableSignal")):
            await self._warn(f"Signals are not supported by the fake (got {kind})", "unknown")
        else:
            self._journal_bad(text, "unknown message type")
            await self._warn(f"Received invalid message: {preview_json(frame)}", "unknown")

    async def _authenticate(self, frame: Any) -> None:
        halves = check_auth(frame)
        if halves is None:
            return  # LM Studio ignores it and keeps waiting for the auth packet
        self._auth_timer.cancel()
        refusal = auth_refusal(self._call.engine.state.api_token, *halves)
        if refusal is None:
            self._authed = True
            await self._send(AUTH_OK)
            return
        self._call.entry.error = f"authentication refused: {refusal}"
        await self._send(dumps({"success": False, "error": refusal}))
        await self._socket.close()

    def _spawn_auth_timeout(self) -> None:
        self._spawn(self._auth_timeout())

    async def _auth_timeout(self) -> None:
        if self._authed:
            return
        self._call.entry.error = f"authentication refused: {MSG_AUTH_TIMEOUT}"
        with contextlib.suppress(ConnectionResetError):
            await self._send(dumps({"success": False, "error": MSG_AUTH_TIMEOUT}))
            await self._socket.close()

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- journal ------------------------------------------------------------------------------
    def _entry(self, method: str, endpoint: str, text: str, parameter: Any) -> RecordedRequest:
        call = self._call
        journal = call.engine.journal
        entry = RecordedRequest(
            method=method,
            path=f"/{self._namespace.name}/{endpoint}",
            query="",
            headers=call.entry.headers,
            body=b"",
            time=time.time(),
            api=API,
            stream=method == "CHANNEL",
        )
        journal.append(entry)
        journal.keep_body(entry, text.encode("utf-8", "surrogatepass"), parameter)
        return entry

    def _journal_bad(self, text: str, why: str) -> None:
        entry = self._entry("FRAME", "", text, None)
        entry.status = 400
        entry.error = why
        self._call.engine.request_done(entry)

    # -- RPC ----------------------------------------------------------------------------------
    async def _rpc_call(self, frame: dict[str, Any], text: str) -> None:
        endpoint_name, call_id = frame.get("endpoint"), frame.get("callId")
        if (
            not isinstance(endpoint_name, str)
            or not isinstance(call_id, int)
            or not _is_id(call_id)
        ):
            self._journal_bad(text, "rpcCall without a string endpoint and an integer callId")
            await self._warn(f"Received invalid rpcCall: {preview_json(frame)}", "unknown")
            return
        parameter = frame.get("parameter")
        entry = self._entry("RPC", endpoint_name, text, parameter)
        endpoint = self._namespace.rpcs.get(endpoint_name)
        problem = self._problem("rpc", endpoint_name, endpoint, parameter, "parameter")
        if problem is not None:
            message, kind = problem
            await self._warn(message, kind)
            await self._fail_early(entry, rpc_error(call_id, error(message)))
            return
        assert endpoint is not None
        request = self._request(endpoint_name, parameter, entry)
        self._spawn(self._run_rpc(endpoint, request, call_id))

    async def _run_rpc(self, endpoint: Endpoint, request: Request, call_id: int) -> None:
        entry = request.entry
        try:
            result = await endpoint.handler(request)
            entry.status = 200  # before the client can see it
            await request.send(rpc_result(call_id, result))
        except SdkError as exc:
            entry.status = exc.status
            await self._answer(request, rpc_error(call_id, exc.error))
        except Exception as exc:
            await self._failed(request, exc, lambda e: rpc_error(call_id, e))
        except asyncio.CancelledError:
            request.entry.error = "cancelled: the client went away or the fake was closed"
            raise
        finally:
            self._done(request)

    # -- channels -----------------------------------------------------------------------------
    async def _channel_create(self, frame: dict[str, Any], text: str) -> None:
        endpoint_name, channel_id = frame.get("endpoint"), frame.get("channelId")
        if (
            not isinstance(endpoint_name, str)
            or not isinstance(channel_id, int)
            or not _is_id(channel_id)
        ):
            self._journal_bad(text, "channelCreate without a string endpoint and a channelId")
            await self._warn(f"Received invalid channelCreate: {preview_json(frame)}", "unknown")
            return
        parameter = frame.get("creationParameter")
        entry = self._entry("CHANNEL", endpoint_name, text, parameter)
        if channel_id in self._channels:
            entry.status, entry.error = 400, "channel id already open"
            self._call.engine.request_done(entry)
            await self._warn(
                f"Received channelCreate for an already open channel, channelId = {channel_id}",
                "channelAlreadyOpen",
            )
            return
        endpoint = self._namespace.channels.get(endpoint_name)
        problem = self._problem("channel", endpoint_name, endpoint, parameter, "creationParameter")
        if problem is not None:
            message, kind = problem
            await self._warn(message, kind)
            await self._fail_early(entry, channel_error(channel_id, error(message)))
            return
        assert endpoint is not None
        request = self._request(endpoint_name, parameter, entry)
        channel = Channel(request, channel_id)
        self._channels[channel_id] = channel
        self._spawn(self._run_channel(endpoint, channel))

    async def _run_channel(self, endpoint: Endpoint, channel: Channel) -> None:
        request, entry = channel.request, channel.request.entry
        try:
            await endpoint.handler(request, channel)
            await request.send(channel_close(channel.id))
            entry.status = entry.status or 200
        except SdkError as exc:
            entry.status = exc.status
            await self._answer(request, channel_error(channel.id, exc.error))
        except Exception as exc:
            await self._failed(request, exc, lambda e: channel_error(channel.id, e))
        except asyncio.CancelledError:
            request.entry.error = "cancelled: the client went away or the fake was closed"
            raise
        finally:
            self._channels.pop(channel.id, None)
            self._done(request)

    async def _channel_send(self, frame: dict[str, Any]) -> None:
        channel = self._channels.get(frame.get("channelId"))  # type: ignore[arg-type]
        message = frame.get("message")
        if channel is None:
            await self._warn(
                f"Received channelSend for unknown channel, channelId = "
                f"{preview_json(frame.get('channelId'))}",
                "channelUnknown",
            )
        elif isinstance(message, dict) and message.get("type") == "cancel":
            channel.request.entry.error = "cancelled by the client"
            channel.cancelled.set()
        else:
            await self._warn(
                f"Received invalid message for channel, endpointName = "
                f"{channel.request.endpoint}, message = {preview_json(message)}",
                "channelMessageTypeError",
            )

    # -- shared -------------------------------------------------------------------------------
    def _problem(
        self, what: str, name: str, endpoint: Endpoint | None, parameter: Any, field: str
    ) -> tuple[str, str] | None:
        """The warning (text, kind) for a call the fake cannot take, or None."""
        if endpoint is None:
            known = self._namespace.rpcs if what == "rpc" else self._namespace.channels
            offered = ", ".join(known) or "none"
            return (
                f"Received {what}{'Call' if what == 'rpc' else 'Create'} for unknown endpoint, "
                f"endpoint = {name} (the fake's {what} endpoints on "
                f"/{self._namespace.name}: {offered})",
                f"{what}EndpointUnknown",
            )
        found: list[str] = []
        if endpoint.fields is not None:
            found = issues(parameter, endpoint.fields, field)
        if not found and endpoint.extra is not None:
            found = endpoint.extra(parameter)
        if not found:
            return None
        label = "parameter for rpc" if what == "rpc" else "creationParameter for channel"
        text = (
            f"Received invalid {label}, endpointName = {name}, {field} = "
            f"{preview_json(parameter)}. Zod error:\n\n" + "\n".join(found)
        )
        kind = "rpcParameterTypeError" if what == "rpc" else "channelCreationParameterTypeError"
        return text, kind

    def _request(self, endpoint: str, parameter: Any, entry: RecordedRequest) -> Request:
        engine = self._call.engine
        return Request(
            self._namespace.name,
            endpoint,
            parameter,
            engine.state,  # the snapshot this call keeps to its end
            engine,
            entry,
            self._socket,
            self._send,
        )

    async def _fail_early(self, entry: RecordedRequest, frame: str) -> None:
        entry.status = 400
        self._call.engine.request_done(entry)
        with contextlib.suppress(ConnectionResetError):
            await self._send(frame)

    async def _answer(self, request: Request, frame: str) -> None:
        with contextlib.suppress(Gone, ConnectionResetError):
            await request.send(frame)

    async def _failed(self, request: Request, exc: Exception, frame: Any) -> None:
        entry = request.entry
        if isinstance(exc, Gone):
            if exc.frame is not None:
                entry.status = 200
                await self._answer(request, exc.frame)
            return
        if isinstance(exc, ConnectionResetError):
            entry.error = "the client closed the connection"
            return
        if isinstance(exc, RecursionError):  # nested deep enough to parse, too deep to use
            entry.status = 400
            await self._answer(request, frame(error(MSG_TOO_DEEP)))
            return
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        request.engine.record_error(f"{entry.method} {entry.path}: {exc}\n{text}")
        entry.status = 500
        await self._answer(request, frame(error(MSG_INSIDE.format(error=exc))))

    def _done(self, request: Request) -> None:
        entry = request.entry
        entry.duration = time.time() - entry.time
        request.engine.request_done(entry)


def _is_id(value: Any) -> bool:
    """A call or channel id: an integer (the JavaScript SDK starts at 0)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
