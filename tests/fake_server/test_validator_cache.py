"""The compiled validators' bytecode cache: written once, read back, never trusted blindly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from fake_server import _validator_cache
from fake_server._schemas import _compile, load_schema

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://pytest-lmstudio.local/schemas/test/cache.schema.json",
    "type": "object",
    "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}},
    "required": ["name"],
}


def _no_ref(uri: str) -> dict[str, Any]:
    raise AssertionError(f"no $ref to resolve here: {uri}")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(_validator_cache, "cache_folder", lambda: tmp_path / "validators")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return tmp_path / "validators"


def _accepts(check: Any, document: Any) -> bool:
    try:
        check(document)
    except Exception:
        return False
    return True


def _compile_fails(*args: Any) -> Any:
    raise AssertionError("compiled again: the cache entry was not used")


def test_an_entry_is_written_once_and_read_back_without_compiling(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _validator_cache.cached_compile(SCHEMA, b"digest", _no_ref)
    (entry,) = folder.glob("*.bin")
    monkeypatch.setattr(_validator_cache, "_generate", _compile_fails)
    again = _validator_cache.cached_compile(SCHEMA, b"digest", _no_ref)
    for check in (first, again):
        assert _accepts(check, {"name": "abc"})
        assert not _accepts(check, {"name": "ABC"})
        assert not _accepts(check, {})
    assert list(folder.glob("*.bin")) == [entry]


def test_another_schema_or_other_schema_files_get_entries_of_their_own(folder: Path) -> None:
    _validator_cache.cached_compile(SCHEMA, b"digest", _no_ref)
    _validator_cache.cached_compile(SCHEMA, b"other files", _no_ref)
    _validator_cache.cached_compile({**SCHEMA, "required": []}, b"digest", _no_ref)
    assert len(list(folder.glob("*.bin"))) == 3


def test_a_damaged_entry_is_compiled_again(folder: Path) -> None:
    _validator_cache.cached_compile(SCHEMA, b"digest", _no_ref)
    (entry,) = folder.glob("*.bin")
    entry.write_bytes(entry.read_bytes()[:100])  # a half-written file, another version's
    check = _validator_cache.cached_compile(SCHEMA, b"digest", _no_ref)
    assert _accepts(check, {"name": "abc"}) and not _accepts(check, {"name": 1})
    assert len(entry.read_bytes()) > 100  # written whole again


def test_nothing_is_written_when_bytecode_is_not(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    check = _validator_cache.cached_compile(SCHEMA, b"digest", _no_ref)
    assert _accepts(check, {"name": "abc"})
    assert not folder.exists()


def test_a_folder_that_cannot_be_written_costs_a_compile_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(_validator_cache, "cache_folder", lambda: blocker / "validators")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    check = _validator_cache.cached_compile(SCHEMA, b"digest", _no_ref)
    assert _accepts(check, {"name": "abc"})


def test_the_oldest_entries_go_past_the_limit(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_validator_cache, "MAX_ENTRIES", 2)
    for digest in (b"a", b"b", b"c"):
        _validator_cache.cached_compile(SCHEMA, digest, _no_ref)
    assert len(list(folder.glob("*.bin"))) == 2


def test_a_shipped_schema_compiles_through_the_cache_with_its_references(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The chat request references the common message definitions of another file.
    name = "openai/chat-completion-request.schema.json"
    good = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    bad = {"model": "m", "messages": [{"role": "wizard", "content": 1}]}
    first = _compile(load_schema(name))
    monkeypatch.setattr(_validator_cache, "_generate", _compile_fails)
    again = _compile(load_schema(name))
    for check in (first, again):
        assert _accepts(check, good) and not _accepts(check, bad)
    assert len(list(folder.glob("*.bin"))) == 1
