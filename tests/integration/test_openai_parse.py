"""The openai SDK's structured output helpers against the fake's default answers.

``client.chat.completions.parse(response_format=Model)`` sends the model as a strict
``json_schema`` and validates the answer as the model; ``client.chat.completions.stream(...)``
does the same over SSE. The fake seeds its default answer by the request (``stream`` aside), so
the streamed text joins to exactly the plain answer's text.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from functools import cache
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel

from fake_server import FakeLMStudio

from .conftest import LLM, REASONING_LLM, TIMEOUT, fits, sent_schema
from .models import (
    MODELS,
    CalendarEvent,
    Checkout,
    Directory,
    Invoice,
    Recipe,
    Stock,
    SupportTicket,
    Weather,
)

#: Tool parameters go through the same generator as ``response_format``: a few models with
#: different shapes (discriminated union, recursion, dates, a dict) cover the tool-call path.
TOOL_MODELS = [Weather, Invoice, Checkout, Directory, CalendarEvent, Stock]


def ask(model: type[BaseModel]) -> list[ChatCompletionMessageParam]:
    return [
        {"role": "system", "content": "Answer with JSON only."},
        {"role": "user", "content": f"Fill in a {model.__name__} from my last e-mail."},
    ]


@pytest.fixture(scope="module")
def client(fake_module: FakeLMStudio) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=fake_module.base_url, api_key="lm-studio", max_retries=0, timeout=TIMEOUT
    ) as client:
        yield client


@cache
def tls() -> ssl.SSLContext:
    """Loading the CA bundle is most of what a new client costs (the fake is plain HTTP)."""
    return ssl.create_default_context()


def async_client(fake: FakeLMStudio) -> openai.AsyncOpenAI:
    """A client per test: its connections belong to the test's event loop."""
    return openai.AsyncOpenAI(
        base_url=fake.base_url,
        api_key="lm-studio",
        max_retries=0,
        timeout=TIMEOUT,
        http_client=openai.DefaultAsyncHttpxClient(verify=tls()),
    )


def assert_parsed(fake: FakeLMStudio, model: type[BaseModel], message: Any) -> None:
    """The SDK validated the answer as the model, and its text fits the schema that was sent."""
    assert message.refusal is None
    assert isinstance(message.parsed, model)
    fits(sent_schema(fake), json.loads(message.content))


