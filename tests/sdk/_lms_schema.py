"""Every websocket frame of an SDK exchange checked against the SDK's published JSON Schema.

The schema is ``../shared/reference/lmstudio-sdk/lms.json`` (the Python SDK's copy of what
lmstudio-js generates from its zod schemas; see that folder's README). Two things to know:

* **Its ``$ref`` quirk.** Definition names contain ``/`` (``llm/rpc/tokenize/returns``) and the
  ``$ref`` s point at them unescaped, which a JSON pointer reads as nested keys. Every ``$ref``
  is rewritten: the longest definition name that starts its path gets its ``/`` escaped
  (``~1``), the rest of the path stays pointer segments
  (``#/definitions/embeddingModelInfo/properties/modelKey`` is a real nested pointer).
* **Strict for the client, relaxed for the server.** Every object has
  ``additionalProperties: false``. What an SDK sends is checked strictly (drift in the SDK
  shows); what the fake answers is checked with that keyword removed, because the JS SDK
  requires fields the schema does not list (``publisher``, ``isStructural``, ...: the
  reference's §6.0 and §10), and the fake must send them.

The frame envelope (``rpcCall``, ``channelSend``, ...) is not in the schema; its fields come
from the protocol's message catalogue (the reference's §3.1) and are checked here too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "reference"
    / "lmstudio-sdk"
    / "lms.json"
)
REFS = "#/definitions/"
#: Envelope fields of each frame type, by direction: (required, optional).
CLIENT_FRAMES: dict[str, tuple[set[str], set[str]]] = {
    "rpcCall": ({"endpoint", "callId"}, {"parameter"}),
    "channelCreate": ({"endpoint", "channelId"}, {"creationParameter"}),
    "channelSend": ({"channelId", "message"}, {"ackId"}),
    "channelAck": ({"channelId", "ackId"}, set()),
    "keepAlive": (set(), set()),
    "communicationWarning": ({"warning"}, {"kind"}),
}
SERVER_FRAMES: dict[str, tuple[set[str], set[str]]] = {
    "rpcResult": ({"callId"}, {"result"}),
    "rpcError": ({"callId", "error"}, set()),
    "channelSend": ({"channelId", "message"}, {"ackId"}),
    "channelAck": ({"channelId", "ackId"}, set()),
    "channelClose": ({"channelId"}, set()),
    "channelError": ({"channelId", "error"}, set()),
    "keepAliveAck": (set(), set()),
    "communicationWarning": ({"warning"}, {"kind"}),
}
AUTH_FIELDS = {"authVersion", "clientIdentifier", "clientPasskey"}


@dataclass(frozen=True)
class Frame:
    """One websocket text frame: which connection (in the order they opened), its namespace,
    who sent it (``"client"`` or ``"server"``) and its text."""

    connection: int
    namespace: str
    sender: str
    text: str

    def describe(self) -> str:
        arrow = "C->S" if self.sender == "client" else "S->C"
        text = self.text if len(self.text) <= 400 else self.text[:400] + "..."
        return f"[{self.namespace}#{self.connection}] {arrow} {text}"


def fix_refs(schema: Any, names: frozenset[str]) -> Any:
    """``schema`` with every ``$ref`` to a definition whose name holds ``/`` escaped."""
    if isinstance(schema, list):
        return [fix_refs(item, names) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: fix_refs(value, names) for key, value in schema.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(REFS):
        path = ref[len(REFS) :]
        parts = path.split("/")
        # The longest definition name that the path starts with, segment by segment.
        for count in range(len(parts), 0, -1):
            name = "/".join(parts[:count])
            if name in names:
                escaped = name.replace("~", "~0").replace("/", "~1")
                out["$ref"] = REFS + "/".join([escaped, *parts[count:]])
                break
    return out


def without_additional_properties(schema: Any) -> Any:
    if isinstance(schema, list):
        return [without_additional_properties(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: without_additional_properties(value)
        for key, value in schema.items()
        if not (key == "additionalProperties" and value is False)
    }


@cache
def definitions(relaxed: bool) -> dict[str, Any]:
    """The schema's definitions with the ``$ref`` s fixed (and, relaxed, open objects)."""
    document = json.loads(SCHEMA.read_text(encoding="utf-8"))
    defs = document["definitions"]
    fixed: dict[str, Any] = fix_refs(defs, frozenset(defs))
    return without_additional_properties(fixed) if relaxed else fixed


