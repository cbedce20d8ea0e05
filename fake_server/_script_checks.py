"""The scripting API's argument checks: each says what was wrong and what to pass instead."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._catalog import MAX_SECONDS, seconds_in_range
from ._errors import ScriptError

if TYPE_CHECKING:
    from .engine import Rule, State

FINISH_REASONS: tuple[str, ...] = ("stop", "length", "tool_calls")
#: Bounds that keep a scripted value from holding a request for ever or blocking the loop.
MAX_RETRY_AFTER_SECONDS = 86400.0
MAX_GARBAGE_BYTES = 1024 * 1024
MAX_BYTES_PER_SECOND = 1e9
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


__all__ = [
    "MAX_BYTES_PER_SECOND",
    "MAX_GARBAGE_BYTES",
    "MAX_RETRY_AFTER_SECONDS",
    "check_count",
    "check_finish",
    "check_headers",
    "check_rule_model",
    "check_seconds",
    "check_status",
    "check_text",
    "check_times",
    "check_usage",
    "check_vectors",
    "normalize_tool_calls",
]


def check_times(times: object) -> int | None:
    if times is None:
        return None
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ScriptError(f"times must be a positive integer or None (for always), got {times!r}")
    return times


def check_usage(usage: object) -> Mapping[str, int] | None:
    if usage is None:
        return None
    if not isinstance(usage, Mapping) or set(usage) - {"prompt_tokens", "completion_tokens"}:
        raise ScriptError(
            "usage must be a mapping with prompt_tokens and/or completion_tokens; "
            f"got {usage!r} (total_tokens is computed)"
        )
    for key, value in usage.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ScriptError(f"usage[{key!r}] must be a non-negative integer, got {value!r}")
    return dict(usage)


def check_finish(finish_reason: object) -> str | None:
    if finish_reason is None:
        return None
    if not isinstance(finish_reason, str) or finish_reason not in FINISH_REASONS:
        raise ScriptError(
            f"finish_reason must be one of {', '.join(FINISH_REASONS)}; got {finish_reason!r}"
        )
    return finish_reason


def normalize_tool_calls(tool_calls: object) -> tuple[dict[str, Any], ...]:
    """``[{"name": ..., "arguments": {...} | "json", "id"?: ...}]`` → checked, arguments as text."""
    if tool_calls is None:
        return ()
    if not isinstance(tool_calls, Sequence) or isinstance(tool_calls, (str, bytes)):
        raise ScriptError(
            f"tool_calls must be a list of {{'name', 'arguments'}} dicts, got {tool_calls!r}"
        )
    out = []
    for i, call in enumerate(tool_calls):
        if (
            not isinstance(call, Mapping)
            or not isinstance(call.get("name"), str)
            or not call["name"]
        ):
            raise ScriptError(f"tool_calls[{i}] needs a non-empty 'name' string, got {call!r}")
        unknown = set(call) - {"name", "arguments", "id"}
        if unknown:
            raise ScriptError(
                f"tool_calls[{i}] has unknown keys {sorted(unknown)}; use name, arguments, id"
            )
        arguments = call.get("arguments", {})
        if isinstance(arguments, str):
            try:
                json.loads(arguments)
            except ValueError as exc:
                raise ScriptError(
                    f"tool_calls[{i}].arguments is a string but not JSON ({exc}); pass a dict "
                    "or a JSON text (use fake.chat.raw() to send broken arguments on purpose)"
                ) from None
            text = arguments
        elif isinstance(arguments, Mapping):
            text = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
        else:
            raise ScriptError(f"tool_calls[{i}].arguments must be a dict or a JSON string")
        call_id = call.get("id")
        if call_id is not None and (not isinstance(call_id, str) or not call_id):
            raise ScriptError(f"tool_calls[{i}].id must be a non-empty string")
        out.append({"id": call_id, "name": call["name"], "arguments": text})
    return tuple(out)


def check_status(status: object, low: int, high: int, what: str) -> int:
    if not isinstance(status, int) or isinstance(status, bool) or not low <= status <= high:
        raise ScriptError(f"{what} status must be an integer from {low} to {high}, got {status!r}")
    return status


def check_seconds(value: object, name: str, most: float = MAX_SECONDS) -> float:
    if not seconds_in_range(value, 0.0, most):
        raise ScriptError(
            f"{name} must be a non-negative number of seconds (at most {most:g}), got {value!r}"
        )
    return float(value)  # type: ignore[arg-type]


def check_count(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ScriptError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def check_text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScriptError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_headers(headers: object) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ScriptError(f"headers must be a mapping of strings to strings, got {headers!r}")
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or any(c in value for c in "\r\n\0"):
            raise ScriptError(
                f"header {name!r}: {value!r} cannot be sent: a header name is a token "
                "(letters, digits, -) and a value has no line break or NUL"
            )
    return dict(headers)


#: A rule for a model the catalog lacks: a request for it gets LM Studio's model-not-found
#: before any rule is tried, so the rule could never answer.
UNKNOWN_RULE_MODEL = (
    "when(model={model!r}): the catalog has no model {model!r}, so this rule would never "
    "answer (a request for it gets LM Studio's model-not-found before any rule is tried).{close} "
    "Add the model before scripting for it: fake.add_model({model!r}), or "
    "@pytest.mark.lmstudio(models=[...]). In the catalog: {ids}."
)


def check_rule_model(rule: Rule, state: State) -> None:
    """Refuse a rule narrowed to a model the catalog lacks, with the closest ids as a "did
    you mean". With the single-loaded fallback on, an unknown id is served (by the one loaded
    model) and can match, so any id goes; a model list scripted for an id is any id's
    business."""
    model, catalog = rule.matcher.model, state.catalog
    if model is None or rule.route == "models" or state.single_loaded_fallback:
        return
    if catalog.lookup(model) is not None:
        return
    import difflib

    ids = [m.id for m in catalog.models()]
    close = difflib.get_close_matches(model, ids, n=1, cutoff=0.5)
    if not close:  # "qwen3-8b" for "qwen/qwen3-8b": the id without its publisher
        close = [i for i in ids if i.rpartition("/")[2] == model.rpartition("/")[2]][:1]
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ScriptError(UNKNOWN_RULE_MODEL.format(model=model, close=hint, ids=catalog.ids_text()))


def check_vectors(embeddings: object) -> tuple[tuple[float, ...], ...]:
    if (
        isinstance(embeddings, (str, bytes))
        or not isinstance(embeddings, Sequence)
        or not embeddings
    ):
        raise ScriptError("embeddings must be a non-empty list of vectors (lists of numbers)")
    out = []
    for i, vector in enumerate(embeddings):
        if (
            isinstance(vector, (str, bytes))
            or not isinstance(vector, Sequence)
            or not vector
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector)
        ):
            raise ScriptError(f"embeddings[{i}] must be a non-empty list of numbers")
        out.append(tuple(float(x) for x in vector))
    lengths = [len(vector) for vector in out]
    if len(set(lengths)) > 1:
        odd = next(i for i, length in enumerate(lengths) if length != lengths[0])
        raise ScriptError(
            f"embeddings must all have the same length (one model's vectors share one "
            f"dimension): embeddings[0] has {lengths[0]} numbers, embeddings[{odd}] has "
            f"{lengths[odd]}"
        )
    return tuple(out)
