"""A small app on the openai SDK: one-line summaries from a model served by LM Studio.

In production the client comes from the environment (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``),
pointed at LM Studio's OpenAI-compatible API; the tests point it at the fake.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import openai

MODEL = "qwen/qwen3-8b"
INSTRUCTIONS = "Summarize the user's text in one sentence."


#: What a call can raise when LM Studio fails: the SDK's errors, and json's JSONDecodeError (a
#: ValueError), which the SDK lets through when a 200 answer's body is not JSON.
FAILURES = (openai.APIError, ValueError)


class SummaryUnavailable(Exception):
    """LM Studio could not give a summary (unreachable, overloaded, or it refused the request)."""


def client_from_env() -> openai.OpenAI:
    return openai.OpenAI(
        base_url=os.environ.get("OPENAI_BASE_URL", "http://localhost:1234/v1"),
        api_key=os.environ.get("OPENAI_API_KEY", "lm-studio"),
    )


def _messages(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": text}]


def summarize(client: openai.OpenAI, text: str, model: str = MODEL) -> str:
    try:
        answer = client.chat.completions.create(model=model, messages=_messages(text))
    except FAILURES as error:
        raise SummaryUnavailable(str(error)) from error
    return (answer.choices[0].message.content or "").strip()


def summarize_stream(client: openai.OpenAI, text: str, model: str = MODEL) -> Iterator[str]:
    """The summary as it is written, piece by piece."""
    try:
        with client.chat.completions.create(
            model=model, messages=_messages(text), stream=True
        ) as stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
    except FAILURES as error:
        raise SummaryUnavailable(str(error)) from error
