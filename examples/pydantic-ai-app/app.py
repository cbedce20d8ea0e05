"""A pydantic-ai agent that reads an invoice into a typed object, with a model served by LM Studio.

The agent asks for LM Studio's structured output (``NativeOutput``: ``response_format`` with the
``Invoice`` schema), so the answer is checked against the model before the app sees it.
"""

from __future__ import annotations

import os

from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

MODEL = "qwen/qwen3-8b"


class Invoice(BaseModel):
    vendor: str
    total: float
    currency: str


def invoice_agent(base_url: str | None = None, model: str = MODEL) -> Agent[None, Invoice]:
    """An agent on LM Studio's OpenAI-compatible API (``OPENAI_BASE_URL`` unless given)."""
    provider = OpenAIProvider(
        base_url=base_url or os.environ.get("OPENAI_BASE_URL", "http://localhost:1234/v1"),
        api_key=os.environ.get("OPENAI_API_KEY", "lm-studio"),
    )
    return Agent(OpenAIChatModel(model, provider=provider), output_type=NativeOutput(Invoice))


async def read_invoice(agent: Agent[None, Invoice], text: str) -> Invoice:
    async with agent:  # closes the provider's HTTP client
        result = await agent.run(f"Read this invoice:\n{text}")
    return result.output
