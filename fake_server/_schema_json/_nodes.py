"""The compiled form of a schema (:class:`Node`), the error, and the checks on leaf values.

A node is one schema location with its ``allOf`` / ``$ref`` keywords merged. :func:`fits` is a
validator for the supported subset only, used where the generator must know (``oneOf``
exclusivity, ``enum`` values): with ``sure=True`` it answers "certainly fits" (a string under a
``format`` is never certain: formats are generated, not checked), with ``sure=False`` "might fit".
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ._pattern import Pattern

WHERE = "response_format.json_schema.schema"
DEFAULT_WORDS = ("amber", "delta", "forest", "harbor", "lantern", "maple", "river", "silver")


class UnsupportedSchema(ValueError):
    """``keyword`` at JSON pointer ``pointer`` cannot be honoured: outside the subset
    (``unsupported``), or no value satisfies it. ``str()`` is the 400 message; :meth:`describe`
    words it for another location (``text.format.schema``)."""

    def __init__(self, keyword: str, pointer: str, detail: str = "", unsupported: bool = True):
        self.keyword, self.pointer, self.detail = keyword, pointer, detail
        self.unsupported = unsupported
        super().__init__(self.describe(WHERE))

    def describe(self, where: str) -> str:
        at = self.pointer or "the root"
        if self.unsupported and not self.detail:
            return f"{where}: unsupported keyword '{self.keyword}' at {at}"
        head = "unsupported" if self.unsupported else "cannot satisfy"
        return f"{where}: {head} '{self.keyword}' at {at}: {self.detail}"


def unsat(keyword: str, pointer: str, detail: str) -> UnsupportedSchema:
    return UnsupportedSchema(keyword, pointer, detail, unsupported=False)


@dataclass(eq=False)
class Node:
    pointer: str
    never: bool = False  # the schema ``false``
    types: frozenset[str] | None = None
    enum: list[Any] | None = None
    min_len: int = 0
    max_len: int | None = None
    patterns: list[Pattern] = field(default_factory=list)
    format: str | None = None
    lo: tuple[float, bool] | None = None  # (bound, exclusive)
    hi: tuple[float, bool] | None = None
    multiples: list[float] = field(default_factory=list)
    props: dict[str, Node] = field(default_factory=dict)
    order: list[tuple[str, Node, bool]] = field(default_factory=list)  # (name, node, required)
    closed: list[tuple[frozenset[str], Node]] = field(default_factory=list)
    extra: Node | None = None  # what an undeclared name holds; None: anything
    min_props: int = 0
    max_props: int | None = None
    prefix: list[Node] = field(default_factory=list)
    items: Node | None = None
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False
    groups: list[tuple[str, list[Node]]] = field(default_factory=list)
    # Generation: the first anyOf/oneOf merged with each branch (branch index, node)...
    variants: list[tuple[int, Node]] | None = None
    one_of: list[Node] | None = None  # ...and, for oneOf, the branches to stay out of
    gen_types: list[str] = field(default_factory=list)
    errors: list[UnsupportedSchema] = field(default_factory=list)
    ks: tuple[int, int] = (0, 0)  # integers and stepped numbers are k * step, k in this range
    ints: tuple[int, int] = (1, 0)  # step, a value that fits
    floats: tuple[float, float, Fraction | None, float] = (0, 0, None, 0)  # bounds, step, fit
    fallback: str = ""  # a string that fits, found when compiling
    rank: int | None = None  # set once the node has a finite value
    cheapest: str = ""  # the type of that value


def item(n: Node, i: int) -> Node | None:
    return n.prefix[i] if i < len(n.prefix) else n.items


def dictlike(n: Node) -> bool:
    """``dict[str, X]``: no declared names, a schema for the others."""
    return not n.props and n.extra is not None and not n.extra.never


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def canon(value: Any) -> str:
    """A key equal for JSON-equal values (uniqueItems)."""

    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return json.dumps(norm(value), sort_keys=True)


def is_type(v: Any, t: str) -> bool:
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return t == "number" or isinstance(v, int) or v.is_integer()


def _multiple(v: float, m: int | float) -> bool:
    """jsonschema's multipleOf test, float quirks included."""
    if isinstance(m, float):
        q = v / m
        try:
            return int(q) == q
        except OverflowError:
            return (Fraction(v) / Fraction(m)).denominator == 1
    return v % m == 0


def ok_number(n: Node, v: float) -> bool:
    if n.lo is not None and (v <= n.lo[0] if n.lo[1] else v < n.lo[0]):
        return False
    if n.hi is not None and (v >= n.hi[0] if n.hi[1] else v > n.hi[0]):
        return False
    return all(_multiple(v, m) for m in n.multiples)


def ok_string(n: Node, s: str) -> bool:
    if len(s) < n.min_len or (n.max_len is not None and len(s) > n.max_len):
        return False
    return all(p.regex.search(s) for p in n.patterns)


