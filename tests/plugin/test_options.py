"""The ``--lmstudio-*`` options and their ini twins: command line over ini over default, and a
``pytest.UsageError`` (no traceback) for a bad value."""

from __future__ import annotations

import pytest
from _pytest.pytester import RunResult

from .conftest import Project

STATE_TEST = """
import pytest

def test_state(lmstudio_fake):
    print("STATE", lmstudio_fake.seed, lmstudio_fake.profile, len(lmstudio_fake.rules))
"""

ALL_PROFILES = (
    "lmstudio, openai, lmstudio-0.4.21, lmstudio-0.4.1, lmstudio-0.4.0, lmstudio-"
    "0.3.23, lmstudio-0.3.18, lmstudio-0.3.15, lmstudio-0.3.9, lmstudio-0.3.5"
)


def state_of(result: RunResult) -> tuple[int, str, int]:
    """What ``STATE_TEST`` printed (run with ``-s``)."""
    [line] = [line for line in result.outlines if line.startswith("STATE ") or " STATE " in line]
    _, seed, profile, rules = line[line.index("STATE") :].split()
    return int(seed), profile, int(rules)


def assert_usage_error(result: RunResult, message: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [
        ((), "", 0),
        (("--lmstudio-seed=5",), "", 5),
        (("--lmstudio-seed", "6"), "", 6),
        ((), "lmstudio_seed = 3", 3),
        (("--lmstudio-seed=5",), "lmstudio_seed = 3", 5),
    ],
)
def test_seed(project: Project, args: tuple[str, ...], ini: str, expected: int) -> None:
    project.ini_lines(ini)
    project.tests(STATE_TEST)
    result = project.run("-s", *args)
    result.assert_outcomes(passed=1)
    assert state_of(result) == (expected, "lmstudio", 0)
    result.stdout.fnmatch_lines([f"lmstudio: fake http://127.0.0.1:* seed={expected}"])


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [
        ((), "", "lmstudio"),
        (("--lmstudio-profile=openai",), "", "openai"),
        ((), "lmstudio_profile = openai", "openai"),
        (("--lmstudio-profile", "lmstudio"), "lmstudio_profile = openai", "lmstudio"),
    ],
)
def test_profile(project: Project, args: tuple[str, ...], ini: str, expected: str) -> None:
    project.ini_lines(ini)
    project.tests(STATE_TEST)
    result = project.run("-s", *args)
    result.assert_outcomes(passed=1)
    assert state_of(result) == (0, expected, 0)
    result.stdout.fnmatch_lines([f"lmstudio: fake http://127.0.0.1:* profile={expected} seed=0"])


def test_options_set_the_state_that_each_test_is_reset_to(project: Project) -> None:
    project.tests(
        """
        import pytest

        @pytest.mark.lmstudio(seed=8, profile="lmstudio")
        def test_marker_over_options(lmstudio_fake):
            assert (lmstudio_fake.seed, lmstudio_fake.profile) == (8, "lmstudio")
            lmstudio_fake.set_seed(9)

        def test_back_to_the_options(lmstudio_fake):
            assert (lmstudio_fake.seed, lmstudio_fake.profile) == (4, "openai")
        """
    )
    project.run("--lmstudio-seed=4", "--lmstudio-profile=openai").assert_outcomes(passed=2)


SCENARIO_JSON = """\
{
  "models": [{"id": "acme/json-1b"}],
  "rules": [{"route": "chat", "reply": {"content": "from the default scenario"}}]
}
"""
SCENARIO_TOML = """\
[[models]]
id = "acme/toml-1b"

[[rules]]
route = "chat"
reply = { content = "from the TOML scenario" }
"""
SCENARIO_TESTS = """
import httpx

BODY = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hi"}]}

def answer(fake):
    response = httpx.post(fake.url + "/v1/chat/completions", json=BODY)
    return response.json()["choices"][0]["message"]["content"]

def test_first(lmstudio_fake):
    assert MODEL in [model.id for model in lmstudio_fake.catalog]
    assert len(lmstudio_fake.rules) == 1
    assert answer(lmstudio_fake) == TEXT
    lmstudio_fake.chat.reply("added by the first test")
    lmstudio_fake.remove_model(MODEL)

def test_second_sees_the_scenario_again(lmstudio_fake):
    assert MODEL in [model.id for model in lmstudio_fake.catalog]
    assert len(lmstudio_fake.rules) == 1
    assert lmstudio_fake.rules[0].calls == 0
    assert answer(lmstudio_fake) == TEXT
"""
JSON_EXPECTED = "MODEL = 'acme/json-1b'\nTEXT = 'from the default scenario'\n"
TOML_EXPECTED = "MODEL = 'acme/toml-1b'\nTEXT = 'from the TOML scenario'\n"


def test_scenario_option_relative_to_the_working_directory(project: Project) -> None:
    project.write("scenarios/default.json", SCENARIO_JSON)
    project.tests(JSON_EXPECTED, SCENARIO_TESTS)
    result = project.run("--lmstudio-scenario=scenarios/default.json")
    result.assert_outcomes(passed=2)


