"""pytest-lmstudio: a typed LM Studio client, a faithful fake server, and a pytest plugin.

``import pytest_lmstudio`` loads the provider only (httpx, anyio and the standard library); the
fake server and the plugin's dependencies are imported where they are used.
"""

from __future__ import annotations

from .provider import (
    ApiError,
    AuthenticationError,
    CompletionRequest,
    CompletionResponse,
    ConfigurationError,
    InvalidRequestError,
    LMStudioConfig,
    LMStudioProvider,
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
    "InvalidRequestError",
    "LMStudioConfig",
    "LMStudioProvider",
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
