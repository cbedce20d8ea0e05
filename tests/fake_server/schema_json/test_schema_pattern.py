"""The pattern generator: every sample of a supported pattern matches; the rest is refused."""

from __future__ import annotations

import random
import re

import pytest

from fake_server._schema_json._pattern import MAX_REPEAT, UnsupportedPattern, compile_pattern

SUPPORTED = [
    r"^[a-z]+$",
    r"^\d{3}-\d{4}$",
    r"\d{3}",
    r"^[A-Z]{2,4}$",
    r"^(foo|bar|baz)-\d+$",
    r"^(?:ab)*c?$",
    r"^(?P<word>\w+)@(\w+)\.com$",
    r"^[^,;]{1,5}$",
    r"^[^\d\s]+$",
    r"^\s?\S+\W\D$",
    r"^[\w.-]+$",
    r"^[a-f0-9]{8}-[a-f0-9]{4}$",
    r"^#[0-9A-Fa-f]{6}$",
    r"^\+?[0-9 ]{7,15}$",
    r"^v\d+\.\d+\.\d+(-[a-z]+)?$",
    r"^a{2}b{1,}c{0,2}?$",
    r"^\x41\u00e9[\t]\.\*$",
    r"^[]a]$",
    r"^[a\-z]$",
    r"^.{3}$",
    r"abc|^x$",
    r"{literal}",
    r"",
]


@pytest.mark.parametrize("source", SUPPORTED)
def test_every_sample_matches(source: str) -> None:
    pattern = compile_pattern(source)
    assert pattern.tree is not None, pattern.problem
    rng = random.Random(0)
    samples = [s for _ in range(30) for s in pattern.samples(rng, stretch=5)]
    for sample in samples:
        assert re.search(source, sample), (source, sample)
    if source.startswith("^") and source.endswith("$"):
        assert all(re.fullmatch(source[1:-1], s) for s in samples)


def test_samples_stay_small_and_vary() -> None:
    pattern = compile_pattern(r"^[a-z]+\d*$")
    rng = random.Random(1)
    random_ones = [next(pattern.samples(rng)) for _ in range(50)]
    assert len(set(random_ones)) > 10
    assert max(map(len, random_ones)) <= 6


def test_the_shortest_and_the_stretched_candidates() -> None:
    shortest, longest = list(compile_pattern(r"^[a-z]+$").samples(random.Random(0), 10))[3:]
    assert (len(shortest), len(longest)) == (1, 11)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (r"(a)\1", "backreferences"),
        (r"^(?=a)\w$", "lookarounds"),
        (r"^(?!a)\w$", "lookarounds"),
        (r"(?<=a)b", "lookarounds"),
        (r"(?i)abc", "inline flags"),
        (r"\bword\b", "\\b"),
        (r"\Aa\Z", "\\A"),
        (r"a{,3}", "{,n}"),
        (r"a++", "possessive"),
        (r"[^\D]", "negated class"),
        (r"[^\x20-\x7e]", "excludes all printable ASCII"),
        (r"a{1001}", "more than"),
    ],
)
def test_what_cannot_be_generated_says_why(source: str, problem: str) -> None:
    try:
        pattern = compile_pattern(source)
    except UnsupportedPattern as exc:
        assert problem in str(exc)
        return
    assert pattern.tree is None
    assert problem in pattern.problem
    assert list(pattern.samples(random.Random(0))) == []


@pytest.mark.parametrize("source", [r"(?<name>a)", r"\p{L}", r"[[a]", r"a[b--c]", "(", "a\\"])
def test_what_python_cannot_check_is_refused(source: str) -> None:
    with pytest.raises(UnsupportedPattern):
        compile_pattern(source)


def test_the_repeat_limit_is_a_constant() -> None:
    assert compile_pattern(f"a{{{MAX_REPEAT}}}").tree is not None
