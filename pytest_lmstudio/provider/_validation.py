"""Checks on what the caller asks for, before any I/O: each failure names the field."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ._errors import InvalidRequestError
from ._security import model_id_problem
from ._types import ROLES, CompletionRequest, Message

__all__ = ["check_model", "validate_embedding_inputs", "validate_request"]

# Fields the provider writes itself; ``extra`` may not override them.
_RESERVED = frozenset({"model", "messages", "stream", "stream_options", "prompt", "input"})
_TOOL_CHOICES = frozenset({"auto", "none", "required"})


def _fail(field: str, problem: str) -> InvalidRequestError:
    return InvalidRequestError(f"Invalid request: {field}: {problem}", field=field)


def check_model(model: object, field: str = "model") -> str:
    problem = model_id_problem(model)
    if problem is not None:
        raise _fail(field, problem)
    assert isinstance(model, str)
    return model


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_message(index: int, message: object) -> None:
    where = f"messages[{index}]"
    if not isinstance(message, Message):
        raise _fail(where, f"expected a Message, got {type(message).__name__}")
    if message.role not in ROLES:
        raise _fail(
            f"{where}.role",
            f"unknown role {message.role!r} (LM Studio accepts {', '.join(sorted(ROLES))})",
        )
    content = message.content
    if content is None:
        if not (message.role == "assistant" and message.tool_calls):
            raise _fail(f"{where}.content", "missing (only an assistant tool call may omit it)")
    elif not isinstance(content, str):
        if message.role != "user" and any(p.get("type") != "text" for p in content):
            raise _fail(f"{where}.content", "only user messages may carry images")
        for number, part in enumerate(content):
            _check_part(f"{where}.content[{number}]", part)
    if message.role == "tool" and not message.tool_call_id:
        raise _fail(f"{where}.tool_call_id", "a tool message must name the call it answers")
    if message.tool_calls and message.role != "assistant":
        raise _fail(f"{where}.tool_calls", "only assistant messages carry tool calls")
    for number, call in enumerate(message.tool_calls):
        if not call.name:
            raise _fail(f"{where}.tool_calls[{number}].name", "empty tool name")
        if not call.id:
            # LM Studio refuses a history with an empty tool-call id (bug-tracker#830).
            raise _fail(f"{where}.tool_calls[{number}].id", "empty tool call id")


def _check_part(where: str, part: object) -> None:
    if not isinstance(part, Mapping):
        raise _fail(where, f"expected a mapping, got {type(part).__name__}")
    kind = part.get("type")
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise _fail(f"{where}.text", "a text part needs a string 'text'")
    elif kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else None
        if not isinstance(url, str) or not url.startswith(("data:image/", "http://", "https://")):
            raise _fail(f"{where}.image_url.url", "expected a data:image/... or http(s) URL")
    else:
        raise _fail(f"{where}.type", f"unknown content part type {kind!r} (text, image_url)")


def validate_request(request: object) -> CompletionRequest:
    """``request`` if LM Studio can accept it, else ``InvalidRequestError`` naming the field."""
    if not isinstance(request, CompletionRequest):
        raise _fail("request", f"expected a CompletionRequest, got {type(request).__name__}")
    check_model(request.model)
    if not request.messages:
        raise _fail("messages", "empty: a chat completion needs at least one message")
    for index, message in enumerate(request.messages):
        _check_message(index, message)
    temperature = request.temperature
    if temperature is not None and not (_is_number(temperature) and 0 <= temperature <= 2):
        raise _fail("temperature", f"{temperature!r} is outside [0, 2]")
    top_p = request.top_p
    if top_p is not None and not (_is_number(top_p) and 0 <= top_p <= 1):
        raise _fail("top_p", f"{top_p!r} is outside [0, 1]")
    max_tokens = request.max_tokens
    if max_tokens is not None and (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or (max_tokens < 1 and max_tokens != -1)
    ):
        raise _fail("max_tokens", f"{max_tokens!r} must be >= 1 (or -1 for no limit)")
    seed = request.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _fail("seed", f"{seed!r} is not an integer")
    _check_stop(request.stop)
    _check_tools(request.tools, request.tool_choice)
    _check_response_format(request.response_format)
    if not isinstance(request.extra, Mapping):
        raise _fail("extra", f"expected a mapping, got {type(request.extra).__name__}")
    for key in request.extra:
        if not isinstance(key, str):
            raise _fail("extra", f"keys must be strings, got {key!r}")
        if key in _RESERVED:
            raise _fail(f"extra.{key}", "set by the provider itself; use the request's fields")
    return request


def _check_stop(stop: object) -> None:
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, Sequence) or not all(isinstance(item, str) for item in stop):
        raise _fail("stop", "expected a string or a sequence of strings")


def _check_tools(tools: Sequence[object], tool_choice: object) -> None:
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            raise _fail(where, "expected {'type': 'function', 'function': {...}}")
        function = tool.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise _fail(f"{where}.function.name", "a tool needs a function name")
        if not function["name"]:
            raise _fail(f"{where}.function.name", "empty function name")
    if tool_choice is None or isinstance(tool_choice, Mapping):
        return
    if tool_choice not in _TOOL_CHOICES:
        raise _fail("tool_choice", f"{tool_choice!r} is not one of auto, none, required")


def _check_response_format(response_format: object) -> None:
    if response_format is None:
        return
    if not isinstance(response_format, Mapping):
        raise _fail("response_format", "expected a mapping")
    kind = response_format.get("type")
    if kind == "json_object":
        raise _fail(
            "response_format.type",
            "LM Studio refuses json_object; use CompletionRequest.json_schema(schema)",
        )
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
            raise _fail("response_format.json_schema.schema", "a json_schema needs a schema")
    elif kind != "text":
        raise _fail("response_format.type", f"{kind!r} is not json_schema or text")


def validate_embedding_inputs(model: object, inputs: object) -> list[str]:
    """The inputs as a list of strings, or ``InvalidRequestError``."""
    check_model(model)
    if isinstance(inputs, str):
        return [inputs]
    if not isinstance(inputs, Sequence) or not inputs:
        raise _fail("inputs", "expected a string or a non-empty sequence of strings")
    items = list(inputs)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise _fail(f"inputs[{index}]", f"expected a string, got {type(item).__name__}")
    return items
