"""LM Studio's wire format on the client side: request bodies out, checked answers in.

Shared by the async and the sync provider; no I/O here. The answers' structural checks
(``parse_*``) live in ``_answers``; ``checked`` turns the ``ShapeError`` they raise into an
``ApiError``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ._answers import ShapeError
from ._defaults import PREVIEW_CHARS
from ._errors import ProviderError, bad_answer, error_for_status, scrub
from ._security import preview
from ._types import CompletionRequest, Message

__all__ = [
    "CHAT_PATH",
    "DOWNLOAD_PATH",
    "EMBEDDINGS_PATH",
    "LOAD_PATH",
    "MODELS_PATH",
    "NATIVE_MODELS_PATH",
    "UNLOAD_PATH",
    "V1_MODELS_PATH",
    "chat_body",
    "checked",
    "decode_json",
    "download_status_path",
    "dumps",
    "embeddings_body",
    "error_from_body",
    "loads",
    "why_not_json",
]

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
EMBEDDINGS_PATH = "/v1/embeddings"
NATIVE_MODELS_PATH = "/api/v0/models"
V1_MODELS_PATH = "/api/v1/models"
LOAD_PATH = "/api/v1/models/load"
UNLOAD_PATH = "/api/v1/models/unload"
DOWNLOAD_PATH = "/api/v1/models/download"


def download_status_path(job_id: str) -> str:
    """``GET /api/v1/models/download/status/{job_id}``, the id quoted (it comes from the server)."""
    return "/api/v1/models/download/status/" + quote(job_id, safe="")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON, as LM Studio (Express) expects it; NaN and infinity refused."""
    return _encoder.encode(value).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """``json.loads``, with JSON nested too deep for the parser's recursion a ``ValueError``
    too: for a reader of answers, both mean "not a JSON document I can use"."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply to read") from exc


# --- requests ---------------------------------------------------------------------------------


def _message(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role}
    content = message.content
    if content is not None:
        wire["content"] = content if isinstance(content, str) else [dict(p) for p in content]
    if message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        wire["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        wire["name"] = message.name
    return wire


def chat_body(request: CompletionRequest, *, stream: bool) -> bytes:
    """The JSON body of ``POST /v1/chat/completions`` for a validated request."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(message) for message in request.messages],
    }
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop is not None:
        body["stop"] = request.stop if isinstance(request.stop, str) else list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    if request.tools:
        body["tools"] = [dict(tool) for tool in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = request.tool_choice
    if request.response_format is not None:
        body["response_format"] = dict(request.response_format)
    body.update(request.extra)
    if stream:
        body["stream"] = True
        # LM Studio 0.3.18+ then ends the stream with a usage chunk; older versions ignore it.
        body["stream_options"] = {"include_usage": True}
    return dumps(body)


def embeddings_body(model: str, inputs: Sequence[str]) -> bytes:
    return dumps({"model": model, "input": list(inputs)})


# --- answers ----------------------------------------------------------------------------------


def decode_json(
    body: bytes,
    *,
    method: str,
    path: str,
    status: int = 200,
    secret: str | None = None,
    model: str | None = None,
) -> Any:
    """The parsed JSON of a 2xx answer, or the error it stands for.

    LM Studio answers unknown routes with 200 and ``{"error": "Unexpected endpoint ..."}``, so
    a 2xx body that is nothing but an error becomes the matching error, not a value.
    """
    try:
        value = loads(body)
    except ValueError as exc:
        start = preview(body, PREVIEW_CHARS, secret)
        raise bad_answer(
            f"not JSON ({why_not_json(exc)}; it starts with {start!r})",
            method=method,
            path=path,
            status=status,
            secret=secret,
        ) from scrub(exc, secret)
    if isinstance(value, dict) and "error" in value and len(value) <= 2:
        raise error_for_status(status, value, method=method, path=path, model=model, secret=secret)
    return value


def checked(parse: Any, value: Any, *, method: str, path: str) -> Any:
    """``parse(value)``, with a ``ShapeError`` (or a structure too deep to walk) turned into an
    ``ApiError``."""
    try:
        return parse(value)
    except ShapeError as exc:
        raise bad_answer(str(exc), method=method, path=path) from exc
    except RecursionError as exc:
        raise bad_answer("JSON nested too deeply to read", method=method, path=path) from exc


def why_not_json(exc: ValueError) -> str:
    """What was wrong with a document that is not JSON, in words that quote none of it."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    return str(exc)


def error_from_body(
    status: int,
    body: bytes,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
    model: str | None = None,
    secret: str | None = None,
) -> ProviderError:
    """The error for a non-2xx answer; its body may be JSON in either error shape, or anything
    (quoted, redacted and cut, as the server's message)."""
    failure: ValueError | None = None
    try:
        payload: object = loads(body) if body else None
    except ValueError as exc:
        failure = exc
        text = preview(body, 200, secret).strip()
        payload = {"error": text} if text else None
    error = error_for_status(
        status,
        payload,
        method=method,
        path=path,
        retry_after=retry_after,
        model=model,
        secret=secret,
    )
    if failure is not None:  # the body did not parse: say why, as ``raise ... from`` would
        error.__cause__ = scrub(failure, secret)
    return error
