"""pydantic-ai agents with native structured output (``NativeOutput``) against the fake.

The agent talks to the fake through ``OpenAIChatModel`` and an ``OpenAIProvider`` with the
fake's base URL, as a user points it at LM Studio; ``NativeOutput(Model)`` sends the model's
schema as ``response_format: json_schema`` and validates the answer as the model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, AgentRunResult, NativeOutput, PromptedOutput
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import TextPart, ThinkingPart
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from fake_server import FakeLMStudio

from .conftest import LLM, REASONING_LLM, fits, sent_schema
from .models import MODELS, Checkout, FlightBooking, MeetingNotes, Recipe


def agent_for(
    fake: FakeLMStudio,
    model: type[BaseModel],
    llm: str = LLM,
    http_client: openai.DefaultAsyncHttpxClient | None = None,
    output: Any = NativeOutput,
) -> Agent[None, BaseModel]:
    """An agent on the fake. ``async with agent:`` closes the provider's HTTP client."""
    provider = OpenAIProvider(base_url=fake.base_url, api_key="lm-studio", http_client=http_client)
    chat_model = OpenAIChatModel(llm, provider=provider)
    return Agent(chat_model, output_type=output(model), retries=0)


def prompt(model: type[BaseModel]) -> str:
    return f"Extract a {model.__name__} from the attached document."


def answer_text(result: AgentRunResult[BaseModel]) -> str:
    """The text the fake answered, as the agent received it."""
    [text] = [p.content for m in result.new_messages() for p in m.parts if isinstance(p, TextPart)]
    return text


@pytest.mark.anyio
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
async def test_a_run_gives_a_validated_object(fake: FakeLMStudio, model: type[BaseModel]) -> None:
    async with agent_for(fake, model) as agent:
        result = await agent.run(prompt(model))
    assert isinstance(result.output, model)
    assert len(fake.requests) == 1  # validated the first time: no retry
    body = json.loads(fake.requests[0].body)
    assert body["response_format"]["json_schema"]["name"] == model.__name__
    fits(sent_schema(fake), json.loads(answer_text(result)))


@pytest.mark.anyio
@pytest.mark.parametrize("model", [Recipe, Checkout, FlightBooking], ids=lambda m: m.__name__)
async def test_a_streamed_run_ends_with_the_plain_runs_object(
    fake: FakeLMStudio, model: type[BaseModel]
) -> None:
    async with agent_for(fake, model) as agent:
        plain = await agent.run(prompt(model))
        async with agent.run_stream(prompt(model)) as run:
            partials = [output async for output in run.stream_output(debounce_by=None)]
            final = await run.get_output()
    assert isinstance(final, model)
    assert final == plain.output
    assert partials and partials[-1] == final


@pytest.mark.anyio
@pytest.mark.parametrize("model", [Checkout, MeetingNotes], ids=lambda m: m.__name__)
async def test_the_default_tool_output_gets_a_forced_call_that_validates(
    fake: FakeLMStudio, model: type[BaseModel]
) -> None:
    """Without ``NativeOutput`` pydantic-ai asks for its output tool with ``tool_choice:
    "required"``: the fake's default call has arguments that fit the tool's parameters."""
    async with agent_for(fake, model, output=lambda m: m) as agent:
        result = await agent.run(prompt(model))
    assert isinstance(result.output, model)
    body = json.loads(fake.requests[0].body)
    assert body["tool_choice"] == "required"
    assert "response_format" not in body


@pytest.mark.anyio
async def test_prompted_output_gets_lm_studios_400_for_json_object(fake: FakeLMStudio) -> None:
    """``PromptedOutput`` asks for ``response_format: {"type": "json_object"}``, which LM Studio
    refuses: the agent sees the 400 with LM Studio's wording."""
    async with agent_for(fake, Recipe, output=PromptedOutput) as agent:
        with pytest.raises(ModelHTTPError, match="must be 'json_schema' or 'text'") as caught:
            await agent.run(prompt(Recipe))
    assert caught.value.status_code == 400


@pytest.mark.anyio
async def test_a_reasoning_model_gives_thinking_and_a_validated_object(
    fake: FakeLMStudio,
) -> None:
    async with agent_for(fake, MeetingNotes, llm=REASONING_LLM) as agent:
        result = await agent.run(prompt(MeetingNotes))
    assert isinstance(result.output, MeetingNotes)
    parts = [part for message in result.all_messages() for part in message.parts]
    assert any(isinstance(part, ThinkingPart) and part.content for part in parts)


@pytest.fixture
def thread_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """``run_sync`` drives the thread's event loop (making one, left open, when there is none)
    and leaves the provider's HTTP client open: give it a loop on which the test closes both."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def test_run_sync_gives_a_validated_object(
    fake: FakeLMStudio, thread_loop: asyncio.AbstractEventLoop
) -> None:
    http = openai.DefaultAsyncHttpxClient()
    result = agent_for(fake, Recipe, http_client=http).run_sync(prompt(Recipe))
    thread_loop.run_until_complete(http.aclose())
    assert isinstance(result.output, Recipe)
    fits(sent_schema(fake), json.loads(answer_text(result)))


def test_a_scripted_json_reply_is_the_output(
    fake: FakeLMStudio, thread_loop: asyncio.AbstractEventLoop
) -> None:
    booking = {
        "reference": "QX7B2K",
        "cabin": "economy",
        "passengers": [{"first_name": "Ada", "last_name": "Lovelace", "age": 36}],
        "segments": [
            {
                "flight": "BA304",
                "origin": "LHR",
                "destination": "CDG",
                "departs": "2025-06-01T07:40:00+01:00",
            }
        ],
    }
    fake.chat.reply(json=booking, times=1)
    http = openai.DefaultAsyncHttpxClient()
    agent = agent_for(fake, FlightBooking, http_client=http)
    result = agent.run_sync("Book me on the morning flight to Paris.")
    thread_loop.run_until_complete(http.aclose())
    assert result.output == FlightBooking.model_validate(booking)
