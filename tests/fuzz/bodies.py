"""Valid request bodies, drawn from the fake's own request schemas with hypothesis-jsonschema.

Drawing one example at a time is slow, so ``draw_pool`` runs hypothesis once per schema, seeded
and without shrinking or a database, and keeps every example it generates; the fuzz then
reuses and mutates that pool. Schemas refer to each other (``common.schema.json#/$defs/...``):
``bundle`` inlines every reference first, so hypothesis-jsonschema never looks them up.

Three things make a pool of thousands take seconds instead of an hour: the schema given to
hypothesis is relaxed (objects closed to unknown keys, ``oneOf`` read as ``anyOf``, ``not``
dropped) and every example is then checked with the fake's own validator, the misses kept
apart as near-valid bodies; and hypothesis-jsonschema's merge of sub-schemas, which it redoes
on every draw, is memoised (``_memoise_merges``).
"""

from __future__ import annotations

import copy
import functools
import json
import random
from typing import Any

from fake_server._schemas import load_schema

__all__ = ["bundle", "draw_pool", "random_json"]

#: How deep a recursive reference is followed before it is cut to "anything".
_MAX_REF_DEPTH = 6


def _resolve(ref: str, base: str) -> tuple[Any, str]:
    """The sub-schema ``ref`` points to, from the file ``base``; and the file it is in."""
    file, _, pointer = ref.partition("#")
    name = base
    if file:
        folder = base.rpartition("/")[0]
        name = f"{folder}/{file}" if folder else file
    node: Any = load_schema(name)
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, name


@functools.cache
def bundle(name: str, closed: bool = False) -> dict[str, Any]:
    """Schema ``name`` with every ``$ref`` replaced by what it points to. ``closed``: objects
    that list their properties take no others (hypothesis spends most of its time inventing
    unknown keys otherwise; the fuzz adds its own). Cached: do not change what it returns."""

    def walk(node: Any, base: str, depth: int) -> Any:
        if isinstance(node, list):
            return [walk(item, base, depth) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            if depth >= _MAX_REF_DEPTH:
                return {}
            target, where = _resolve(node["$ref"], base)
            merged = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}
            return walk(merged, where, depth + 1)
        out = {
            key: walk(value, base, depth)
            for key, value in node.items()
            if key not in ("$id", "$schema", "$defs", "$comment")
        }
        if closed and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out

    out: dict[str, Any] = walk(load_schema(name), name, 0)
    return out


def relaxed(schema: Any) -> Any:
    """``schema`` with ``oneOf`` read as ``anyOf`` and ``not`` dropped: cheap to generate
    from; what it lets through that the real schema does not is sorted out afterwards."""
    if isinstance(schema, list):
        return [relaxed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: relaxed(value) for key, value in schema.items() if key != "not"}
    if "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    return out


_MEMOISED = False


def _memoise_merges() -> None:
    """hypothesis-jsonschema rebuilds the strategy of an object's property from its merged
    sub-schemas on every draw (most of its time); the same schemas give the same strategy,
    so build it once. A private function: left alone if it is not there."""
    global _MEMOISED
    if _MEMOISED:
        return
    from hypothesis_jsonschema import _from_schema

    original = getattr(_from_schema, "merged_as_strategies", None)
    if original is None:
        return
    cache: dict[tuple[str, int, int], Any] = {}

    def merged_as_strategies(schemas: Any, *, alphabet: Any, custom_formats: Any) -> Any:
        key = (json.dumps(schemas, sort_keys=True), id(alphabet), id(custom_formats))
        if key not in cache:
            cache[key] = original(schemas, alphabet=alphabet, custom_formats=custom_formats)
        return cache[key]

    _from_schema.merged_as_strategies = merged_as_strategies
    _MEMOISED = True


def draw_pool(name: str, count: int, seed: int) -> tuple[list[Any], list[Any]]:
    """``count`` examples drawn for schema ``name`` (the same ones for the same seed), split
    into the bodies the fake's validator accepts and the near misses it refuses."""
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis_jsonschema import from_schema

    from fake_server._schemas import validator

    _memoise_merges()
    found: list[Any] = []

    @hypothesis.seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(from_schema(relaxed(bundle(name, closed=True))))
    def collect(body: Any) -> None:
        found.append(body)

    collect()
    check = validator(name)
    valid = [body for body in found if check.is_valid(body)]
    return valid, [body for body in found if not check.is_valid(body)]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, small: what a mutated field becomes."""
    kinds = ["null", "bool", "int", "float", "str"]
    if depth < 3:
        kinds += ["list", "dict"]
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64, rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.0, -0.0, 1e308, -1e-308, 0.5, rng.uniform(-1e6, 1e6)])
    if kind == "str":
        return rng.choice(["", "x", "user", "\u0000", "é", "😀", "a" * rng.randint(1, 300)])
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{i}": random_json(rng, depth + 1) for i in range(rng.randint(0, 3))}
