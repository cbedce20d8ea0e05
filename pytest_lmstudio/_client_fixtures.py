"""Fixtures that hand a test the SDK clients people use, wired to the fake (or, in live mode,
to the real LM Studio): ``lmstudio_openai`` and ``lmstudio_async_openai``.

Registered by ``pytest_lmstudio.plugin``, which imports them. The SDK loads the first time a
test asks for one; without it installed the test is skipped, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._env import PLACEHOLDER_KEY

if TYPE_CHECKING:
    import openai

MSG_NO_OPENAI = (
    "{fixture} needs the openai package, which is not installed: pip install openai "
    "(or use lmstudio_provider, which needs nothing more)"
)


def _openai(fixture: str) -> Any:
    return pytest.importorskip("openai", reason=MSG_NO_OPENAI.format(fixture=fixture))


def _where(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The base URL (with ``/v1``) and the API key for this test's client."""
    from .plugin import api_token_for

    url: str = request.getfixturevalue("lmstudio_fake_url")
    return f"{url}/v1", api_token_for(request) or PLACEHOLDER_KEY


@pytest.fixture
def lmstudio_openai(request: pytest.FixtureRequest) -> Iterator[openai.OpenAI]:
    """An ``openai.OpenAI`` client wired to the fake (``base_url`` its ``/v1``, its token as
    the key), closed at teardown. ``max_retries=0``: a scripted failure reaches the test at
    once, as the first thing the SDK saw."""
    sdk = _openai("lmstudio_openai")
    base_url, key = _where(request)
    client = sdk.OpenAI(base_url=base_url, api_key=key, max_retries=0)
    yield client
    client.close()


@pytest.fixture
def lmstudio_async_openai(request: pytest.FixtureRequest) -> Iterator[openai.AsyncOpenAI]:
    """An ``openai.AsyncOpenAI`` client wired to the fake, ``max_retries=0``.

    A plain fixture, so that it works under pytest-asyncio and anyio alike: its connection
    pool keeps no connection between requests (each closes with its answer), so nothing is
    left for an event loop to close once the test's loop is gone.
    """
    sdk = _openai("lmstudio_async_openai")
    import httpx

    base_url, key = _where(request)
    http_client = sdk.DefaultAsyncHttpxClient(limits=httpx.Limits(max_keepalive_connections=0))
    yield sdk.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, http_client=http_client)
