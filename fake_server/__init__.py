"""A fake LM Studio server for tests: faithful by default, scriptable, validated.

from fake_server import FakeLMStudio

with FakeLMStudio() as fake:
    fake.chat.reply("Hello!")
    ...  # point any OpenAI-compatible client at fake.url
"""

from __future__ import annotations

from ._catalog import Model
from ._errors import FakeCheckError, FakeServerError, ScenarioError, ScriptError
from ._journal import RecordedRequest
from ._scenario_file import scenario_schema
from ._script import RouteScript
from ._server import FakeLMStudio
from ._settings import NOT_GIVEN
from .engine import Rule

__all__ = [
    "NOT_GIVEN",
    "FakeCheckError",
    "FakeLMStudio",
    "FakeServerError",
    "Model",
    "RecordedRequest",
    "RouteScript",
    "Rule",
    "ScenarioError",
    "ScriptError",
    "scenario_schema",
]


def __getattr__(name: str) -> str:
    # The distribution's one version is in pytest_lmstudio/_version.py (both packages ship in
    # one wheel). Read on first use: importing the fake loads nothing of the client.
    if name == "__version__":
        from pytest_lmstudio._version import __version__

        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
