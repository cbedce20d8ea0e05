"""Hand-written schemas for what pydantic does not emit, determinism and the compile cache."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from fake_server._schema_json import (
    IGNORED_KEYWORDS,
    SUPPORTED_KEYWORDS,
    UNSUPPORTED_KEYWORDS,
    check,
    generate,
)

WORDS = ("lorem", "ipsum", "dolor", "sit", "amet")
FORMATS = ("date", "date-time", "time", "email", "uuid", "uri", "ipv4", "ipv6", "hostname")

SCHEMAS: dict[str, Any] = {
    "allOf merges": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer", "minimum": 3}}},
            {"properties": {"a": {"maximum": 5}, "b": {"const": "x"}}, "required": ["a", "b"]},
        ]
    },
    "allOf closes with additionalProperties": {
        "allOf": [
            {"properties": {"a": {"type": "string"}}, "additionalProperties": False},
            {"properties": {"b": {"type": "string"}}},
        ],
        "required": ["a"],
    },
    "$ref with siblings": {
        "$defs": {"N": {"type": "integer", "minimum": 0}},
        "$ref": "#/$defs/N",
        "maximum": 3,
    },
    "definitions": {
        "definitions": {"Tag": {"type": "string", "enum": ["a", "b"]}},
        "type": "array",
        "items": {"$ref": "#/definitions/Tag"},
        "minItems": 2,
    },
    "recursion through #": {
        "type": "object",
        "properties": {"value": {"type": "integer"}, "next": {"$ref": "#"}},
        "required": ["value"],
    },
    "required recursion with an empty way out": {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["kids"],
        "additionalProperties": False,
    },
    "type lists": {"type": ["integer", "string", "null"], "minimum": 10, "maxLength": 3},
    "enum of mixed values": {"enum": [1, "one", None, True, [1], {"a": 1}]},
    "enum filtered by the other keywords": {"type": "integer", "enum": ["a", 1.5, 2, 3]},
    "const object": {"const": {"a": [1, 2]}},
    "prefixItems closed": {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "boolean"}],
        "items": False,
    },
    "prefixItems then items": {
        "type": "array",
        "prefixItems": [{"const": "head"}],
        "items": {"type": "integer"},
        "minItems": 3,
    },
    "required names that are not declared": {
        "type": "object",
        "required": ["x", "y"],
        "additionalProperties": {"type": "number"},
    },
    "property counts": {
        "type": "object",
        "properties": {k: {"type": "boolean"} for k in "abcdef"},
        "minProperties": 3,
        "maxProperties": 4,
    },
    "minProperties beyond the declared": {
        "type": "object",
        "properties": {"a": {"type": "null"}},
        "minProperties": 3,
        "additionalProperties": {"type": "integer"},
    },
    "multipleOf with floats": {"type": "number", "multipleOf": 0.1, "minimum": 0.2, "maximum": 1},
    "multipleOf with integers": {"type": "integer", "multipleOf": 7, "exclusiveMinimum": 100},
    "two multipleOfs": {"allOf": [{"multipleOf": 4}, {"multipleOf": 6}], "type": "integer"},
    "exclusive bounds": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    "integer between fractions": {"type": "integer", "minimum": 1.5, "maximum": 2.5},
    "long strings": {"type": "string", "minLength": 40, "maxLength": 45},
    "short strings": {"type": "string", "maxLength": 2},
    "empty string only": {"type": "string", "maxLength": 0},
    "pattern with length": {"type": "string", "pattern": "^[a-z]+$", "minLength": 12},
    "two patterns": {"allOf": [{"pattern": "^[a-f0-9]+$"}, {"pattern": "[0-9]"}], "type": "string"},
    "unanchored pattern": {"type": "string", "pattern": "\\d{3}"},
    "old pydantic Decimal": {
        "anyOf": [
            {"type": "number"},
            {"type": "string", "pattern": "^(?!^[-+.]*$)[+-]?0*\\d*\\.?\\d*$"},
        ]
    },
    "oneOf with overlapping branches": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
    "oneOf with siblings": {
        "type": "object",
        "properties": {"id": {"type": "integer"}},
        "required": ["id"],
        "oneOf": [
            {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
            {"properties": {"kind": {"const": "b"}, "extra": {"type": "string"}}},
        ],
    },
    "anyOf inside allOf": {
        "allOf": [
            {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            {"anyOf": [{"minimum": 5}, {"maxLength": 3}]},
        ]
    },
    "boolean schemas": {
        "type": "object",
        "properties": {"yes": True, "no": False},
        "required": ["yes"],
    },
    "true schema": True,
    "empty schema": {},
    "uniqueItems of a small enum": {
        "type": "array",
        "items": {"enum": ["r", "g", "b"]},
        "uniqueItems": True,
        "minItems": 3,
    },
    "every format": {
        "type": "object",
        "properties": {f: {"type": "string", "format": f} for f in FORMATS},
        "required": ["date", "uuid"],
    },
    "annotations are ignored": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.com/x",
        "title": "T",
        "description": "d",
        "default": 5,
        "examples": [1],
        "x-vendor": {"not": {}},
        "type": "integer",
    },
    "escaped pointers": {
        "$defs": {"a/b~c": {"const": 1}},
        "properties": {"v": {"$ref": "#/$defs/a~1b~0c"}},
        "required": ["v"],
    },
    "dict of models": {
        "$defs": {"P": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "type": "object",
        "additionalProperties": {"$ref": "#/$defs/P"},
    },
}


@pytest.mark.parametrize("name", SCHEMAS)
def test_values_fit(name: str, assert_fits: Any) -> None:
    schema = SCHEMAS[name]
    check(schema)
    for seed in range(40):
        assert_fits(schema, generate(schema, random.Random(seed), WORDS))


def test_examples() -> None:
    """A few exact answers, so a change in what the generator draws is a visible change."""
    assert generate({"type": "integer", "minimum": 1.5, "maximum": 2.5}, random.Random(0)) == 2
    assert generate({"const": "x"}, random.Random(0)) == "x"
    assert generate({"type": "string", "maxLength": 0}, random.Random(0)) == ""
    value = generate(SCHEMAS["allOf merges"], random.Random(0))
    assert value["b"] == "x" and 3 <= value["a"] <= 5


def test_the_same_seed_gives_the_same_value() -> None:
    for name, schema in SCHEMAS.items():
        first = generate(schema, random.Random(11), WORDS)
        assert generate(copy.deepcopy(schema), random.Random(11), WORDS) == first, name


def test_different_seeds_usually_differ() -> None:
    schema = SCHEMAS["every format"]
    values = {json.dumps(generate(schema, random.Random(seed))) for seed in range(20)}
    assert len(values) == 20


def test_the_words_are_used() -> None:
    value = generate({"type": "string"}, random.Random(0), ["zebra"])
    assert set(value.split()) == {"zebra"}


def test_the_cached_schema_is_a_copy() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"a": {"const": 1}},
        "required": ["a"],
    }
    assert generate(schema, random.Random(0)) == {"a": 1}
    schema["properties"]["a"]["const"] = 2  # same object, new content: a new cache entry
    assert generate(schema, random.Random(0)) == {"a": 2}
    value = generate({"const": {"a": [1]}}, random.Random(0))
    value["a"].append(2)  # the answer is the caller's to change
    assert generate({"const": {"a": [1]}}, random.Random(0)) == {"a": [1]}


def test_property_order_follows_the_schema() -> None:
    props = {k: {"type": "integer"} for k in "zyxw"}
    schema = {"type": "object", "properties": props, "required": list("wxyz")}
    assert list(generate(schema, random.Random(0))) == list("zyxw")


def test_the_keyword_lists_do_not_overlap() -> None:
    assert not SUPPORTED_KEYWORDS & UNSUPPORTED_KEYWORDS
    assert not SUPPORTED_KEYWORDS & IGNORED_KEYWORDS
    assert not IGNORED_KEYWORDS & UNSUPPORTED_KEYWORDS
