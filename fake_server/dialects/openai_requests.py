"""The OpenAI-compatible door's requests: LM Studio's own checks (its exact messages), the
JSON Schema, and the turn each request asks for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._content import (
    count_tokens,
    message_text,
    prompt_tokens_for_completion,
    prompt_tokens_for_texts,
)
from .._json import dumps
from .._schemas import SchemaViolation, envelope_check, part_validator, validator
from ..engine import State, ToolSpec, Turn, TurnKind
from ._base import ApiAnswer
from .openai_shapes import SHAPES

ALLOWED_ROLES = ("user", "assistant", "system", "tool", "developer")

MSG_BAD_ROLE = (
    "'messages' array must only contain objects with a 'role' field that is in "
    "[user, assistant, system, tool]. Got '{role}'"
)
MSG_INVALID_MESSAGES = (
    "Invalid 'messages' in payload. Please check the structure of your 'messages' and try again"
)
MSG_RESPONSE_FORMAT = "'response_format.type' must be 'json_schema' or 'text'"
#: Before 0.3.18 ``text`` was not accepted either, and the message said so.
MSG_RESPONSE_FORMAT_OLD = "'response_format.type' must be 'json_schema'"

REQUEST_SCHEMAS: dict[str, str] = {
    "chat": "openai/chat-completion-request.schema.json",
    "completions": "openai/completion-request.schema.json",
    "embeddings": "openai/embedding-request.schema.json",
}
REQUIRED_FIELD = {"chat": "messages", "completions": "prompt", "embeddings": "input"}
COMMON_SCHEMA = "openai/common.schema.json"
MAX_EMBEDDING_INPUTS = 2048

__all__ = [
    "ALLOWED_ROLES",
    "chat_request_is_valid",
    "check_request",
    "include_usage",
    "turn_of",
]


def check_request(kind: TurnKind, body: Any, state: State) -> None:
    """LM Studio's own checks first (its exact messages), then the JSON Schema."""
    shapes = SHAPES[state.profile.name]
    required = REQUIRED_FIELD[kind]
    if not isinstance(body, dict) or required not in body:
        raise ApiAnswer(400, shapes.error_string(f"'{required}' field is required", param=required))
    if kind == "chat":
        messages = body["messages"]
        if not isinstance(messages, list):
            raise ApiAnswer(400, shapes.error_string(MSG_INVALID_MESSAGES, param="messages"))
        for message in messages:
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ALLOWED_ROLES:
                # As JavaScript's template string shows it: a missing role is "undefined".
                shown = (
                    "undefined"
                    if not isinstance(message, dict) or "role" not in message
                    else (role if isinstance(role, str) else dumps(role))
                )
                raise ApiAnswer(
                    400, shapes.error_string(MSG_BAD_ROLE.format(role=shown), param="messages")
                )
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") == "json_object":
            message = (
                MSG_RESPONSE_FORMAT
                if state.profile.json_object_names_text
                else MSG_RESPONSE_FORMAT_OLD
            )
            raise ApiAnswer(400, shapes.error_string(message, param="response_format"))
    if kind == "chat":
        check_output_schema(body, state)
    inputs = body.get("input") if kind == "embeddings" else None
    if isinstance(inputs, list) and len(inputs) > MAX_EMBEDDING_INPUTS:
        # A vector each: a million inputs would hold the server for minutes and gigabytes.
        message = (
            f"'input' may hold at most {MAX_EMBEDDING_INPUTS} items (OpenAI's limit), "
            f"got {len(inputs)}: send them in several requests"
        )
        raise ApiAnswer(400, shapes.error_string(message, param="input"))
    if not state.validate:
        return
    if kind == "chat" and chat_request_is_valid(body):
        return
    check = validator(REQUEST_SCHEMAS[kind])
    if kind != "chat" and check.is_valid(body):
        return
    error = check.first_error(body) or SchemaViolation(REQUEST_SCHEMAS[kind], "invalid request", "")
    field = error.path[2:].split(".", 1)[0].split("[", 1)[0] if error.path.startswith("$.") else ""
    if field == "messages":
        message = MSG_INVALID_MESSAGES  # LM Studio says no more (bug-tracker #830)
    elif field:
        message = f"Invalid '{error.path[2:]}' in payload: {js_wording(error)}"
    else:
        message = f"Invalid request payload: {js_wording(error)}"
    raise ApiAnswer(400, shapes.error_string(message, param=field or None))


def js_type(value: Any) -> str:
    """The JSON type of ``value`` by its JavaScript name."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def js_wording(error: SchemaViolation) -> str:
    """A schema violation said without Python's reprs: JSON values, JavaScript type names."""
    keyword, expected, instance = error.keyword, error.expected, error.instance
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        names = ["number" if t == "integer" else t for t in wanted]
        return f"expected {' or '.join(names)}, received {js_type(instance)}"
    if keyword in ("enum", "const"):
        values = expected if keyword == "enum" else [expected]
        return f"expected one of {', '.join(dumps(v) for v in values)}, received {dumps(instance)}"
    if keyword == "required" and isinstance(instance, dict):
        missing = [k for k in expected if k not in instance]
        return f"'{missing[0] if missing else expected[0]}' is required"
    bounds = {
        "minimum": ">=",
        "maximum": "<=",
        "exclusiveMinimum": ">",
        "exclusiveMaximum": "<",
    }
    if keyword in bounds:
        return f"must be {bounds[keyword]} {dumps(expected)}, received {dumps(instance)}"
    sizes = {
        "minLength": "at least {n} characters",
        "maxLength": "at most {n} characters",
        "minItems": "at least {n} items",
        "maxItems": "at most {n} items",
    }
    if keyword in sizes:
        return f"must have {sizes[keyword].format(n=expected)}"
    if keyword == "additionalProperties" and isinstance(instance, dict):
        return "unrecognized key in object"
    if keyword == "integer" or (keyword == "multipleOf"):
        return "expected an integer"
    return "invalid value"


