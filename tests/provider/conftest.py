"""Fixtures for the provider's tests: a fake LM Studio per module, reset before each test."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from fake_server import FakeLMStudio
from pytest_lmstudio import LMStudioConfig

# Hypothesis keeps a .hypothesis directory under the working directory; pytest then refuses to
# collect the root (norecursedirs in pyproject replaces the defaults that skip dot-directories,
# and filterwarnings=error turns hypothesis's warning about it into an error). Keep it elsewhere.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hypothesis-provider-"))


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def fake_module() -> Iterator[FakeLMStudio]:
    with FakeLMStudio(seed=0) as fake:
        yield fake


@pytest.fixture
def fake(fake_module: FakeLMStudio) -> FakeLMStudio:
    fake_module.reset()
    return fake_module


@pytest.fixture
def config(fake: FakeLMStudio) -> LMStudioConfig:
    return LMStudioConfig(endpoint=fake.url, timeout_seconds=10)


class FakeClock:
    """Injected time: ``sleep`` records and advances, ``monotonic`` reads; nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def sleep_sync(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
