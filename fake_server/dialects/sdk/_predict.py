"""The ``predict`` channel (``respond``, ``respond_stream``, ``complete``, each round of
``act``): a chat turn through the same engine as every HTTP door, so ``fake.chat`` rules,
delays, chaos and stream plans answer it (``when(api="sdk")`` narrows a rule to this door).

A prediction streams ``promptProcessingProgress``, then one ``fragment`` per token (on a
scripted stream's schedule, with its faults), then tool calls, then ``success`` with the
stats the HTTP doors report. A client's ``cancel`` ends it early with ``userStopped``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from typing import Any

from ..._catalog import Model
from ..._content import (
    count_tokens,
    cut_pieces,
    first_stop,
    message_text,
    prompt_tokens_for_texts,
)
from ...engine import (
    Answer,
    ContextOverflow,
    Decision,
    Fail,
    ModelRefused,
    Raw,
    Respond,
    Stream,
    ToolSpec,
    Turn,
    compose,
)
from ..openai import MSG_DOES_NOT_FIT, MSG_KEEP_FIRST
from ._models import decided, fail_error, raw_frame, resolved
from ._protocol import Channel, Gone, Request, SdkError
from ._shapes import error, instance_info, kv_config, load_config, prediction_stats

__all__ = [
    "apply_prompt_template",
    "complete_raw_text",
    "history_issues",
    "predict",
    "stack_fields",
]

STRUCTURED = "llm.prediction.structured"
TOOLS = "llm.prediction.tools"
MAX_TOKENS = "llm.prediction.maxPredictedTokens"
STOP_STRINGS = "llm.prediction.stopStrings"
ROLES = ("system", "user", "assistant", "tool")


def stack_fields(stack: Any) -> dict[str, Any]:
    """A KV config stack's settings merged: later layers override earlier ones."""
    merged: dict[str, Any] = {}
    for layer in stack.get("layers", ()) if isinstance(stack, dict) else ():
        config = layer.get("config") if isinstance(layer, dict) else None
        for field in config.get("fields", ()) if isinstance(config, dict) else ():
            if isinstance(field, dict) and isinstance(field.get("key"), str):
                merged[field["key"]] = field.get("value")
    return merged


def history_issues(history: Any, where: str = "creationParameter.history") -> list[str]:
    """A chat history's shape: messages with a known role and a list of content parts."""
    if not isinstance(history, dict) or not isinstance(history.get("messages"), list):
        return [f"- {where}.messages: Required (an array of messages)"]
    found = []
    for index, message in enumerate(history["messages"]):
        at = f"{where}.messages.{index}"
        if not isinstance(message, dict):
            found.append(f"- {at}: Expected object")
        elif message.get("role") not in ROLES:
            found.append(f"- {at}.role: Invalid enum value. Expected {' | '.join(ROLES)}")
        elif not isinstance(message.get("content"), list):
            found.append(f"- {at}.content: Expected array")
    return found


def _texts(history: Mapping[str, Any]) -> tuple[str, ...]:
    """What a ``contains=`` rule searches: each message's text parts and tool results."""
    texts = []
    for message in history["messages"]:
        parts = [
            {"type": "text", "text": p.get("content", "")}
            if isinstance(p, dict) and p.get("type") == "toolCallResult"
            else p
            for p in message["content"]
        ]
        texts.append(message_text(parts))
    return tuple(texts)


def _tools(config: Mapping[str, Any]) -> tuple[tuple[ToolSpec, ...], Any]:
    value = config.get(TOOLS)
    tools = value.get("tools") if isinstance(value, dict) else None
    if not isinstance(tools, list):
        return (), None
    specs = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            specs.append(ToolSpec(function["name"], function.get("parameters")))
    return tuple(specs), tools


