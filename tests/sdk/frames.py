"""Every websocket frame between an SDK client and the fake, recorded and checked against the
SDK's published JSON Schema (``../shared/reference/lmstudio-sdk/lms.json``).

``FrameRecorder(fake)`` is a websocket proxy on 127.0.0.1: point any client at
``recorder.host`` (``lms.Client(recorder.host)``, or ``ws://`` + ``recorder.host`` for
``@lmstudio/sdk``) and it forwards each socket to the fake, recording each text frame with
its socket, namespace and direction (plain HTTP, such as ``/lmstudio-greeting``, is
forwarded too). When the fake takes a connection away, the proxy takes the client's away
the same way, so faults reach the client as they would directly.

``LmsSchema().check(frames)`` validates them: client frames strictly (every key known to
the schema), the fake's answers with ``additionalProperties`` removed (the JavaScript SDK
needs fields the schema does not list: see the reference, §6.0 and §10), and returns how
many payloads it validated. Auth frames and the protocol's envelopes are checked by hand:
the schema describes only the payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
from aiohttp import web

from fake_server import FakeLMStudio

LMS_JSON = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "reference"
    / "lmstudio-sdk"
    / "lms.json"
)
#: Time allowed for the proxy to start or stop.
START_SECONDS = 10.0

__all__ = ["LMS_JSON", "Frame", "FrameRecorder", "LmsSchema", "fixed_refs"]


@dataclass(frozen=True)
class Frame:
    """One text frame: ``socket`` numbers the connection, ``to_server`` its direction."""

    socket: int
    namespace: str
    to_server: bool
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class FrameRecorder:
    """A recording websocket proxy in front of ``fake`` (a context manager)."""

    fake: FakeLMStudio
    frames: list[Frame] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _sockets: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FrameRecorder:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="FrameRecorder", daemon=True)
        self._thread.start()
        if not ready.wait(START_SECONDS):
            raise RuntimeError("the frame recorder did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        loop, thread = self._loop, self._thread
        assert loop is not None and thread is not None
        asyncio.run_coroutine_threadsafe(self._stop(), loop).result(START_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_SECONDS)
        loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = int(server.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current:
                task.cancel()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        upstream = f"127.0.0.1:{self.fake.port}"
        async with aiohttp.ClientSession() as session:
            if request.headers.get("Upgrade", "").lower() != "websocket":
                async with session.request(
                    request.method, f"http://{upstream}{request.path_qs}", data=await request.read()
                ) as answer:
                    body = await answer.read()
                    headers = {"Content-Type": answer.headers.get("Content-Type", "")}
                    return web.Response(status=answer.status, body=body, headers=headers)
            self._sockets += 1
            number, namespace = self._sockets, request.path.strip("/")
            try:
                theirs = await session.ws_connect(
                    f"ws://{upstream}{request.path}", autoping=True, max_msg_size=0
                )
            except aiohttp.WSServerHandshakeError as exc:
                return web.Response(status=exc.status, text=exc.message)
            ours = web.WebSocketResponse(autoping=True, max_msg_size=0)
            await ours.prepare(request)
            async with theirs:
                await self._pump(request, ours, theirs, number, namespace)
            return ours

    async def _pump(
        self,
        request: web.Request,
        ours: web.WebSocketResponse,
        theirs: aiohttp.ClientWebSocketResponse,
        number: int,
        namespace: str,
    ) -> None:
        async def to_server() -> None:
            async for message in ours:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.frames.append(Frame(number, namespace, True, message.data))
                    await theirs.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await theirs.send_bytes(message.data)
            await theirs.close()

        async def to_client() -> None:
            async for message in theirs:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.frames.append(Frame(number, namespace, False, message.data))
                    await ours.send_str(message.data)
            if theirs.close_code in (None, 1006):  # taken away, not closed: do the same
                if request.transport is not None:
                    request.transport.close()
            else:
                await ours.close()

        tasks = [asyncio.ensure_future(to_server()), asyncio.ensure_future(to_client())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*tasks, return_exceptions=True)


# -- the schema ------------------------------------------------------------------------------
def fixed_refs(document: Any) -> Any:
    """``lms.json`` with its ``$ref`` quirk resolved: a ref into a definition whose name
    holds ``/`` (``#/definitions/llm/rpc/tokenize/returns``) is rewritten to the escaped
    pointer (``#/definitions/llm~1rpc~1tokenize~1returns``), taking the longest definition
    name the path starts with; real nested pointers (``.../properties/modelKey``) stay."""
    names = sorted(document["definitions"], key=len, reverse=True)

    def fix(ref: str) -> str:
        prefix = "#/definitions/"
        if not ref.startswith(prefix):
            return ref
        path = ref[len(prefix) :]
        for name in names:
            if path == name or path.startswith(name + "/"):
                escaped = name.replace("~", "~0").replace("/", "~1")
                return prefix + escaped + path[len(name) :]
        return ref

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fix(v) if k == "$ref" else walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(document)


def _relaxed(node: Any) -> Any:
    """The schema without ``additionalProperties: false`` (for the fake's answers)."""
    if isinstance(node, dict):
        return {k: _relaxed(v) for k, v in node.items() if k != "additionalProperties"}
    if isinstance(node, list):
        return [_relaxed(v) for v in node]
    return node


_ENVELOPES: dict[tuple[bool, str], dict[str, type | tuple[type, ...]]] = {
    (True, "rpcCall"): {"endpoint": str, "callId": int},
    (True, "channelCreate"): {"endpoint": str, "channelId": int},
    (True, "channelSend"): {"channelId": int, "message": dict},
    (True, "keepAlive"): {},
    (False, "rpcResult"): {"callId": int},
    (False, "rpcError"): {"callId": int, "error": dict},
    (False, "channelSend"): {"channelId": int, "message": dict},
    (False, "channelClose"): {"channelId": int},
    (False, "channelError"): {"channelId": int, "error": dict},
    (False, "communicationWarning"): {"warning": str},
    (False, "keepAliveAck"): {},
}


class LmsSchema:
    """Validators for every payload of ``lms.json``, strict and relaxed."""

    def __init__(self, path: Path = LMS_JSON) -> None:
        self._strict_client = True
        self._unlisted: set[str] = set()
        document = fixed_refs(json.loads(path.read_text(encoding="utf-8")))
        self._strict = document
        self._loose = _relaxed(copy.deepcopy(document))

    def _validator(self, name: str, relaxed: bool) -> jsonschema.Draft7Validator:
        root = self._loose if relaxed else self._strict
        escaped = name.replace("~", "~0").replace("/", "~1")
        schema = {"$ref": f"#/definitions/{escaped}", "definitions": root["definitions"]}
        return jsonschema.Draft7Validator(schema)

    def validate(self, name: str, value: Any, *, relaxed: bool) -> None:
        """Raise ``jsonschema.ValidationError`` unless ``value`` fits definition ``name``
        (``AssertionError`` when the schema has no such definition)."""
        assert name in self._strict["definitions"], f"lms.json has no definition {name!r}"
        error = jsonschema.exceptions.best_match(self._validator(name, relaxed).iter_errors(value))
        if error is not None:
            raise error

    def check(
        self, frames: Iterable[Frame], *, strict_client: bool = True, unlisted: Iterable[str] = ()
    ) -> int:
        """Validate each frame (payloads against the schema, envelopes and auth by hand);
        returns the number of frames validated. Raises ``AssertionError`` naming the frame.

        ``strict_client=False`` checks client frames relaxed too (``@lmstudio/sdk`` 2.x adds
        keys the schema lacks: the reference, §10). ``unlisted`` names endpoints newer than
        the schema (``"llm/completeRawText"``): their frames' envelopes are checked, their
        payloads cannot be, and they are not counted."""
        calls: dict[tuple[int, int], str] = {}
        channels: dict[tuple[int, int], str] = {}
        authed: set[int] = set()
        self._strict_client = strict_client
        self._unlisted = set(unlisted)
        count = 0
        for frame in frames:
            try:
                if not self._check(frame, calls, channels, authed):
                    continue
            except (AssertionError, ValueError, KeyError, jsonschema.ValidationError) as exc:
                direction = "C->S" if frame.to_server else "S->C"
                raise AssertionError(
                    f"[{frame.namespace}] {direction} {frame.text[:500]}\n  is invalid: {exc}"
                ) from None
            count += 1
        return count

    def _check(
        self,
        frame: Frame,
        calls: dict[tuple[int, int], str],
        channels: dict[tuple[int, int], str],
        authed: set[int],
    ) -> bool:
        """Check one frame; False when its payload is not in the schema (``unlisted``)."""
        value, ns, socket = frame.json, frame.namespace, frame.socket
        assert isinstance(value, dict), "a frame is a JSON object"
        if socket not in authed:
            if frame.to_server:
                assert value.get("authVersion") == 1, "the first client frame authenticates"
                assert isinstance(value.get("clientIdentifier"), str)
                assert isinstance(value.get("clientPasskey"), str)
            else:
                assert isinstance(value.get("success"), bool)
                if not value["success"]:
                    assert isinstance(value.get("error"), str), "a refusal's error is a string"
                authed.add(socket)
            return True
        kind = value.get("type")
        envelope = _ENVELOPES.get((frame.to_server, kind))
        assert envelope is not None, f"unknown message type {kind!r}"
        for key, wanted in envelope.items():
            assert isinstance(value.get(key), wanted), f"{key} must be a {wanted}"
        loose = not self._strict_client
        if kind == "rpcCall":
            calls[socket, value["callId"]] = value["endpoint"]
            if f"{ns}/{value['endpoint']}" in self._unlisted:
                return False
            if "parameter" in value:
                self.validate(f"{ns}/rpc/{value['endpoint']}/parameter", value["parameter"],
                              relaxed=loose)  # fmt: skip
        elif kind == "channelCreate":
            channels[socket, value["channelId"]] = value["endpoint"]
            if f"{ns}/{value['endpoint']}" in self._unlisted:
                return False
            self.validate(f"{ns}/channel/{value['endpoint']}/creationParameter",
                          value.get("creationParameter"), relaxed=loose)  # fmt: skip
        elif kind == "channelSend":
            endpoint = channels[socket, value["channelId"]]
            if f"{ns}/{endpoint}" in self._unlisted:
                return False
            side = "toServerPacket" if frame.to_server else "toClientPacket"
            self.validate(f"{ns}/channel/{endpoint}/{side}", value["message"],
                          relaxed=loose or not frame.to_server)  # fmt: skip
        elif kind == "rpcResult":
            endpoint = calls[socket, value["callId"]]
            if f"{ns}/{endpoint}" in self._unlisted:
                return False
            assert "result" not in value or value["result"] is not None, "void is no key"
            if "result" in value:
                self.validate(f"{ns}/rpc/{endpoint}/returns", value["result"], relaxed=True)
        elif kind in ("rpcError", "channelError"):
            self.validate("serializedLMSExtendedError", value["error"], relaxed=True)
            assert isinstance(value["error"].get("title"), str), "an error has a title"
        return True