def test_scenario_ini_relative_to_the_rootdir(project: Project) -> None:
    project.write("scenarios/default.toml", SCENARIO_TOML)
    project.ini_lines("lmstudio_scenario = scenarios/default.toml")
    project.write(
        "tests/test_in_a_subfolder.py",
        TOML_EXPECTED + SCENARIO_TESTS,
    )
    project.monkeypatch.chdir(project.path / "tests")
    project.run().assert_outcomes(passed=2)


def test_scenario_command_line_over_ini(project: Project) -> None:
    project.write("one.json", SCENARIO_JSON)
    project.write("two.toml", SCENARIO_TOML)
    project.ini_lines("lmstudio_scenario = one.json")
    project.tests(TOML_EXPECTED, SCENARIO_TESTS)
    project.run("--lmstudio-scenario", "two.toml").assert_outcomes(passed=2)


def test_scenario_option_errors(project: Project) -> None:
    project.tests(STATE_TEST)
    missing = project.path / "nowhere.json"
    assert_usage_error(
        project.run("--lmstudio-scenario=nowhere.json"),
        f"--lmstudio-scenario: no scenario file at {missing}",
    )
    project.ini_lines("lmstudio_scenario = nowhere.json")
    assert_usage_error(
        project.run(), f"ini option lmstudio_scenario: no scenario file at {missing}"
    )
    project.ini_lines()
    project.write("bad.json", '{"rules": [{"route": "chat", "reply": {"content": 3}}]}')
    assert_usage_error(
        project.run("--lmstudio-scenario=bad.json"), "--lmstudio-scenario: *bad.json*"
    )
    project.write("broken.json", '{"rules": [')
    assert_usage_error(project.run("--lmstudio-scenario=broken.json"), "*broken.json*")


STRICT_TESTS = """
def test_leaves_a_rule_unused(lmstudio_fake):
    lmstudio_fake.chat.fail(503, "Model is loading", times=1)
"""


@pytest.mark.parametrize(
    ("args", "ini", "strict"),
    [
        ((), "", True),
        (("--lmstudio-strict",), "", True),
        (("--no-lmstudio-strict",), "", False),
        ((), "lmstudio_strict = false", False),
        ((), "lmstudio_strict = true", True),
        (("--lmstudio-strict",), "lmstudio_strict = false", True),
        (("--no-lmstudio-strict",), "lmstudio_strict = true", False),
    ],
)
def test_strict(project: Project, args: tuple[str, ...], ini: str, strict: bool) -> None:
    project.ini_lines(ini)
    project.tests(STRICT_TESTS)
    result = project.run(*args)
    if strict:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["lmstudio strict check *"])
    else:
        result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ("--lmstudio-seed=-1",),
            "",
            "--lmstudio-seed must be a non-negative integer, got '-1'",
        ),
        (
            ("--lmstudio-seed=many",),
            "",
            "--lmstudio-seed must be a non-negative integer, got 'many'",
        ),
        ((), "lmstudio_seed = 1.5", "ini option lmstudio_seed must be a non-negative integer*"),
        (
            ("--lmstudio-profile=gpt",),
            "",
            "--lmstudio-profile must be one of " + ALL_PROFILES + "; got 'gpt'",
        ),
        (
            (),
            "lmstudio_profile = LMStudio",
            "ini option lmstudio_profile must be one of " + ALL_PROFILES + "; got 'LMStudio'",
        ),
        (
            ("--lmstudio-live=ftp://example.org",),
            "",
            "--lmstudio-live takes 'auto' (discover LM Studio) or a URL such as "
            "http://localhost:1234; got 'ftp://example.org'",
        ),
        ((), "lmstudio_live = yes", "ini option lmstudio_live takes 'auto' * got 'yes'"),
    ],
)
def test_bad_values_are_usage_errors_that_list_the_valid_ones(
    project: Project, args: tuple[str, ...], ini: str, message: str
) -> None:
    project.ini_lines(ini)
    project.tests(STATE_TEST)
    assert_usage_error(project.run(*args), message)


def test_a_bad_ini_value_is_not_checked_when_the_command_line_gives_one(project: Project) -> None:
    project.ini_lines("lmstudio_seed = many", "lmstudio_profile = gpt")
    project.tests(STATE_TEST)
    result = project.run("-s", "--lmstudio-seed=2", "--lmstudio-profile=openai")
    result.assert_outcomes(passed=1)
    assert state_of(result) == (2, "openai", 0)


def test_the_plugins_profile_names_are_the_fakes() -> None:
    from fake_server._profiles import PROFILE_NAMES
    from pytest_lmstudio.plugin import PROFILES

    assert PROFILES == PROFILE_NAMES


def test_the_scenario_schema_names_every_profile() -> None:
    from fake_server._profiles import PROFILE_NAMES
    from fake_server._schemas import load_schema

    assert tuple(load_schema("scenario.schema.json")["properties"]["profile"]["enum"]) == (
        PROFILE_NAMES
    )
