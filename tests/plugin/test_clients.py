"""``lmstudio_env`` for the clients people use, and the ``lmstudio_openai`` /
``lmstudio_async_openai`` fixtures: each run by a real SDK against the fake, in an inner
project run with ``pytester``."""

from __future__ import annotations

import sys

import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio._env import CLIENT_VARIABLES, Where

from .conftest import ASYNCIO_INI, ASYNCIO_PLUGIN, Project

#: Variables of the outer environment that must not reach an inner test, nor survive it.
STALE = {
    "OPENAI_BASE_URL": "https://api.openai.invalid/v1",
    "OPENAI_API_KEY": "sk-real-key",
    "ANTHROPIC_BASE_URL": "https://api.anthropic.invalid",
    "ANTHROPIC_AUTH_TOKEN": "real-anthropic-token",
    "LM_STUDIO_API_BASE": "http://elsewhere.invalid/v1",
    "LMSTUDIO_API_BASE": "http://elsewhere.invalid",
}

ENV_TESTS = """
import os
import subprocess
import sys

import anthropic
import openai
import pytest

STALE = {stale!r}
NAMES = {names!r}


def test_every_variable_points_at_the_fake(lmstudio_env, lmstudio_fake):
    url = lmstudio_fake.url
    assert sorted(lmstudio_env) == sorted(NAMES) and "LMSTUDIO_API_TOKEN" not in NAMES
    assert "LM_API_TOKEN" not in NAMES
    assert {{name: os.environ[name] for name in NAMES}} == lmstudio_env
    assert lmstudio_env["OPENAI_BASE_URL"] == lmstudio_env["LM_STUDIO_API_BASE"] == url + "/v1"
    assert lmstudio_env["ANTHROPIC_BASE_URL"] == lmstudio_env["LMSTUDIO_API_BASE"] == url
    assert lmstudio_env["OPENAI_API_KEY"] == "lm-studio"
    assert "ANTHROPIC_AUTH_TOKEN" not in os.environ


def test_the_openai_sdk_reads_them(lmstudio_env, lmstudio_fake):
    lmstudio_fake.chat.reply("from the environment")
    with openai.OpenAI(max_retries=0) as client:
        answer = client.chat.completions.create(
            model="qwen/qwen3-8b", messages=[{{"role": "user", "content": "hi"}}]
        )
    assert answer.choices[0].message.content == "from the environment"


@pytest.mark.lmstudio(scenario="auth.json")
def test_the_anthropic_sdk_reads_them_and_sends_the_token(lmstudio_env, lmstudio_fake):
    assert lmstudio_env["ANTHROPIC_API_KEY"] == lmstudio_env["OPENAI_API_KEY"] == "s3cret"
    assert lmstudio_env["LMSTUDIO_API_TOKEN"] == "s3cret"
    lmstudio_fake.chat.reply("from the messages door")
    with anthropic.Anthropic(max_retries=0) as client:
        message = client.messages.create(
            model="qwen/qwen3-8b",
            max_tokens=50,
            messages=[{{"role": "user", "content": "hi"}}],
        )
    assert message.content[0].text == "from the messages door"
    assert lmstudio_fake.requests[-1].path == "/v1/messages"


def test_llm_lmstudio_reads_its_variable_in_a_subprocess(lmstudio_env, lmstudio_fake):
    code = "import llm_lmstudio; print(llm_lmstudio.SERVER_LIST)"
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == repr([lmstudio_fake.url])


def test_restored_after_the_test():
    for name, value in STALE.items():
        assert os.environ[name] == value
"""

CLIENT_TESTS = """
import pytest


def test_sync_client(lmstudio_openai, lmstudio_fake):
    lmstudio_fake.chat.reply("sync answer")
    answer = lmstudio_openai.chat.completions.create(
        model="qwen/qwen3-8b", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "sync answer"
    assert str(lmstudio_openai.base_url) == lmstudio_fake.base_url + "/"
    assert lmstudio_openai.max_retries == 0


@pytest.mark.asyncio
async def test_async_client_streams(lmstudio_async_openai, lmstudio_fake):
    lmstudio_fake.chat.stream(["Hel", "lo"])
    stream = await lmstudio_async_openai.chat.completions.create(
        model="qwen/qwen3-8b", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    pieces = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert "".join(p for p in pieces if p) == "Hello"


@pytest.mark.lmstudio(scenario="auth.json")
def test_the_clients_send_the_fakes_token(lmstudio_openai, lmstudio_async_openai):
    assert lmstudio_openai.api_key == lmstudio_async_openai.api_key == "s3cret"
    assert lmstudio_openai.models.list().data


def test_a_scripted_failure_is_not_retried(lmstudio_openai, lmstudio_fake):
    import openai

    lmstudio_fake.chat.fail(503, "Model is loading", retry_after=1)
    with pytest.raises(openai.InternalServerError):
        lmstudio_openai.chat.completions.create(
            model="qwen/qwen3-8b", messages=[{"role": "user", "content": "hi"}]
        )
    assert len(lmstudio_fake.requests) == 1


def test_nothing_left_open(lmstudio_fake):
    import time

    # The fake sees a closed connection a moment after the client closed it: poll, bounded.
    deadline = time.monotonic() + 5
    while lmstudio_fake.open_connections() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lmstudio_fake.open_connections() == 0
"""


def test_lmstudio_env_points_every_client_at_the_fake(project: Project) -> None:
    for name, value in STALE.items():
        project.monkeypatch.setenv(name, value)
    project.write("auth.json", '{"api_token": "s3cret"}')
    # Those set when the fake wants no token (the token variables are unset).
    names = [row.name for row in CLIENT_VARIABLES if row.value(Where("http://x", None))]
    project.tests(ENV_TESTS.format(stale=STALE, names=names))
    project.run("-p", "no:randomly").assert_outcomes(passed=5)


def test_openai_fixtures_are_wired_and_closed(project: Project) -> None:
    project.ini_lines(ASYNCIO_INI)
    project.write("auth.json", '{"api_token": "s3cret"}')
    project.tests(CLIENT_TESTS)
    result = project.run("-p", "no:randomly", plugins=ASYNCIO_PLUGIN)
    result.assert_outcomes(passed=5)


def test_without_openai_the_fixtures_skip_with_the_reason(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # as if not installed
    project.tests(
        """
        def test_sync(lmstudio_openai):
            pass

        def test_async(lmstudio_async_openai):
            pass
        """
    )
    result = project.run("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED * lmstudio_openai needs the openai package, which is not installed: "
            "pip install openai *",
            "SKIPPED * lmstudio_async_openai needs the openai package*",
        ]
    )


def test_in_live_mode_the_client_points_at_the_real_server(project: Project) -> None:
    with FakeLMStudio() as real:
        real.chat.reply("from the live server")
        project.tests(
            """
            import pytest

            @pytest.mark.lmstudio_live
            def test_live(lmstudio_openai, lmstudio_env):
                answer = lmstudio_openai.chat.completions.create(
                    model="qwen/qwen3-8b", messages=[{"role": "user", "content": "hi"}]
                )
                assert answer.choices[0].message.content == "from the live server"
            """
        )
        project.run(f"--lmstudio-live={real.url}").assert_outcomes(passed=1)
        assert real.requests[-1].path == "/v1/chat/completions"
