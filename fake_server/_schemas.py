"""The JSON Schemas shipped in ``schemas/``, loaded through importlib.resources.

An installed wheel has them inside the package, as ``fake_server/schemas``; a source tree (a git
checkout, an editable install, an unpacked sdist) has the one top-level ``schemas/`` beside it.

Two validators per schema, both built from the same files:

* a fastjsonschema-compiled function for the hot path (a few microseconds per
  request, so that validating every request and answer stays cheap), its bytecode kept
  between processes by ``_validator_cache``, and
* a ``jsonschema`` Draft 2020-12 validator, used only when the fast one says no,
  for precise messages that name the bad field.

Cross-file references are relative paths resolved against each file's ``$id``
(``https://pytest-lmstudio.local/schemas/<path>``); both validators resolve them
from the package data, never from the network.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ._validator_cache import cached_compile

SCHEMA_BASE_URI = "https://pytest-lmstudio.local/schemas/"

__all__ = [
    "SCHEMA_BASE_URI",
    "SchemaViolation",
    "Validator",
    "load_schema",
    "mismatch",
    "schema_names",
    "validator",
]


class SchemaViolation(ValueError):
    """A document does not match a schema; ``path`` points at the bad field."""

    def __init__(
        self,
        schema: str,
        message: str,
        path: str,
        *,
        keyword: str = "",
        expected: Any = None,
        instance: Any = None,
    ) -> None:
        self.schema = schema
        self.message = message
        self.path = path
        #: the JSON Schema keyword that failed, what it asked for, and the value it saw
        self.keyword = keyword
        self.expected = expected
        self.instance = instance
        where = f" at {path}" if path else ""
        super().__init__(f"{message}{where} (schema {schema})")


@functools.cache
def _root() -> Any:  # a Traversable
    packaged = resources.files("fake_server").joinpath("schemas")
    if packaged.is_dir():
        return packaged
    # A source tree: the top-level schemas/, the only copy (why no symlink: pyproject.toml).
    return Path(__file__).resolve().parent.parent / "schemas"


def _walk(folder: Any, prefix: str) -> Iterator[str]:
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".schema.json"):
            yield f"{prefix}{entry.name}"


def schema_names() -> list[str]:
    """Every shipped schema, as paths relative to ``schemas/`` (``openai/chat-completion...``)."""
    return sorted(_walk(_root(), ""))


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema ``name`` (a path relative to ``schemas/``)."""
    node = _root()
    for part in name.split("/"):
        node = node.joinpath(part)
    try:
        text = node.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError(f"no schema named {name!r}; shipped: {', '.join(schema_names())}") from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _name_from_uri(uri: str) -> str:
    if not uri.startswith(SCHEMA_BASE_URI):
        raise KeyError(f"schema reference outside the shipped schemas: {uri}")
    return uri[len(SCHEMA_BASE_URI) :].split("#", 1)[0]


def _format_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass
class Validator:
    """Checks documents against one schema: fast when valid, precise when not."""

    name: str
    _fast: Callable[[Any], Any]
    _precise: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def is_valid(self, document: Any) -> bool:
        try:
            self._fast(document)
        except Exception:
            return False
        return True

    def check(self, document: Any) -> None:
        """Raise ``SchemaViolation`` naming the first bad field, or return."""
        if self.is_valid(document):
            return
        error = self.first_error(document)
        if error is None:  # the two validators disagree: trust the stricter answer
            raise SchemaViolation(self.name, "document rejected by the compiled validator", "")
        raise error

    def first_error(self, document: Any) -> SchemaViolation | None:
        import jsonschema

        precise = self._precise_validator()
        best = jsonschema.exceptions.best_match(precise.iter_errors(document))
        if best is None:
            return None
        return SchemaViolation(
            self.name,
            best.message,
            _format_path(best.absolute_path),
            keyword=str(best.validator),
            expected=best.validator_value,
            instance=best.instance,
        )

    def errors(self, document: Any) -> list[SchemaViolation]:
        """Every violation, for reports that list them all."""
        precise = self._precise_validator()
        return [
            SchemaViolation(self.name, e.message, _format_path(e.absolute_path))
            for e in precise.iter_errors(document)
        ]

    def raw_errors(self, document: Any) -> list[Any]:
        """jsonschema's own errors (keyword, schema, sub-errors of a ``oneOf``), for a door
        that words them in its server's terms."""
        return list(self._precise_validator().iter_errors(document))

    def _precise_validator(self) -> Any:
        with self._lock:
            if self._precise is None:
                self._precise = _build_precise(self.name)
            return self._precise


