"""A fake LM Studio server for tests: faithful by default, scriptable, validated.

from fake_server import FakeLMStudio

with FakeLMStudio() as fake:
    fake.chat.reply("Hello!")
    ...  # point any OpenAI-compatible client at fake.url
"""

from __future__ import annotations

# The distribution's one version (both packages ship in it); pytest_lmstudio's __init__ is
# lazy, so this imports no client code.
from pytest_lmstudio._version import __version__ as __version__

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
