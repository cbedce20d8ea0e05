"""Tests of the pytest plugin, run with ``pytester`` in projects made in a temporary folder.

Our own suite runs with ``-p no:lmstudio``; each inner run loads the plugin explicitly with
``-p pytest_lmstudio.plugin``. Inner runs disable plugin auto-loading, so that they see only
the plugins they name (and start fast): the entry point itself is tested by the downstream
project in ``test_downstream.py``.
"""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import Iterator, Sequence

import pytest

# Imported here, once, so that in-process pytester runs find them in ``sys.modules``: pytester
# drops what a run imported, and a module imported again makes new classes, which the names
# ``pytest_lmstudio`` caches on first use (and isinstance checks) would no longer match.
import fake_server  # noqa: F401
import pytest_lmstudio.plugin
import pytest_lmstudio.provider  # noqa: F401

PLUGIN_ARGS = ("-p", "pytest_lmstudio.plugin", "-p", "no:cacheprovider")
ASYNCIO_PLUGIN = ("-p", "pytest_asyncio.plugin")
ANYIO_PLUGIN = ("-p", "anyio.pytest_plugin")
XDIST_PLUGIN = ("-p", "xdist.plugin")
#: Every inner project: warnings are errors (a leaked socket or an unawaited coroutine fails).
BASE_INI = """\
[pytest]
filterwarnings = error
"""
#: For inner runs with pytest-asyncio (which warns when it is not set).
ASYNCIO_INI = "asyncio_default_fixture_loop_scope = function"
#: Variables that would change what an inner run or the provider does.
CLEARED_ENV = (
    "LMSTUDIO_ENDPOINT",
    "LMSTUDIO_API_TOKEN",
    "LMSTUDIO_CONFIG",
    "LMSTUDIO_TIMEOUT",
    "LMSTUDIO_MAX_RETRIES",
    "LMSTUDIO_CACHE_TTL",
    "LMSTUDIO_ALLOWED_HOSTS",
    "LMS_API_SERVER_INFO_PATH",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: builds the sdist, a wheel from it and a venv (still part of `make test`)"
    )


class Project:
    """A pytest project in a temporary folder, and the ways to run it with our plugin."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pytester = pytester
        self.monkeypatch = monkeypatch
        self.path = pytester.path
        self.ini(BASE_INI)

    def ini(self, text: str) -> None:
        """Replace ``pytest.ini`` (``text`` starts with ``[pytest]``)."""
        (self.path / "pytest.ini").write_text(textwrap.dedent(text), encoding="utf-8")

    def ini_lines(self, *lines: str) -> None:
        """``pytest.ini``: the base settings plus these lines."""
        self.ini(BASE_INI + "".join(f"{line}\n" for line in lines))

    def tests(self, *sources: str, name: str = "test_inner") -> None:
        """Write ``name``.py from ``sources``, each dedented on its own."""
        text = "\n".join(textwrap.dedent(source) for source in sources)
        self.pytester.makepyfile(**{name: text})

    def write(self, relative: str, text: str) -> None:
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")

    def run(self, *args: str, plugins: Sequence[str] = ()) -> pytest.RunResult:
        """In this process: fast, for runs that leave nothing behind once unconfigured."""
        return self.pytester.runpytest_inprocess(*PLUGIN_ARGS, *plugins, *args)

    def run_subprocess(
        self, *args: str, plugins: Sequence[str] = (), timeout: float = 90
    ) -> pytest.RunResult:
        """In a new interpreter: for xdist, and where a run must not share this process."""
        return self.pytester.runpytest_subprocess(*PLUGIN_ARGS, *plugins, *args, timeout=timeout)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return Project(pytester, monkeypatch)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def no_lmstudio(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    closed_port: int,
) -> Iterator[str]:
    """An environment where discovery finds no LM Studio, fast: the configured endpoint is a
    closed port and the home folder is empty. Yields the endpoint it tried."""
    busy = [port for port in range(1234, 1239) if _listening(port)]
    if busy:
        pytest.skip(f"something listens on 127.0.0.1:{busy[0]}, where discovery looks")
    endpoint = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("LMSTUDIO_ENDPOINT", endpoint)
    monkeypatch.setenv("HOME", os.fspath(tmp_path_factory.mktemp("empty-home")))
    yield endpoint


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
