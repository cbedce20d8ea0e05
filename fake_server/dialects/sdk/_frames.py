"""The SDK protocol's frames: what the fake sends, and its own checks of what it receives.

Checks are worded like the zod messages LM Studio's server sends in a
``communicationWarning`` (``- parameter.inputString: Required``), so a client's log reads
the same against the fake as against LM Studio. Extra keys are accepted, as zod strips them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._json import dumps

__all__ = [
    "VOID",
    "Field",
    "channel_close",
    "channel_error",
    "channel_send",
    "check_auth",
    "issues",
    "js_type",
    "preview_json",
    "rpc_error",
    "rpc_result",
    "warning",
]

#: The result of an endpoint that returns nothing: its ``rpcResult`` has no ``result`` key
#: (``"result": null`` breaks the JavaScript SDK, which expects ``undefined``).
VOID: Any = object()
#: How much of a value a warning quotes.
PREVIEW_CHARS = 200
#: LM Studio's limit on the two halves of the auth packet.
MAX_AUTH_FIELD = 256

#: One expected key: its JSON type (``str``, ``int``, ``float``, ``bool``, ``dict``,
#: ``list``, or a tuple of those) and whether it is required.
Field = tuple[type | tuple[type, ...], bool]


def rpc_result(call_id: int, result: Any) -> str:
    if result is VOID:
        return dumps({"type": "rpcResult", "callId": call_id})
    return dumps({"type": "rpcResult", "callId": call_id, "result": result})


def rpc_error(call_id: int, error: Mapping[str, Any]) -> str:
    return dumps({"type": "rpcError", "callId": call_id, "error": dict(error)})


def channel_send(channel_id: int, message: Any) -> str:
    return dumps({"type": "channelSend", "channelId": channel_id, "message": message})


def channel_close(channel_id: int) -> str:
    return dumps({"type": "channelClose", "channelId": channel_id})


def channel_error(channel_id: int, error: Mapping[str, Any]) -> str:
    return dumps({"type": "channelError", "channelId": channel_id, "error": dict(error)})


def warning(text: str, kind: str) -> str:
    """LM Studio's "I did not understand you"."""
    return dumps({"type": "communicationWarning", "warning": text, "kind": kind})


def js_type(value: Any) -> str:
    """The type name zod uses for a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


_NAMES = {str: "string", int: "number", float: "number", bool: "boolean", dict: "object"}
_NAMES[list] = "array"


def _fits(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if k is bool:
            if isinstance(value, bool):
                return True
        elif k is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
            if isinstance(value, float) and value.is_integer():  # Python sends 40.0
                return True
        elif k is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return True
        elif isinstance(value, k):
            return True
    return False


def issues(value: Any, fields: Mapping[str, Field], where: str) -> list[str]:
    """What is wrong with ``value`` (an object with ``fields``), one zod-style line each."""
    if not isinstance(value, dict):
        return [f"- {where}: Expected object, received {js_type(value)}"]
    found = []
    for key, (kind, required) in fields.items():
        if key not in value:
            if required:
                found.append(f"- {where}.{key}: Required")
            continue
        if not _fits(value[key], kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            expected = " | ".join(dict.fromkeys(_NAMES[k] for k in kinds))
            found.append(f"- {where}.{key}: Expected {expected}, received {js_type(value[key])}")
    return found


def preview_json(value: Any) -> str:
    """A value as a warning quotes it: its JSON, cut short."""
    try:
        text = dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def check_auth(packet: Any) -> tuple[str, str] | None:
    """The ``(clientIdentifier, clientPasskey)`` of an auth packet; None when ``packet`` is
    not one (LM Studio ignores such frames and keeps waiting for the auth packet)."""
    if not isinstance(packet, dict) or packet.get("authVersion") != 1:
        return None
    identifier, passkey = packet.get("clientIdentifier"), packet.get("clientPasskey")
    if not isinstance(identifier, str) or not isinstance(passkey, str):
        return None
    if len(identifier) > MAX_AUTH_FIELD or len(passkey) > MAX_AUTH_FIELD:
        return None
    return identifier, passkey
