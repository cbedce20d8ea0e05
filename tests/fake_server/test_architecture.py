"""The fake's layers, read from its imports: each module imports only from layers below it
(type-only imports and imports inside functions count too), the import graph has no cycle,
and no module grows past the size one can hold in mind (pytest_lmstudio's too, the provider's
generated sync twins included)."""

from __future__ import annotations

import ast
from pathlib import Path

import fake_server
import pytest_lmstudio

PACKAGE = Path(fake_server.__file__).parent
#: Held to the same size: the client side (provider, plugin) too.
SIZED = (PACKAGE, Path(pytest_lmstudio.__file__).parent)
#: Bottom to top. A module's layer is the first whose prefix its dotted name starts with.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "fake_server._errors",
            "fake_server._schemas",
            "fake_server._validator_cache",
            "fake_server._json",
            "fake_server._content",
            "fake_server._words",
            "fake_server._catalog",
            "fake_server._journal",
            "fake_server._profiles",
            "fake_server._scenario_file",
            "fake_server._schema_json",
        ),
    ),
    ("engine", ("fake_server.engine",)),
    ("dialects", ("fake_server.dialects",)),
    ("transport", ("fake_server.transport",)),
    (
        "facade",
        (
            "fake_server._server",
            "fake_server._server_settings",
            "fake_server._script",
            "fake_server._scenario",
            "fake_server._settings",
            "fake_server._script_checks",
            "fake_server._download_script",
        ),
    ),
    ("package", ("fake_server",)),
    ("cli", ("fake_server.__main__",)),
]
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The fake_server modules ``name`` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # submodules named in `from`
    return {m for m in found if m in known and m != name}


def _layer(name: str) -> int:
    best = -1
    best_length = -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best >= 0, f"{name} is in no layer: add it to LAYERS"
    return best


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_every_module_imports_only_from_lower_layers() -> None:
    upward = [
        f"{name} ({LAYERS[_layer(name)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for name, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target) > _layer(name)
    ]
    assert upward == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_layer_reader_sees_type_only_and_function_level_imports(tmp_path: Path) -> None:
    """The test above would be blind without this: a TYPE_CHECKING import and an import
    inside a function both count."""
    source = tmp_path / "fake_server" / "_demo.py"
    source.parent.mkdir()
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ._server import FakeLMStudio\n"
        "def f():\n    from .transport import build_app\n",
        encoding="utf-8",
    )
    known = {"fake_server._server", "fake_server.transport", "fake_server._demo"}
    found = _imports("fake_server._demo", source, known)
    assert found == {"fake_server._server", "fake_server.transport"}


def test_no_module_is_too_long() -> None:
    paths = [path for package in SIZED for path in sorted(package.rglob("*.py"))]
    assert len(paths) > len(_modules())  # both packages were found
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in paths
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
