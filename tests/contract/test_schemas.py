"""Contract tests for the JSON Schemas in ``schemas/``: the files, their references, examples.

Each example is checked three ways that must agree: the fastjsonschema function the fake uses on
its hot path, the loader's jsonschema Draft 2020-12 validator (its error messages), and a separate
jsonschema validator built straight from the files on disk.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import pytest
import referencing
from referencing.jsonschema import DRAFT202012

from fake_server._schemas import SCHEMA_BASE_URI, load_schema, schema_names, validator
from tests.contract.examples import INVALID, VALID

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
FILES = sorted(
    path.relative_to(SCHEMA_DIR).as_posix() for path in SCHEMA_DIR.rglob("*.schema.json")
)
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# Keywords that fastjsonschema (draft-07 rules) and jsonschema (2020-12) read the same way.
_MAPS_OF_SCHEMAS = {"properties", "$defs"}
_SCHEMAS = {"additionalProperties", "items", "not"}
_LISTS_OF_SCHEMAS = {"anyOf", "oneOf", "allOf"}
_ANNOTATIONS = {"$schema", "$id", "title", "description"}
_ASSERTIONS = {
    "type",
    "enum",
    "const",
    "required",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "minLength",
    "pattern",
    "$ref",
}
PORTABLE = _MAPS_OF_SCHEMAS | _SCHEMAS | _LISTS_OF_SCHEMAS | _ANNOTATIONS | _ASSERTIONS


def _disk(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _registry() -> referencing.Registry[Any]:
    """Every schema on disk under its ``$id``, independent of the loader."""
    resources = [(_disk(name)["$id"], DRAFT202012.create_resource(_disk(name))) for name in FILES]
    return referencing.Registry().with_resources(resources)


@functools.cache
def _independent(key: str) -> jsonschema.Draft202012Validator:
    """A jsonschema validator for ``key`` (a file, or a file plus ``#/$defs/...``)."""
    return jsonschema.Draft202012Validator({"$ref": SCHEMA_BASE_URI + key}, registry=_registry())


@functools.cache
def _fast(key: str) -> Callable[[Any], Any]:
    """A fastjsonschema function for ``key`` (a file plus ``#/$defs/...``), as the loader builds."""

    def handler(uri: str) -> dict[str, Any]:
        return copy.deepcopy(_disk(uri[len(SCHEMA_BASE_URI) :].split("#", 1)[0]))

    compiled: Callable[[Any], Any] = fastjsonschema.compile(
        {"$ref": SCHEMA_BASE_URI + key}, handlers={"https": handler}, use_default=False
    )
    return compiled


def _fast_accepts(key: str, document: Any) -> bool:
    if "#" not in key:
        return validator(key).is_valid(document)
    try:
        _fast(key)(document)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def _subschemas(schema: Any, pointer: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (sub)schema object of ``schema`` with its JSON pointer."""
    if not isinstance(schema, dict):
        return
    yield pointer, schema
    for key, value in schema.items():
        if key in _MAPS_OF_SCHEMAS:
            for name, sub in value.items():
                yield from _subschemas(sub, f"{pointer}/{key}/{name}")
        elif key in _SCHEMAS:
            yield from _subschemas(value, f"{pointer}/{key}")
        elif key in _LISTS_OF_SCHEMAS:
            for index, sub in enumerate(value):
                yield from _subschemas(sub, f"{pointer}/{key}/{index}")


def _examples(table: dict[str, list[Any]]) -> list[Any]:
    return [
        pytest.param(key, *example[1:], id=f"{key}::{example[0]}")
        for key, examples in table.items()
        for example in examples
    ]


# --- The files ---------------------------------------------------------------------------


def test_schema_names_lists_exactly_the_files_on_disk() -> None:
    """The loader ships every schema file and nothing else."""
    assert FILES
    assert schema_names() == FILES


@pytest.mark.parametrize("name", FILES)
def test_schema_file_is_a_valid_2020_12_schema(name: str) -> None:
    """$schema, an $id matching the path, a title and a description; jsonschema accepts it."""
    text = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["$schema"] == DRAFT
    assert schema["$id"] == SCHEMA_BASE_URI + name
    assert isinstance(schema.get("title"), str) and schema["title"]
    assert isinstance(schema.get("description"), str) and schema["description"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert text == json.dumps(schema, indent=2, ensure_ascii=False) + "\n", (
        "not 2-space pretty JSON"
    )


@pytest.mark.parametrize("name", FILES)
def test_schema_uses_only_portable_keywords(name: str) -> None:
    """No keyword that fastjsonschema (draft-07) and jsonschema (2020-12) read differently."""
    for pointer, sub in _subschemas(_disk(name)):
        unknown = set(sub) - PORTABLE
        assert not unknown, f"{name}{pointer}: non-portable keywords {sorted(unknown)}"
        if "$ref" in sub:
            # draft-07 ignores the siblings of $ref; 2020-12 applies them.
            siblings = set(sub) - {"$ref", "description", "title"}
            assert not siblings, f"{name}{pointer}: keywords beside $ref {sorted(siblings)}"
        if "items" in sub:
            assert isinstance(sub["items"], dict), f"{name}{pointer}: items must be one schema"
        types = sub.get("type", [])
        if "enum" in sub and "null" in types:
            assert None in sub["enum"], f"{name}{pointer}: nullable type but no null in enum"


@pytest.mark.parametrize("name", FILES)
def test_references_are_relative_and_resolve(name: str) -> None:
    """Every $ref is relative to the file's $id and points at an existing schema."""
    schema = _disk(name)
    resolver = _registry().resolver(base_uri=schema["$id"])
    for pointer, sub in _subschemas(schema):
        ref = sub.get("$ref")
        if ref is None:
            continue
        assert "://" not in ref and not ref.startswith("/"), f"{name}{pointer}: absolute $ref {ref}"
        resolved = resolver.lookup(ref).contents
        assert isinstance(resolved, dict), f"{name}{pointer}: {ref} is not a schema"


@pytest.mark.parametrize("name", FILES)
def test_every_schema_has_valid_and_invalid_examples(name: str) -> None:
    """At least two examples each way, per file (the common files through their $defs)."""
    valid = [doc for key, docs in VALID.items() if key.split("#")[0] == name for doc in docs]
    invalid = [doc for key, docs in INVALID.items() if key.split("#")[0] == name for doc in docs]
    assert len(valid) >= 2, f"{name}: {len(valid)} valid examples"
    assert len(invalid) >= 2, f"{name}: {len(invalid)} invalid examples"


@pytest.mark.parametrize("name", FILES)
def test_compiling_does_not_change_the_loaded_schema(name: str) -> None:
    """fastjsonschema rewrites $refs in place; the loader must hand it a copy."""
    validator(name)
    assert load_schema(name) == _disk(name)


def test_example_keys_name_existing_schemas() -> None:
    """A typo in an example key would silently skip its examples."""
    for key in [*VALID, *INVALID]:
        assert _registry().resolver().lookup(SCHEMA_BASE_URI + key).contents, key


# --- The examples ------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "document"), _examples(VALID))
def test_valid_example(key: str, document: Any) -> None:
    """Both validators, and an independent jsonschema, accept the example."""
    assert json.loads(json.dumps(document)) == document, "examples must be plain JSON"
    errors = [error.message for error in _independent(key).iter_errors(document)]
    assert errors == []
    assert _fast_accepts(key, document), "fastjsonschema rejects what jsonschema accepts"
    if "#" not in key:
        assert validator(key).first_error(document) is None


@pytest.mark.parametrize(("key", "document", "reason"), _examples(INVALID))
def test_invalid_example(key: str, document: Any, reason: str) -> None:
    """Both validators, and an independent jsonschema, reject the example for one reason."""
    assert json.loads(json.dumps(document)) == document, "examples must be plain JSON"
    errors = list(_independent(key).iter_errors(document))
    assert len(errors) == 1, f"expected one reason, got {[error.message for error in errors]}"
    best = jsonschema.exceptions.best_match(errors)
    assert best is not None and reason in best.message
    assert not _fast_accepts(key, document), "fastjsonschema accepts what jsonschema rejects"
    if "#" not in key:
        error = validator(key).first_error(document)
        assert error is not None
        assert reason in error.message
        assert len(validator(key).errors(document)) == 1


_ODD_VALUES: list[Any] = [None, True, 1, -1, 1.0, 2.5, "", "x", [], {}, [1]]


def _variants(document: Any) -> Iterator[Any]:
    """Copies of ``document`` with one node replaced by an odd value, or removed."""
    yield from _ODD_VALUES
    if isinstance(document, dict):
        for key, value in document.items():
            yield {k: v for k, v in document.items() if k != key}
            for variant in _variants(value):
                yield {**document, key: variant}
    elif isinstance(document, list):
        for index, value in enumerate(document):
            for variant in _variants(value):
                yield [*document[:index], variant, *document[index + 1 :]]


@pytest.mark.parametrize("key", sorted(VALID))
def test_validators_agree_on_mutated_examples(key: str) -> None:
    """fastjsonschema and jsonschema give the same verdict on broken copies of the examples."""
    precise = _independent(key)
    disagreements = [
        variant
        for _, document in VALID[key][:2]
        for variant in _variants(document)
        if _fast_accepts(key, variant) != precise.is_valid(variant)
    ]
    assert disagreements == []
