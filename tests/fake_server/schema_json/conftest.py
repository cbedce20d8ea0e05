"""Fixtures for the schema-to-JSON generator's tests: a validator that asserts formats."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis would keep a .hypothesis directory under the working directory (see
# tests/provider/conftest.py for why that breaks collection).
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hypothesis-schema-json-"))

Fits = Callable[[Any, Any], None]


def fits(schema: Any, value: Any) -> None:
    """jsonschema 2020-12 with formats asserted (rfc3339-validator checks date-time and time)."""
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [e.message for e in validator.iter_errors(value)]
    assert not errors, f"{value!r} does not fit: {errors}"


@pytest.fixture(scope="session")  # session scope: usable inside hypothesis tests
def assert_fits() -> Fits:
    return fits
