"""The SDK door's suite: one fake and one recording proxy per module, a fresh
``lmstudio.Client`` per test, and every frame of each test checked against ``lms.json``."""

from __future__ import annotations

from collections.abc import Iterator

import lmstudio as lms
import pytest

from fake_server import FakeLMStudio

from .frames import FrameRecorder, LmsSchema

#: Frames validated against lms.json in this process (reported at the end of the run).
VALIDATED: list[int] = [0]
SCHEMA = LmsSchema()


@pytest.fixture(scope="module")
def fake_module() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


@pytest.fixture(scope="module")
def recorder(fake_module: FakeLMStudio) -> Iterator[FrameRecorder]:
    with FrameRecorder(fake_module) as recorder:
        yield recorder


@pytest.fixture
def fake(fake_module: FakeLMStudio, recorder: FrameRecorder) -> Iterator[FakeLMStudio]:
    """The module's fake, reset; at teardown the test's frames are validated and the fake's
    ``check()`` must pass (no error inside it, no client-side warning)."""
    fake_module.reset()
    recorder.frames.clear()
    yield fake_module
    VALIDATED[0] += SCHEMA.check(list(recorder.frames))
    fake_module.check()


@pytest.fixture
def client(fake: FakeLMStudio, recorder: FrameRecorder) -> Iterator[lms.Client]:
    with lms.Client(recorder.host) as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if VALIDATED[0]:
        terminalreporter.write_line(
            f"SDK door: {VALIDATED[0]} websocket frames validated against lms.json"
        )
