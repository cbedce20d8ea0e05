"""The async and the sync client offer the same public methods, with the same parameters.

Independent of how the sync client is made (scripts/unasync.py today): it compares the classes
as Python sees them, async names mapped to their sync twins.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from pytest_lmstudio.provider._client import ChunkStream, LMStudioProvider
from pytest_lmstudio.provider._sync import SyncChunkStream, SyncLMStudioProvider

#: Async name -> the sync name of the same member.
TWINS = {
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
}
#: Dunder methods that are part of a class's public surface.
PROTOCOL = {"__init__", *TWINS, *TWINS.values()}


def surface(cls: type) -> dict[str, Any]:
    """The public members ``cls`` defines, and the protocol methods among its dunders."""
    return {
        name: member
        for name, member in vars(cls).items()
        if not name.startswith("_") or name in PROTOCOL
    }


def parameters(function: Any) -> str:
    """The parameters' names, kinds (``/``, ``*`` ...) and defaults, without annotations:
    ``(self, config=None, *, sleep=None, ...)``."""
    empty = inspect.Parameter.empty
    signature = inspect.signature(function)
    bare = [p.replace(annotation=empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=bare, return_annotation=empty))


def differences(async_cls: type, sync_cls: type) -> list[str]:
    """Every way ``sync_cls`` is not the sync twin of ``async_cls``, in words; empty if none."""
    found: list[str] = []
    async_members = {TWINS.get(name, name): member for name, member in surface(async_cls).items()}
    sync_members = surface(sync_cls)
    for name in sorted(async_members.keys() - sync_members.keys()):
        found.append(f"{sync_cls.__name__} lacks {name}")
    for name in sorted(sync_members.keys() - async_members.keys()):
        found.append(f"{async_cls.__name__} lacks the twin of {name}")
    for name in sorted(async_members.keys() & sync_members.keys()):
        a, s = async_members[name], sync_members[name]
        if isinstance(a, property) or isinstance(s, property):
            if not (isinstance(a, property) and isinstance(s, property)):
                found.append(f"{name}: a property on one side only")
            continue
        if not (callable(a) and callable(s)):
            found.append(f"{name}: not a method on both sides")
            continue
        if inspect.iscoroutinefunction(s):
            found.append(f"{sync_cls.__name__}.{name} is async")
        if parameters(a) != parameters(s):
            found.append(f"{name}: {parameters(a)} != {parameters(s)}")
        if not name.startswith("__") and not (a.__doc__ and s.__doc__):
            found.append(f"{name}: documented on one side only, or on neither")
    return found


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"),
    [(LMStudioProvider, SyncLMStudioProvider), (ChunkStream, SyncChunkStream)],
    ids=["provider", "stream"],
)
def test_the_sync_client_is_the_twin_of_the_async_one(async_cls: type, sync_cls: type) -> None:
    assert differences(async_cls, sync_cls) == []
    assert async_cls.__doc__ and sync_cls.__doc__


def test_the_io_methods_of_the_async_client_are_async() -> None:
    """So that an async method turned sync by mistake on both sides does not go unseen."""
    for cls, sync_only in ((LMStudioProvider, {"stream", "close_idle"}), (ChunkStream, set())):
        for name, member in surface(cls).items():
            if name == "__init__" or isinstance(member, property):
                continue
            expected = name not in sync_only and name != "__aiter__"
            assert inspect.iscoroutinefunction(member) == expected, name


def test_a_difference_is_named() -> None:
    class Async:
        def __init__(self, a: int, *, b: int = 1) -> None: ...

        async def aclose(self) -> None:
            """Close."""

        async def fetch(self, x: int) -> int:
            """Fetch."""
            return x

        async def gone(self) -> None:
            """Only here."""

        def sync_only(self, *, a: int) -> None:
            """Not a coroutine on either side."""

    class Sync:
        def __init__(self, a: int, *, b: int = 2) -> None: ...

        def close(self) -> None:
            """Close."""

        def fetch(self, y: int) -> int:
            return y

        def sync_only(self, a: int) -> None:
            """Keyword-only on the async side."""

        def extra(self) -> None:
            """Only here."""

    assert differences(Async, Sync) == [
        "Sync lacks gone",
        "Async lacks the twin of extra",
        "__init__: (self, a, *, b=1) != (self, a, *, b=2)",
        "fetch: (self, x) != (self, y)",
        "fetch: documented on one side only, or on neither",
        "sync_only: (self, *, a) != (self, a)",
    ]
