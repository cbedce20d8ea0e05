"""The doors of LM Studio, one module per API family: each parses its requests into turns,
encodes the engine's answers and its own errors, and declares its routes.

``route_table`` assembles every door's routes for the HTTP shell; ``rule_problems`` checks a
scripted rule with the encoders of every door it can answer through.
"""

from __future__ import annotations

from .._catalog import Model, Purpose
from ..engine import Rule, State
from . import admin, messages, openai, responses, rest_v0, rest_v1, sdk, system
from ._base import (
    ApiAnswer,
    Call,
    ErrorForms,
    FaultOut,
    Handler,
    JsonOut,
    Out,
    RawOut,
    Route,
    Socket,
    SocketOut,
    SocketSession,
    SseOut,
)
from ._rule_shape import remember_valid, rule_shape, seen_valid
from .admin import ADMIN_PREFIX, Control

#: The doors a rule can be narrowed to with ``when(api=...)``.
APIS: tuple[str, ...] = (
    openai.API, rest_v0.API, rest_v1.API, responses.API, messages.API, sdk.API,
)  # fmt: skip

__all__ = [
    "ADMIN_PREFIX",
    "APIS",
    "ApiAnswer",
    "Call",
    "Control",
    "ErrorForms",
    "FaultOut",
    "Handler",
    "JsonOut",
    "Out",
    "RawOut",
    "Route",
    "Socket",
    "SocketOut",
    "SocketSession",
    "SseOut",
    "route_table",
    "rule_problems",
]


def route_table(control: Control) -> list[Route]:
    """Every route the fake serves, the catch-all last."""
    served = [
        *openai.routes(),
        *rest_v0.routes(),
        *rest_v1.routes(),
        *responses.routes(),
        *messages.routes(),
        *system.routes(),
        *admin.routes(control),
        *sdk.routes(),
    ]
    return [*served, system.catch_all(served)]


def rule_problems(rule: Rule, state: State) -> list[str]:
    """What is wrong with the answers ``rule`` would send, through each door it can answer
    (checked by the encoders that will send them). Empty when nothing is. A rule of a shape
    that passed before passes without a second run (``_rule_shape``)."""
    purpose: Purpose = "embeddings" if rule.route == "embeddings" else "chat"
    served = [m for m in state.catalog.models() if m.serves(purpose)]
    model = (
        served[0]
        if served
        else Model("preview-model", type="embeddings" if rule.route == "embeddings" else "llm")
    )
    shape = rule_shape(rule, state, model)
    if seen_valid(shape):
        return []
    problems = _door_problems(rule, state, model)
    if not problems:
        remember_valid(shape)
    return problems


def _door_problems(rule: Rule, state: State, model: Model) -> list[str]:
    for api, native in ((openai.API, False), (rest_v0.API, True)):
        if rule.matcher.api in (None, api):
            problems = openai.preview(rule, state, model, native)
            if problems:
                return problems
    if rule.matcher.api in (None, rest_v1.API):
        problems = rest_v1.preview(rule, state, model)
        if problems:
            return problems
    if rule.route == "chat" and rule.matcher.api in (None, responses.API):
        problems = responses.preview(rule, state, model)
        if problems:
            return problems
    if rule.matcher.api in (None, messages.API):
        problems = messages.preview(rule, state, model)
        if problems:
            return problems
    if rule.matcher.api in (None, sdk.API):
        return sdk.preview(rule, state, model)
    return []