def mismatch(schema: Mapping[str, Any], document: Any) -> str | None:
    """Why ``document`` does not fit ``schema`` (a schema from a request, not a shipped one),
    or None. For the rare checks off the hot path: jsonschema, loaded when first needed."""
    import jsonschema

    try:
        checker = jsonschema.Draft202012Validator(schema)
        best = jsonschema.exceptions.best_match(checker.iter_errors(document))
    except (jsonschema.exceptions.SchemaError, jsonschema.exceptions.RefResolutionError) as exc:
        return f"the schema itself is not usable: {exc}"
    if best is None:
        return None
    return f"{best.message} at {_format_path(best.absolute_path)}"


def _build_precise(name: str) -> Any:
    import jsonschema
    import referencing

    def retrieve(uri: str) -> referencing.Resource[Any]:
        return referencing.Resource.from_contents(load_schema(_name_from_uri(uri)))

    registry: referencing.Registry[Any] = referencing.Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return jsonschema.Draft202012Validator(load_schema(name), registry=registry)


_build_lock = threading.Lock()


@functools.cache
def _validator_cached(name: str) -> Validator:
    fast = _compile(load_schema(name))
    return Validator(name, fast, None, threading.Lock())


def validator(name: str) -> Validator:
    """The compiled ``Validator`` for schema ``name`` (built once, then shared)."""
    with _build_lock:
        return _validator_cached(name)


def _compile(schema: dict[str, Any]) -> Callable[[Any], Any]:
    def handler(uri: str) -> dict[str, Any]:
        return copy.deepcopy(load_schema(_name_from_uri(uri)))

    return cached_compile(schema, _sources_digest(), handler)


@functools.cache
def _sources_digest() -> bytes:
    """A hash of every shipped schema file: what a compiled validator may depend on."""
    digest = hashlib.sha256()
    for name in schema_names():
        node = _root()
        for part in name.split("/"):
            node = node.joinpath(part)
        digest.update(name.encode() + b"\0" + node.read_bytes() + b"\0")
    return digest.digest()


def _as_bool(check: Callable[[Any], Any]) -> Callable[[Any], bool]:
    def is_valid(document: Any) -> bool:
        try:
            check(document)
        except Exception:
            return False
        return True

    return is_valid


@functools.cache
def part_validator(name: str, pointer: str) -> Callable[[Any], bool]:
    """A compiled yes/no check of one part of a schema file, e.g.
    ``part_validator("openai/common.schema.json", "#/$defs/user_message")``."""
    folder, _, file = name.rpartition("/")
    wrapper = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE_URI}{folder}/{file}.part",
        "$ref": f"{file}{pointer}",
    }
    with _build_lock:
        return _as_bool(_compile(wrapper))


#: What an object schema may say for ``envelope_check`` to give its verdict property by
#: property (anything else, say ``additionalProperties``, and it would not).
_ENVELOPE_KEYWORDS = frozenset(
    {"$schema", "$id", "title", "description", "type", "required", "properties"}
)


@functools.cache
def envelope_check(name: str, array_property: str) -> Callable[[Any], bool]:
    """A yes/no check of schema ``name`` (an object schema) with the items of
    ``array_property`` only required to be objects: the fast path checks those items one by
    one, by kind. It checks the properties a document has, each with its own compiled
    check (made on first use), not every property the schema names: a chat request uses 3 of
    its 29."""
    schema = load_schema(name)
    if set(schema) - _ENVELOPE_KEYWORDS or schema.get("type") != "object":
        raise ValueError(f"{name}: not a plain object schema, check it whole")
    required = tuple(schema.get("required", ()))
    properties: dict[str, Any] = schema["properties"]
    folder, _, file = name.rpartition("/")
    checks: dict[str, Callable[[Any], bool]] = {}

    def check_of(key: str) -> Callable[[Any], bool]:
        if key == array_property:
            shallow = {**properties[key], "items": {"type": "object"}}
            shallow["$schema"] = schema.get(
                "$schema", "https://json-schema.org/draft/2020-12/schema"
            )
            shallow["$id"] = f"{SCHEMA_BASE_URI}{folder}/{file}.{key}"
            with _build_lock:
                made = _as_bool(_compile(shallow))
        else:
            pointer = key.replace("~", "~0").replace("/", "~1")
            made = part_validator(name, f"#/properties/{pointer}")
        checks[key] = made
        return made

    def is_valid(document: Any) -> bool:
        if not isinstance(document, dict) or any(key not in document for key in required):
            return False
        for key, value in document.items():
            check = checks.get(key)
            if check is None:
                if key not in properties:
                    continue  # the schema allows any other property
                check = check_of(key)
            if not check(value):
                return False
        return True

    return is_valid