def chat_request_is_valid(body: dict[str, Any]) -> bool:
    """The chat request schema, checked fast: the envelope with messages as plain objects,
    then each message against its role's definition only. Same verdict as the whole schema
    (whose ``oneOf`` over roles would try every role for every message); the whole schema
    still writes the message when this says no. Roles were checked before."""
    if not envelope_check(REQUEST_SCHEMAS["chat"], "messages")(body):
        return False
    for message in body["messages"]:
        check = part_validator(COMMON_SCHEMA, f"#/$defs/{message['role']}_message")
        if not check(message):
            return False
    return True


def turn_of(kind: TurnKind, body: dict[str, Any], api: str) -> Turn:
    """The turn a checked request asks for."""
    stream = bool(body.get("stream"))
    requested = body.get("model")
    if kind == "chat":
        messages = body["messages"]
        texts = tuple(message_text(m.get("content")) for m in messages if isinstance(m, dict))
        return Turn(
            kind,
            api,
            body,
            requested,
            stream=stream,
            texts=texts,
            prompt_tokens=prompt_tokens_for_texts(texts, body.get("tools")),
            max_tokens=token_limit(body),
            forced_tool=forced_tool(body),
            output_schema=output_schema(body),
            ttl=body.get("ttl"),
        )
    if kind == "completions":
        prompt = body.get("prompt")
        return Turn(
            kind,
            api,
            body,
            requested,
            stream=stream,
            texts=_strings(prompt),
            prompt_tokens=prompt_tokens_for_completion(body),
            max_tokens=token_limit(body),
            ttl=body.get("ttl"),
        )
    inputs = embedding_inputs(body["input"])
    return Turn(
        kind,
        api,
        body,
        requested,
        stream=stream,
        texts=_strings(body["input"]),
        prompt_tokens=sum(count_tokens(t) for t in inputs),
        inputs=inputs,
        dimensions=body.get("dimensions"),
        ttl=body.get("ttl"),
    )


def output_schema(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema ``response_format: {"type": "json_schema"}`` constrains the answer to (an
    empty schema when the request names none: any JSON)."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else {}


def check_output_schema(body: Mapping[str, Any], state: State) -> None:
    """A 400 naming the keyword when the fake cannot make JSON that fits the schema (LM
    Studio's grammar would; the fake's generator honours a documented subset)."""
    schema = output_schema(body)
    if schema is None:
        return
    # Loaded on the first structured request: a suite that never asks for one never pays it.
    from .._schema_json import UnsupportedSchema
    from .._schema_json import check as check_schema

    try:
        check_schema(schema)
    except UnsupportedSchema as exc:
        where = "response_format.json_schema.schema"
        raise ApiAnswer(
            400,
            SHAPES[state.profile.name].error_string(exc.describe(where), param="response_format"),
        ) from None


def _strings(value: Any) -> tuple[str, ...]:
    """What a ``contains=`` rule searches in a prompt or an input: its strings."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def embedding_inputs(raw: Any) -> tuple[str, ...]:
    """The texts to embed: a string, a list of strings, token ids, or lists of token ids."""
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and raw and all(_number(x) for x in raw):
        return (" ".join(map(str, raw)),)  # token ids (JSON has no integer type: 1e3 counts)
    return tuple(
        x if isinstance(x, str) else " ".join(map(str, x)) if isinstance(x, list) else str(x)
        for x in raw
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def include_usage(body: Mapping[str, Any], state: State) -> bool:
    """``stream_options.include_usage``: LM Studio (0.3.18+) then sends a usage chunk before
    [DONE]."""
    options = body.get("stream_options")
    wanted = isinstance(options, dict) and options.get("include_usage") is True
    return wanted and state.profile.include_usage


def token_limit(body: Mapping[str, Any]) -> int | None:
    """``max_completion_tokens`` (preferred) or ``max_tokens``; -1 or null mean no limit."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return None if value < 0 else value
    return None


def forced_tool(body: Mapping[str, Any]) -> ToolSpec | None:
    """The tool a default answer must call: ``tool_choice`` "required" or a named function."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    choice = body.get("tool_choice")
    chosen: Any = None
    if choice == "required":
        chosen = tools[0]
    elif isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        chosen = next(
            (
                t
                for t in tools
                if isinstance(t, dict) and (t.get("function") or {}).get("name") == name
            ),
            None,
        )
    if not isinstance(chosen, dict):
        return None
    function = chosen.get("function") or {}
    return ToolSpec(function.get("name", ""), function.get("parameters"))
