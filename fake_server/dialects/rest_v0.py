"""LM Studio's native REST API v0, ``/api/v0``: the OpenAI-compatible requests answered with
LM Studio's extra fields (stats, model_info, runtime), and the rich model entries."""

from __future__ import annotations

from dataclasses import replace

from ..engine import State
from ._base import ApiAnswer, Call, Handler, Out, Route
from ._checks import checked
from .openai import ERRORS
from .openai import routes as openai_routes
from .openai_shapes import SHAPES, error_object
from .system import unexpected

API = "rest-v0"
PREFIX = "/api/v0"

__all__ = ["API", "routes"]


async def _model(call: Call) -> Out:
    state: State = call.state
    model_id = call.match_info["model_id"]
    with call.engine.lock:
        state.catalog.expire(state.clock())  # idle TTL, as on every other route
        model = state.catalog.get(model_id)
        document = None if model is None else SHAPES[state.profile.name].native_model(model)
    if document is None:
        message = (
            f'Model "{model_id}" not found. Please specify a valid model '
            f"(e.g., {state.catalog.ids_text()})."
        )
        raise ApiAnswer(
            404, error_object(message, "invalid_request_error", "model", "model_not_found")
        )
    return checked(document, "lmstudio/model.schema.json", state, None, False)


def _served(handler: Handler) -> Handler:
    """Before 0.3.6 there was no ``/api/v0``: LM Studio's catch-all answered."""

    async def handle(call: Call) -> Out:
        if not call.state.profile.rest_v0:
            return await unexpected(call)
        return await handler(call)

    return handle


def routes() -> list[Route]:
    door = [
        *openai_routes(PREFIX, API, native=True),
        Route("GET", f"{PREFIX}/models/{{model_id:.+}}", _model, ERRORS, body="none", api=API),
    ]
    return [replace(route, handler=_served(route.handler)) for route in door]
