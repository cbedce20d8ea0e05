"""The LM Studio provider: an async (and a blocking) client for LM Studio's HTTP API."""

from __future__ import annotations

from ._client import LMStudioProvider
from ._config import LMStudioConfig
from ._discovery import discover
from ._errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    DownloadError,
    InvalidRequestError,
    ModelNotFoundError,
    NetworkError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServiceNotFoundError,
)
from ._protocol import ModelProvider
from ._sync import SyncLMStudioProvider
from ._types import (
    CompletionRequest,
    CompletionResponse,
    DownloadProgress,
    DownloadResult,
    LoadedModel,
    Message,
    ModelCapabilities,
    ModelInfo,
    StreamChunk,
    ToolCall,
    Usage,
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
