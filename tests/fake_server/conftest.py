"""Shared fixtures: one fake per module, reset before each test, and an httpx client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fake_server import FakeLMStudio


@pytest.fixture(scope="module")
def fake_module() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


@pytest.fixture
def fake(fake_module: FakeLMStudio) -> FakeLMStudio:
    fake_module.reset()
    return fake_module


@pytest.fixture
def client(fake: FakeLMStudio) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, timeout=10) as client:
        yield client
