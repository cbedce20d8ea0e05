"""The environment ``lmstudio_env`` sets: one row per variable, with the client that reads it.

Each row was checked in the client's own source: a variable no client reads would only
mislead. A row's value is made from where LM Studio is (``url``, no ``/v1``) and the token
it wants (``token``: the fake's, or in live mode ``LMSTUDIO_API_TOKEN`` from the
environment); a value of None unsets the variable for the test, so that a real credential
from the outer environment never reaches the fake.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: The key clients that insist on one send when LM Studio wants none (LM Studio's own
#: examples use it; any value works).
PLACEHOLDER_KEY = "lm-studio"
#: An API token in LM Studio's own form, the only form its SDKs send (as two halves).
SDK_TOKEN = re.compile(r"sk-lm-[A-Za-z0-9]{8}:[A-Za-z0-9]{20}")

__all__ = [
    "CLIENT_VARIABLES",
    "PLACEHOLDER_KEY",
    "SDK_TOKEN",
    "UNSET_VARIABLES",
    "ClientVariable",
    "Where",
]


@dataclass(frozen=True)
class Where:
    """Where LM Studio is, for the test: its root URL and the token it wants (or None)."""

    url: str
    token: str | None


@dataclass(frozen=True)
class ClientVariable:
    """One environment variable ``lmstudio_env`` sets, and who reads it."""

    name: str
    client: str
    value: Callable[[Where], str | None]


def _root(where: Where) -> str:
    return where.url


def _openai_base(where: Where) -> str:
    return f"{where.url}/v1"


def _token(where: Where) -> str | None:
    return where.token


def _key(where: Where) -> str:
    return where.token or PLACEHOLDER_KEY


def _sdk_token(where: Where) -> str | None:
    # @lmstudio/sdk 2 refuses to start on a token not in sk-lm- form: unset, not passed on.
    token = where.token
    return token if token is not None and SDK_TOKEN.fullmatch(token) else None


CLIENT_VARIABLES: tuple[ClientVariable, ...] = (
    ClientVariable("LMSTUDIO_ENDPOINT", "pytest_lmstudio: LMStudioProvider()", _root),
    ClientVariable(
        "LMSTUDIO_API_TOKEN",
        "pytest_lmstudio: LMStudioProvider(); LM Studio's Python SDK, lmstudio 1.6+ (a token "
        "in LM Studio's sk-lm- form)",
        _token,
    ),
    ClientVariable(
        "LM_API_TOKEN",
        "LM Studio's JavaScript SDK, @lmstudio/sdk 2 (set only for a token in sk-lm- form)",
        _sdk_token,
    ),
    ClientVariable(
        "OPENAI_BASE_URL",
        "the openai SDK: OpenAI(), AsyncOpenAI(), and what builds on them (LangChain's "
        "ChatOpenAI, pydantic-ai's OpenAIProvider, the OpenAI Agents SDK)",
        _openai_base,
    ),
    ClientVariable("OPENAI_API_KEY", "the openai SDK (required by it, any value)", _key),
    ClientVariable(
        "ANTHROPIC_BASE_URL",
        "the anthropic SDK, Claude Code: LM Studio's /v1/messages, at the root URL",
        _root,
    ),
    ClientVariable("ANTHROPIC_API_KEY", "the anthropic SDK (sent as X-Api-Key)", _key),
    ClientVariable("LM_STUDIO_API_BASE", "LiteLLM: models named lm_studio/...", _openai_base),
    ClientVariable("LM_STUDIO_API_KEY", "LiteLLM: models named lm_studio/...", _key),
    ClientVariable(
        "LMSTUDIO_API_BASE",
        "llm-lmstudio, the llm CLI's plugin (read when llm loads its plugins: a subprocess "
        "`llm` started in the test, or a first import of llm after the fixture ran)",
        _root,
    ),
)

#: Unset for the test: they would point a client elsewhere or send another credential.
UNSET_VARIABLES: tuple[tuple[str, str], ...] = (
    ("LMSTUDIO_CONFIG", "pytest_lmstudio: a config file that could name another endpoint"),
    ("ANTHROPIC_AUTH_TOKEN", "the anthropic SDK: a Bearer credential beside the key"),
)
