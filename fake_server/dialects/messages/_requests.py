"""The Anthropic door's requests: LM Studio's checks in its zod words ("request.<path>:
<message>"), the JSON Schema, and the turn each request asks for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._content import count_tokens
from ..._json import dumps
from ..._schemas import SchemaViolation, validator
from ...engine import State, ToolSpec, Turn
from .._base import ApiAnswer
from ._shapes import error_body

REQUEST_SCHEMA = "anthropic/messages-request.schema.json"
ROLES = ("user", "assistant")
BLOCK_TYPES = ("text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking")
#: The keys each kind of content block must have (besides ``type``).
BLOCK_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "image": ("source",),
    "tool_use": ("id", "name", "input"),
    "tool_result": ("tool_use_id",),
    "thinking": ("thinking",),
    "redacted_thinking": ("data",),
}
TOOL_CHOICES = ("auto", "any", "tool", "none")
#: The keys each kind of image source must have (besides ``type``).
SOURCE_KEYS: dict[str, tuple[str, ...]] = {"base64": ("media_type", "data"), "url": ("url",)}
MSG_TOOL_RESULT_BLOCKS = (
    "Only text tool_result blocks are supported when tool_result.content is an array."
)

__all__ = ["check_request", "turn_of"]


def _refuse(message: str) -> ApiAnswer:
    return ApiAnswer(400, error_body("invalid_request_error", message))


def _discriminator(where: str, allowed: tuple[str, ...]) -> ApiAnswer:
    expected = " | ".join(f"'{name}'" for name in allowed)
    return _refuse(f"{where}: Invalid discriminator value. Expected {expected}")


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _zod_type(value: Any) -> str:
    """The type zod names in "received ...": a number that is not whole is a float."""
    return "float" if isinstance(value, float) and not value.is_integer() else _js_type(value)


def check_request(body: Any, state: State) -> None:
    """LM Studio's checks of a ``/v1/messages`` body: the discriminated unions (roles, block
    types, tool choices) and the blocks' own keys first, in zod's words, then the schema."""
    if not isinstance(body, dict):
        raise _refuse(f"request: Expected object, received {_js_type(body)}")
    # What the turn is made of is checked whatever the validation setting.
    for key, kind in (("model", str), ("messages", list), ("max_tokens", int)):
        if key not in body:
            raise _refuse(f"request.{key}: Required")
        value = body[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            wanted = {str: "string", list: "array", int: "integer"}[kind]
            raise _refuse(f"request.{key}: Expected {wanted}, received {_zod_type(value)}")
    messages = body["messages"]
    if isinstance(messages, list):
        roles = (*ROLES, "system") if state.profile.messages_system_role else ROLES
        for i, message in enumerate(messages):
            where = f"request.messages.{i}"
            if not isinstance(message, dict):
                raise _refuse(f"{where}: Expected object, received {_js_type(message)}")
            if message.get("role") not in roles:
                raise _discriminator(f"{where}.role", roles)
            content = message.get("content")
            if isinstance(content, list):
                for j, block in enumerate(content):
                    _check_block(block, f"{where}.content.{j}")
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        if choice.get("type") not in TOOL_CHOICES:
            raise _discriminator("request.tool_choice.type", TOOL_CHOICES)
        if choice["type"] == "tool" and "name" not in choice:
            raise _refuse("request.tool_choice.name: Required")
        parallel = choice.get("disable_parallel_tool_use")
        if parallel is not None and not isinstance(parallel, bool):
            raise _refuse(
                "request.tool_choice.disable_parallel_tool_use: Expected boolean, "
                f"received {_zod_type(parallel)}"
            )
    if not state.validate:
        return
    check = validator(REQUEST_SCHEMA)
    if check.is_valid(body):
        return
    error = check.first_error(body) or SchemaViolation(REQUEST_SCHEMA, "invalid request", "$")
    raise _refuse(zod_message(error))


def _check_block(block: Any, where: str) -> None:
    if not isinstance(block, dict):
        raise _refuse(f"{where}: Expected object, received {_js_type(block)}")
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        raise _discriminator(f"{where}.type", BLOCK_TYPES)
    for key in BLOCK_KEYS[kind]:
        if key not in block:
            raise _refuse(f"{where}.{key}: Required")
    source = block.get("source")
    if kind == "image":
        if not isinstance(source, dict):
            raise _refuse(f"{where}.source: Expected object, received {_js_type(source)}")
        if source.get("type") not in tuple(SOURCE_KEYS):
            raise _discriminator(f"{where}.source.type", tuple(SOURCE_KEYS))
        for key in SOURCE_KEYS[source["type"]]:
            if key not in source:
                raise _refuse(f"{where}.source.{key}: Required")
    inner = block.get("content")
    if kind == "tool_result" and isinstance(inner, list):
        for part in inner:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise _refuse(MSG_TOOL_RESULT_BLOCKS)


def zod_message(error: SchemaViolation) -> str:
    """A schema violation as zod words it: ``request.messages.0.content: Expected string,
    received number``."""
    path = error.path[1:] if error.path.startswith("$") else error.path
    where = "request" + path.replace("[", ".").replace("]", "")
    keyword, expected, instance = error.keyword, error.expected, error.instance
    if keyword == "required" and isinstance(instance, dict):
        missing = next((k for k in expected if k not in instance), expected[0])
        return f"{where}.{missing}: Required"
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        names = " | ".join(wanted)
        return f"{where}: Expected {names}, received {_zod_type(instance)}"
    if keyword == "enum":
        options = " | ".join(f"'{v}'" for v in expected if v is not None)
        return f"{where}: Invalid enum value. Expected {options}, received {dumps(instance)}"
    if keyword == "const":
        return f"{where}: Invalid literal value, expected {dumps(expected)}"
    if keyword == "minimum":
        return f"{where}: Number must be greater than or equal to {dumps(expected)}"
    if keyword == "maximum":
        return f"{where}: Number must be less than or equal to {dumps(expected)}"
    if keyword == "minLength":
        return f"{where}: String must contain at least {expected} character(s)"
    return f"{where}: Invalid input"


# -- the turn -----------------------------------------------------------------------------
def block_text(content: Any) -> str:
    """The text of a message's content (or a tool result's): a string, or the text of its
    text blocks and tool results, joined by spaces."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_result":
            parts.append(block_text(block.get("content")))
    return " ".join(parts)


