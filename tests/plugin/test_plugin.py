"""The plugin's fixtures, each used by tests of an inner project run with ``pytester``."""

from __future__ import annotations

import pytest

from .conftest import Project

#: Shared by the inner test files: a chat request and the default catalog.
PRELUDE = """
import os
import subprocess
import sys
import time

import httpx
import pytest

from fake_server import FakeLMStudio, FakeServerError
from pytest_lmstudio import CompletionRequest, Message, SyncLMStudioProvider

DEFAULT_IDS = [
    "qwen/qwen3-8b",
    "qwen2-vl-7b-instruct",
    "text-embedding-nomic-embed-text-v1.5",
    "openai/gpt-oss-20b",
]


def ask(text):
    return CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user(text)])
"""


def test_lmstudio_fake_is_the_session_fake_reset_before_each_test(project: Project) -> None:
    project.tests(
        PRELUDE,
        """
        seen = {}

        def test_first(lmstudio_fake):
            assert [model.id for model in lmstudio_fake.catalog] == DEFAULT_IDS
            assert lmstudio_fake.rules == [] and lmstudio_fake.requests == []
            seen["port"] = lmstudio_fake.port
            lmstudio_fake.chat.reply("scripted in the first test")
            lmstudio_fake.add_model("acme/extra-1b")
            lmstudio_fake.set_seed(9)
            lmstudio_fake.require_api_token("first-token")
            response = httpx.get(
                lmstudio_fake.url + "/v1/models",
                headers={"Authorization": "Bearer first-token"},
            )
            assert response.status_code == 200
            assert len(lmstudio_fake.requests) == 1

        def test_second(lmstudio_fake):
            assert lmstudio_fake.port == seen["port"]
            assert lmstudio_fake.rules == []
            assert lmstudio_fake.requests == []
            assert [model.id for model in lmstudio_fake.catalog] == DEFAULT_IDS
            assert (lmstudio_fake.seed, lmstudio_fake.profile) == (0, "lmstudio")
            assert lmstudio_fake.api_token is None
            body = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hi"}]}
            response = httpx.post(lmstudio_fake.url + "/v1/chat/completions", json=body)
            assert response.status_code == 200
            content = response.json()["choices"][0]["message"]["content"]
            assert content != "scripted in the first test"
            assert lmstudio_fake.requests[-1].rule is None
        """,
    )
    project.run().assert_outcomes(passed=2)


def test_lmstudio_fake_url(project: Project) -> None:
    project.tests(
        PRELUDE,
        """
        def test_url_alone(lmstudio_fake_url):
            assert lmstudio_fake_url.startswith("http://127.0.0.1:")
            assert not lmstudio_fake_url.endswith("/")
            response = httpx.get(lmstudio_fake_url + "/lmstudio-greeting")
            assert response.json() == {"lmstudio": True}

        def test_url_is_the_fakes(lmstudio_fake_url, lmstudio_fake):
            assert lmstudio_fake_url == lmstudio_fake.url
            assert [entry.path for entry in lmstudio_fake.requests] == []
        """,
    )
    project.run().assert_outcomes(passed=2)


def test_lmstudio_sync_provider(project: Project) -> None:
    project.write("auth.json", '{"api_token": "scenario-token"}')
    project.tests(
        PRELUDE,
        """
        providers = []

        def test_complete_gets_the_scripted_reply(lmstudio_fake, lmstudio_sync_provider):
            rule = lmstudio_fake.chat.when(contains="capital").reply(
                "Paris.", usage={"prompt_tokens": 5, "completion_tokens": 2}
            )
            answer = lmstudio_sync_provider.complete(ask("The capital of France?"))
            assert answer.content == "Paris."
            assert answer.usage.completion_tokens == 2
            assert lmstudio_sync_provider.config.endpoint == lmstudio_fake.url
            assert [entry.path for entry in lmstudio_fake.requests] == ["/v1/chat/completions"]
            assert lmstudio_fake.requests[0].rule is rule
            providers.append(lmstudio_sync_provider)

        def test_retries_do_not_wait(lmstudio_fake, lmstudio_sync_provider):
            lmstudio_fake.chat.fail(503, "Model is loading", retry_after=30, times=2)
            lmstudio_fake.chat.reply("after two retries")
            started = time.monotonic()
            assert lmstudio_sync_provider.complete(ask("hi")).content == "after two retries"
            assert time.monotonic() - started < 10
            assert [entry.status for entry in lmstudio_fake.requests] == [503, 503, 200]

        @pytest.mark.lmstudio(scenario="auth.json")
        def test_sends_the_token_of_the_fake(lmstudio_fake, lmstudio_sync_provider):
            assert lmstudio_fake.api_token == "scenario-token"
            lmstudio_fake.chat.reply("authorised")
            assert lmstudio_sync_provider.complete(ask("hi")).content == "authorised"

        def test_the_provider_was_closed_at_teardown():
            with pytest.raises(Exception, match="closed"):
                providers[0].complete(ask("hi"))
        """,
    )
    project.run().assert_outcomes(passed=4)


