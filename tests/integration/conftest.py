"""Real client libraries against the fake over real sockets: one fake per module, reset before
each test and checked after it, so an error inside the fake fails the test that caused it."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from fake_server import FakeLMStudio

# Hypothesis would keep a .hypothesis directory under the working directory (see
# tests/provider/conftest.py for why that breaks collection).
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hypothesis-integration-"))

#: A model of the default catalog without reasoning, and one with it.
LLM = "qwen/qwen3-8b"
REASONING_LLM = "openai/gpt-oss-20b"
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def fake_module() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


@pytest.fixture
def fake(fake_module: FakeLMStudio) -> Iterator[FakeLMStudio]:
    fake_module.reset()
    yield fake_module
    fake_module.check()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fits(schema: Any, value: Any) -> None:
    """jsonschema 2020-12 with formats asserted (rfc3339-validator checks date-time and time)."""
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [e.message for e in validator.iter_errors(value)]
    assert not errors, f"{value!r} does not fit: {errors}"


def sent_schema(fake: FakeLMStudio, index: int = -1) -> Any:
    """The ``response_format`` schema of a request the fake received (the last by default)."""
    body = json.loads(fake.requests[index].body)
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema", response_format
    return response_format["json_schema"]["schema"]
