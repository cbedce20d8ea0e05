"""pytest-lmstudio: a typed LM Studio client, a faithful fake server, and a pytest plugin.

The provider's names load on first use (PEP 562), so that importing the pytest plugin
(``pytest_lmstudio.plugin``) costs a pytest run almost nothing. ``import pytest_lmstudio``
and its names load httpx, anyio and the standard library only; never pytest, aiohttp, faker
or jsonschema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

if TYPE_CHECKING:
    from .provider import (
        ApiError,
        AuthenticationError,
        CompletionRequest,
        CompletionResponse,
        ConfigurationError,
        DownloadError,
        DownloadProgress,
        DownloadResult,
        InvalidRequestError,
        LMStudioConfig,
        LMStudioProvider,
        LoadedModel,
        Message,
        ModelCapabilities,
        ModelInfo,
        ModelNotFoundError,
        ModelProvider,
        NetworkError,
        ProviderError,
        ProviderTimeoutError,
        RateLimitError,
        ServiceNotFoundError,
        StreamChunk,
        SyncLMStudioProvider,
        ToolCall,
        Usage,
        discover,
    )

__all__ = [
    "ApiError",
    "AuthenticationError",
    "CompletionRequest",
    "CompletionResponse",
    "ConfigurationError",
    "DownloadError",
    "DownloadProgress",
    "DownloadResult",
    "InvalidRequestError",
    "LMStudioConfig",
    "LMStudioProvider",
    "LoadedModel",
    "Message",
    "ModelCapabilities",
    "ModelInfo",
    "ModelNotFoundError",
    "ModelProvider",
    "NetworkError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ServiceNotFoundError",
    "StreamChunk",
    "SyncLMStudioProvider",
    "ToolCall",
    "Usage",
    "discover",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import provider

        value = getattr(provider, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pytest_lmstudio' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
