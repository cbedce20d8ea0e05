"""``/api/v1/chat``'s wire shapes: output items, stats, the named events of a stream, and
scripted answers in this door's error form.

Output items come in the order a model produces them: reasoning, the tool calls it made
(each with the tool's output), then the message. A tool call goes through an integration
the request enabled (``integrations``; ``allowed_tools`` narrows one); a call no
integration offers is an ``invalid_tool_call`` (``invalid_name``), as is one whose
arguments are not a JSON object (``invalid_arguments``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._content import ContentSource, count_tokens
from ..._json import dumps
from ...engine import Answer, Fail, Raw, Respond, ToolCall
from .._base import JsonOut, RawOut
from ..openai_shapes import default_fail_message, fail_headers, native_stats

__all__ = [
    "Event",
    "Output",
    "event_text",
    "fail_body",
    "output_of",
    "scripted",
    "stats_of",
]


def fail_body(action: Fail) -> Any:
    """A scripted ``fail()`` in this door's form: ``{"error": {message, type, code?}}``."""
    if action.body is not None:
        return action.body
    message = action.message or default_fail_message(action.status)
    type_ = action.type or ("invalid_request" if action.status < 500 else "internal_error")
    error: dict[str, Any] = {"message": message, "type": type_}
    if action.code is not None:
        error["code"] = action.code
    return {"error": error}


def scripted(action: Fail | Respond | Raw) -> JsonOut | RawOut:
    if isinstance(action, Raw):
        return RawOut(action.status, action.body, action.content_type, action.headers)
    if isinstance(action, Respond):
        return JsonOut(action.status, action.json, action.headers)
    return JsonOut(action.status, fail_body(action), fail_headers(action))


# -- output items ---------------------------------------------------------------------------
def provider_for(tool: str, integrations: Sequence[Any]) -> dict[str, Any] | None:
    """The integration that offers ``tool``: the first enabled one whose ``allowed_tools``
    (if it names any) has it."""
    for integration in integrations:
        if isinstance(integration, str):
            return {"type": "plugin", "plugin_id": integration}
        if not isinstance(integration, dict):
            continue
        allowed = integration.get("allowed_tools")
        if isinstance(allowed, list) and tool not in allowed:
            continue
        if integration.get("type") == "ephemeral_mcp":
            return {"type": "ephemeral_mcp", "server_label": integration["server_label"]}
        return {"type": "plugin", "plugin_id": integration["id"]}
    return None


def tool_item(call: ToolCall, integrations: Sequence[Any], src: ContentSource) -> dict[str, Any]:
    """A tool call as this door reports it: done (with the tool's output), or invalid."""
    try:
        arguments = json.loads(call.arguments)
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        return {
            "type": "invalid_tool_call",
            "reason": f"Failed to parse arguments for tool {call.name}.",
            "metadata": {
                "type": "invalid_arguments",
                "tool_name": call.name,
                "arguments": call.arguments,
            },
        }
    provider = provider_for(call.name, integrations)
    if provider is None:
        return {
            "type": "invalid_tool_call",
            "reason": f"Cannot find tool with name {call.name}.",
            "metadata": {"type": "invalid_name", "tool_name": call.name},
        }
    output = dumps([{"type": "text", "text": src.sentences(1)}])
    return {
        "type": "tool_call",
        "tool": call.name,
        "arguments": arguments,
        "output": output,
        "provider_info": provider,
    }


@dataclass
class Output:
    """What the model produced, as this door lists it: reasoning, tool items, the message."""

    reasoning: list[str]
    tools: list[dict[str, Any]]
    message: list[str] | None

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.reasoning:
            out.append({"type": "reasoning", "content": "".join(self.reasoning)})
        out += self.tools
        if self.message is not None:
            out.append({"type": "message", "content": "".join(self.message)})
        return out


def output_of(answer: Answer, integrations: Sequence[Any]) -> Output:
    tools = [tool_item(c, integrations, answer.src) for c in answer.tool_calls]
    message = None if answer.content is None else list(answer.pieces or [answer.content])
    return Output(list(answer.reasoning_pieces), tools, message)


def stats_of(
    usage: Mapping[str, int], reasoning_tokens: int, load_seconds: float | None
) -> dict[str, Any]:
    """``stats``, from the same token counts as the other doors' usage."""
    native = native_stats(dict(usage), "stop")
    completion = usage["completion_tokens"]
    stats: dict[str, Any] = {
        "input_tokens": usage["prompt_tokens"],
        "total_output_tokens": completion,
        "reasoning_output_tokens": min(reasoning_tokens, completion),
        "tokens_per_second": native["tokens_per_second"],
        "time_to_first_token_seconds": native["time_to_first_token"],
    }
    if load_seconds is not None:
        stats["model_load_time_seconds"] = load_seconds
    return stats


def partial_stats(stats: Mapping[str, Any], output: Output) -> dict[str, Any]:
    """The stats of an answer cut short: the tokens of what was sent."""
    reasoning = count_tokens("".join(output.reasoning))
    message = count_tokens("".join(output.message or ()))
    arguments = sum(count_tokens(dumps(t.get("arguments", {}))) for t in output.tools)
    return {
        **stats,
        "total_output_tokens": reasoning + message + arguments,
        "reasoning_output_tokens": reasoning,
    }


# -- events ---------------------------------------------------------------------------------
@dataclass
class Event:
    """One named event, and what it adds to the output (for the result of a cut stream)."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    reasoning: str | None = None
    message: str | None = None
    item: dict[str, Any] | None = None

    @property
    def document(self) -> dict[str, Any]:
        return {"type": self.type, **self.data}


def event_text(name: str, document: Mapping[str, Any]) -> str:
    """A whole SSE event: ``event: <type>`` then its JSON."""
    return f"event: {name}\ndata: {dumps(document)}\n\n"


def output_events(output: Output) -> list[Event]:
    """The events of an output, in order: reasoning, tool calls, message."""
    events: list[Event] = []
    if output.reasoning:
        events.append(Event("reasoning.start"))
        events += [Event("reasoning.delta", {"content": p}, reasoning=p) for p in output.reasoning]
        events.append(Event("reasoning.end"))
    for item in output.tools:
        if item["type"] == "tool_call":
            head = {"tool": item["tool"], "provider_info": item["provider_info"]}
            with_arguments = {"tool": item["tool"], "arguments": item["arguments"]}
            events.append(Event("tool_call.start", head))
            events.append(
                Event(
                    "tool_call.arguments",
                    {**with_arguments, "provider_info": head["provider_info"]},
                )
            )
            done = {
                **with_arguments,
                "output": item["output"],
                "provider_info": item["provider_info"],
            }
            events.append(Event("tool_call.success", done, item=item))
        else:
            failure = {"reason": item["reason"], "metadata": item["metadata"]}
            events.append(Event("tool_call.failure", failure, item=item))
    if output.message is not None:
        events.append(Event("message.start", message=""))
        events += [Event("message.delta", {"content": p}, message=p) for p in output.message]
        events.append(Event("message.end"))
    return events


def output_sent(events: Sequence[Event]) -> Output:
    """The output of the events a cut stream sent."""
    out = Output([], [], None)
    for event in events:
        if event.reasoning is not None:
            out.reasoning.append(event.reasoning)
        if event.item is not None:
            out.tools.append(event.item)
        if event.message is not None:
            out.message = [*(out.message or []), event.message]
    return out
