"""The Anthropic-compatible door, ``POST /v1/messages`` (LM Studio 0.4.1+): Anthropic's
Messages format over the same engine as every other door, so ``fake.chat`` rules answer
here too (``when(api="messages")`` narrows a rule to this door).

``_requests`` checks a request and makes its turn, ``_shapes`` holds the wire shapes,
``_door`` answers.
"""

from __future__ import annotations

from typing import Any

from ..._catalog import Model
from ...engine import Decision, Fail, Raw, Reply, Respond, Rule, State, Stream, Turn
from .._base import Route
from ._door import API, ERRORS, PATH, TOKEN_HEADER, check_scripted, encode, handle

__all__ = ["API", "preview", "routes"]


def routes() -> list[Route]:
    return [
        Route(
            "POST",
            PATH,
            handle,
            ERRORS,
            api=API,
            token_header=TOKEN_HEADER,
            schema="anthropic/messages-request.schema.json",
        )
    ]


def preview(rule: Rule, state: State, model: Model) -> list[str]:
    """What is wrong with what ``rule`` would send through this door: the same encoder as a
    request, every document checked. A body given as it is (``respond()``, ``fail(body=)``)
    is checked here only when the rule is narrowed to this door (one left open is a body
    for another door: the OpenAI door checks it)."""
    action = rule.action
    if rule.route != "chat" or action is None or isinstance(action, Raw):
        return []
    if isinstance(action, (Respond, Fail)):
        return check_scripted(action) if rule.matcher.api == API else []
    assert isinstance(action, (Reply, Stream))
    body: dict[str, Any] = {"model": model.id, "max_tokens": 1024, "messages": []}
    for stream in (False, True):
        turn = Turn("chat", API, body, model.id, model.id, stream=stream)
        try:
            encode(Decision(turn, model, rule, action, None), state, strict=True)
        except ValueError as exc:
            return [str(exc)]
    return []
