"""The OpenAI Agents SDK (``openai-agents``) on an ``OpenAIResponsesModel`` pointed at the
fake's ``/v1/responses``: a function tool, its output sent back, a final answer; streamed;
and a stream that fails after it started.

The SDK is imported by a fixture, not at collection: it takes seconds to import, and only the
worker that runs these tests should pay for it.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import openai
import pytest

from fake_server import FakeLMStudio

MODEL = "qwen/qwen3-8b"


@pytest.fixture(scope="module")
def sdk() -> ModuleType:
    agents = importlib.import_module("agents")
    # No traces sent anywhere: the Agents SDK exports them to OpenAI by default.
    agents.set_tracing_disabled(True)
    return agents


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def weather_agent(fake: FakeLMStudio, sdk: ModuleType) -> AsyncIterator[Any]:
    from agents.models.openai_responses import OpenAIResponsesModel

    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    client = openai.AsyncOpenAI(
        base_url=fake.base_url, api_key="lm-studio", max_retries=0, timeout=10
    )
    yield sdk.Agent(
        name="weather",
        instructions="Answer with the weather.",
        tools=[sdk.function_tool(get_weather)],
        model=OpenAIResponsesModel(MODEL, client),
    )
    await client.close()


def script_tool_loop(fake: FakeLMStudio) -> None:
    fake.chat.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}], times=1)
    fake.chat.when(contains="Sunny in Oslo").reply("It is sunny in Oslo.", times=1)


@pytest.mark.anyio
async def test_runner_calls_the_tool_and_answers(
    fake: FakeLMStudio, sdk: ModuleType, weather_agent: Any
) -> None:
    script_tool_loop(fake)
    result = await sdk.Runner.run(weather_agent, "Weather in Oslo?")
    assert result.final_output == "It is sunny in Oslo."
    first, second = (r.json for r in fake.requests)
    assert first["tools"][0]["name"] == "get_weather" and first["tools"][0]["strict"] is True
    kinds = [item.get("type", "message") for item in second["input"]]
    assert kinds == ["message", "function_call", "function_call_output"]
    assert second["input"][2]["output"] == "Sunny in Oslo"
    fake.check()


@pytest.mark.anyio
async def test_streamed_run(fake: FakeLMStudio, sdk: ModuleType, weather_agent: Any) -> None:
    script_tool_loop(fake)
    result = sdk.Runner.run_streamed(weather_agent, "Weather in Oslo?")
    kinds = [event.type async for event in result.stream_events()]
    assert "raw_response_event" in kinds
    assert result.final_output == "It is sunny in Oslo."
    assert all(r.api == "responses" and r.stream for r in fake.requests)


@pytest.mark.anyio
async def test_a_failed_stream_is_a_model_behavior_error(
    fake: FakeLMStudio, sdk: ModuleType, weather_agent: Any
) -> None:
    from agents.exceptions import ModelBehaviorError

    fake.chat.stream(["Sun", "ny"], error_after=3, error_message="Engine crashed")
    result = sdk.Runner.run_streamed(weather_agent, "Weather?")
    with pytest.raises(ModelBehaviorError, match="Engine crashed"):
        async for _ in result.stream_events():
            pass
