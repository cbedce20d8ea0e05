"""The Responses door's requests: LM Studio's checks in its own (zod's) words, the JSON Schema,
and the conversation and turn a request asks for.

LM Studio accepts unknown top-level keys (clients send many) but checks the sub-objects it
reads: the tools' types, the items' kinds, ``text.format``. Its errors name the field as a
dotted path (``tools.0.type``) and zod's issue code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..._content import count_tokens
from ..._schemas import SchemaViolation, validator
from ...engine import State, ToolSpec, Turn
from .._base import ApiAnswer
from ..openai_shapes import error_object

API = "responses"
REQUEST_SCHEMA = "responses/request.schema.json"
ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning")
ROLES = ("user", "assistant", "system", "developer")
PART_TYPES = ("input_text", "input_image", "input_file", "output_text", "refusal")
TOOL_TYPES = ("function", "mcp")
#: Parts whose ``text`` the model reads.
TEXT_PARTS = ("input_text", "output_text")
MSG_MCP = (
    "Remote MCP servers are not run by the fake (LM Studio runs them only with the remote MCP "
    "setting on): script the answer with fake.chat.reply(tool_calls=...) instead"
)

__all__ = [
    "API",
    "check_request",
    "conversation",
    "forced_tool",
    "invalid",
    "item_texts",
    "turn_of",
]


def invalid(message: str, param: str | None, code: str | None, status: int = 400) -> ApiAnswer:
    """A 400 in this door's words (OpenAI's error object, LM Studio's zod messages)."""
    return ApiAnswer(status, error_object(message, "invalid_request_error", param, code))


def _choices(values: Sequence[str]) -> str:
    return " | ".join(f"'{v}'" for v in values)


def _discriminator(values: Sequence[str], param: str) -> ApiAnswer:
    message = f"Invalid discriminator value. Expected {_choices(values)}"
    return invalid(message, param, "invalid_union_discriminator")


