"""The public surface: names, __all__, py.typed, and what importing the package loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest_lmstudio
import pytest_lmstudio.provider

EXPECTED = {
    "LMStudioProvider",
    "SyncLMStudioProvider",
    "LMStudioConfig",
    "ModelProvider",
    "CompletionRequest",
    "CompletionResponse",
    "Message",
    "StreamChunk",
    "ToolCall",
    "Usage",
    "ModelInfo",
    "ModelCapabilities",
    "LoadedModel",
    "DownloadProgress",
    "DownloadResult",
    "discover",
    "ProviderError",
    "NetworkError",
    "ProviderTimeoutError",
    "ApiError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "AuthenticationError",
    "RateLimitError",
    "ServiceNotFoundError",
    "ConfigurationError",
    "DownloadError",
}


def test_all_is_sorted_and_complete() -> None:
    assert pytest_lmstudio.__all__ == sorted(pytest_lmstudio.__all__)
    assert set(pytest_lmstudio.__all__) == EXPECTED
    assert pytest_lmstudio.provider.__all__ == pytest_lmstudio.__all__
    for name in pytest_lmstudio.__all__:
        assert getattr(pytest_lmstudio, name) is getattr(pytest_lmstudio.provider, name)


def test_py_typed_is_shipped() -> None:
    assert (Path(pytest_lmstudio.__file__).parent / "py.typed").is_file()


def test_providers_satisfy_the_protocol() -> None:
    provider = pytest_lmstudio.LMStudioProvider(pytest_lmstudio.LMStudioConfig())
    assert isinstance(provider, pytest_lmstudio.ModelProvider)


def test_import_loads_no_test_or_server_dependencies() -> None:
    code = (
        "import json, sys; import pytest_lmstudio; pytest_lmstudio.LMStudioProvider; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    forbidden = {"pytest", "_pytest", "aiohttp", "faker", "jsonschema", "fastjsonschema"}
    assert not loaded & forbidden, loaded & forbidden
    assert "fake_server" not in loaded
    assert {"httpx", "anyio", "pytest_lmstudio"} <= loaded


def test_the_provider_shares_no_code_with_the_fake() -> None:
    # DESIGN boundary 2: no module of the provider mentions the fake server.
    package = Path(pytest_lmstudio.__file__).parent / "provider"
    for source in package.glob("*.py"):
        assert "fake_server" not in source.read_text(encoding="utf-8"), source.name


def test_loading_the_plugin_loads_neither_the_provider_nor_the_fake() -> None:
    code = (
        "import json, sys; import pytest_lmstudio.plugin; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    assert not loaded & {"httpx", "anyio", "aiohttp", "faker", "jsonschema", "fake_server"}


def test_unknown_attribute_is_an_attribute_error() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pytest_lmstudio.Nope  # type: ignore[attr-defined]
