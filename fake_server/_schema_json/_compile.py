"""A schema compiled into a graph of :class:`Node`, checked in full before anything is generated.

Each node merges the ``allOf`` / ``$ref`` keywords of one location (memoised by the identity of
the schema objects, so recursive references close into cycles). The first ``anyOf`` / ``oneOf``
of a node becomes its variants: the node merged with each branch in turn, recursively. Then a
least fixpoint ranks every node that has a finite value, and a walk from the root raises what
cannot be honoured: strict everywhere except between alternatives (listed types, branches), where
what cannot be generated is left out as long as something else can be.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

from ._nodes import (
    DEFAULT_WORDS,
    FORMATS,
    Node,
    UnsupportedSchema,
    dictlike,
    fits,
    item,
    ok_number,
    ok_string,
    same,
    strings,
    unsat,
)
from ._pattern import UnsupportedPattern, compile_pattern

MAX_SIZE = 10_000  # the largest minLength / minItems / minProperties honoured
MAX_NODES = 2_000  # nodes per schema (anyOf combinations multiply)
MAX_NESTED_VARIANTS = 8


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


SUPPORTED_KEYWORDS = _names(
    "type enum const properties required additionalProperties items prefixItems minItems maxItems "
    "uniqueItems minProperties maxProperties minLength maxLength pattern format minimum maximum "
    "exclusiveMinimum exclusiveMaximum multipleOf anyOf oneOf allOf $ref $defs definitions"
)
IGNORED_KEYWORDS = _names(
    "title description default examples $schema $id $comment $anchor deprecated readOnly "
    "writeOnly discriminator contentEncoding contentMediaType contentSchema"
)
UNSUPPORTED_KEYWORDS = _names(
    "not if then else patternProperties dependentSchemas dependentRequired dependencies "
    "propertyNames contains minContains maxContains unevaluatedProperties unevaluatedItems "
    "additionalItems $dynamicRef $dynamicAnchor $recursiveRef $recursiveAnchor"
)
_COUNTS = ("minLength", "minItems", "minProperties", "maxLength", "maxItems", "maxProperties")
_BARE_REF = IGNORED_KEYWORDS | {"$ref", "$defs", "definitions"}
TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")  # cheapest first
_Part = tuple[Any, str]  # a schema and its JSON pointer


@dataclass
class _Acc:
    """The keywords of one location, merged so far."""

    pointer: str
    never: bool = False
    types: frozenset[str] | None = None
    enum: list[Any] | None = None
    enum_kw: str = "enum"
    props: dict[str, list[_Part]] = field(default_factory=dict)
    required: dict[str, None] = field(default_factory=dict)
    closed: list[tuple[frozenset[str], Any, str]] = field(default_factory=list)
    arrays: list[tuple[list[Any], Any, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # minItems, maxLength, ...
    unique: bool = False
    patterns: list[_Part] = field(default_factory=list)
    format: str | None = None
    lo: tuple[float, bool] | None = None
    hi: tuple[float, bool] | None = None
    multiples: list[float] = field(default_factory=list)
    groups: list[tuple[str, str, list[_Part]]] = field(default_factory=list)

    def copy(self) -> _Acc:
        fresh: dict[str, Any] = {
            k: type(v)(v) for k, v in vars(self).items() if isinstance(v, (dict, list))
        }
        return replace(self, **fresh)


class Graph:
    """Compile ``root`` (a private copy: identities must stay stable) or raise."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.memo: dict[tuple[int, ...], tuple[list[_Part], Node]] = {}
        self.nodes: list[Node] = []
        self.top = self.node_of([(root, "")])
        self._rank()
        self._walk(self.top, set())

    def _resolve(self, ref: Any, ptr: str) -> _Part:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise UnsupportedSchema("$ref", ptr, f"only local references (#/...), got {ref!r}")
        frag = unquote(ref[1:])
        if frag and not frag.startswith("/"):
            raise UnsupportedSchema("$ref", ptr, f"anchors are not supported: {ref!r}")
        target = self.root
        for part in frag.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise UnsupportedSchema("$ref", ptr, f"{ref!r} points to nothing")
        return target, frag

    def node_of(self, parts: list[_Part]) -> Node:
        """The node of the conjunction of ``parts``."""
        for i, (raw, ptr) in enumerate(parts):
            seen: set[int] = set()  # a bare reference is its target
            while isinstance(raw, dict) and "$ref" in raw and raw.keys() <= _BARE_REF:
                if id(raw) in seen:
                    raise unsat("$ref", ptr, "references loop without reaching a schema")
                seen.add(id(raw))
                raw, ptr = self._resolve(raw["$ref"], ptr)
            parts[i] = (raw, ptr)
        key = tuple(id(raw) for raw, _ in parts)
        if key not in self.memo:
            acc = _Acc(parts[0][1])
            for raw, ptr in parts:
                self._absorb(acc, raw, ptr, frozenset())
            self.memo[key] = (parts, Node(acc.pointer))  # first: recursive references find it
            self._build(acc, self.memo[key][1], 0)
        return self.memo[key][1]

    def _absorb(self, acc: _Acc, raw: Any, ptr: str, stack: frozenset[int]) -> None:
        if raw is True or raw is False:
            acc.never |= raw is False
            return
        if not isinstance(raw, dict):
            raise UnsupportedSchema("schema", ptr, "a schema is an object or a boolean")
        if id(raw) in stack:
            raise unsat("$ref", ptr, "references loop without reaching a schema")
        stack |= {id(raw)}
        for kw in raw:
            if kw in UNSUPPORTED_KEYWORDS:
                raise UnsupportedSchema(kw, ptr)
        if "$id" in raw and raw is not self.root:
            raise UnsupportedSchema("$id", ptr, "a nested $id changes the base URI")
        if "$ref" in raw:
            self._absorb(acc, *self._resolve(raw["$ref"], ptr), stack)
        for i, sub in enumerate(_list(raw, "allOf", ptr)):
            self._absorb(acc, sub, f"{ptr}/allOf/{i}", stack)
        for kw in ("anyOf", "oneOf"):
            if kw in raw:
                branches = [(b, f"{ptr}/{kw}/{i}") for i, b in enumerate(_list(raw, kw, ptr))]
                acc.groups.append((kw, ptr, branches))
        if "type" in raw:
            names = raw["type"] if isinstance(raw["type"], list) else [raw["type"]]
            if not names or not all(t in TYPES for t in names):
                raise UnsupportedSchema("type", ptr, f"unknown type in {raw['type']!r}")
            mine, old = frozenset(names), acc.types
            # An integer is a number: the meet of the two is integer.
            both = any({a, b} == {"integer", "number"} for a in old or () for b in mine)
            acc.types = mine if old is None else (old & mine) | frozenset(["integer"] * both)
        for kw in ("const", "enum"):
            if kw in raw:
                values = [raw[kw]] if kw == "const" else _list(raw, kw, ptr)
                acc.enum_kw = kw if acc.enum is None else acc.enum_kw
                old_enum = acc.enum
                acc.enum = (
                    values
                    if old_enum is None
                    else [v for v in old_enum if any(same(v, w) for w in values)]
                )
        for kw, which, excl in (
            ("minimum", "lo", False),
            ("exclusiveMinimum", "lo", True),
            ("maximum", "hi", False),
            ("exclusiveMaximum", "hi", True),
        ):
            if kw in raw:
                bound, now = (_number(raw, kw, ptr), excl), getattr(acc, which)
                sign = 1 if which == "lo" else -1  # the tighter bound wins; exclusive on a tie
                if now is None or (sign * bound[0], excl) > (sign * now[0], now[1]):
                    setattr(acc, which, bound)
        if "multipleOf" in raw:
            if _number(raw, "multipleOf", ptr) <= 0:
                raise UnsupportedSchema("multipleOf", ptr, "must be above 0")
            acc.multiples.append(raw["multipleOf"])
        for kw in _COUNTS:
            if kw in raw:
                n, low = _count(raw, kw, ptr), kw.startswith("min")
                if low and n > MAX_SIZE:
                    raise UnsupportedSchema(kw, ptr, f"above {MAX_SIZE}, too large to generate")
                old_n = acc.counts.get(kw, n)
                acc.counts[kw] = max(old_n, n) if low else min(old_n, n)
        acc.unique |= raw.get("uniqueItems") is True
        if "pattern" in raw:
            if not isinstance(raw["pattern"], str):
                raise UnsupportedSchema("pattern", ptr, "must be a string")
            acc.patterns.append((raw["pattern"], ptr))
        if "format" in raw:
            fmt = raw["format"]
            if fmt not in FORMATS:
                raise UnsupportedSchema("format", ptr, f"unknown format {fmt!r}")
            if acc.format not in (None, fmt):
                raise unsat("format", ptr, f"both {acc.format!r} and {fmt!r}")
            acc.format = fmt
        if isinstance(raw.get("items"), list):
            raise UnsupportedSchema("items", ptr, "the array form is draft-07: use prefixItems")
        if "items" in raw or "prefixItems" in raw:
            acc.arrays.append((_list(raw, "prefixItems", ptr), raw.get("items", True), ptr))
        props = raw.get("properties", {})
        if not isinstance(props, dict):
            raise UnsupportedSchema("properties", ptr, "must be an object")
        for name, sub in props.items():
            escaped = name.replace("~", "~0").replace("/", "~1")
            acc.props.setdefault(name, []).append((sub, f"{ptr}/properties/{escaped}"))
        for name in _list(raw, "required", ptr):
            if not isinstance(name, str):
                raise UnsupportedSchema("required", ptr, "must list strings")
            acc.required[name] = None
        if raw.get("additionalProperties", True) is not True:
            add = raw["additionalProperties"]
            acc.closed.append((frozenset(props), add, f"{ptr}/additionalProperties"))

    def _build(self, acc: _Acc, n: Node, nested: int) -> None:
        self.nodes.append(n)
        if len(self.nodes) > MAX_NODES:
            raise UnsupportedSchema("anyOf", acc.pointer, "too many combinations of branches")
        if acc.never:
            n.never = True
            return
        c = acc.counts
        n.types, n.enum, n.format, n.lo, n.hi = acc.types, acc.enum, acc.format, acc.lo, acc.hi
        n.multiples, n.unique = acc.multiples, acc.unique
        n.min_len, n.max_len = c.get("minLength", 0), c.get("maxLength")
        n.min_items, n.max_items = c.get("minItems", 0), c.get("maxItems")
        n.min_props, n.max_props = c.get("minProperties", 0), c.get("maxProperties")
        for source, ptr in acc.patterns:
            try:
                n.patterns.append(compile_pattern(source))
            except UnsupportedPattern as exc:
                raise UnsupportedSchema("pattern", ptr, str(exc)) from exc
        for name, parts in acc.props.items():
            more = [(a, p) for names, a, p in acc.closed if name not in names]
            n.props[name] = self.node_of(parts + more)
            n.order.append((name, n.props[name], name in acc.required))
        n.closed = [(names, self.node_of([(a, p)])) for names, a, p in acc.closed]
        if acc.closed:
            n.extra = self.node_of([(a, p) for _, a, p in acc.closed])
        for name in acc.required:
            if name not in n.props:
                n.order.append((name, n.extra or self.node_of([(True, acc.pointer)]), True))
        if acc.arrays:
            for i in range(max(len(prefix) for prefix, _, _ in acc.arrays)):
                n.prefix.append(
                    self.node_of(
                        [
                            (pre[i], f"{ptr}/prefixItems/{i}")
                            if i < len(pre)
                            else (it, f"{ptr}/items")
                            for pre, it, ptr in acc.arrays
                        ]
                    )
                )
            n.items = self.node_of([(it, f"{ptr}/items") for _, it, ptr in acc.arrays])
        n.groups = [(kw, [self.node_of([b]) for b in branches]) for kw, _, branches in acc.groups]
        if not acc.groups:
            self._settle(acc, n)
            return
        kw, ptr, branches = acc.groups[0]
        n.variants, n.one_of = [], n.groups[0][1] if kw == "oneOf" else None
        if nested > MAX_NESTED_VARIANTS:
            n.errors.append(unsat(kw, ptr, "branches nest without end"))
            return
        for i, branch in enumerate(branches):
            v_acc = acc.copy()
            v_acc.groups = acc.groups[1:]
            try:
                self._absorb(v_acc, *branch, frozenset())
            except UnsupportedSchema as exc:
                if exc.unsupported:
                    raise
                n.errors.append(exc)
                continue
            v = Node(acc.pointer)
            self._build(v_acc, v, nested + 1)
            n.variants.append((i, v))

    def _settle(self, acc: _Acc, n: Node) -> None:
        """The types the node can generate, each with a value to fall back on."""
        if acc.types is not None and not acc.types:
            n.errors.append(unsat("type", n.pointer, "no type fits every 'type'"))
            return
        declared = acc.types if acc.types is not None else _inferred(acc)
        for t in TYPES:
            if t in declared:
                problem = getattr(self, f"_settle_{t}", lambda n: None)(n)
                if problem is None:
                    n.gen_types.append(t)
                else:
                    n.errors.append(problem)
        if n.enum is not None:
            n.enum = [v for v in n.enum if fits(n, v, sure=True, deep=False)]
            if not n.enum:
                n.errors.insert(0, unsat(acc.enum_kw, n.pointer, "no listed value fits"))

    def _settle_integer(self, n: Node) -> UnsupportedSchema | None:
        step = 1
        for m in n.multiples:  # integer multiples of p/q are the multiples of p
            step = math.lcm(step, Fraction(str(m)).numerator)
        a = b = None
        if n.lo is not None:
            a = math.floor(n.lo[0]) + 1 if n.lo[1] else math.ceil(n.lo[0])
        if n.hi is not None:
            b = math.ceil(n.hi[0]) - 1 if n.hi[1] else math.floor(n.hi[0])
        span = max(1, 100 // step)
        ka = -(-a // step) if a is not None else None
        kb = b // step if b is not None else None
        ka = ka if ka is not None else (kb - span if kb is not None else 0)
        kb = kb if kb is not None else ka + span
        for k in range(ka, min(kb, ka + 50) + 1):
            if ok_number(n, k * step):
                n.ks, n.ints = (ka, kb), (step, k * step)
                return None
        no_range = a is not None and b is not None and a > b
        return unsat("minimum" if no_range else "multipleOf", n.pointer, "no integer fits")

    def _settle_number(self, n: Node) -> UnsupportedSchema | None:
        step = None
        for m in n.multiples:
            f = Fraction(str(m))
            step = (
                f
                if step is None
                else Fraction(
                    math.lcm(step.numerator, f.numerator), math.gcd(step.denominator, f.denominator)
                )
            )
        a = n.lo[0] if n.lo else (n.hi[0] - 100 if n.hi else 0.0)
        b = n.hi[0] if n.hi else a + 100
        if step is None:
            for v in (a / 2 + b / 2, a, b):
                if ok_number(n, v):
                    n.floats = (a, b, None, v)
                    return None
            return unsat("minimum", n.pointer, "no number fits the bounds")
        ka, kb = math.ceil(Fraction(a) / step), math.floor(Fraction(b) / step)
        for k in range(ka, min(kb, ka + 50) + 1):
            if ok_number(n, float(k * step)):
                n.ks, n.floats = (ka, kb), (a, b, step, float(k * step))
                return None
        return unsat("multipleOf", n.pointer, "no number fits")

    def _settle_string(self, n: Node) -> UnsupportedSchema | None:
        if n.max_len is not None and n.min_len > n.max_len:
            return unsat("minLength", n.pointer, "minLength is above maxLength")
        if n.patterns and not n.format and not any(p.tree for p in n.patterns):
            return UnsupportedSchema("pattern", n.pointer, n.patterns[0].problem)
        for s in strings(n, random.Random(0), DEFAULT_WORDS):
            if ok_string(n, s):
                n.fallback = s
                return None
        kw = "format" if n.format else ("pattern" if n.patterns else "maxLength")
        return unsat(kw, n.pointer, "no string found that fits")

    def _settle_array(self, n: Node) -> UnsupportedSchema | None:
        if n.items is not None and n.items.never:
            n.max_items = min(len(n.prefix), MAX_SIZE if n.max_items is None else n.max_items)
        if n.max_items is not None and n.min_items > n.max_items:
            return unsat("minItems", n.pointer, "more items required than allowed")
        if any(p.never for p in n.prefix[: n.min_items]):
            return unsat("prefixItems", n.pointer, "a required item is false")
        few = n.items.enum if n.unique and not n.prefix and n.items else None
        if few is not None and len(few) < n.min_items:
            return unsat("uniqueItems", n.pointer, "fewer distinct values than minItems")
        return None

    def _settle_object(self, n: Node) -> UnsupportedSchema | None:
        for name, child, req in n.order:
            if req and child.never:
                return unsat("required", n.pointer, f"required property {name!r} is forbidden")
        required = sum(req for _, _, req in n.order)
        room: float = sum(not c.never for c in n.props.values())
        room += math.inf if n.extra is None or not n.extra.never else 0
        top = math.inf if n.max_props is None else n.max_props
        if required > top or n.min_props > min(top, room):
            return unsat("minProperties", n.pointer, "the property counts cannot be met")
        return None

    def _rank(self) -> None:
        """Least fixpoint: a node is ranked once one of its values needs only nodes ranked
        before it; ``cheapest`` is that value's type, so the cheapest path always ends."""
        count, changed = 0, True
        while changed:
            changed = False
            for n in self.nodes:
                if n.rank is None and not n.never and self._finite(n):
                    count += 1
                    n.rank, changed = count, True

    def _finite(self, n: Node) -> bool:
        if n.variants is not None:
            return any(v.rank is not None for _, v in n.variants)
        if n.enum is not None:
            return bool(n.enum)
        for t in n.gen_types:
            if t == "array":
                needed = [item(n, i) for i in range(n.min_items)]
            else:
                needed = [child for _, child, req in n.order if req] if t == "object" else []
            if all(x is None or x.rank is not None for x in needed):
                n.cheapest = t
                return True
        return False

    def _walk(self, n: Node, seen: set[int]) -> None:
        """Every node a value may reach has a finite value (untaken alternatives aside)."""
        if id(n) in seen:
            return
        seen.add(id(n))
        if n.rank is None:
            raise self._reason(n, set())
        kids = [v for _, v in n.variants or () if v.rank is not None]
        if n.variants is None and n.enum is None:
            if "object" in n.gen_types:
                kids += [child for _, child, _ in n.order]
                kids += [n.extra] if n.extra and dictlike(n) else []
            if "array" in n.gen_types:
                kids += [x for x in (*n.prefix, n.items) if x is not None]
        for kid in kids:
            if not kid.never:
                self._walk(kid, seen)

    def _reason(self, n: Node, seen: set[int]) -> UnsupportedSchema:
        if n.errors:
            return n.errors[0]
        if n.never:
            return unsat("schema", n.pointer, "the schema is false: no value fits")
        seen.add(id(n))
        kids = [v for _, v in n.variants or ()] + [c for _, c, req in n.order if req]
        kids += [x for i in range(n.min_items) if (x := item(n, i)) is not None]
        for kid in kids:
            if kid.rank is None and id(kid) not in seen:
                return self._reason(kid, seen)
        return unsat("$ref", n.pointer, "the schema recurses without end: no finite value")


def _inferred(acc: _Acc) -> frozenset[str]:
    """The types a schema without ``type`` is generated as (a string when nothing says)."""
    c, kinds = acc.counts, set()
    if acc.props or acc.required or acc.closed or {"minProperties", "maxProperties"} & c.keys():
        kinds.add("object")
    if acc.arrays or acc.unique or {"minItems", "maxItems"} & c.keys():
        kinds.add("array")
    if acc.patterns or acc.format or {"minLength", "maxLength"} & c.keys():
        kinds.add("string")
    if acc.lo or acc.hi or acc.multiples:
        kinds.add("number")
    return frozenset(kinds or {"string"})


def _list(raw: dict[str, Any], kw: str, ptr: str) -> list[Any]:
    value = raw.get(kw, [])
    if not isinstance(value, list) or (kw in ("anyOf", "oneOf") and not value):
        raise UnsupportedSchema(kw, ptr, "must be a non-empty array")
    return value


def _number(raw: dict[str, Any], kw: str, ptr: str) -> float:
    v = raw[kw]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise UnsupportedSchema(kw, ptr, "must be a finite number")
    return v


def _count(raw: dict[str, Any], kw: str, ptr: str) -> int:
    v = raw[kw]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != int(v):
        raise UnsupportedSchema(kw, ptr, "must be a non-negative integer")
    return int(v)
