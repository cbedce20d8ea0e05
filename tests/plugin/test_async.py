"""``lmstudio_provider`` (async) under pytest-asyncio (strict and auto mode) and anyio's plugin
(asyncio and trio); warnings are errors in these runs, so a connection left open fails."""

from __future__ import annotations

from .conftest import ANYIO_PLUGIN, ASYNCIO_INI, ASYNCIO_PLUGIN, Project

HELPERS = """
import gc

import pytest

from pytest_lmstudio import CompletionRequest, LMStudioProvider, Message


def ask(text):
    return CompletionRequest(model="qwen/qwen3-8b", messages=[Message.user(text)])


async def exercise(fake, provider):
    assert isinstance(provider, LMStudioProvider)
    assert provider.config.endpoint == fake.url
    fake.chat.when(contains="capital").reply("Paris.")
    fake.chat.when(stream=True).stream(["Hel", "lo"])
    fake.chat.fail(503, "Model is loading", retry_after=30, times=1)
    assert (await provider.complete(ask("The capital of France?"))).content == "Paris."
    assert "qwen/qwen3-8b" in [model.id for model in await provider.list_models()]
    pieces = [chunk.content async for chunk in provider.stream(ask("hi"))]
    assert "".join(pieces) == "Hello"
    answer = await provider.complete(ask("anything"))  # a 503, then the default answer
    assert answer.content
    statuses = [entry.status for entry in fake.requests]
    assert statuses == [200, 200, 200, 503, 200]
"""
#: Last in each file: a connection left open is then reported (as an error) before the end.
COLLECT_LAST = """
def test_nothing_was_left_open():
    gc.collect()
"""


def test_under_pytest_asyncio_strict_mode(project: Project) -> None:
    project.ini_lines(ASYNCIO_INI, "asyncio_mode = strict")
    project.tests(
        HELPERS,
        """
        @pytest.mark.asyncio
        async def test_provider(lmstudio_fake, lmstudio_provider):
            await exercise(lmstudio_fake, lmstudio_provider)

        @pytest.mark.asyncio
        async def test_again_in_a_new_loop(lmstudio_fake, lmstudio_provider):
            await exercise(lmstudio_fake, lmstudio_provider)

        def test_sync_beside_it(lmstudio_provider):
            assert lmstudio_provider.config.endpoint.startswith("http://127.0.0.1:")
        """,
        COLLECT_LAST,
    )
    project.run(plugins=ASYNCIO_PLUGIN).assert_outcomes(passed=4)


def test_under_pytest_asyncio_auto_mode(project: Project) -> None:
    project.ini_lines(ASYNCIO_INI, "asyncio_mode = auto")
    project.tests(
        HELPERS,
        """
        async def test_provider(lmstudio_fake, lmstudio_provider):
            await exercise(lmstudio_fake, lmstudio_provider)

        @pytest.mark.lmstudio(scenario="auth.json")
        async def test_with_auth(lmstudio_fake, lmstudio_provider):
            assert lmstudio_fake.api_token == "async-token"
            await exercise(lmstudio_fake, lmstudio_provider)
        """,
        COLLECT_LAST,
    )
    project.write("auth.json", '{"api_token": "async-token"}')
    project.run(plugins=ASYNCIO_PLUGIN).assert_outcomes(passed=3)


def test_under_anyio_with_asyncio_and_trio(project: Project) -> None:
    """anyio's plugin beside pytest-asyncio in strict mode, as most projects have both."""
    project.ini_lines(ASYNCIO_INI)
    project.tests(
        HELPERS,
        """
        @pytest.fixture(params=["asyncio", "trio"])
        def anyio_backend(request):
            return request.param

        @pytest.mark.anyio
        async def test_provider(lmstudio_fake, lmstudio_provider, anyio_backend):
            await exercise(lmstudio_fake, lmstudio_provider)

        @pytest.mark.anyio
        async def test_again(lmstudio_fake, lmstudio_provider, anyio_backend):
            await exercise(lmstudio_fake, lmstudio_provider)
        """,
        COLLECT_LAST,
    )
    result = project.run("-v", plugins=(*ANYIO_PLUGIN, *ASYNCIO_PLUGIN))
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*test_provider[[]trio[]] PASSED*"], consecutive=False)
