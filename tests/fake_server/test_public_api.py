"""fake_server's public surface: __all__, py.typed, and a light import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import fake_server
from fake_server._schemas import _root


def test_all_names_exist_and_are_public() -> None:
    assert len(set(fake_server.__all__)) == len(fake_server.__all__)
    for name in fake_server.__all__:
        assert not name.startswith("_")
        assert getattr(fake_server, name) is not None
    exported = {n for n in dir(fake_server) if not n.startswith("_") and n[0].isupper()}
    assert exported <= set(fake_server.__all__)


def test_py_typed_is_in_the_package_and_the_loader_finds_the_schemas() -> None:
    package = Path(fake_server.__file__).parent
    assert (package / "py.typed").is_file()
    # From this source tree the loader reads the top-level schemas/, their only copy; that the
    # wheel ships them inside the package is checked on a real build in test_downstream.py.
    assert Path(str(_root())) == Path(__file__).resolve().parents[2] / "schemas"
    assert _root().joinpath("scenario.schema.json").is_file()


def test_import_does_not_load_the_provider() -> None:
    code = "import json, sys, fake_server; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert not [m for m in json.loads(out) if m.startswith("pytest_lmstudio")]