def check_request(body: Any, state: State) -> None:
    """LM Studio's own checks first (its words), then the JSON Schema (zod's wording of the
    first problem)."""
    if not isinstance(body, dict):
        raise invalid(f"Expected object, received {_zod_type(body)}", None, "invalid_type")
    for name in ("model", "input"):
        if name not in body:
            raise invalid("Required", name, "missing_required_parameter")
    inputs = body["input"]
    if isinstance(inputs, list):
        for index, item in enumerate(inputs):
            _check_item(item, f"input.{index}")
    tools = body.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            _check_tool(tool, f"tools.{index}")
    text = body.get("text")
    if isinstance(text, dict) and "format" not in text:  # n8n and LibreChat send "text": {}
        raise invalid("Required", "text.format", "missing_required_parameter")
    fmt = text.get("format") if isinstance(text, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") not in ("text", "json_schema"):
        raise _discriminator(("text", "json_schema"), "text.format.type")
    check = validator(REQUEST_SCHEMA)
    if check.is_valid(body):
        return
    error = check.first_error(body) or SchemaViolation(REQUEST_SCHEMA, "invalid request", "")
    raise invalid(*_zod_words(error))


def _check_item(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise invalid(f"Expected object, received {_zod_type(item)}", where, "invalid_type")
    kind = item.get("type")
    if kind is None and "role" not in item:
        raise invalid("Required", f"{where}.role", "missing_required_parameter")
    if kind is not None and kind not in ITEM_TYPES:
        raise _discriminator(ITEM_TYPES, f"{where}.type")
    if kind in (None, "message"):
        role = item.get("role")
        if role not in ROLES:
            received = "undefined" if "role" not in item else json.dumps(role)
            message = f"Invalid enum value. Expected {_choices(ROLES)}, received {received}"
            raise invalid(message, f"{where}.role", "invalid_enum_value")
        if "content" not in item:
            raise invalid("Required", f"{where}.content", "missing_required_parameter")
        content = item["content"]
        if isinstance(content, list):
            for index, part in enumerate(content):
                if not isinstance(part, dict) or part.get("type") not in PART_TYPES:
                    raise _discriminator(PART_TYPES, f"{where}.content.{index}.type")
    elif kind == "function_call":
        for name in ("call_id", "name", "arguments"):
            if name not in item:
                raise invalid("Required", f"{where}.{name}", "missing_required_parameter")
    elif kind == "function_call_output":
        for name in ("call_id", "output"):
            if name not in item:
                raise invalid("Required", f"{where}.{name}", "missing_required_parameter")


def _check_tool(tool: Any, where: str) -> None:
    kind = tool.get("type") if isinstance(tool, dict) else None
    if kind not in TOOL_TYPES:  # web_search, local_shell, custom... (bug-tracker #1383)
        raise _discriminator(TOOL_TYPES, f"{where}.type")
    assert isinstance(tool, dict)
    if kind == "mcp":
        raise invalid(MSG_MCP, f"{where}.type", "unsupported_tool")
    if "parameters" in tool and tool["parameters"] is None:
        # zod's union error on the discriminator, as LM Studio words it (bug-tracker #1652)
        raise invalid("Invalid", f"{where}.type", "invalid_string")
    if "name" not in tool:
        raise invalid("Required", f"{where}.name", "missing_required_parameter")


def _zod_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _zod_words(error: SchemaViolation) -> tuple[str, str | None, str]:
    """A schema violation as zod words it: message, dotted path, issue code."""
    path = error.path[2:] if error.path.startswith("$.") else ""
    param = path.replace("[", ".").replace("]", "") or None
    keyword, expected, instance = error.keyword, error.expected, error.instance
    if keyword == "required" and isinstance(instance, dict):
        missing = next((k for k in expected if k not in instance), expected[0])
        where = f"{param}.{missing}" if param else missing
        return "Required", where, "missing_required_parameter"
    if keyword == "type":
        wanted = [
            t for t in (expected if isinstance(expected, list) else [expected]) if t != "null"
        ]
        if wanted[0] == "integer" and isinstance(instance, float):
            return "Expected integer, received float", param, "invalid_type"
        name = "number" if wanted[0] == "integer" else wanted[0]  # zod: z.number().int()
        return f"Expected {name}, received {_zod_type(instance)}", param, "invalid_type"
    if keyword in ("enum", "const"):
        values = expected if keyword == "enum" else [expected]
        shown = " | ".join(f"'{v}'" for v in values if v is not None)
        received = json.dumps(instance) if not isinstance(instance, str) else f"'{instance}'"
        return (
            f"Invalid enum value. Expected {shown}, received {received}",
            param,
            ("invalid_enum_value"),
        )
    if keyword == "minimum":
        message = f"Number must be greater than or equal to {expected}"
        return message, param, "too_small"
    return "Invalid input", param, "invalid_union"


# -- the conversation ---------------------------------------------------------------------
def conversation(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request's input as items: a string is one user message."""
    inputs = body["input"]
    if isinstance(inputs, str):
        return [{"role": "user", "content": inputs}]
    return [dict(item) for item in inputs]


def _part_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in TEXT_PARTS
        )
    return ""


def item_texts(items: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """What the model reads of each item that is a turn of the conversation (messages, tool
    calls and their outputs; replayed reasoning is not read again)."""
    texts: list[str] = []
    for item in items:
        kind = item.get("type")
        if kind in (None, "message"):
            texts.append(_part_text(item.get("content")))
        elif kind == "function_call":
            texts.append(f"{item.get('name', '')} {item.get('arguments', '')}")
        elif kind == "function_call_output":
            texts.append(_part_text(item.get("output")))
    return tuple(texts)


def forced_tool(body: Mapping[str, Any]) -> ToolSpec | None:
    """The function a default answer must call: ``tool_choice`` "required" (the first
    function) or ``{"type": "function", "name": ...}``."""
    tools = [t for t in body.get("tools") or () if isinstance(t, dict)]
    functions = [t for t in tools if t.get("type") == "function"]
    choice = body.get("tool_choice")
    chosen: Mapping[str, Any] | None = None
    if choice == "required" and functions:
        chosen = functions[0]
    elif isinstance(choice, dict):
        chosen = next((t for t in functions if t.get("name") == choice.get("name")), None)
    if chosen is None:
        return None
    return ToolSpec(str(chosen.get("name", "")), chosen.get("parameters"))


def output_schema(body: Mapping[str, Any], state: State) -> Mapping[str, Any] | None:
    """``text.format`` json_schema: LM Studio accepts it and answers free text; the strict
    ``openai`` profile honours it, as OpenAI does."""
    if not state.profile.responses_json_schema:
        return None
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        return {}
    # Loaded on the first structured request: a suite that never asks for one never pays it.
    from ..._schema_json import UnsupportedSchema
    from ..._schema_json import check as check_schema

    try:
        check_schema(schema)
    except UnsupportedSchema as exc:
        message = exc.describe("text.format.schema")
        raise invalid(message, "text.format.schema", "unsupported_schema") from None
    return schema


def turn_of(body: Mapping[str, Any], history: Sequence[Mapping[str, Any]], state: State) -> Turn:
    """The turn a checked request asks for, after the stored ``history`` it continues."""
    instructions = body.get("instructions")
    texts = ((instructions,) if isinstance(instructions, str) and instructions else ()) + (
        item_texts([*history, *conversation(body)])
    )
    tokens = sum(count_tokens(t) for t in texts)
    tools = body.get("tools")
    if tools:
        tokens += count_tokens(json.dumps(tools, separators=(",", ":")))
    limit = body.get("max_output_tokens")
    specs = tuple(
        ToolSpec(str(t.get("name", "")), t.get("parameters"))
        for t in tools or ()
        if isinstance(t, dict)
    )
    return Turn(
        "chat",
        API,
        body,
        body.get("model"),
        stream=bool(body.get("stream")),
        texts=texts,
        prompt_tokens=tokens,
        max_tokens=limit if isinstance(limit, int) and not isinstance(limit, bool) else None,
        tools=specs,
        forced_tool=forced_tool(body),
        output_schema=output_schema(body, state),
        ttl=body.get("ttl"),
    )