def assert_same_request_but_stream(fake: FakeLMStudio) -> None:
    plain, streamed = (json.loads(r.body) for r in fake.requests[-2:])
    assert plain.pop("stream", False) is False
    assert streamed.pop("stream") is True
    assert streamed == plain


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_sync_parse_and_stream_give_the_same_validated_object(
    fake: FakeLMStudio, client: openai.OpenAI, model: type[BaseModel]
) -> None:
    messages = ask(model)
    completion = client.chat.completions.parse(model=LLM, messages=messages, response_format=model)
    assert completion.choices[0].finish_reason == "stop"
    message = completion.choices[0].message
    assert_parsed(fake, model, message)

    with client.chat.completions.stream(
        model=LLM, messages=messages, response_format=model
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert_same_request_but_stream(fake)
    assert len(deltas) > 1
    assert "".join(deltas) == message.content
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == message.content
    assert final.choices[0].message.parsed == message.parsed


@pytest.mark.anyio
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
async def test_async_parse_and_stream_give_the_same_validated_object(
    fake: FakeLMStudio, model: type[BaseModel]
) -> None:
    messages = ask(model)
    async with async_client(fake) as client:
        completion = await client.chat.completions.parse(
            model=LLM, messages=messages, response_format=model
        )
        message = completion.choices[0].message
        assert_parsed(fake, model, message)
        async with client.chat.completions.stream(
            model=LLM, messages=messages, response_format=model
        ) as stream:
            deltas = [event.delta async for event in stream if event.type == "content.delta"]
            final = await stream.get_final_completion()
    assert_same_request_but_stream(fake)
    assert "".join(deltas) == message.content
    assert final.choices[0].message.parsed == message.parsed


@pytest.mark.anyio
async def test_concurrent_requests_get_the_answers_they_get_one_by_one(
    fake: FakeLMStudio,
) -> None:
    """The seed is the request's, not its place in the traffic."""
    async with async_client(fake) as client:

        async def content(model: type[BaseModel]) -> str | None:
            completion = await client.chat.completions.parse(
                model=LLM, messages=ask(model), response_format=model
            )
            return completion.choices[0].message.content

        one_by_one = [await content(model) for model in MODELS]
        together = await asyncio.gather(*(content(model) for model in MODELS))
    assert list(together) == one_by_one


def test_the_answer_depends_on_the_request(fake: FakeLMStudio, client: openai.OpenAI) -> None:
    """Default answers are seeded by the request: the same one twice gives the same object,
    another prompt another object (so the tests above do not pass on one canned answer)."""
    first, again = (
        client.chat.completions.parse(model=LLM, messages=ask(Weather), response_format=Weather)
        for _ in range(2)
    )
    other = client.chat.completions.parse(
        model=LLM,
        messages=[{"role": "user", "content": "And tomorrow?"}],
        response_format=Weather,
    )
    assert first.choices[0].message.parsed == again.choices[0].message.parsed
    assert first.choices[0].message.content != other.choices[0].message.content


def test_a_reasoning_model_reasons_then_answers_json(
    fake: FakeLMStudio, client: openai.OpenAI
) -> None:
    """gpt-oss carries its reasoning in ``message.reasoning``; the content is the JSON alone,
    plain and streamed."""
    messages = ask(Recipe)
    completion = client.chat.completions.parse(
        model=REASONING_LLM, messages=messages, response_format=Recipe
    )
    message = completion.choices[0].message
    assert_parsed(fake, Recipe, message)
    assert (message.model_extra or {}).get("reasoning")
    with client.chat.completions.stream(
        model=REASONING_LLM, messages=messages, response_format=Recipe
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == message.content
    assert final.choices[0].message.parsed == message.parsed


def test_the_api_v0_door_answers_the_same_schema(fake: FakeLMStudio) -> None:
    """LM Studio's own REST door takes the same ``response_format`` (the SDK's base URL pointed
    at ``/api/v0``)."""
    with openai.OpenAI(
        base_url=f"{fake.url}/api/v0", api_key="lm-studio", max_retries=0, timeout=TIMEOUT
    ) as client:
        completion = client.chat.completions.parse(
            model=LLM, messages=ask(CalendarEvent), response_format=CalendarEvent
        )
    assert fake.requests[-1].path == "/api/v0/chat/completions"
    assert_parsed(fake, CalendarEvent, completion.choices[0].message)


def test_a_scripted_json_reply_is_the_parsed_object(
    fake: FakeLMStudio, client: openai.OpenAI
) -> None:
    ticket = {
        "subject": "Refund not received",
        "priority": 3,
        "status": "open",
        "labels": ["billing"],
        "created_at": "2025-03-04T09:15:00Z",
        "assignee": "ana@example.com",
    }
    fake.chat.when(contains="refund").reply(json=ticket, times=2)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Open a ticket: my refund never arrived."}
    ]
    completion = client.chat.completions.parse(
        model=LLM, messages=messages, response_format=SupportTicket
    )
    assert completion.choices[0].message.parsed == SupportTicket.model_validate(ticket)
    with client.chat.completions.stream(
        model=LLM, messages=messages, response_format=SupportTicket
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == SupportTicket.model_validate(ticket)


def test_a_scripted_json_reply_that_misses_the_schema_is_reported(
    fake: FakeLMStudio, client: openai.OpenAI
) -> None:
    """The reply is sent as scripted (the client then refuses it), and ``check()`` names the
    mismatch, so the test that scripted it learns why."""
    fake.chat.reply(json={"city": "Oslo", "conditions": "drizzle"})
    with pytest.raises(ValueError, match="validation error"):
        client.chat.completions.parse(model=LLM, messages=ask(Weather), response_format=Weather)
    assert any("does not fit" in e and "response_format" in e for e in fake.errors), fake.errors
    with pytest.raises(Exception, match="response_format schema"):
        fake.check()
    fake.reset()  # the fixture's own check() would fail the test


@pytest.mark.parametrize("model", TOOL_MODELS, ids=lambda m: m.__name__)
def test_a_forced_tool_call_parses_as_the_model_plain_and_streamed(
    fake: FakeLMStudio, client: openai.OpenAI, model: type[BaseModel]
) -> None:
    """``tool_choice: "required"`` with the model as a strict function tool
    (``openai.pydantic_function_tool``): the default call's arguments fit its parameters, and
    the SDK parses them as the model, plain and streamed alike."""
    messages = ask(model)
    tools = [openai.pydantic_function_tool(model)]
    completion = client.chat.completions.parse(
        model=LLM, messages=messages, tools=tools, tool_choice="required"
    )
    assert completion.choices[0].finish_reason == "tool_calls"
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == model.__name__
    assert isinstance(call.function.parsed_arguments, model)
    parameters = json.loads(fake.requests[-1].body)["tools"][0]["function"]["parameters"]
    fits(parameters, json.loads(call.function.arguments))

    with client.chat.completions.stream(
        model=LLM, messages=messages, tools=tools, tool_choice="required"
    ) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    assert_same_request_but_stream(fake)
    assert [e.arguments for e in done] == [call.function.arguments]
    [streamed] = final.choices[0].message.tool_calls or []
    assert streamed.function.parsed_arguments == call.function.parsed_arguments


def test_a_named_tool_choice_calls_that_tool(fake: FakeLMStudio, client: openai.OpenAI) -> None:
    tools = [openai.pydantic_function_tool(m) for m in (Weather, Recipe, SupportTicket)]
    completion = client.chat.completions.parse(
        model=LLM,
        messages=ask(Recipe),
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "Recipe"}},
    )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "Recipe"
    assert isinstance(call.function.parsed_arguments, Recipe)
