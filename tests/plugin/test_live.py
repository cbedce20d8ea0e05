"""Live mode: tests marked ``lmstudio_live`` run against a real LM Studio with
``--lmstudio-live[=URL]`` (skipped with the reason when none is found), else against the fake.

"A real LM Studio" is a ``FakeLMStudio`` started by the outer test: the plugin cannot tell.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

import pytest

from fake_server import FakeLMStudio

from .conftest import Project

LIVE_TESTS = """
import os

import httpx
import pytest

from pytest_lmstudio import CompletionRequest, Message, SyncLMStudioProvider

REQUEST = CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user("hi")])


@pytest.mark.lmstudio_live
def test_live_url(lmstudio_fake_url):
    print("LIVE URL", lmstudio_fake_url)
    assert httpx.get(lmstudio_fake_url + "/lmstudio-greeting").json() == {"lmstudio": True}


@pytest.mark.lmstudio_live
def test_live_provider(lmstudio_sync_provider):
    print("LIVE ANSWER", lmstudio_sync_provider.complete(REQUEST).content)


@pytest.mark.lmstudio_live
def test_live_env(lmstudio_env):
    with SyncLMStudioProvider() as provider:
        print("LIVE ENV", os.environ["LMSTUDIO_ENDPOINT"], provider.complete(REQUEST).content)


@pytest.mark.lmstudio_live
def test_live_cannot_script(lmstudio_fake):
    pass


def test_unmarked_uses_the_fake(lmstudio_fake, lmstudio_fake_url):
    assert lmstudio_fake_url == lmstudio_fake.url
    print("FAKE URL", lmstudio_fake_url)