@cache
def validator(pseudo: str, part: str, relaxed: bool) -> jsonschema.Draft7Validator | None:
    """The validator of ``part`` (``parameter``, ``returns``, ``creationParameter``,
    ``toClientPacket``, ``toServerPacket``) of ``pseudo/<ns>/<kind>/<endpoint>``; None when
    that endpoint has no such part (a void parameter or result)."""
    defs = definitions(relaxed)
    entry = defs.get(pseudo)
    if entry is None:
        raise KeyError(pseudo)
    part_schema = entry["properties"].get(part)
    if part_schema is None:
        return None
    return jsonschema.Draft7Validator({"definitions": defs, "allOf": [part_schema]})


@cache
def error_validator() -> jsonschema.Draft7Validator:
    defs = definitions(True)
    return jsonschema.Draft7Validator(
        {"definitions": defs, "allOf": [{"$ref": REFS + "serializedLMSExtendedError"}]}
    )


@dataclass
class Report:
    """What ``check_frames`` found: how many frames it checked and the problems."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    #: Frames the client sent to say it dropped one of ours (the JS SDK's zod rejections).
    warnings_from_client: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{self.checked} frames checked, {len(self.problems)} problem(s)"]
        lines += [f"  {problem}" for problem in self.problems[:30]]
        return "\n".join(lines)


def _schema_errors(check: jsonschema.Draft7Validator, instance: Any) -> list[str]:
    out = []
    for error in sorted(check.iter_errors(instance), key=lambda e: list(e.absolute_path))[:5]:
        for closest in _closest(error)[:3]:
            path = ".".join(map(str, closest.absolute_path))
            out.append(f"$.{path}: {closest.message[:300]}")
    return out


def _closest(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For a union (the packets of a channel, told apart by ``type``), why the branch of the
    same ``type`` refused it; otherwise the error itself."""
    if not error.context:
        return [error]
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    same_type = [
        subs for subs in branches.values() if not any(list(e.path) == ["type"] for e in subs)
    ]
    if len(same_type) == 1:
        return same_type[0]
    if not same_type and isinstance(error.instance, dict) and "type" in error.instance:
        kind = error.instance["type"]
        return [jsonschema.ValidationError(f"no packet of type {kind!r} here", path=error.path)]
    return [jsonschema.exceptions.best_match(error.context) or error]