def fits(n: Node, v: Any, sure: bool, deep: bool = True) -> bool:
    """Whether ``v`` fits ``n`` (certainly, or possibly: see the module docstring); ``deep=False``
    leaves out what nested values hold (their nodes may still be compiling)."""
    if n.never:
        return False
    if n.types is not None and not any(is_type(v, t) for t in n.types):
        return False
    if n.enum is not None and not any(same(v, c) for c in n.enum):
        return False
    if isinstance(v, str) and (not ok_string(n, v) or (sure and n.format)):
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool) and not ok_number(n, v):
        return False
    if isinstance(v, dict):
        if not all(name in v for name, _, req in n.order if req):
            return False
        if len(v) < n.min_props or (n.max_props is not None and len(v) > n.max_props):
            return False
        for k, x in v.items() if deep else ():
            if k in n.props:
                if not fits(n.props[k], x, sure):
                    return False
            elif any(k not in names and not fits(add, x, sure) for names, add in n.closed):
                return False
    if isinstance(v, list):
        if len(v) < n.min_items or (n.max_items is not None and len(v) > n.max_items):
            return False
        if n.unique and len({canon(x) for x in v}) < len(v):
            return False
        for i, x in enumerate(v) if deep else ():
            node = item(n, i)
            if node is not None and not fits(node, x, sure):
                return False
    for kw, branches in n.groups:
        maybe = [b for b in branches if fits(b, v, False, deep)]
        if not maybe or (kw == "oneOf" and sure and len(maybe) > 1):
            return False
        if sure and not any(fits(b, v, True, deep) for b in maybe):
            return False
    return True


def _slug(rng: random.Random, words: Sequence[str]) -> str:
    word = rng.choice(words).lower()
    return "".join(c for c in word if c.isascii() and c.isalnum()) or "item"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2000, 2030):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"


def _net(r: random.Random) -> str:
    return f"10.{r.randrange(256)}.{r.randrange(256)}"


_Format = Callable[[random.Random, Sequence[str]], str]
FORMATS: dict[str, _Format] = {
    "date": lambda r, w: _date(r),
    "time": lambda r, w: _time(r),
    "date-time": lambda r, w: f"{_date(r)}T{_time(r)}",
    "duration": lambda r, w: f"P{r.randint(1, 30)}D",
    "email": lambda r, w: f"{_slug(r, w)}.{_slug(r, w)}@example.com",
    "uuid": lambda r, w: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "uri": lambda r, w: f"https://{_slug(r, w)}.example.com/{_slug(r, w)}",
    "uri-reference": lambda r, w: f"/{_slug(r, w)}/{_slug(r, w)}",
    "hostname": lambda r, w: f"{_slug(r, w)}.example.com",
    "ipv4": lambda r, w: ".".join(str(r.randint(1, 254)) for _ in range(4)),
    "ipv6": lambda r, w: ":".join(f"{r.randrange(65536):x}" for _ in range(8)),
    "ipv4network": lambda r, w: f"{_net(r)}.0/24",
    "ipv4interface": lambda r, w: f"{_net(r)}.{r.randint(1, 254)}/24",
    "json-pointer": lambda r, w: f"/{_slug(r, w)}/{r.randrange(10)}",
    "regex": lambda r, w: f"^{_slug(r, w)}$",
    "password": lambda r, w: f"{_slug(r, w)}-{r.randrange(10_000)}",
    "binary": lambda r, w: _slug(r, w),
    "path": lambda r, w: f"/tmp/{_slug(r, w)}",
}
for _alias, _name in (
    ("idn-email", "email"),
    ("iri", "uri"),
    ("multi-host-uri", "uri"),
    ("iri-reference", "uri-reference"),
    ("idn-hostname", "hostname"),
    ("ipvanyaddress", "ipv4"),  # pydantic's own formats
    ("ipvanynetwork", "ipv4network"),
    ("ipvanyinterface", "ipv4interface"),
):
    FORMATS[_alias] = FORMATS[_name]


def strings(n: Node, rng: random.Random, words: Sequence[str], tries: int = 0) -> Iterator[str]:
    """Candidate strings for ``n``, to be checked with :func:`ok_string`; ``tries=0``: all."""
    if n.format is not None:
        for _ in range(tries or 3):
            yield FORMATS[n.format](rng, words)
    elif n.patterns:
        pattern = next(p for p in n.patterns if p.tree is not None)
        for i, s in enumerate(pattern.samples(rng, n.min_len)):
            if i == (tries or 9):
                return
            yield s
    else:
        s = " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        while len(s) < n.min_len:
            s += " " + rng.choice(words)
        if n.max_len is not None and len(s) > n.max_len:
            s = s[: n.max_len].rstrip()
        yield s + "x" * (n.min_len - len(s))
