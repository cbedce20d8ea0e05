"""Write the sync provider from the async one, as httpcore's ``scripts/unasync.py`` does.

    python scripts/unasync.py           # rewrite the sync twins (make unasync)
    python scripts/unasync.py --check   # exit 1, with a diff, if a twin differs (make lint)

The twins: ``_sync.py`` from ``_client.py`` (the provider) and ``_sync_stream.py`` from
``_stream.py`` (its streams), in ``pytest_lmstudio/provider``.

Each rule renames an async token to its sync twin (``async def`` to ``def``, ``aclose`` to
``close``, ``anyio.Lock`` to ``threading.Lock``, ``LMStudioProvider`` to
``SyncLMStudioProvider``, ...), in code, comments and docstrings alike. Each twin's module
docstring is written here. ruff then sorts the imports and formats the result, so the async
source needs no layout chosen for its twin. An async word that no rule removes stops the
script: add a rule, or reword the source.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PROVIDER = Path("pytest_lmstudio/provider")

_HEADER = """\
# Generated from {source} by scripts/unasync.py: do not edit. Edit {source}, then run
# `make unasync` (`make test` fails while this file differs from what the script writes).
"""


class Twin(NamedTuple):
    """An async module and the sync module generated from it."""

    source: Path
    target: Path
    docstring: str


TWINS: tuple[Twin, ...] = (
    Twin(
        PROVIDER / "_client.py",
        PROVIDER / "_sync.py",
        '''"""``SyncLMStudioProvider``: the blocking client, on ``httpx.Client``.

The same methods, parameters and behaviour as ``LMStudioProvider``, with threads for tasks:
``_client.py`` with each async token renamed by ``scripts/unasync.py``. Everything that is not
I/O (request building, parsing, validation, cache policy, error mapping) is shared with it
through ``ProviderCore`` and ``CacheSlot``.
"""
''',
    ),
    Twin(
        PROVIDER / "_stream.py",
        PROVIDER / "_sync_stream.py",
        '''"""``SyncChunkStream``: the chunks of a streamed chat completion, read as they come.

The blocking twin of ``ChunkStream``: ``_stream.py`` with each async token renamed by
``scripts/unasync.py``. ``SyncLMStudioProvider.stream`` makes one.
"""
''',
    ),
)

# (pattern, replacement), applied in order, line by line.
RULES: tuple[tuple[str, str], ...] = (
    # Syntax, and "async" or "await" in prose: "an async iterator" becomes "an iterator".
    (r"\basync ", ""),
    (r"\bawait ", ""),
    (r"\banext\(", "next("),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    # Protocols and httpx's method names.
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\baclose\b", "close"),
    (r"\baiter_bytes\b", "iter_bytes"),
    (r"\baiter_raw\b", "iter_raw"),
    (r"\bhandle_async_request\b", "handle_request"),
    # Types: AsyncIterator, httpx.AsyncClient, httpx.AsyncBaseTransport, AsyncShieldCancellation.
    (r"\bAwaitable\[([^\[\]]*)\]", r"\1"),
    (r"\bAwaitable, ", ""),
    (r"\bAsync([A-Z]\w*)", r"\1"),
    # Concurrency: threads for tasks.
    (r"^import anyio$", "import threading"),
    (r"\banyio\.Lock\b", "threading.Lock"),
    (r"\banyio\.sleep\b", "time.sleep"),
    # The classes of this module.
    (r"\bLMStudioProvider\b", "SyncLMStudioProvider"),
    (r"\bChunkStream\b", "SyncChunkStream"),
    # The twins import each other, not the async modules.
    (r"^(\s*)from \._client import ", r"\1from ._sync import "),
    (r"^(\s*)from \._stream import ", r"\1from ._sync_stream import "),
)
_COMPILED = tuple((re.compile(pattern), replacement) for pattern, replacement in RULES)

# What must not survive in the sync client.
_LEFTOVER = re.compile(r"\b(async|await|anyio|Awaitable)\b|\ba(enter|exit|iter|next)\b")


class UnasyncError(Exception):
    """The async source holds something no rule turns into sync code."""


def unasync_line(line: str) -> str:
    for pattern, replacement in _COMPILED:
        line = pattern.sub(replacement, line)
    return line


def body_after_docstring(twin: Twin, source: str) -> tuple[int, list[str]]:
    """The lines of the module after its docstring, and the number of the first."""
    tree = ast.parse(source)
    first = tree.body[0] if tree.body else None
    if not (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and first.end_lineno is not None
    ):
        raise UnasyncError(f"{twin.source} must open with a module docstring")
    return first.end_lineno + 1, source.splitlines(keepends=True)[first.end_lineno :]


def ruff(twin: Twin, args: list[str], source: str) -> str:
    """``source`` passed through ``ruff <args>`` with the project's settings."""
    command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(twin.target), "-"]
    done = subprocess.run(
        command, input=source, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise UnasyncError(f"`ruff {' '.join(args)}` failed on the generated code:\n{done.stderr}")
    return done.stdout


def generate(twin: Twin, source: str) -> str:
    """The sync module's source, from the async module's."""
    start, body = body_after_docstring(twin, source)
    lines = [unasync_line(line) for line in body]
    leftovers = [
        f"  {twin.source.name}:{number}: {line.strip()}"
        for number, line in enumerate(lines, start)
        if _LEFTOVER.search(line)
    ]
    if leftovers:
        raise UnasyncError(
            "async words no rule removes (add a rule to scripts/unasync.py, or reword):\n"
            + "\n".join(leftovers)
        )
    code = _HEADER.format(source=twin.source.name) + twin.docstring + "".join(lines)
    # Renames leave imports unsorted: threading for anyio, Iterator for AsyncIterator.
    code = ruff(twin, ["check", "--fix-only", "--select", "I"], code)
    return ruff(twin, ["format"], code)


def refresh(twin: Twin, *, check: bool) -> int:
    """0 when the twin is what its source makes (written so, unless ``check``); 1 when it is
    stale and ``check``; 2 when the source cannot be made sync."""
    source, target = twin.source, twin.target
    try:
        expected = generate(twin, (ROOT / source).read_text(encoding="utf-8"))
    except UnasyncError as error:
        print(f"unasync: {error}", file=sys.stderr)
        return 2
    current = (ROOT / target).read_text(encoding="utf-8") if (ROOT / target).exists() else ""
    if current == expected:
        return 0
    if check:
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                str(target),
                f"{target} (from {source.name})",
            )
        )
        print(
            f"unasync: {target} differs from what {source.name} makes: edit {source.name}, "
            "not it, then run `make unasync` (python scripts/unasync.py)",
            file=sys.stderr,
        )
        return 1
    (ROOT / target).write_text(expected, encoding="utf-8")
    print(f"unasync: wrote {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a twin is stale"
    )
    args = parser.parse_args(argv)
    return max(refresh(twin, check=args.check) for twin in TWINS)


if __name__ == "__main__":
    sys.exit(main())