"""


@pytest.fixture
def real() -> Iterator[FakeLMStudio]:
    """The "real" LM Studio of these tests, answering every chat with one text."""
    with FakeLMStudio() as server:
        server.chat.reply("from the live server")
        yield server


def test_live_mode_skips_marked_tests_when_no_lm_studio_is_found(
    project: Project, no_lmstudio: str
) -> None:
    project.tests(LIVE_TESTS)
    result = project.run("-rs", "--lmstudio-live")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(
        [
            "lmstudio: live auto for tests marked lmstudio_live",
            "lmstudio: fake http://127.0.0.1:* profile=lmstudio seed=0",
        ]
    )
    reason = (
        f"--lmstudio-live: no LM Studio found (LM Studio is not reachable. Tried: {no_lmstudio}*"
    )
    skipped = [line for line in result.outlines if line.startswith("SKIPPED [1] test_inner.py:")]
    assert len(skipped) == 4
    assert all(fnmatch.fnmatch(line.split(": ", 1)[1], reason) for line in skipped), skipped


def test_live_ini_auto_is_the_same(project: Project, no_lmstudio: str) -> None:
    project.ini_lines("lmstudio_live = auto")
    project.tests(LIVE_TESTS)
    result = project.run("-rs")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(["SKIPPED * --lmstudio-live: no LM Studio found *"])


def test_live_mode_runs_marked_tests_against_the_url(project: Project, real: FakeLMStudio) -> None:
    project.tests(LIVE_TESTS)
    result = project.run("-rs", "-s", f"--lmstudio-live={real.url}/")
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines(
        [
            f"lmstudio: live {real.url} for tests marked lmstudio_live",
            "lmstudio: fake http://127.0.0.1:* profile=lmstudio seed=0",
        ]
    )
    output = result.stdout.str()
    assert re.search(rf"LIVE URL {re.escape(real.url)}$", output, re.MULTILINE)
    assert "LIVE ANSWER from the live server" in output
    assert f"LIVE ENV {real.url} from the live server" in output
    assert f"FAKE URL {real.url}" not in output
    result.stdout.fnmatch_lines(
        ["SKIPPED * lmstudio_fake scripts the fake, which --lmstudio-live replaces"]
    )
    paths = [entry.path for entry in real.requests]
    # The plugin's probe (is anything there?), then the tests' own requests.
    assert paths == ["/lmstudio-greeting"] * 2 + ["/v1/chat/completions"] * 2


def test_live_command_line_over_ini(project: Project, real: FakeLMStudio, closed_port: int) -> None:
    project.ini_lines(f"lmstudio_live = http://127.0.0.1:{closed_port}")
    project.tests(LIVE_TESTS)
    result = project.run("-s", f"--lmstudio-live={real.url}")
    result.assert_outcomes(passed=4, skipped=1)
    assert "LIVE ANSWER from the live server" in result.stdout.str()


def test_live_provider_sends_the_token_of_the_environment(
    project: Project, real: FakeLMStudio
) -> None:
    real.require_api_token("live-token")
    project.monkeypatch.setenv("LMSTUDIO_API_TOKEN", "live-token")
    project.tests(LIVE_TESTS)
    result = project.run("-s", f"--lmstudio-live={real.url}", "-k", "provider")
    result.assert_outcomes(passed=1, deselected=4)
    assert "LIVE ANSWER from the live server" in result.stdout.str()


def test_without_the_option_marked_tests_use_the_fake(project: Project) -> None:
    project.tests(
        """
        import pytest

        @pytest.mark.lmstudio_live
        def test_marked(lmstudio_fake, lmstudio_fake_url, lmstudio_sync_provider):
            assert lmstudio_fake_url == lmstudio_fake.url
            assert lmstudio_sync_provider.config.endpoint == lmstudio_fake.url
        """
    )
    result = project.run()
    result.assert_outcomes(passed=1)
    assert "lmstudio: live" not in result.stdout.str()


# -- nothing listening at the URL, and --lmstudio-live-required ----------------------------
def test_live_url_with_nothing_listening_skips_with_the_reason(
    project: Project, closed_port: int
) -> None:
    project.tests(LIVE_TESTS)
    url = f"http://127.0.0.1:{closed_port}"
    result = project.run("-rs", f"--lmstudio-live={url}")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(
        [f"SKIPPED [[]1[]] test_inner.py:* --lmstudio-live: no LM Studio at {url} (ConnectError: *"]
    )


@pytest.mark.parametrize("how", ["option", "ini"])
def test_live_required_errors_the_marked_tests_instead(
    project: Project, closed_port: int, how: str
) -> None:
    project.tests(LIVE_TESTS)
    url = f"http://127.0.0.1:{closed_port}"
    args = ["--lmstudio-live-required"] if how == "option" else []
    if how == "ini":
        project.ini_lines("lmstudio_live_required = true")
    result = project.run(f"--lmstudio-live={url}", *args)
    result.assert_outcomes(passed=1, errors=4)  # at setup: the server the tests need
    result.stdout.fnmatch_lines(
        [f"*--lmstudio-live: no LM Studio at {url} (ConnectError: *) (--lmstudio-live-required)"]
    )


def test_live_required_with_discovery(project: Project, no_lmstudio: str) -> None:
    project.tests(LIVE_TESTS)
    result = project.run("--lmstudio-live", "--lmstudio-live-required")
    result.assert_outcomes(passed=1, errors=4)  # at setup: the server the tests need
    result.stdout.fnmatch_lines(
        ["*--lmstudio-live: no LM Studio found (*--lmstudio-live-required)"]
    )


def test_live_required_is_harmless_when_the_server_answers(
    project: Project, real: FakeLMStudio
) -> None:
    project.tests(LIVE_TESTS)
    result = project.run(f"--lmstudio-live={real.url}", "--lmstudio-live-required")
    result.assert_outcomes(passed=4, skipped=1)


def test_a_bad_live_required_ini_value_is_a_usage_error(project: Project) -> None:
    project.ini_lines("lmstudio_live_required = maybe")
    project.tests("def test_x(): pass")
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ini option lmstudio_live_required must be true or false, got 'maybe'*"]
    )
