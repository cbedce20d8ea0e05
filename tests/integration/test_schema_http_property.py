"""Property, over HTTP: for random schemas of the supported subset sent as ``response_format``,
the default answer's content is JSON that fits the schema, and the streamed twin of the same
request joins to the same text.

The schemas come from the generator's own property test (``documents()``); here they go
through the whole fake: request checks, the engine's seeding, the answer's encoding and the
event stream, through both doors that take ``response_format`` (``/v1`` and ``/api/v0``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_server import FakeLMStudio
from tests.fake_server.schema_json.test_schema_property import documents

from .conftest import LLM, fits

EXAMPLES = 200


@pytest.fixture(scope="module")
def http(fake_module: FakeLMStudio) -> Iterator[httpx.Client]:
    fake_module.reset()
    with httpx.Client(base_url=fake_module.url, timeout=10) as client:
        yield client
    fake_module.check()


def streamed_content(response: httpx.Response) -> tuple[str, str | None]:
    """The content deltas joined, and the finish reason, from a chat completion stream."""
    pieces: list[str] = []
    finish = None
    for line in response.iter_lines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        for choice in json.loads(line[len("data: ") :])["choices"]:
            pieces.append(choice["delta"].get("content") or "")
            finish = choice.get("finish_reason") or finish
    return "".join(pieces), finish


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    schema=documents(),
    prompt=st.sampled_from(["Fill the form.", "Again, please.", "JSON"]),
    path=st.sampled_from(["/v1/chat/completions", "/api/v0/chat/completions"]),
)
def test_default_answers_fit_random_schemas_plain_and_streamed(
    http: httpx.Client, schema: Any, prompt: str, path: str
) -> None:
    body = {
        "model": LLM,
        "messages": [{"role": "user", "content": prompt}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "strict": True, "schema": schema},
        },
    }
    plain = http.post(path, json=body)
    assert plain.status_code == 200, plain.text
    choice = plain.json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    content = choice["message"]["content"]
    fits(schema, json.loads(content))

    with http.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        joined, finish = streamed_content(response)
    assert finish == "stop"
    assert joined == content