def _max_tokens(config: Mapping[str, Any]) -> int | None:
    value = config.get(MAX_TOKENS)
    if isinstance(value, dict) and value.get("checked"):
        value = value.get("value")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def _output_schema(config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The JSON schema ``response_format`` asks the answer to fit (None: free text)."""
    value = config.get(STRUCTURED)
    if not isinstance(value, dict) or value.get("type") != "json":
        return None
    schema = value.get("jsonSchema")
    schema = schema if isinstance(schema, dict) else {}
    # Loaded on the first structured request: a suite that never asks for one never pays it.
    from ..._schema_json import UnsupportedSchema
    from ..._schema_json import check as check_schema

    try:
        check_schema(schema)
    except UnsupportedSchema as exc:
        raise SdkError(error(exc.describe(STRUCTURED + ".jsonSchema")), 400) from None
    return schema


def _turn(request: Request, model: Model, config: dict[str, Any]) -> Turn:
    history = request.parameter["history"]
    texts = _texts(history)
    specs, tools = _tools(config)
    body = {"model": model.id, "history": history, "config": config}
    return Turn(
        "chat",
        "sdk",
        body,
        model.id,
        stream=True,
        texts=texts,
        prompt_tokens=prompt_tokens_for_texts(texts, tools),
        max_tokens=_max_tokens(config),
        tools=specs,
        output_schema=_output_schema(config),
    )


async def predict(request: Request, channel: Channel) -> None:
    """A chat turn (``fake.chat`` rules answer it)."""
    await _predict(request, channel, raw=False)


async def complete_raw_text(request: Request, channel: Channel) -> None:
    """``complete()`` of ``@lmstudio/sdk`` 2.x: a text-completion turn of ``rawPrompt``
    (``fake.completions`` rules answer it), answered like ``predict`` without tool calls."""
    await _predict(request, channel, raw=True)


def _completion_turn(request: Request, model: Model, config: dict[str, Any]) -> Turn:
    prompt = request.parameter["rawPrompt"]
    body = {"model": model.id, "prompt": prompt, "config": config}
    return Turn(
        "completions", "sdk", body, model.id, stream=True, texts=(prompt,),
        prompt_tokens=count_tokens(prompt), max_tokens=_max_tokens(config),
    )  # fmt: skip


async def _predict(request: Request, channel: Channel, *, raw: bool) -> None:
    parameter = request.parameter
    preset = parameter.get("fuzzyPresetIdentifier")
    if isinstance(preset, str):
        raise SdkError(_preset_not_found(preset), 404)
    model, number = resolved(request, parameter["modelSpecifier"])
    request.entry.model = model.id
    config = stack_fields(parameter["predictionConfigStack"])
    turn = _completion_turn(request, model, config) if raw else _turn(request, model, config)
    try:
        decision = await decided(request, turn)
    except ContextOverflow as overflow:
        keep = request.state.profile.context_error == "keep_first"
        words = MSG_KEEP_FIRST if keep else MSG_DOES_NOT_FIT
        message = words.format(tokens=overflow.tokens, context=overflow.context)
        raise SdkError(error(message)) from None
    except ModelRefused:
        raise SdkError(error(f'Model "{model.id}" is not loaded'), 404) from None
    action = decision.action
    if isinstance(action, Raw):
        raise raw_frame(action)
    if isinstance(action, Respond):
        await channel.finish(action.json)  # one packet, as given
        return
    if isinstance(action, Fail):
        raise SdkError(fail_error(action), action.status)
    answer = compose(decision, request.state.seed, 0)
    await _stream(request, channel, decision, answer, model, number, config)


def _preset_not_found(preset: str) -> dict[str, Any]:
    return error(
        f'Cannot find a preset matching "{preset}"',
        display={
            "code": "generic.presetNotFound",
            "specifiedFuzzyPresetIdentifier": preset,
            "availablePresetsSample": [],
            "totalAvailablePresets": 0,
        },
    )


def _fragment(content: str, reasoning: str = "none", structural: bool = False) -> dict[str, Any]:
    fragment: dict[str, Any] = {
        "content": content,
        "tokensCount": max(count_tokens(content), 1) if content.strip() else 1,
        "containsDrafted": False,
        "reasoningType": reasoning,
        "isStructural": structural,
    }
    return {"type": "fragment", "fragment": fragment}


def _prompt_progress(prompt_tokens: int, progress: float) -> dict[str, Any]:
    done = round(prompt_tokens * progress)
    details = {
        "cachedTokenCount": 0,
        "totalPromptTokenCount": prompt_tokens,
        "processedPromptTokenCount": done,
        "unprocessedPromptTokenCount": prompt_tokens - done,
    }
    return {"type": "promptProcessingProgress", "progress": progress, "details": details}


def _tool_packets(answer: Answer) -> list[dict[str, Any]]:
    packets: list[dict[str, Any]] = []
    for call in answer.tool_calls:
        try:
            arguments = json.loads(call.arguments)
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            raise ValueError(
                f"tool call {call.name!r}: its arguments must be a JSON object (the SDK's "
                f"toolCallRequest.arguments), got {call.arguments!r}"
            )
        request: dict[str, Any] = {
            "id": call.id, "type": "function", "name": call.name, "arguments": arguments,
        }  # fmt: skip
        raw = json.dumps({"name": call.name, "arguments": arguments})
        packets.append({"type": "toolCallGenerationStart", "toolCallId": call.id})
        packets.append(
            {
                "type": "toolCallGenerationEnd",
                "toolCallRequest": request,
                "rawContent": f"<tool_call>{raw}</tool_call>",
            }
        )
    return packets


def encode(
    decision: Decision, answer: Answer
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """The fragments (reasoning, then content, cut at a stop string), the tool-call packets,
    and the stop string that ended the answer (if one did)."""
    pieces = list(answer.pieces)
    content = answer.content or ""
    stops = (decision.turn.body or {}).get("config", {}).get(STOP_STRINGS)
    stop = first_stop(content, stops)
    tools = _tool_packets(answer)
    if stop is not None:
        pieces, tools = cut_pieces(pieces, content.index(stop)), []
    fragments = []
    if answer.reasoning_pieces:
        fragments.append(_fragment("<think>", "reasoningStartTag", True))
        fragments += [_fragment(p, "reasoning") for p in answer.reasoning_pieces]
        fragments.append(_fragment("</think>", "reasoningEndTag", True))
    fragments += [_fragment(p) for p in pieces]
    return fragments, tools, stop


async def _stream(
    request: Request,
    channel: Channel,
    decision: Decision,
    answer: Answer,
    model: Model,
    number: int,
    config: dict[str, Any],
) -> None:
    fragments, tools, stop = encode(decision, answer)
    prompt = answer.usage["prompt_tokens"]
    await channel.send(_prompt_progress(prompt, 0.0))
    await channel.send(_prompt_progress(prompt, 1.0))
    plan = answer.plan or Stream(chunks=())
    loop = asyncio.get_running_loop()
    start = loop.time()
    rng = random.Random(request.state.seed)
    sent = 0
    for index in range(len(fragments) + 1):
        if index == plan.drop_after:
            request.settle(f"stream dropped after {index} fragments")
            request.socket.cut()
            raise Gone
        if index == plan.stall_after:
            request.settle(f"stream stalled after {index} fragments")
            await request.socket.held()
            request.settle(f"stream stalled after {index} fragments, released")
            request.socket.cut()
            raise Gone
        if index == plan.error_after:
            request.settle(f"stream error after {index} fragments")
            raise SdkError(error(plan.error_message), 200)
        if index == len(fragments) or channel.cancelled.is_set():
            break
        if plan.ttft or plan.interval or plan.jitter:
            due = start + plan.ttft + index * plan.interval
            if plan.jitter:
                due += rng.uniform(0.0, plan.jitter)
            wait = due - loop.time()
            if wait > 0:
                try:
                    await asyncio.wait_for(channel.cancelled.wait(), wait)
                    break
                except asyncio.TimeoutError:
                    pass
        await channel.send(fragments[index])
        sent += 1
    if not plan.done:
        return  # the channel closes without its final packet
    cancelled = channel.cancelled.is_set()
    usage = dict(answer.usage)
    stop_reason = None
    if cancelled:
        usage["completion_tokens"] = sum(f["fragment"]["tokensCount"] for f in fragments[:sent])
        stop_reason = "userStopped"
    else:
        for packet in tools:
            await channel.send(packet)
        if stop is not None:
            stop_reason = "stopStringFound"
        elif answer.finish_reason == "length" and _context_cut(decision):
            stop_reason = "contextLengthReached"
    stats = prediction_stats(usage, answer.finish_reason, stop_reason)
    if stop is not None and not cancelled:
        stats["stopString"] = stop
    with request.engine.lock:
        info = instance_info(model, number)
        loaded = load_config(model)
    await channel.finish(
        {
            "type": "success",
            "stats": stats,
            "modelInfo": info,
            "loadModelConfig": loaded,
            "predictionConfig": kv_config(config),
        }
    )


def _context_cut(decision: Decision) -> bool:
    """A default answer cut by the context's room rather than by the token limit."""
    turn, room = decision.turn, decision.room
    return (
        decision.action is None
        and room is not None
        and (turn.max_tokens is None or room < turn.max_tokens)
    )


async def apply_prompt_template(request: Request) -> Any:
    """The history as a chat template would lay it out (the fake's own template)."""
    model, _ = resolved(request, request.parameter["specifier"])
    request.entry.model = model.id
    history = request.parameter["history"]
    messages = history["messages"]
    lines = [f"<|{m['role']}|>{t}" for m, t in zip(messages, _texts(history), strict=True)]
    return {"formatted": "\n".join(lines)}