def test_lmstudio_sync_provider_shares_connections_not_state(project: Project) -> None:
    """Each test gets a new provider (its own model cache, the fake's token of the moment),
    but the connection to the fake is the session's: a test does not pay to open one."""
    project.write("auth.json", '{"api_token": "scenario-token"}')
    project.tests(
        PRELUDE,
        """
        seen = {}

        @pytest.mark.lmstudio(models=["acme/first-1b"], scenario="auth.json")
        def test_first(lmstudio_fake, lmstudio_sync_provider):
            seen["provider"] = lmstudio_sync_provider
            assert [m.id for m in lmstudio_sync_provider.list_models()] == ["acme/first-1b"]

        def test_second(lmstudio_fake, lmstudio_sync_provider):
            assert lmstudio_sync_provider is not seen["provider"]
            assert lmstudio_fake.open_connections() == 1  # the first test's, kept alive
            assert [m.id for m in lmstudio_sync_provider.list_models()] == DEFAULT_IDS
            assert lmstudio_fake.open_connections() == 1
            assert lmstudio_fake.requests[-1].headers.get("Authorization") is None

        @pytest.mark.lmstudio(scenario="auth.json")
        def test_third(lmstudio_fake, lmstudio_sync_provider):
            assert lmstudio_sync_provider.list_models()
            auth = lmstudio_fake.requests[-1].headers.get("Authorization")
            assert auth == "Bearer scenario-token"
        """,
    )
    project.run().assert_outcomes(passed=3)


def test_lmstudio_env(project: Project) -> None:
    """The variables point at the fake (with its token when auth is on) for the test only;
    a stale token and config file from the outer environment are hidden meanwhile."""
    project.monkeypatch.setenv("LMSTUDIO_API_TOKEN", "stale-token")
    project.monkeypatch.setenv("LMSTUDIO_CONFIG", "/nonexistent/lmstudio.toml")
    project.write("scenarios/auth.json", '{"api_token": "scenario-token"}')
    project.tests(
        PRELUDE,
        """
        CHILD = (
            "from pytest_lmstudio import CompletionRequest, Message, SyncLMStudioProvider\\n"
            "request = CompletionRequest(model='qwen/qwen3-8b', messages=[Message.user('hi')])\\n"
            "with SyncLMStudioProvider() as provider:\\n"
            "    print(provider.complete(request).content)\\n"
        )

        def test_without_auth(lmstudio_env, lmstudio_fake):
            assert lmstudio_env["LMSTUDIO_ENDPOINT"] == lmstudio_fake.url
            assert "LMSTUDIO_API_TOKEN" not in lmstudio_env
            assert os.environ["LMSTUDIO_ENDPOINT"] == lmstudio_fake.url
            assert "LMSTUDIO_API_TOKEN" not in os.environ
            assert "LMSTUDIO_CONFIG" not in os.environ
            lmstudio_fake.chat.reply("from the environment")
            with SyncLMStudioProvider() as provider:
                assert provider.complete(ask("hi")).content == "from the environment"

        @pytest.mark.lmstudio(scenario="scenarios/auth.json")
        def test_with_auth_from_the_marker(lmstudio_env, lmstudio_fake):
            assert lmstudio_env["LMSTUDIO_ENDPOINT"] == lmstudio_fake.url
            assert lmstudio_env["LMSTUDIO_API_TOKEN"] == "scenario-token"
            assert os.environ["LMSTUDIO_API_TOKEN"] == "scenario-token"
            lmstudio_fake.chat.reply("authorised")
            with SyncLMStudioProvider() as provider:
                assert provider.complete(ask("hi")).content == "authorised"

        @pytest.fixture
        def auth(lmstudio_fake):
            lmstudio_fake.require_api_token("fixture-token")

        def test_with_auth_from_a_fixture_that_runs_first(auth, lmstudio_env):
            assert lmstudio_env["LMSTUDIO_API_TOKEN"] == "fixture-token"

        @pytest.mark.lmstudio(scenario="scenarios/auth.json")
        def test_a_subprocess_reaches_the_fake(lmstudio_env, lmstudio_fake):
            lmstudio_fake.chat.reply("hello, child process")
            child = subprocess.run(
                [sys.executable, "-c", CHILD],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert child.returncode == 0, child.stderr
            assert child.stdout.strip() == "hello, child process"
            [entry] = lmstudio_fake.requests
            assert entry.path == "/v1/chat/completions" and entry.status == 200
            headers = {name.lower(): value for name, value in entry.headers.items()}
            assert headers["authorization"] == "Bearer scenario-token"

        def test_restored_after_the_test():
            assert "LMSTUDIO_ENDPOINT" not in os.environ
            assert os.environ["LMSTUDIO_API_TOKEN"] == "stale-token"
            assert os.environ["LMSTUDIO_CONFIG"] == "/nonexistent/lmstudio.toml"
        """,
    )
    project.run().assert_outcomes(passed=5)