class _Connection:
    """One socket's ids: which endpoint each call and channel belongs to."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.authenticated = False
        self.calls: dict[Any, str] = {}
        self.channels: dict[Any, str] = {}


def check_frames(frames: Iterable[Frame]) -> Report:
    """Check each frame, in order, against the envelope and the schema of its endpoint."""
    report = Report()
    connections: dict[int, _Connection] = {}
    for frame in frames:
        state = connections.setdefault(frame.connection, _Connection(frame.namespace))
        report.checked += 1
        problems = _check(frame, state, report)
        report.problems += [f"{frame.describe()}\n    {p}" for p in problems]
    return report


def _check(frame: Frame, state: _Connection, report: Report) -> list[str]:
    try:
        message = json.loads(frame.text)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    if not isinstance(message, dict):
        return ["not a JSON object"]
    if not state.authenticated:
        return _check_auth(frame, message, state)
    kind = message.get("type")
    catalogue = CLIENT_FRAMES if frame.sender == "client" else SERVER_FRAMES
    if kind not in catalogue:
        return [f"unknown frame type {kind!r} from the {frame.sender}"]
    required, optional = catalogue[kind]
    fields = set(message) - {"type"}
    problems = [f"{kind} lacks {name!r}" for name in sorted(required - fields)]
    problems += [
        f"{kind} has unknown field {name!r}" for name in sorted(fields - required - optional)
    ]
    if kind == "communicationWarning":
        if frame.sender == "client":
            report.warnings_from_client.append(str(message.get("warning")))
            problems.append("the client refused a frame of ours (communicationWarning)")
        return problems
    return problems + _check_payload(frame.sender, kind, message, state)


def _check_auth(frame: Frame, message: dict[str, Any], state: _Connection) -> list[str]:
    if frame.sender == "client":
        problems = []
        if set(message) != AUTH_FIELDS or message.get("authVersion") != 1:
            problems.append(f"the first frame is not an auth packet {sorted(AUTH_FIELDS)}")
        for name in ("clientIdentifier", "clientPasskey"):
            value = message.get(name)
            if not isinstance(value, str) or len(value) > 256:
                problems.append(f"{name} must be a string of at most 256 characters")
        return problems
    # The server's answer: {"success": true} or {"success": false, "error": "<string>"}.
    if message == {"success": True}:
        state.authenticated = True
        return []
    if set(message) == {"success", "error"} and message["success"] is False:
        return [] if isinstance(message["error"], str) else ["the auth error must be a string"]
    return [f"not an auth answer: {message!r}"]


def _check_payload(
    sender: str, kind: str, message: dict[str, Any], state: _Connection
) -> list[str]:
    ns = state.namespace
    if kind == "rpcCall":
        endpoint = str(message.get("endpoint"))
        state.calls[message.get("callId")] = endpoint
        return _part(f"pseudo/{ns}/rpc/{endpoint}", "parameter", message, "parameter", False)
    if kind == "channelCreate":
        endpoint = str(message.get("endpoint"))
        state.channels[message.get("channelId")] = endpoint
        pseudo = f"pseudo/{ns}/channel/{endpoint}"
        return _part(pseudo, "creationParameter", message, "creationParameter", False)
    if kind == "rpcResult":
        endpoint = state.calls.pop(message.get("callId"), None)
        if endpoint is None:
            return [f"rpcResult for a call never made: {message.get('callId')!r}"]
        return _part(f"pseudo/{ns}/rpc/{endpoint}", "returns", message, "result", True)
    if kind in ("rpcError", "channelError"):
        ids = state.calls if kind == "rpcError" else state.channels
        key = "callId" if kind == "rpcError" else "channelId"
        if ids.pop(message.get(key), None) is None:
            return [f"{kind} for an unknown {key} {message.get(key)!r}"]
        return _schema_errors(error_validator(), message.get("error"))
    if kind == "channelSend":
        endpoint = state.channels.get(message.get("channelId"))
        if endpoint is None:
            return [f"channelSend on an unknown channel {message.get('channelId')!r}"]
        part = "toClientPacket" if sender == "server" else "toServerPacket"
        return _part(
            f"pseudo/{ns}/channel/{endpoint}", part, message, "message", sender == "server"
        )
    if kind == "channelClose" and state.channels.pop(message.get("channelId"), None) is None:
        return [f"channelClose of an unknown channel {message.get('channelId')!r}"]
    return []


def _part(pseudo: str, part: str, message: dict[str, Any], key: str, relaxed: bool) -> list[str]:
    try:
        check = validator(pseudo, part, relaxed)
    except KeyError:
        return [f"{pseudo} is not in the schema"]
    if key not in message:
        # Left out is right for a void part (the schema's ``{"not": {}}``, or none at all),
        # and only then: JS refuses ``"result": null`` where it expects nothing.
        required = part in definitions(relaxed)[pseudo].get("required", ())
        return [f"{key!r} is missing"] if required else []
    if check is None:
        return [f"{key!r} must be left out (void in the schema)"]
    return _schema_errors(check, message[key])


def load_errors() -> str | None:
    """Why the schema cannot be read (None when it can): a test fails with this."""
    if not SCHEMA.is_file():
        return (
            f"the SDK's JSON Schema is missing: {SCHEMA}. These tests need the shared reference "
            "folder beside the checkout (../shared/reference/lmstudio-sdk/)."
        )
    return None
