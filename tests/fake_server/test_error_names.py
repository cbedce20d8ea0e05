"""The fake's errors show the name users import them by (``fake_server.ScriptError``), not a
private module path, and survive pickling."""

from __future__ import annotations

import pickle
import traceback

import pytest

import fake_server
from fake_server import FakeLMStudio, ScenarioError, ScriptError


def test_every_exported_error_is_named_by_its_public_path() -> None:
    errors = [
        value
        for value in map(fake_server.__dict__.get, fake_server.__all__)
        if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert {e.__name__ for e in errors} == {
        "FakeCheckError",
        "FakeServerError",
        "ScenarioError",
        "ScriptError",
    }
    for error in errors:
        assert error.__module__ == "fake_server"
        assert pickle.loads(pickle.dumps(error)) is error


def test_a_script_error_prints_its_public_name_and_pickles(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError) as raised:
        fake.chat.reply(42)  # type: ignore[arg-type]
    shown = "".join(traceback.format_exception_only(type(raised.value), raised.value))
    assert shown.startswith("fake_server.ScriptError: reply content must be a string")
    assert str(pickle.loads(pickle.dumps(raised.value))) == str(raised.value)


def test_a_scenario_error_pickles_with_its_source_and_path() -> None:
    error = ScenarioError("ci.json", "unknown key 'rulez'", "$.rulez")
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), str(again), again.source, again.path) == (
        ScenarioError,
        "ci.json at $.rulez: unknown key 'rulez'",
        "ci.json",
        "$.rulez",
    )


def test_a_scenario_error_points_at_a_schema_one_has_after_a_wheel_install() -> None:
    with pytest.raises(ScenarioError) as raised:
        FakeLMStudio().load_scenario({"rulez": []})
    message = str(raised.value)
    assert message.endswith("(see the scenario schema: fake_server.scenario_schema())")
    assert "schemas/" not in message
    schema = fake_server.scenario_schema()
    assert schema["$id"] == "https://pytest-lmstudio.local/schemas/scenario.schema.json"
    assert "rules" in schema["properties"]
    schema["properties"].clear()  # a copy: the fake's own schema is untouched
    assert "rules" in fake_server.scenario_schema()["properties"]