def test_lmstudio_fake_factory(project: Project) -> None:
    project.tests(
        PRELUDE,
        """
        extras = []

        def test_extra_fakes_are_independent(lmstudio_fake, lmstudio_fake_factory):
            other = lmstudio_fake_factory(profile="openai", seed=3)
            third = lmstudio_fake_factory(models=[])
            extras.extend([other, third])
            assert len({lmstudio_fake.port, other.port, third.port}) == 3
            assert (other.profile, other.seed) == ("openai", 3)
            assert (lmstudio_fake.profile, lmstudio_fake.seed) == ("lmstudio", 0)
            assert third.catalog == []
            other.chat.reply("from the second fake")
            assert lmstudio_fake.rules == [] and len(other.rules) == 1
            body = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hi"}]}
            answer = httpx.post(other.url + "/v1/chat/completions", json=body).json()
            assert answer["choices"][0]["message"]["content"] == "from the second fake"
            assert "created" in httpx.get(other.url + "/v1/models").json()["data"][0]
            assert lmstudio_fake.requests == [] and len(other.requests) == 2

        def test_factory_alone(lmstudio_fake_factory):
            with lmstudio_fake_factory() as fake:
                assert httpx.get(fake.url + "/lmstudio-greeting").status_code == 200

        def test_extra_fakes_were_closed_at_teardown(lmstudio_fake):
            for fake in extras:
                with pytest.raises(FakeServerError, match="closed"):
                    fake.start()
                with pytest.raises(httpx.ConnectError):
                    httpx.get(f"http://127.0.0.1:{fake.port}/v1/models")
            assert httpx.get(lmstudio_fake.url + "/v1/models").status_code == 200
        """,
    )
    project.run().assert_outcomes(passed=3)


def test_fixtures_and_options_are_documented(project: Project) -> None:
    project.tests("def test_nothing():\n    pass\n")
    fixtures = project.run("--fixtures")
    for name in (
        "lmstudio_fake",
        "lmstudio_fake_url",
        "lmstudio_provider",
        "lmstudio_sync_provider",
        "lmstudio_env",
        "lmstudio_fake_factory",
    ):
        fixtures.stdout.fnmatch_lines([f"{name} -- *pytest_lmstudio*plugin.py*"])
    help_text = project.run("--help")
    help_text.stdout.fnmatch_lines(["LM Studio (pytest-lmstudio):"])
    for option in (
        "--lmstudio-seed=N",
        "--lmstudio-profile=NAME",
        "--lmstudio-scenario=FILE",
        "--lmstudio-strict",
        "--no-lmstudio-strict",
        "--lmstudio-live=*URL*",
    ):
        help_text.stdout.fnmatch_lines([f"*{option}*"])
    for ini in ("lmstudio_seed", "lmstudio_profile", "lmstudio_scenario", "lmstudio_strict"):
        help_text.stdout.fnmatch_lines([f"  {ini} (*"])
    markers = project.run("--markers")
    markers.stdout.fnmatch_lines(
        ["@pytest.mark.lmstudio(models=None, scenario=None, *", "@pytest.mark.lmstudio_live: *"]
    )


@pytest.mark.parametrize("fixture", ["lmstudio_fake", "lmstudio_sync_provider", "lmstudio_env"])
def test_a_fixture_used_through_another_fixture_configures_the_fake(
    project: Project, fixture: str
) -> None:
    project.write(
        "conftest.py",
        f"""
        import pytest

        @pytest.fixture
        def app({fixture}, request):
            fake = request.getfixturevalue("lmstudio_fake")
            fake.chat.reply("via a user fixture")
            return fake
        """,
    )
    project.tests(
        """
        import pytest

        @pytest.mark.lmstudio(seed=4)
        def test_through_a_fixture(app):
            assert app.seed == 4 and len(app.rules) == 1
        """
    )
    project.run().assert_outcomes(passed=1)
