"""Precedence between markers, scenarios and options, live-mode env, and option errors."""

from __future__ import annotations

import pytest

from fake_server import FakeLMStudio

from .conftest import Project


def test_live_lmstudio_env_keeps_the_token_of_the_environment(project: Project) -> None:
    """In live mode ``lmstudio_env`` points at the real server, so it keeps the user's token."""
    with FakeLMStudio(api_token="live-token") as real:
        real.chat.reply("from the live server")
        project.monkeypatch.setenv("LMSTUDIO_API_TOKEN", "live-token")
        project.tests(
            """
            import os

            import pytest

            from pytest_lmstudio import CompletionRequest, Message, SyncLMStudioProvider

            @pytest.mark.lmstudio_live
            def test_live_env(lmstudio_env):
                assert os.environ.get("LMSTUDIO_API_TOKEN") == "live-token"
                request = CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user("hi")])
                with SyncLMStudioProvider() as provider:
                    assert provider.complete(request).content == "from the live server"
            """
        )
        project.run(f"--lmstudio-live={real.url}").assert_outcomes(passed=1)


SCENARIO = '{"seed": 5, "profile": "openai", "rules": []}'


def test_closest_marker_keyword_wins_over_a_farther_scenario(project: Project) -> None:
    """``seed=`` on the function is closer than ``scenario=`` on the module, so it wins."""
    project.write("seed5.json", SCENARIO)
    project.tests(
        """
        import pytest

        pytestmark = pytest.mark.lmstudio(scenario="seed5.json")

        def test_module_scenario(lmstudio_fake):
            assert (lmstudio_fake.seed, lmstudio_fake.profile) == (5, "openai")

        @pytest.mark.lmstudio(seed=8, profile="lmstudio")
        def test_function_keywords_over_module_scenario(lmstudio_fake):
            assert (lmstudio_fake.seed, lmstudio_fake.profile) == (8, "lmstudio")
        """
    )
    project.run().assert_outcomes(passed=2)


def test_keywords_beside_a_scenario_win(project: Project) -> None:
    """``@pytest.mark.lmstudio(scenario=..., seed=8)``: the explicit keyword wins."""
    project.write("seed5.json", SCENARIO)
    project.tests(
        """
        import pytest

        @pytest.mark.lmstudio(scenario="seed5.json", seed=8)
        def test_both(lmstudio_fake):
            assert lmstudio_fake.seed == 8
        """
    )
    project.run().assert_outcomes(passed=1)


def test_bad_lmstudio_strict_ini_value_names_the_option_and_the_valid_values(
    project: Project,
) -> None:
    """The error names the option and what it takes (not a bare "invalid truth value")."""
    project.ini_lines("lmstudio_strict = maybe")
    project.tests("def test_x(lmstudio_fake):\n    pass\n")
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *lmstudio_strict*maybe*"])
    assert "true" in result.stderr.str() and "false" in result.stderr.str()


def test_a_bad_scenario_from_the_ini_file_is_blamed_on_the_ini_option(project: Project) -> None:
    """A bad scenario named in the ini file is blamed on the ini option."""
    project.write("bad.json", '{"rules": [{"route": "chat", "reply": {"content": 3}}]}')
    project.ini_lines("lmstudio_scenario = bad.json")
    project.tests("def test_x(lmstudio_fake):\n    pass\n")
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ini option lmstudio_scenario: *bad.json*"])


def test_the_default_scenario_sets_the_seed_and_profile_unless_an_option_does(
    project: Project,
) -> None:
    """``--lmstudio-scenario`` with ``seed``/``profile`` in the file: the file's apply unless
    ``--lmstudio-seed`` / ``--lmstudio-profile`` are given."""
    project.write("default.json", SCENARIO)
    project.tests(
        """
        import os

        def test_state(lmstudio_fake):
            expected = (int(os.environ["SEED"]), os.environ["PROFILE"])
            assert (lmstudio_fake.seed, lmstudio_fake.profile) == expected
        """
    )
    project.monkeypatch.setenv("SEED", "5")
    project.monkeypatch.setenv("PROFILE", "openai")
    project.run("--lmstudio-scenario=default.json").assert_outcomes(passed=1)
    project.monkeypatch.setenv("SEED", "2")
    project.monkeypatch.setenv("PROFILE", "lmstudio")
    args = ("--lmstudio-scenario=default.json", "--lmstudio-seed=2", "--lmstudio-profile=lmstudio")
    project.run(*args).assert_outcomes(passed=1)
