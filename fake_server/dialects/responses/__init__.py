"""The Responses door, ``POST /v1/responses`` (LM Studio 0.3.29+): OpenAI's Responses API
as LM Studio serves it, stateful through ``previous_response_id``.

``_requests`` checks a request (LM Studio's zod words) and makes its turn; ``_shapes`` and
``_stream`` make the response object and its event stream; ``_door`` handles the route,
stores responses for chaining and checks scripted rules.
"""

from __future__ import annotations

from ._door import preview, routes
from ._requests import API

__all__ = ["API", "preview", "routes"]
