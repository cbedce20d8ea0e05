"""What the generator cannot honour is refused up front, naming the keyword and the pointer."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fake_server._schema_json import UNSUPPORTED_KEYWORDS, UnsupportedSchema, check, generate


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props)}


# (schema, keyword, pointer, words the message has)
CASES: list[tuple[Any, str, str, str]] = [
    (obj(x={"not": {"type": "null"}}), "not", "/properties/x", "unsupported keyword 'not'"),
    ({"if": {}, "then": {}, "else": {}}, "if", "", "at the root"),
    ({"type": "object", "patternProperties": {"^a": {}}}, "patternProperties", "", ""),
    ({"dependentSchemas": {"a": {}}}, "dependentSchemas", "", ""),
    ({"dependentRequired": {"a": ["b"]}}, "dependentRequired", "", ""),
    ({"type": "array", "contains": {"const": 1}}, "contains", "", ""),
    ({"unevaluatedProperties": False}, "unevaluatedProperties", "", ""),
    ({"propertyNames": {"maxLength": 3}}, "propertyNames", "", ""),
    ({"$dynamicRef": "#meta"}, "$dynamicRef", "", ""),
    (obj(x={"$ref": "https://example.com/s.json"}), "$ref", "/properties/x", "only local"),
    (obj(x={"$ref": "other.json#/a"}), "$ref", "/properties/x", "only local"),
    (obj(x={"$ref": "#anchor"}), "$ref", "/properties/x", "anchors"),
    (obj(x={"$ref": "#/$defs/Missing"}), "$ref", "/properties/x", "points to nothing"),
    ({"$ref": "#"}, "$ref", "", "loop"),
    (
        {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"},
        "$ref",
        "/$defs/A",
        "loop",
    ),
    (obj(n={"type": "integer", "minimum": 5, "maximum": 3}), "minimum", "/properties/n", ""),
    ({"type": "number", "exclusiveMinimum": 1, "maximum": 1}, "minimum", "", "cannot satisfy"),
    ({"type": "integer", "minimum": 1, "maximum": 4, "multipleOf": 5}, "multipleOf", "", ""),
    ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength", "", ""),
    ({"type": "array", "minItems": 3, "maxItems": 1}, "minItems", "", ""),
    ({"type": "array", "prefixItems": [{}], "items": False, "minItems": 2}, "minItems", "", ""),
    (
        {"type": "array", "items": {"enum": [1, 2]}, "uniqueItems": True, "minItems": 3},
        "uniqueItems",
        "",
        "",
    ),
    ({"type": "object", "maxProperties": 1, "required": ["a", "b"]}, "minProperties", "", ""),
    ({"type": "string", "enum": [1, 2]}, "enum", "", "no listed value fits"),
    ({"type": "integer", "const": "a"}, "const", "", ""),
    ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "type", "", "no type"),
    (obj(a=False), "required", "", "forbidden"),
    ({"type": "object", "required": ["z"], "additionalProperties": False}, "required", "", ""),
    (False, "schema", "", "false"),
    (obj(p={"type": "string", "pattern": "(a)\\1"}), "pattern", "/properties/p", "backref"),
    (obj(p={"type": "string", "pattern": "^(?=a)a$"}), "pattern", "/properties/p", "lookaround"),
    ({"type": "string", "pattern": "(?<name>a)"}, "pattern", "", "Python can check"),
    ({"type": "string", "pattern": "[[a]"}, "pattern", "", "nested sets"),
    ({"type": "string", "pattern": "^a$b"}, "pattern", "", "no string"),
    ({"type": "string", "format": "color"}, "format", "", "unknown format"),
    ({"allOf": [{"format": "date"}, {"format": "uuid"}]}, "format", "/allOf/1", "both"),
    ({"type": "string", "format": "uuid", "maxLength": 10}, "format", "", ""),
    ({"type": "array", "items": [{"type": "string"}]}, "items", "", "draft-07"),
    ({"type": "tuple"}, "type", "", "unknown type"),
    ({"anyOf": []}, "anyOf", "", "non-empty"),
    ({"minimum": "3"}, "minimum", "", "finite number"),
    ({"minLength": -1}, "minLength", "", "non-negative integer"),
    ({"multipleOf": 0}, "multipleOf", "", "above 0"),
    ({"minLength": 10**7}, "minLength", "", "too large"),
    ({"properties": {"a": {"$id": "x"}}}, "$id", "/properties/a", "base URI"),
    ({"properties": []}, "properties", "", "must be an object"),
    ({"properties": {"a": 3}}, "schema", "/properties/a", "object or a boolean"),
    (
        obj(node={"$ref": "#/$defs/N"}) | {"$defs": {"N": obj(next={"$ref": "#/$defs/N"})}},
        "$ref",
        "/$defs/N",
        "recurses without end",
    ),
    ({"oneOf": [{}, {"type": "string"}]}, "oneOf", "", "exactly one"),
    (
        obj(o={"oneOf": [{"type": "string"}, {"not": {}}]}),
        "not",
        "/properties/o/oneOf/1",
        "",
    ),
    ({"type": "object", "properties": {"a~b/c": {"not": {}}}}, "not", "/properties/a~0b~1c", ""),
]


@pytest.mark.parametrize(("schema", "keyword", "pointer", "words"), CASES)
def test_refused_with_keyword_and_pointer(
    schema: Any, keyword: str, pointer: str, words: str
) -> None:
    with pytest.raises(UnsupportedSchema) as info:
        check(schema)
    exc = info.value
    assert (exc.keyword, exc.pointer) == (keyword, pointer)
    message = str(exc)
    assert message.startswith("response_format.json_schema.schema: ")
    assert f"'{keyword}' at {pointer or 'the root'}" in message
    assert words in message
    with pytest.raises(UnsupportedSchema):  # generate refuses what check refuses
        generate(schema, random.Random(0))


def test_every_unsupported_keyword_is_refused() -> None:
    for keyword in sorted(UNSUPPORTED_KEYWORDS):
        with pytest.raises(UnsupportedSchema) as info:
            check({"properties": {"x": {keyword: {}}}})
        assert (info.value.keyword, info.value.pointer) == (keyword, "/properties/x")


def test_the_message_reads_like_the_brief() -> None:
    with pytest.raises(UnsupportedSchema) as info:
        check({"type": "object", "properties": {"x": {"not": {}}}})
    assert str(info.value) == (
        "response_format.json_schema.schema: unsupported keyword 'not' at /properties/x"
    )
    assert info.value.describe("text.format.schema") == (
        "text.format.schema: unsupported keyword 'not' at /properties/x"
    )
    assert isinstance(info.value, ValueError)


def test_an_optional_property_is_still_checked() -> None:
    with pytest.raises(UnsupportedSchema) as info:
        check({"properties": {"x": {"type": "integer", "minimum": 2, "maximum": 1}}})
    assert info.value.pointer == "/properties/x"
    assert not info.value.unsupported


def test_an_alternative_that_cannot_be_generated_is_skipped() -> None:
    schema = {"anyOf": [{"type": "string", "pattern": "(?=x)"}, {"type": "integer"}]}
    check(schema)
    assert all(isinstance(generate(schema, random.Random(s)), int) for s in range(10))
    listed = {"type": ["string", "boolean"], "minLength": 3, "maxLength": 1}
    assert all(isinstance(generate(listed, random.Random(s)), bool) for s in range(10))


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


def test_deep_schemas_work_and_too_deep_ones_are_refused(assert_fits: Any) -> None:
    assert_fits(nested(95), generate(nested(95), random.Random(0)))
    for levels in (120, 5000):  # 240 JSON levels; deeper than json.dumps can go
        with pytest.raises(UnsupportedSchema, match="levels deep"):
            check(nested(levels))


def test_not_json_is_refused() -> None:
    with pytest.raises(UnsupportedSchema) as info:
        check({"type": "number", "maximum": float("nan")})
    assert info.value.keyword == "schema"
    with pytest.raises(UnsupportedSchema):
        check({"const": object()})
