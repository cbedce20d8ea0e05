"""``lmstudio_sdk_client``: LM Studio's own Python SDK wired to the session fake; and what
``lmstudio_env`` gives LM Studio's SDKs. Inner projects run with ``pytester``."""

from __future__ import annotations

import inspect

import lmstudio  # imported before the inner runs, which drop what they import themselves

from pytest_lmstudio.plugin import MSG_NO_LMSTUDIO

from .conftest import Project

TOKEN = "sk-lm-Abc12345:Zyx9876543210abcdefG"
SDK_SENDS_TOKENS = "api_token" in inspect.signature(lmstudio.Client).parameters

CLIENT_TESTS = f"""
import time

import pytest

TOKEN = {TOKEN!r}


def test_the_client_talks_to_the_fake(lmstudio_sdk_client, lmstudio_fake):
    lmstudio_fake.chat.reply("from the SDK door")
    keys = {{m.model_key for m in lmstudio_sdk_client.list_downloaded_models()}}
    assert keys == {{m.id for m in lmstudio_fake.catalog}}
    model = lmstudio_sdk_client.llm.model("qwen/qwen3-8b")
    assert model.respond("hi").content == "from the SDK door"


def test_the_previous_tests_client_was_closed(lmstudio_fake):
    deadline = time.monotonic() + 5
    while lmstudio_fake.open_connections() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lmstudio_fake.open_connections() == 0


@pytest.fixture
def auth(lmstudio_fake):
    lmstudio_fake.require_api_token(TOKEN)


def test_with_the_fakes_token(auth, lmstudio_sdk_client, lmstudio_fake):
    lmstudio_fake.chat.reply("authorised")
    assert lmstudio_sdk_client.llm.model("qwen/qwen3-8b").respond("hi").content == "authorised"


@pytest.fixture
def plain_token(lmstudio_fake):
    lmstudio_fake.require_api_token("plain-bearer-token")


def test_with_a_token_the_sdk_cannot_send(plain_token, lmstudio_sdk_client):
    raise AssertionError("not reached: the fixture says why")
"""


def test_lmstudio_sdk_client(project: Project) -> None:
    project.tests(CLIENT_TESTS)
    result = project.run("-rs")
    if SDK_SENDS_TOKENS:
        result.assert_outcomes(passed=3, errors=1)
        result.stdout.fnmatch_lines(
            ["*the fake requires the API token 'plain-bearer-token', which LM Studio's SDKs*"]
        )
    else:
        # lmstudio 1.5 has no api_token: the fixture says so instead of failing later.
        result.assert_outcomes(passed=2, errors=2)
        result.stdout.fnmatch_lines(["*the fake requires an API token, and lmstudio 1.*"])


def test_lmstudio_sdk_client_skips_without_lmstudio(project: Project) -> None:
    project.write("conftest.py", "import sys\n\nsys.modules['lmstudio'] = None  # not installed\n")
    project.tests(
        """
        def test_sdk(lmstudio_sdk_client):
            raise AssertionError("not reached")
        """
    )
    result = project.run("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"*{MSG_NO_LMSTUDIO[:60]}*"])


def test_lmstudio_env_gives_the_sdks_a_token_in_their_form(project: Project) -> None:
    project.monkeypatch.setenv("LM_API_TOKEN", "sk-lm-Stale123:Stale12345678901234567")
    project.tests(
        f"""
        import os

        import lmstudio
        import pytest

        TOKEN = {TOKEN!r}


        def test_open(lmstudio_env):
            assert "LM_API_TOKEN" not in lmstudio_env
            assert "LM_API_TOKEN" not in os.environ  # a stale one is hidden


        @pytest.fixture
        def auth(lmstudio_fake, request):
            lmstudio_fake.require_api_token(request.param)


        @pytest.mark.parametrize("auth", [TOKEN], indirect=True)
        def test_sdk_token(auth, lmstudio_env, lmstudio_fake):
            assert lmstudio_env["LM_API_TOKEN"] == lmstudio_env["LMSTUDIO_API_TOKEN"] == TOKEN
            assert os.environ["LM_API_TOKEN"] == TOKEN
            if {SDK_SENDS_TOKENS!r}:  # lmstudio 1.6+ reads LMSTUDIO_API_TOKEN itself
                with lmstudio.Client(f"127.0.0.1:{{lmstudio_fake.port}}") as client:
                    assert [m.identifier for m in client.llm.list_loaded()] == ["qwen/qwen3-8b"]


        @pytest.mark.parametrize("auth", ["plain-bearer-token"], indirect=True)
        def test_other_token(auth, lmstudio_env):
            # The JS SDK refuses to start on a token not in sk-lm- form: it gets none.
            assert lmstudio_env["LMSTUDIO_API_TOKEN"] == "plain-bearer-token"
            assert "LM_API_TOKEN" not in os.environ
        """
    )
    project.run().assert_outcomes(passed=3)
