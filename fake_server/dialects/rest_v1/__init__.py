"""LM Studio's native REST API v1, ``/api/v1`` (0.4.0+): the model list with loaded
instances and capabilities, explicit loads and unloads, downloads, and the stateful chat
with named stream events.

Request bodies are closed (an unknown key is a 400 naming it) and errors come as
``{"error": {message, type, code?, param?}}``. Before 0.4.0 there was no ``/api/v1``:
LM Studio's catch-all answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from ..._catalog import Model
from ...engine import Rule, State
from .._base import Call, Handler, Out, Route
from ..system import unexpected
from ._chat import chat
from ._chat import preview as _preview
from ._downloads import download, download_status
from ._errors import API, ERRORS, PREFIX, checked_body
from ._models import load, model_list, unload

__all__ = ["API", "PREFIX", "preview", "routes"]

BodyHandler = Callable[[Call, dict[str, Any]], Awaitable[Out]]


def _with_body(schema: str, handler: BodyHandler) -> Handler:
    """The handler of a POST route: the body checked against ``schema`` first."""

    async def handle(call: Call) -> Out:
        body = checked_body(call.json, f"lmstudio-v1/{schema}", call.state)
        return await handler(call, body)

    return handle


def _served(handler: Handler) -> Handler:
    """Before 0.4.0 there was no ``/api/v1``: LM Studio's catch-all answered."""

    async def handle(call: Call) -> Out:
        if not call.state.profile.rest_v1:
            return await unexpected(call)
        return await handler(call)

    return handle


def routes() -> list[Route]:
    def posted(path: str, schema: str, handler: BodyHandler) -> Route:
        return Route(
            "POST", f"{PREFIX}/{path}", _with_body(schema, handler), ERRORS,
            schema=f"lmstudio-v1/{schema}",
        )  # fmt: skip

    door = [
        Route("GET", f"{PREFIX}/models", model_list, ERRORS, body="none"),
        posted("models/load", "load-request.schema.json", load),
        posted("models/unload", "unload-request.schema.json", unload),
        posted("models/download", "download-request.schema.json", download),
        Route(
            "GET",
            f"{PREFIX}/models/download/status/{{job_id}}",
            download_status,
            ERRORS,
            body="none",
        ),
        posted("chat", "chat-request.schema.json", chat),
    ]
    return [replace(r, handler=_served(r.handler), api=API) for r in door]


def preview(rule: Rule, state: State, model: Model) -> list[str]:
    """What is wrong with what ``rule`` would send through this door; empty when nothing."""
    return _preview(rule, state, model.id, model)
