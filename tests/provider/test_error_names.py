"""The provider's errors show the name users import them by (``pytest_lmstudio.X``), not a
private module path, and survive pickling (with their message and attributes) from the sync
and the async client alike."""

from __future__ import annotations

import pickle
import traceback

import pytest

import pytest_lmstudio
from fake_server import FakeLMStudio
from pytest_lmstudio import (
    CompletionRequest,
    LMStudioConfig,
    LMStudioProvider,
    Message,
    ModelNotFoundError,
    ProviderError,
    SyncLMStudioProvider,
)

ERRORS = [
    name
    for name in pytest_lmstudio.__all__
    if isinstance(getattr(pytest_lmstudio, name), type)
    and issubclass(getattr(pytest_lmstudio, name), Exception)
]
UNKNOWN = CompletionRequest(model="qwen3-8b", messages=[Message.user("hi")])


def test_every_exported_error_is_named_by_its_public_path() -> None:
    assert "ModelNotFoundError" in ERRORS and "ProviderError" in ERRORS
    for name in ERRORS:
        error = getattr(pytest_lmstudio, name)
        assert (error.__module__, error.__qualname__) == ("pytest_lmstudio", name)
        assert pickle.loads(pickle.dumps(error)) is error


def _shown(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error))


def test_an_error_from_the_sync_provider_prints_and_pickles_whole(config: LMStudioConfig) -> None:
    with SyncLMStudioProvider(config) as provider, pytest.raises(ModelNotFoundError) as raised:
        provider.complete(UNKNOWN)
    error = raised.value
    assert _shown(error).startswith("pytest_lmstudio.ModelNotFoundError: ")
    assert "provider._errors" not in _shown(error) + repr(error)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ModelNotFoundError
    assert str(again) == str(error)
    assert vars(again) == vars(error)
    assert isinstance(again, ProviderError)


@pytest.mark.anyio
async def test_an_error_from_the_async_provider_pickles_whole(
    fake: FakeLMStudio, config: LMStudioConfig
) -> None:
    async with LMStudioProvider(config) as provider:
        with pytest.raises(ModelNotFoundError) as raised:
            await provider.complete(UNKNOWN)
    again = pickle.loads(pickle.dumps(raised.value))
    assert (type(again), str(again), again.status_code) == (
        ModelNotFoundError,
        str(raised.value),
        raised.value.status_code,
    )
