"""``ModelProvider``: what any model provider offers (the seed's trait, plus stream and embed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from ._types import CompletionRequest, CompletionResponse, ModelCapabilities, ModelInfo, StreamChunk

__all__ = ["ModelProvider"]


@runtime_checkable
class ModelProvider(Protocol):
    """An async model provider; ``LMStudioProvider`` is one."""

    async def list_models(self) -> list[ModelInfo]: ...

    async def complete(self, request: CompletionRequest) -> CompletionResponse: ...

    async def supports_model(self, model: str) -> bool: ...

    async def model_capabilities(self, model: str) -> ModelCapabilities | None: ...

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamChunk]: ...

    async def embed(self, model: str, inputs: str | Sequence[str]) -> list[list[float]]: ...
