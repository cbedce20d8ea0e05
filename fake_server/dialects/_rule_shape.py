"""The shape of a scripted rule: what decides whether the doors' encoders send valid answers.

Checking a rule runs every door's encoder and checks every document it makes (about half a
millisecond, paid by each test that scripts an answer). Two rules of one shape make documents
that differ only in text: the doors put a scripted text only where any string fits, and read
nothing of it but whether it is missing, empty or blank (the token count of a blank text, the
SDK's fragment count). So a shape that passed once passes again, and ``rule_problems`` checks
each shape once per process. Everything else a rule says is part of its shape by value (every
field of its action but the texts, one added later included: tool calls, finish reason, usage,
a stream's faults and timing, the vectors' lengths), with the door it is narrowed to and the
model and profile it is checked with. ``tests/fake_server/test_rule_shape.py`` holds the doors
to this.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Iterable
from dataclasses import fields
from typing import Any

from .._catalog import Model
from ..engine import Reply, Rule, State, Stream

__all__ = ["remember_valid", "rule_shape", "seen_valid"]

#: Shapes whose answers passed every door's check. Bounded: a run scripting an unbounded
#: variety of tool calls starts again rather than growing.
_VALID: set[Hashable] = set()
_LIMIT = 4096


def text_class(text: str | None) -> str:
    """All a door reads of a scripted text's value."""
    if text is None:
        return "none"
    if not text:
        return "empty"
    return "blank" if text.isspace() else "text"


def _texts(texts: Iterable[str]) -> tuple[int, frozenset[str]]:
    items = tuple(texts)
    return len(items), frozenset(text_class(t) for t in items)


def _by_value(value: Any) -> str | None:
    """A JSON value as a key (None: not JSON, so the rule is checked every time)."""
    if not value:  # None, no tool calls, no names: the usual case, without an encoder
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True, allow_nan=True, default=_refuse)
    except (TypeError, ValueError):
        return None


def _refuse(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


def _vectors(vectors: tuple[tuple[float, ...], ...] | None) -> Hashable:
    if vectors is None:
        return None
    finite = all(math.isfinite(x) for vector in vectors for x in vector)
    return tuple(len(vector) for vector in vectors), finite


def _model(model: Model) -> Hashable:
    # repr leaves out the load bookkeeping; the instances are what an answer names.
    return repr(model), tuple(model.instance_numbers), _by_value(model.instance_names)


#: The fields whose value is free text (a string, or a stream's tuple of strings): only its
#: class enters the shape. Every other field enters by value, one added later included, so a
#: new field can cost a check but never skip one.
_TEXT_FIELDS = frozenset({"content", "reasoning", "chunks", "error_message"})
#: ``reply(json=...)``: the content is its JSON text, classed with the content; the value
#: itself is read only against a request's ``response_format``, which a rule check has none of.
_NOT_SENT = frozenset({"json"})


def _field_key(name: str, value: Any) -> Hashable | None:
    if name in _TEXT_FIELDS:
        return _texts(value) if isinstance(value, tuple) else text_class(value)
    if name == "embeddings":
        return "none" if value is None else _vectors(value)
    return _by_value(value)


def rule_shape(rule: Rule, state: State, model: Model) -> Hashable | None:
    """The shape of ``rule`` checked against ``model`` in ``state``; None for a rule checked
    every time (a body given as it is, a value that is not JSON)."""
    action = rule.action
    if not isinstance(action, (Reply, Stream)):
        return None
    answer: list[Hashable] = [type(action).__name__]
    for spec in fields(action):
        if spec.name in _NOT_SENT:
            continue
        key = _field_key(spec.name, getattr(action, spec.name))
        if key is None:
            return None  # not JSON: checked every time
        answer.append((spec.name, key))
    context = (state.profile, state.reasoning_format, _model(model))
    return rule.route, rule.matcher.api, tuple(answer), context


def seen_valid(shape: Hashable | None) -> bool:
    return shape is not None and shape in _VALID


def remember_valid(shape: Hashable | None) -> None:
    if shape is None:
        return
    if len(_VALID) >= _LIMIT:
        _VALID.clear()
    _VALID.add(shape)
