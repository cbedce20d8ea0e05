"""Errors the fake raises in the test's thread.

FakeServerError            base class
├── ScriptError            a scripting call or scripted answer is wrong (raised at once)
├── ScenarioError          a scenario file is unreadable or breaks the scenario schema
│                          (``fake_server.scenario_schema()``)
└── FakeCheckError         ``fake.check()``: unused rules or errors inside the server
                           (also an AssertionError, so test runners report it as a failure)
"""

from __future__ import annotations

from typing import Any

__all__ = ["FakeCheckError", "FakeServerError", "ScenarioError", "ScriptError"]


class FakeServerError(Exception):
    """Base class of the fake server's own errors."""


class ScriptError(FakeServerError, ValueError):
    """A scripting call is invalid, or a scripted answer would break the API format."""


class ScenarioError(FakeServerError, ValueError):
    """A scenario file cannot be read or does not match the scenario schema."""

    def __init__(self, source: str, message: str, path: str = "") -> None:
        self.source = source
        self.path = path
        self.message = message
        where = f" at {path}" if path else ""
        super().__init__(f"{source}{where}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.message, self.path))


class FakeCheckError(FakeServerError, AssertionError):
    """Scripted expectations were not met, or the server failed while answering."""


# Tracebacks name a class by its module: show the one users import the errors from
# (``fake_server.ScriptError``), not this private module; pickling finds them there too.
for _error in (FakeServerError, ScriptError, ScenarioError, FakeCheckError):
    _error.__module__ = "fake_server"
del _error
