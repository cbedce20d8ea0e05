"""Strings that match a JSON Schema ``pattern``: the small regex subset a generator can honour.

Supported: literals and escaped punctuation, ``.``, classes (``[a-z0-9_-]``, ``[^,]``),
``\\d \\w \\s`` (and ``\\D \\W \\S`` outside negated classes), ``\\t \\n \\r \\f \\v``,
``\\xHH``, ``\\uHHHH``, groups ``(...)``, ``(?:...)``, ``(?P<name>...)``, alternation, anchors
``^ $`` and the quantifiers ``? * + {m} {m,} {m,n}`` (lazy or not). Anything else
(backreferences, lookarounds, ``\\b``, inline flags, possessive quantifiers, ``{,n}``, which
Python and ECMA-262 read differently) is refused with :class:`UnsupportedPattern`.

Characters are drawn from printable ASCII, where Python's ``re`` and ECMA-262 agree on ``\\d``,
``\\w`` and ``\\s``; callers verify every sample with ``re.search`` (JSON Schema's unanchored
semantics) before using it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["MAX_REPEAT", "Pattern", "UnsupportedPattern", "compile_pattern"]

MAX_REPEAT = 1000
"""The largest ``{m}`` a pattern may force: a fake's answer stays small."""

_Ranges = tuple[tuple[int, int], ...]
_DIGIT: _Ranges = ((48, 57),)
_WORD: _Ranges = ((48, 57), (65, 90), (95, 95), (97, 122))
_SPACE: _Ranges = ((32, 32),)  # within printable ASCII, \s is the space alone
_LOWER: _Ranges = ((97, 122),)
# What each class escape generates: a subset of what it matches is enough; for \d \w \s it is
# all they match within printable ASCII, which negated classes rely on.
_CLASS_ESCAPES: dict[str, _Ranges] = {
    "d": _DIGIT,
    "w": _WORD,
    "s": _SPACE,
    "D": _LOWER,
    "W": ((45, 45),),
    "S": _LOWER,
}
_CHAR_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
_SET_OPERATORS = ("--", "&&", "~~", "||")  # Python warns about these inside a class


class UnsupportedPattern(ValueError):
    """The pattern uses a construct this generator cannot honour; the message names it."""


class _WouldWarn(UnsupportedPattern):
    """Python would warn (FutureWarning) while compiling it, so it is not compiled at all."""


@dataclass(frozen=True)
class _Chars:
    ranges: _Ranges


@dataclass(frozen=True)
class _Seq:
    parts: tuple[_Tree, ...]


@dataclass(frozen=True)
class _Alt:
    options: tuple[_Tree, ...]


@dataclass(frozen=True)
class _Repeat:
    part: _Tree
    lo: int
    hi: int | None


