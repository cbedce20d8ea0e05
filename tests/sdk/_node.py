"""The JavaScript SDK for the tests: ``node`` and ``npm`` found, ``@lmstudio/sdk`` installed once.

Each SDK version has a folder in ``tests/sdk/js/`` (``sdk-1.5.0``, ``sdk-2.0.0``) with its
``package.json`` and ``package-lock.json``; ``install()`` copies them into a cache folder
outside the checkout and runs ``npm ci`` there, once: the folder is named after the two files'
hash, so a changed pin installs again and an unchanged one is reused by every later run (and
every worktree). The cache is ``$PYTEST_LMSTUDIO_CACHE``, else ``$XDG_CACHE_HOME`` or
``~/.cache``, then ``pytest-lmstudio/js-sdk/``. Two runs installing at once wait for each
other on a lock file; npm is given ``INSTALL_SECONDS``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"
EXCHANGE = JS / "exchange.mjs"
VERSIONS = ("1.5.0", "2.0.0")
NODE_MAJOR_MIN = 18
INSTALL_SECONDS = 240.0
#: Set to 1 to skip the JavaScript tests on a machine with node but no npm registry.
SKIP_ENV = "PYTEST_LMSTUDIO_SKIP_JS"


def cache_root() -> Path:
    explicit = os.environ.get("PYTEST_LMSTUDIO_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-lmstudio"


def node_or_skip() -> str:
    """The ``node`` executable (18 or newer) with ``npm`` beside it; the test skips, saying
    why, when either is missing."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the JavaScript SDK tests are turned off")
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        pytest.skip(f"the JavaScript SDK tests need node and npm on PATH ({missing} not found)")
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    version = done.stdout.strip().lstrip("v")
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < NODE_MAJOR_MIN:
        pytest.skip(f"the JavaScript SDK needs node {NODE_MAJOR_MIN} or newer, found {version!r}")
    return node


def _digest(source: Path) -> str:
    files = (source / "package.json", source / "package-lock.json")
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time for ``path`` (other pytest runs, other xdist workers)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install(version: str) -> Path:
    """The folder where ``@lmstudio/sdk`` ``version`` is installed (installing it the first
    time); the test fails with npm's own words when npm cannot install it."""
    source = JS / f"sdk-{version}"
    target = cache_root() / "js-sdk" / f"{version}-{_digest(source)}"
    done = target / ".installed"
    if done.is_file():
        return target
    npm = shutil.which("npm")
    assert npm is not None  # node_or_skip() checked
    with _locked(target.with_name(target.name + ".lock")):
        if done.is_file():  # another run installed it while this one waited
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(source / name, target / name)
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            result = subprocess.run(
                command, cwd=target, capture_output=True, text=True, timeout=INSTALL_SECONDS
            )
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"npm ci of @lmstudio/sdk {version} took over {INSTALL_SECONDS:.0f} s in "
                f"{target} (is the npm registry reachable? {SKIP_ENV}=1 skips these tests)"
            )
        if result.returncode != 0:
            pytest.fail(
                f"npm ci of @lmstudio/sdk {version} failed in {target} (exit "
                f"{result.returncode}; {SKIP_ENV}=1 skips these tests):\n"
                f"{result.stderr[-3000:]}"
            )
        done.write_text(version + "\n")
    return target
