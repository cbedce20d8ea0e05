"""The Responses door's wire shapes: ids, output items, the response object, usage.

Key orders follow LM Studio's observed payloads (0.4.0: ``id`` ... ``error``; the keys after
``error`` in the Open Responses order). The strict ``openai`` profile leaves out what the
official schema refuses (``user`` and ``usage`` as null) and adds what it requires
(``cache_write_tokens``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..._content import count_tokens
from ...engine import Answer, State

RESPONSE_SCHEMA = "responses/response.schema.json"
EVENT_SCHEMA = "responses/stream-event.schema.json"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
#: ``msg_``, ``rs_`` and ``fc_`` ids: 21 base-36 characters (``msg_b9rzqyamegdp09s936dvh``).
ITEM_ID_LENGTH = 21

__all__ = [
    "EVENT_SCHEMA",
    "RESPONSE_SCHEMA",
    "item_id",
    "output_items",
    "response_document",
    "response_id",
    "usage_of",
]


def response_id(seed: int, number: int, answer: Answer | None) -> str:
    """``resp_`` and 48 lowercase hex digits: seeded by the fake's seed, the request (through
    its answer's source) and the response's number in this state, so two identical requests
    still get two ids and a run replays with the same ids."""
    basis = answer.src.completion_id("") if answer is not None else ""
    digest = hashlib.blake2b(
        f"{seed}\x00{number}\x00{basis}".encode("utf-8", "surrogatepass"), digest_size=24
    )
    return "resp_" + digest.hexdigest()


def item_id(response: str, prefix: str, index: int) -> str:
    """An output item's id, drawn from its response's id and its place."""
    digest = hashlib.blake2b(
        f"{response}\x00{prefix}\x00{index}".encode("utf-8", "surrogatepass"), digest_size=16
    )
    number = int.from_bytes(digest.digest(), "big")
    digits = []
    for _ in range(ITEM_ID_LENGTH):
        number, digit = divmod(number, 36)
        digits.append(_BASE36[digit])
    return prefix + "".join(digits)


def incomplete(answer: Answer) -> bool:
    """Cut short by ``max_output_tokens`` (or the context left): ``status: "incomplete"``."""
    return answer.finish_reason == "length"


def output_items(answer: Answer, response: str) -> list[dict[str, Any]]:
    """The answer as output items: reasoning first, then the message, then each function
    call. A reasoning model cut short while reasoning has no message at all; the last item of
    a cut answer is ``incomplete``."""
    items: list[dict[str, Any]] = []
    if answer.reasoning is not None:
        items.append(
            {
                "id": item_id(response, "rs_", len(items)),
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": answer.reasoning}],
            }
        )
    text = answer.content
    cut = incomplete(answer)
    if text is not None and not (text == "" and (answer.tool_calls or (cut and items))):
        items.append(
            {
                "id": item_id(response, "msg_", len(items)),
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [output_text(text)],
            }
        )
    for call in answer.tool_calls:
        items.append(
            {
                "id": item_id(response, "fc_", len(items)),
                "type": "function_call",
                "status": "completed",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
            }
        )
    if cut and items and "status" in items[-1]:
        items[-1]["status"] = "incomplete"
    return items


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def usage_of(answer: Answer) -> dict[str, Any]:
    """OpenAI's ``ResponseUsage`` from the answer's token counts (reasoning counted in the
    output, and named apart)."""
    usage = answer.usage
    output = usage["completion_tokens"]
    reasoning = min(count_tokens(answer.reasoning or ""), output)
    return {
        "input_tokens": usage["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": usage["total_tokens"],
    }


def _echo(body: Mapping[str, Any], key: str, types: type | tuple[type, ...], default: Any) -> Any:
    """The request's value of ``key`` when it has the type the answer needs, else ``default``
    (LM Studio echoes what it was asked)."""
    value = body.get(key)
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        return default
    return value if isinstance(value, types) else default


def _tools(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    tools = body.get("tools")
    return [
        {
            "type": "function",
            "name": tool.get("name"),
            "description": tool.get("description"),
            "parameters": tool.get("parameters"),
            "strict": tool.get("strict") if isinstance(tool.get("strict"), bool) else True,
        }
        for tool in (tools if isinstance(tools, list) else ())
        if isinstance(tool, dict) and tool.get("type") == "function"
    ]


def response_document(
    *,
    state: State,
    body: Mapping[str, Any],
    response: str,
    created: int,
    completed: int | None,
    status: str,
    model: str,
    items: Sequence[Mapping[str, Any]],
    usage: Mapping[str, Any] | None,
    error: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The response object, whole (a body, or the ``response`` of a lifecycle event)."""
    reason = {"reason": "max_output_tokens"} if status == "incomplete" else None
    document: dict[str, Any] = {
        "id": response,
        "object": "response",
        "created_at": created,
        "completed_at": completed,
        "status": status,
        "incomplete_details": reason,
        "model": model,
        "previous_response_id": _echo(body, "previous_response_id", str, None),
        "instructions": _echo(body, "instructions", str, None),
        "output": [dict(item) for item in items],
        "error": None if error is None else dict(error),
        "tools": _tools(body),
        "tool_choice": _echo(body, "tool_choice", (str, dict), "auto"),
        "truncation": _echo(body, "truncation", str, "disabled"),
        "parallel_tool_calls": _echo(body, "parallel_tool_calls", bool, True),
        "text": _echo(body, "text", dict, {"format": {"type": "text"}}),
        "top_p": _echo(body, "top_p", (int, float), 1),
        "presence_penalty": _echo(body, "presence_penalty", (int, float), 0),
        "frequency_penalty": _echo(body, "frequency_penalty", (int, float), 0),
        "top_logprobs": _echo(body, "top_logprobs", int, 0),
        "temperature": _echo(body, "temperature", (int, float), 1),
        "reasoning": _echo(body, "reasoning", dict, None),
        "user": _echo(body, "user", str, None),
        "usage": None if usage is None else dict(usage),
        "max_output_tokens": _echo(body, "max_output_tokens", int, None),
        "max_tool_calls": None,
        "store": _echo(body, "store", bool, True),
        "background": False,
        "service_tier": "default",
        "metadata": _echo(body, "metadata", dict, {}),
        "safety_identifier": _echo(body, "safety_identifier", str, None),
        "prompt_cache_key": _echo(body, "prompt_cache_key", str, None),
    }
    if state.profile.strict_openai:
        if document["user"] is None:
            del document["user"]  # OpenAI's schema has no null user
        if usage is None:
            del document["usage"]  # nor a null usage (a response still in progress)
        else:
            details = {**usage["input_tokens_details"], "cache_write_tokens": 0}
            document["usage"]["input_tokens_details"] = details
    if document["top_logprobs"] < 0:
        document["top_logprobs"] = 0
    return document