_Tree = _Chars | _Seq | _Alt | _Repeat
_EMPTY = _Seq(())


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0

    def peek(self, ahead: int = 0) -> str:
        j = self.i + ahead
        return self.src[j] if j < len(self.src) else ""

    def take(self) -> str:
        if self.i >= len(self.src):
            raise UnsupportedPattern("the pattern ends too early")
        self.i += 1
        return self.src[self.i - 1]

    def parse(self) -> _Tree:
        tree = self.alternation()
        if self.i < len(self.src):
            raise UnsupportedPattern(f"unbalanced ')' at {self.i}")
        return tree

    def alternation(self) -> _Tree:
        options = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else _Alt(tuple(options))

    def sequence(self) -> _Tree:
        parts: list[_Tree] = []
        while self.peek() not in ("", "|", ")"):
            parts.append(self.quantified(self.atom()))
        return parts[0] if len(parts) == 1 else _Seq(tuple(parts))

    def atom(self) -> _Tree:
        c = self.take()
        if c == "(":
            if self.src.startswith("?:", self.i):
                self.i += 2
            elif self.src.startswith("?P<", self.i) and ">" in self.src[self.i :]:
                self.i = self.src.index(">", self.i) + 1
            elif self.peek() == "?":
                raise UnsupportedPattern("lookarounds, inline flags and other '(?' groups")
            inner = self.alternation()
            if self.take() != ")":
                raise UnsupportedPattern("unbalanced '('")
            return inner
        if c == "[":
            return self.char_class()
        if c == ".":
            return _Chars(_LOWER)
        if c in "^$":
            return _EMPTY
        if c in "*+?":
            raise UnsupportedPattern(f"nothing to repeat before {c!r}")
        if c == "\\":
            ranges, _ = self.escape()
            return _Chars(ranges)
        return _Chars(((ord(c), ord(c)),))

    def escape(self) -> tuple[_Ranges, str]:
        """The ranges an escape generates, and its letter when it is a class escape."""
        c = self.take()
        if c in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[c], c
        if c in _CHAR_ESCAPES:
            code = ord(_CHAR_ESCAPES[c])
        elif c in "xu":
            digits = self.src[self.i : self.i + (2 if c == "x" else 4)]
            if len(digits) != (2 if c == "x" else 4) or not all(
                d in "0123456789abcdefABCDEF" for d in digits
            ):
                raise UnsupportedPattern(f"malformed '\\{c}' escape")
            self.i += len(digits)
            code = int(digits, 16)
        elif c.isalnum():
            raise UnsupportedPattern(f"'\\{c}' (backreferences, \\b, \\A, \\p and the like)")
        else:
            code = ord(c)
        return ((code, code),), ""

    def char_class(self) -> _Tree:
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            c = self.take()
            if c == "]" and not first:
                break
            first = False
            if c == "[" or self.src.startswith(_SET_OPERATORS, self.i - 1):
                raise _WouldWarn("nested sets and set operators in a class")
            if c == "\\":
                escaped, letter = self.escape()
                if letter:
                    if negate and letter not in "dws":
                        raise UnsupportedPattern(f"'\\{letter}' inside a negated class")
                    ranges.extend(escaped)
                    continue
                lo = escaped[0][0]
            else:
                lo = ord(c)
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                end = self.take()
                if end == "-":
                    raise _WouldWarn("nested sets and set operators in a class")
                hi = self.escape()[0][0][0] if end == "\\" else ord(end)
                if hi < lo:
                    raise UnsupportedPattern("a class range runs backwards")
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        if negate:
            # Within printable ASCII, \d \w \s generate exactly what they match: safe to exclude.
            allowed = [c for c in range(32, 127) if not any(a <= c <= b for a, b in ranges)]
            if not allowed:
                raise UnsupportedPattern("a negated class that excludes all printable ASCII")
            return _Chars(tuple((c, c) for c in allowed))
        return _Chars(tuple(ranges))

    def quantified(self, atom: _Tree) -> _Tree:
        c = self.peek()
        if c in ("*", "+", "?"):
            self.i += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{":
            m = re.match(r"\{(\d*)(,?)(\d*)\}", self.src[self.i :])
            if m is None:
                return atom  # a literal brace, as Python reads it
            if not m.group(1):
                raise UnsupportedPattern("'{,n}' (Python and ECMA-262 read it differently)")
            self.i += m.end()
            lo = int(m.group(1))
            hi = int(m.group(3)) if m.group(3) else (None if m.group(2) else lo)
        else:
            return atom
        if self.peek() == "+":
            raise UnsupportedPattern("possessive quantifiers")
        if self.peek() == "?":
            self.i += 1  # lazy: the same strings match
        if lo > MAX_REPEAT:
            raise UnsupportedPattern(f"a repeat of more than {MAX_REPEAT}")
        return _Repeat(atom, lo, hi)


@dataclass(frozen=True)
class Pattern:
    """A pattern Python can check (``regex``); ``tree`` is None when it cannot be generated,
    and ``problem`` then says why."""

    source: str
    regex: re.Pattern[str]
    tree: _Tree | None
    problem: str

    def samples(self, rng: random.Random, stretch: int = 0) -> Iterator[str]:
        """Candidates, to be checked by the caller: three random ones, the shortest, then one
        with every open repeat lengthened by ``stretch`` (to reach a ``minLength``)."""
        if self.tree is None:
            return
        for _ in range(3):
            yield _sample(self.tree, rng, -1)
        yield _sample(self.tree, rng, 0)
        if stretch:
            yield _sample(self.tree, rng, stretch)


def _sample(tree: _Tree, rng: random.Random, stretch: int) -> str:
    """``stretch`` -1: random; 0: shortest; n > 0: repeats lengthened by n."""
    out: list[str] = []

    def walk(node: _Tree) -> None:
        if isinstance(node, _Chars):
            if stretch >= 0:
                out.append(chr(node.ranges[0][0]))
                return
            total = sum(b - a + 1 for a, b in node.ranges)
            k = rng.randrange(total)
            for a, b in node.ranges:
                if k <= b - a:
                    out.append(chr(a + k))
                    return
                k -= b - a + 1
        elif isinstance(node, _Seq):
            for part in node.parts:
                walk(part)
        elif isinstance(node, _Alt):
            walk(node.options[0] if stretch >= 0 else rng.choice(node.options))
        else:
            lo, hi = node.lo, node.hi
            if stretch < 0:
                n = rng.randint(lo, lo + 2 if hi is None else min(hi, lo + 3))
            else:
                n = lo + stretch if hi is None else min(hi, lo + stretch)
            for _ in range(n):
                walk(node.part)

    walk(tree)
    return "".join(out)


@lru_cache(maxsize=512)
def compile_pattern(source: str) -> Pattern:
    """Parse ``source``; raise :class:`UnsupportedPattern` when Python cannot even check it."""
    try:
        tree: _Tree | None = _Parser(source).parse()
        problem = ""
    except _WouldWarn:
        raise
    except UnsupportedPattern as exc:
        tree, problem = None, str(exc)
    try:
        regex = re.compile(source)
    except re.error as exc:
        raise UnsupportedPattern(f"not a regular expression Python can check: {exc}") from exc
    return Pattern(source, regex, tree, problem)
