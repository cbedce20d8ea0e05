"""Write the sync provider from the async one, as httpcore's ``scripts/unasync.py`` does.

    python scripts/unasync.py           # rewrite pytest_lmstudio/provider/_sync.py (make unasync)
    python scripts/unasync.py --check   # exit 1, with a diff, if that file differs (make lint)

Each rule renames an async token to its sync twin (``async def`` to ``def``, ``aclose`` to
``close``, ``anyio.Lock`` to ``threading.Lock``, ``LMStudioProvider`` to
``SyncLMStudioProvider``, ...), in code, comments and docstrings alike. The module docstring is
written here. ruff then sorts the imports and formats the result, so the async source needs no
layout chosen for its twin. An async word that no rule removes stops the script: add a rule, or
reword the source.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("pytest_lmstudio/provider/_client.py")
TARGET = Path("pytest_lmstudio/provider/_sync.py")

HEADER = f"""\
# Generated from {SOURCE.name} by scripts/unasync.py: do not edit. Edit {SOURCE.name}, then run
# `make unasync` (`make test` fails while this file differs from what the script writes).
"""

DOCSTRING = f'''\
"""``SyncLMStudioProvider``: the blocking client, on ``httpx.Client``.

The same methods, parameters and behaviour as ``LMStudioProvider``, with threads for tasks:
``{SOURCE.name}`` with each async token renamed by ``scripts/unasync.py``. Everything that is not
I/O (request building, parsing, validation, cache policy, error mapping) is shared with it
through ``ProviderCore`` and ``CacheSlot``.
"""
'''

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


def body_after_docstring(source: str) -> tuple[int, list[str]]:
    """The lines of the module after its docstring, and the number of the first."""
    tree = ast.parse(source)
    first = tree.body[0] if tree.body else None
    if not (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and first.end_lineno is not None
    ):
        raise UnasyncError(f"{SOURCE} must open with a module docstring")
    return first.end_lineno + 1, source.splitlines(keepends=True)[first.end_lineno :]


def ruff(args: list[str], source: str) -> str:
    """``source`` passed through ``ruff <args>`` with the project's settings."""
    command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(TARGET), "-"]
    done = subprocess.run(
        command, input=source, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise UnasyncError(f"`ruff {' '.join(args)}` failed on the generated code:\n{done.stderr}")
    return done.stdout


def generate(source: str) -> str:
    """The sync client's source, from the async client's."""
    start, body = body_after_docstring(source)
    lines = [unasync_line(line) for line in body]
    leftovers = [
        f"  {SOURCE.name}:{number}: {line.strip()}"
        for number, line in enumerate(lines, start)
        if _LEFTOVER.search(line)
    ]
    if leftovers:
        raise UnasyncError(
            "async words no rule removes (add a rule to scripts/unasync.py, or reword):\n"
            + "\n".join(leftovers)
        )
    code = HEADER + DOCSTRING + "".join(lines)
    # Renames leave imports unsorted: threading for anyio, Iterator for AsyncIterator.
    code = ruff(["check", "--fix-only", "--select", "I"], code)
    return ruff(["format"], code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the file is stale"
    )
    args = parser.parse_args(argv)
    try:
        expected = generate((ROOT / SOURCE).read_text(encoding="utf-8"))
    except UnasyncError as error:
        print(f"unasync: {error}", file=sys.stderr)
        return 2
    target = ROOT / TARGET
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    if current == expected:
        return 0
    if args.check:
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                str(TARGET),
                f"{TARGET} (from {SOURCE.name})",
            )
        )
        print(
            f"unasync: {TARGET} differs from what {SOURCE.name} makes: edit {SOURCE.name}, "
            "not it, then run `make unasync` (python scripts/unasync.py)",
            file=sys.stderr,
        )
        return 1
    target.write_text(expected, encoding="utf-8")
    print(f"unasync: wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