def turn_of(body: dict[str, Any], api: str) -> Turn:
    """The turn a checked request asks for. Its texts (what ``contains=`` searches and the
    context counts) are the system prompt and each message's text; the prompt's tokens
    are theirs and the tools' JSON's, by the fake's token rule."""
    texts = []
    system = body.get("system")
    if system is not None:
        texts.append(block_text(system))
    texts += [block_text(m.get("content")) for m in body["messages"]]
    tools = body.get("tools")
    prompt_tokens = sum(count_tokens(t) for t in texts)
    if tools:
        prompt_tokens += count_tokens(dumps(tools))
    return Turn(
        "chat",
        api,
        body,
        body.get("model"),
        stream=bool(body.get("stream")),
        texts=tuple(texts),
        prompt_tokens=prompt_tokens,
        max_tokens=body.get("max_tokens"),
        forced_tool=forced_tool(body),
        ttl=body.get("ttl"),
    )


def forced_tool(body: Mapping[str, Any]) -> ToolSpec | None:
    """The tool a default answer must call: ``tool_choice`` ``any`` (the first tool) or
    ``tool`` (the one named)."""
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if not isinstance(tools, list) or not tools or not isinstance(choice, dict):
        return None
    chosen: Any = None
    if choice.get("type") == "any":
        chosen = tools[0]
    elif choice.get("type") == "tool":
        name = choice.get("name")
        chosen = next((t for t in tools if isinstance(t, dict) and t.get("name") == name), None)
    if not isinstance(chosen, dict) or not isinstance(chosen.get("name"), str):
        return None
    schema = chosen.get("input_schema")
    # An input is an object, whether or not the schema says so.
    parameters = {**schema, "type": "object"} if isinstance(schema, dict) else None
    return ToolSpec(chosen["name"], parameters)
