"""JSON that fits a JSON Schema: the fake's answer to ``response_format: json_schema``.

LM Studio turns ``response_format.json_schema.schema`` into a grammar, so its answer always parses
and fits. :func:`generate` does the same, deterministically: the same schema, rng state and words
give the same value. :func:`check` rejects up front (the caller answers 400) what the generator
cannot honour, raising :class:`UnsupportedSchema` with the keyword and the JSON pointer; once
``check`` passes, ``generate`` answers (bar a ``oneOf`` or ``uniqueItems`` that only some draws
can meet after a few tries: that raises too). Whether ``strict`` came as ``true`` or as the string
``"true"`` of LM Studio's own docs is the caller's concern: the schema is honoured either way, as
the grammar does.

Semantics are JSON Schema 2020-12 for :data:`SUPPORTED_KEYWORDS`; annotations
(:data:`IGNORED_KEYWORDS`) and unknown keywords are ignored, as validators do;
:data:`UNSUPPORTED_KEYWORDS` raise, and so does anything no value satisfies (``minimum`` above
``maximum``, a ``pattern`` the generator cannot honour, recursion without end). Between
alternatives (listed types, ``anyOf`` / ``oneOf`` branches) what cannot be generated is skipped
when another can (older pydantic wrote ``Decimal`` as a number or a string with a lookahead).
``format`` is generated (date, time, date-time, duration, email, uuid, uri, uri-reference,
hostname, ipv4, ipv6, json-pointer, regex and pydantic's own), never checked.

The shape of the answers: every required property and about half of the optional ones, in the
schema's order; arrays of 1 to 3 items within their bounds; strings of 1 to 3 words; numbers in
[0, 100] when unbounded; past :data:`SOFT_DEPTH` nested levels no optional property and the fewest
items, so recursive schemas stay small. A schema is compiled once per canonical JSON text (bounded
LRU); jsonschema stays out of the hot path.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from ._compile import IGNORED_KEYWORDS, SUPPORTED_KEYWORDS, UNSUPPORTED_KEYWORDS, Graph
from ._nodes import (
    DEFAULT_WORDS,
    Node,
    UnsupportedSchema,
    canon,
    dictlike,
    fits,
    item,
    ok_number,
    ok_string,
    strings,
    unsat,
)

__all__ = [
    "IGNORED_KEYWORDS",
    "SUPPORTED_KEYWORDS",
    "UNSUPPORTED_KEYWORDS",
    "UnsupportedSchema",
    "check",
    "generate",
]

SOFT_DEPTH = 4
CACHE_SIZE = 128
MAX_NESTING = 200  # JSON levels in a schema: deeper would exhaust the stack, not just the patience
_P_OPTIONAL = 0.5  # the chance an optional property is there
_P_NULL = 0.4  # the chance "null" stays the pick when other types are listed


def generate(
    schema: Mapping[str, Any] | bool, rng: random.Random, words: Sequence[str] = ()
) -> Any:
    """A JSON value that fits ``schema``, drawn from ``rng``; strings are made of ``words`` (e.g.
    the fake's seeded word list; a few defaults when empty). Raises :class:`UnsupportedSchema`."""
    return _gen(_compiled(_key(schema)).top, rng, words or DEFAULT_WORDS, 0)


def check(schema: Mapping[str, Any] | bool) -> None:
    """Raise :class:`UnsupportedSchema` unless :func:`generate` can honour ``schema``."""
    _compiled(_key(schema))


def _key(schema: Any) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return dict(value)
        raise TypeError(f"{type(value).__name__} is not JSON")

    try:
        return json.dumps(schema, separators=(",", ":"), allow_nan=False, default=plain)
    except RecursionError as exc:
        raise UnsupportedSchema(
            "schema", "", f"nested more than {MAX_NESTING} levels deep"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise UnsupportedSchema("schema", "", f"not JSON: {exc}") from exc


def _nesting(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend(
                (v, depth + 1) for v in (value.values() if isinstance(value, dict) else value)
            )
    return deepest


@lru_cache(maxsize=CACHE_SIZE)
def _compiled(key: str) -> Graph:
    root = json.loads(key)  # a private copy: callers may change theirs
    if _nesting(root) > MAX_NESTING:
        raise UnsupportedSchema("schema", "", f"nested more than {MAX_NESTING} levels deep")
    graph = Graph(root)
    _gen(graph.top, random.Random(0), DEFAULT_WORDS, 0)  # so that check() passing means it works
    return graph


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value)) if isinstance(value, (dict, list)) else value


def _gen(n: Node, rng: random.Random, words: Sequence[str], depth: int) -> Any:
    small = depth >= SOFT_DEPTH
    if n.variants is not None:
        return _gen_variant(n, rng, words, depth, small)
    if n.enum is not None:
        value = rng.choice(n.enum)
        if not isinstance(value, (dict, list)):
            return value  # scalars were checked in full when compiling
        for pick in (value, *n.enum):
            if fits(n, pick, sure=True):
                return _copy(pick)
        raise unsat("enum", n.pointer, "no listed value fits")
    t = n.cheapest if small else rng.choice(n.gen_types)
    if t == "null" and not small and len(n.gen_types) > 1 and rng.random() > _P_NULL:
        t = rng.choice([x for x in n.gen_types if x != "null"])
    if t == "null":
        return None
    if t == "boolean":
        return rng.random() < 0.5
    if t == "integer":
        step, fallback = n.ints
        v = rng.randint(*n.ks) * step
        return v if ok_number(n, v) else fallback
    if t == "number":
        a, b, fstep, fallback_f = n.floats  # a bound and b bound, or the k range of the step
        x = round(rng.uniform(a, b), 2) if fstep is None else float(rng.randint(*n.ks) * fstep)
        return x if ok_number(n, x) else fallback_f
    if t == "string":
        for s in strings(n, rng, words, tries=3):
            if ok_string(n, s):
                return s
        return n.fallback
    if t == "array":
        return _gen_array(n, rng, words, depth, small)
    return _gen_object(n, rng, words, depth, small)


def _gen_variant(n: Node, rng: random.Random, words: Sequence[str], depth: int, small: bool) -> Any:
    options = [(i, v) for i, v in n.variants or () if v.rank is not None]
    if small:
        options.sort(key=lambda iv: iv[1].rank or 0)  # the cheapest first: recursion ends
    else:
        rng.shuffle(options)
    if n.one_of is None:
        return _gen(options[0][1], rng, words, depth)
    for i, v in options:
        for _ in range(3):
            value = _gen(v, rng, words, depth)
            if not any(fits(b, value, sure=False) for j, b in enumerate(n.one_of) if j != i):
                return value
    raise unsat("oneOf", n.pointer, "no value found that matches exactly one branch")


def _gen_array(n: Node, rng: random.Random, words: Sequence[str], depth: int, small: bool) -> Any:
    lo, hi = n.min_items, n.max_items
    if small:
        count = lo
    else:
        a = max(lo, 1) if hi is None or hi >= 1 else 0
        count = rng.randint(a, max(a, 3) if hi is None else min(hi, max(a, 3)))
    out: list[Any] = []
    seen: set[str] = set()
    for i in range(count):
        node = item(n, i)
        for _ in range(8 if n.unique else 1):
            value = rng.choice(words) if node is None else _gen(node, rng, words, depth + 1)
            key = canon(value) if n.unique else ""
            if not n.unique or key not in seen:
                break
        else:  # a small enum: the first value not used yet
            spare = [c for c in (node.enum if node else None) or () if canon(c) not in seen]
            if spare:
                value, key = _copy(spare[0]), canon(spare[0])
            elif len(out) >= lo:
                break
            else:
                raise unsat("uniqueItems", n.pointer, "not enough distinct items found")
        seen.add(key)
        out.append(value)
    return out


def _gen_object(n: Node, rng: random.Random, words: Sequence[str], depth: int, small: bool) -> Any:
    out: dict[str, Any] = {}
    required = sum(req for _, _, req in n.order)
    budget = math.inf if n.max_props is None else n.max_props - required
    for name, child, req in n.order:
        if not req:
            if child.never or small or budget <= 0 or rng.random() >= _P_OPTIONAL:
                continue
            budget -= 1
        out[name] = _gen(child, rng, words, depth + 1)
    for name, child, _ in n.order:  # minProperties: the optional ones first
        if len(out) >= n.min_props:
            break
        if name not in out and not child.never:
            out[name] = _gen(child, rng, words, depth + 1)
    extras = n.min_props - len(out)
    if extras <= 0 and dictlike(n) and not small and n.max_props is None:
        extras = rng.randint(1, 2)
    for i in range(10 * max(extras, 0)):
        name = rng.choice(words) + (str(i) if i else "")
        if name not in out and name not in n.props:
            out[name] = _gen(n.extra, rng, words, depth + 1) if n.extra else name
            extras -= 1
            if extras == 0:
                break
    return out
