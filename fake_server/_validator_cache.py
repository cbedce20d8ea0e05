"""Compiled schema validators kept as bytecode between processes, as Python keeps modules.

fastjsonschema writes a validator as Python source and compiles it: about 0.1 s for the four
validators a first chat request needs, paid again by every fresh process (each xdist worker,
each CI job). Here the generated code is compiled once and its bytecode written beside the
package's own (``fake_server/__pycache__/validators/``, or under ``sys.pycache_prefix``);
later processes read it back in about a millisecond.

The same rules as Python's bytecode cache: nothing is written when ``sys.dont_write_bytecode``
is set (``PYTHONDONTWRITEBYTECODE``, ``-B``) or the folder is read-only, and an unreadable or
stale entry is compiled again. An entry's name is a hash of everything the code depends on:
the schema (and every schema file it may reference), the fastjsonschema version, the options
and the interpreter's bytecode tag. Files are written under a temporary name and renamed, so
processes that compile at the same time never read half a file.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["cache_folder", "cached_compile"]

#: Bumped when the layout of an entry changes.
_FORMAT = b"fake_server-validator-1"
#: Entries kept at most: the oldest go when a write passes it (a developer editing the schemas
#: leaves one stale entry per edit; the shipped schemas need about 40).
MAX_ENTRIES = 200


@functools.cache
def cache_folder() -> Path:
    """Where entries live: beside the package's bytecode, as Python would put it."""
    package = Path(__file__).resolve().parent
    if sys.pycache_prefix:
        return Path(sys.pycache_prefix) / package.relative_to(package.anchor) / "validators"
    return package / "__pycache__" / "validators"


def cached_compile(
    schema: dict[str, Any],
    sources_digest: bytes,
    handler: Callable[[str], dict[str, Any]],
) -> Callable[[Any], Any]:
    """The fastjsonschema validator of ``schema`` (its ``$ref`` resolved by ``handler``),
    read from the cache when an entry matches, else compiled (and the entry written).
    ``sources_digest`` stands for every file ``handler`` can return."""
    import fastjsonschema

    key = hashlib.sha256(
        b"\0".join(
            (
                _FORMAT,
                sys.implementation.cache_tag.encode(),
                fastjsonschema.VERSION.encode(),
                sources_digest,
                json.dumps(schema, sort_keys=True).encode(),
            )
        )
    ).hexdigest()[:32]
    path = cache_folder() / f"{key}.bin"
    entry = _read(path)
    if entry is None:
        entry = _generate(schema, handler)
        if not sys.dont_write_bytecode:
            _write(path, entry)
    name, code = entry
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    compiled: Callable[[Any], Any] = namespace[name]
    return compiled


def _generate(schema: dict[str, Any], handler: Callable[[str], dict[str, Any]]) -> tuple[str, Any]:
    import fastjsonschema
    from fastjsonschema.ref_resolver import RefResolver

    # The entry point is named after the schema's $id; the resolver rewrites $refs in place,
    # hence the copies.
    name = RefResolver.from_schema(
        copy.deepcopy(schema), handlers={"https": handler}, store={}
    ).get_scope_name()
    # detailed_exceptions=False is not used: fastjsonschema 2.22 then fails to compile any
    # schema with "const" (KeyError 'definition_rule'); the flag only costs on rejection.
    source = fastjsonschema.compile_to_code(
        copy.deepcopy(schema), handlers={"https": handler}, use_default=False
    )
    return name, compile(source, f"<validator {schema.get('$id', '')}>", "exec")


def _read(path: Path) -> tuple[str, Any] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(_FORMAT + b"\n"):
        return None
    try:
        name, code = marshal.loads(data[len(_FORMAT) + 1 :])
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(name, str) or not hasattr(code, "co_code"):
        return None
    return name, code


def _write(path: Path, entry: tuple[str, Any]) -> None:
    import tempfile

    # A cache: a folder that cannot be written (a read-only install) only costs the next
    # process a compile.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_FORMAT + b"\n" + marshal.dumps(entry))
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        entries = sorted(path.parent.glob("*.bin"), key=lambda p: p.stat().st_mtime)
        for stale in entries[:-MAX_ENTRIES]:
            stale.unlink()
