"""A request no route serves still gets LM Studio's catch-all answer, and its journal entry
says which route it most likely meant: the ``/v1`` a client given ``fake.url`` left out, a
route asked with another method, a near-miss path."""

from __future__ import annotations

import httpx
import pytest

from fake_server import FakeLMStudio
from fake_server.dialects import route_table
from fake_server.dialects.system import catch_all_hint

V1 = (
    "The OpenAI-compatible routes start with /v1: point the openai SDK (and other OpenAI "
    "clients) at fake.base_url, not fake.url"
)


@pytest.mark.parametrize(
    ("method", "path", "hint"),
    [
        ("POST", "/chat/completions", f"did you mean POST /v1/chat/completions? {V1}"),
        ("GET", "/models", f"did you mean GET /v1/models? {V1}"),
        ("POST", "/embeddings", f"did you mean POST /v1/embeddings? {V1}"),
        ("POST", "/responses", f"did you mean POST /v1/responses? {V1}"),
        ("POST", "/messages", f"did you mean POST /v1/messages? {V1}"),
        (
            "POST",
            "/v1/chat/completion",
            "did you mean POST /v1/chat/completions? (no route serves /v1/chat/completion)",
        ),
        (
            "POST",
            "/api/v0/chat/completion",
            "did you mean POST /api/v0/chat/completions? (no route serves /api/v0/chat/completion)",
        ),
        ("GET", "/v1/chat/completions", "/v1/chat/completions answers POST, not GET"),
        ("DELETE", "/v1/models", "/v1/models answers GET, not DELETE"),
        (
            "GET",
            "/favicon.ico",
            "no route of LM Studio serves GET /favicon.ico: this is its answer to an unknown "
            "endpoint",
        ),
    ],
)
def test_the_journal_says_which_route_a_request_most_likely_meant(
    client: httpx.Client, fake: FakeLMStudio, method: str, path: str, hint: str
) -> None:
    response = client.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == 200  # LM Studio's catch-all answer is unchanged
    assert response.json() == {"error": f"Unexpected endpoint or method. ({method} {path})"}
    [entry] = fake.requests
    assert entry.hint == hint
    assert entry.to_dict()["hint"] == hint
    assert entry.summary() == f"{method} {path} -> 200 default -- {hint}"


def test_requests_a_route_serves_have_no_hint(client: httpx.Client, fake: FakeLMStudio) -> None:
    client.get("/v1/models")
    client.post("/v1/chat/completions", json={"model": "nope", "messages": []})
    assert [entry.hint for entry in fake.requests] == [None, None]
    assert "--" not in fake.requests[0].summary()


def test_templated_routes_count_as_served(fake: FakeLMStudio) -> None:
    routes = route_table(fake)
    assert catch_all_hint("DELETE", "/api/v0/models/qwen/qwen3-8b", routes) == (
        "/api/v0/models/qwen/qwen3-8b answers GET, not DELETE"
    )
    assert catch_all_hint("POST", "/api/v1/models/download/status/job-1", routes) == (
        "/api/v1/models/download/status/job-1 answers GET, not POST"
    )
