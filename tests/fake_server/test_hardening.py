"""Malformed and abusive input gets a 4xx in LM Studio's words, never a 5xx; every request
is journaled as strict JSON; a client may hang up at any time without an error inside the
fake; scenario values out of range are refused when they are loaded; a slow body is timed
out; nothing a request carries can block the server."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio, ScenarioError, ScriptError

MODEL = "qwen/qwen3-8b"
CHAT = "/v1/chat/completions"
BODY: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
POST_ROUTES = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/api/v0/chat/completions",
    "/api/v0/completions",
    "/api/v0/embeddings",
]


def _reject(name: str) -> Any:
    raise AssertionError(f"{name} in a journal line: not strict JSON")


def strict_lines(fake: FakeLMStudio) -> list[dict[str, Any]]:
    """Every journal entry as it leaves the process: strict JSON, encodable as UTF-8."""
    lines = [e.to_json() for e in fake.requests]
    for line in lines:
        line.encode("utf-8")
    return [json.loads(line, parse_constant=_reject) for line in lines]


def send_raw(fake: FakeLMStudio, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while part := sock.recv(65536):
            out += part
    return out


def post_bytes(path: str, data: bytes, extra: bytes = b"") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n"
    )
    return head.encode() + extra + b"\r\n" + data


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# -- JSON the parser or the encoder could choke on ----------------------------------------
def test_a_lone_surrogate_in_content_is_answered_and_journaled(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    data = b'{"model":"qwen/qwen3-8b","messages":[{"role":"user","content":"\\ud800"}]}'
    answer = client.post(CHAT, content=data, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    (line,) = strict_lines(fake)
    assert line["json"]["messages"][0]["content"] == "\ud800"
    listed = client.get("/__fake__/requests")
    assert listed.status_code == 200 and listed.json()["total"] == 1
    fake.check()


def test_a_lone_surrogate_as_the_model_gets_the_model_error(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    data = b'{"model":"\\ud800","messages":[{"role":"user","content":"Hi"}]}'
    answer = client.post(CHAT, content=data, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "model_not_found"
    assert b"\\ud800" in answer.content  # escaped, as JSON.stringify writes it
    fake.check()


def test_a_header_byte_that_is_not_utf8_is_journaled(fake: FakeLMStudio) -> None:
    data = json.dumps(BODY).encode()
    answer = send_raw(fake, post_bytes(CHAT, data, b"X-Odd: caf\xe9\xc3\x28\r\n"))
    assert status_of(answer) == 200
    (line,) = strict_lines(fake)
    assert line["headers"]["X-Odd"].startswith("caf")
    fake.check()


@pytest.mark.parametrize("depth", [1000, 100_000])
@pytest.mark.parametrize("path", POST_ROUTES)
def test_deep_nesting_gets_a_400_on_every_post_route(
    fake: FakeLMStudio, path: str, depth: int
) -> None:
    data = b'{"model":"qwen/qwen3-8b","x":' + b"[" * depth + b"]" * depth + b"}"
    answer = send_raw(fake, post_bytes(path, data))
    assert status_of(answer) == 400, answer[:300]
    assert b"nested too deeply" in answer
    assert len(strict_lines(fake)) == 1
    fake.check()


def test_deep_nesting_in_a_scenario_gets_a_400(fake: FakeLMStudio) -> None:
    data = b'{"rules":' + b"[" * 5000 + b"]" * 5000 + b"}"
    answer = send_raw(fake, post_bytes("/__fake__/scenario", data))
    assert status_of(answer) == 400
    assert b"nested too deeply" in answer
    fake.check()


def test_deeply_nested_tool_parameters_with_a_forced_call_are_answered(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    parameters: dict[str, Any] = {"type": "object", "properties": {}, "required": ["x"]}
    node = parameters
    for _ in range(400):
        child: dict[str, Any] = {"type": "object", "properties": {}, "required": ["x"]}
        node["properties"]["x"] = child
        node = child
    body = {
        **BODY,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": parameters}}],
        "tool_choice": "required",
    }
    answer = client.post(CHAT, json=body)
    assert answer.status_code < 500
    strict_lines(fake)
    fake.check()


def test_an_integer_of_5000_digits_is_read_as_javascript_reads_it(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    data = json.dumps(BODY)[:-1].encode() + b',"max_tokens":' + b"9" * 5000 + b"}"
    answer = client.post(CHAT, content=data, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400  # a double too large for max_tokens, as in LM Studio
    (line,) = strict_lines(fake)
    assert line["json"]["max_tokens"] is None  # Infinity is written as null
    fake.check()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(
    fake: FakeLMStudio, client: httpx.Client, literal: str
) -> None:
    data = json.dumps(BODY)[:-1] + f',"temperature":{literal}}}'
    answer = client.post(CHAT, content=data, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "is not valid JSON" in answer.json()["error"]
    (line,) = strict_lines(fake)
    assert line["json"] is None and literal in line["body"]
    fake.check()


# -- clients that hang up -----------------------------------------------------------------
def test_a_client_closing_a_stream_after_the_head_is_no_error_inside_the_fake(
    fake: FakeLMStudio,
) -> None:
    fake.chat.stream([f"w{i} " for i in range(200)], interval=0.002)
    data = json.dumps({**BODY, "stream": True}).encode()
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
            sock.sendall(post_bytes(CHAT, data))
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 10
    while any(e.status is None or e.duration is None for e in fake.requests):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert len(fake.requests) == 20
    fake.check()


def test_a_slow_body_is_timed_out_and_journaled() -> None:
    with FakeLMStudio(body_timeout=0.3) as fake:
        data = json.dumps(BODY).encode()
        with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
            sock.sendall(post_bytes(CHAT, data)[: -len(data) + 5])  # head and 5 body bytes
            started = time.monotonic()
            answer = sock.recv(65536)
            waited = time.monotonic() - started
        assert status_of(answer) == 408, answer
        assert b"not received within 0.3 s" in answer
        assert waited < 5
        (entry,) = fake.requests
        assert entry.status == 408
        fake.check()


# -- bounded memory -----------------------------------------------------------------------
def test_the_journal_is_bounded_in_bytes() -> None:
    big = {**BODY, "messages": [{"role": "user", "content": "x" * 2_000_000}]}
    data = json.dumps(big).encode()
    with FakeLMStudio(journal_bytes=3 * 1024 * 1024) as fake, httpx.Client() as client:
        for _ in range(6):
            answer = client.post(
                fake.url + CHAT, content=data, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 200
        entries = fake.requests
        assert fake.journal.bytes <= 3 * 1024 * 1024
        assert fake.journal.total == 6 and fake.journal.dropped == 6 - len(entries)
        last = entries[-1]
        assert last.truncated and last.json is None
        assert len(last.body) == 1024 * 1024 and last.body_length == len(data)
        line = json.loads(last.to_json())
        assert line["truncated"] is True and line["body_length"] == last.body_length


# -- credentials --------------------------------------------------------------------------
def test_no_part_of_a_credential_leaves_the_process(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    headers = {
        "Authorization": "Bearer abcdef",
        "Proxy-Authorization": "Basic dXNlcjpwYXNz",
        "Cookie": "session=s3cr3t",
        "api-key": "k3y-value",
        "x-api-key": "xk3y-value",
    }
    client.get("/v1/models?api_key=q-secret&other=1", headers=headers)
    (line,) = strict_lines(fake)
    text = json.dumps(line)
    for secret in ("abcdef", "dXNlcjpwYXNz", "s3cr3t", "k3y-value", "xk3y-value", "q-secret"):
        assert secret not in text
    assert line["headers"]["Authorization"] == "Bearer [redacted]"
    assert "other=1" in line["query"]


# -- the admin API is not for web pages ---------------------------------------------------
SCENARIO = json.dumps({"rules": [{"route": "chat", "reply": {"content": "pwned"}}]})


def test_a_cross_site_text_plain_post_cannot_load_a_scenario(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    answer = client.post(
        "/__fake__/scenario",
        content=SCENARIO,
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
    )
    assert answer.status_code == 403
    assert "cross-site" in answer.json()["error"]
    form = client.post(
        "/__fake__/scenario", content=SCENARIO, headers={"Content-Type": "text/plain"}
    )
    assert form.status_code == 403 and "form post" in form.json()["error"]
    assert fake.rules == []


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/__fake__/requests"), ("POST", "/__fake__/reset")]
)
def test_a_rebound_host_cannot_reach_the_admin_api(
    fake: FakeLMStudio, client: httpx.Client, method: str, path: str
) -> None:
    client.get("/v1/models")
    answer = client.request(method, path, headers={"Host": "attacker.example:1234"})
    assert answer.status_code == 403
    assert "DNS rebinding" in answer.json()["error"]
    assert len(fake.requests) == 1  # not reset


def test_the_fakes_own_origin_and_plain_tools_reach_the_admin_api(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    own = {"Origin": f"http://127.0.0.1:{fake.port}", "Content-Type": "application/json"}
    assert client.post("/__fake__/scenario", content=SCENARIO, headers=own).status_code == 200
    assert client.post("/__fake__/reset").status_code == 200  # curl: no Origin, no type
    other_port = {"Origin": f"http://127.0.0.1:{fake.port + 1}"}
    assert client.get("/__fake__/rules", headers=other_port).status_code == 403


def test_lm_studio_routes_answer_any_host(fake: FakeLMStudio, client: httpx.Client) -> None:
    assert client.get("/v1/models", headers={"Host": "my-box.lan:1234"}).status_code == 200


def test_a_named_remote_host_reaches_the_admin_api() -> None:
    with FakeLMStudio(allow_remote=["my-box.lan"]) as fake, httpx.Client() as client:
        answer = client.get(fake.url + "/__fake__/rules", headers={"Host": "my-box.lan:80"})
        assert answer.status_code == 200


# -- CORS ---------------------------------------------------------------------------------
def test_with_cors_a_preflight_gets_204(client: httpx.Client) -> None:
    with FakeLMStudio(cors=True) as fake:
        answer = httpx.options(
            fake.url + CHAT,
            headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
        )
        assert answer.status_code == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert fake.requests[0].status == 204
        fake.check()


def test_without_cors_a_preflight_reaches_the_chat_handler(client: httpx.Client) -> None:
    answer = client.options(CHAT)
    assert answer.status_code == 400  # LM Studio's quirk: "'messages' field is required"
    assert answer.json() == {"error": "'messages' field is required"}


# -- scenario values out of range ---------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "toml", "where"),
    [
        ('{"rules":[{"route":"chat","fail":{"status":503,"retry_after":Infinity}}]}', False, ""),
        ('[[rules]]\nroute = "chat"\ndelay = nan\n', True, "$.rules[0]"),
        ('[[rules]]\nroute = "chat"\nstream = { chunks = ["a"], ttft = inf }\n', True, "ttft"),
        ('[[rules]]\nroute = "chat"\nslow_body = { bytes_per_second = inf }\n', True, "$.rules"),
        (
            '{"rules":[{"route":"chat","respond":{"json":{},"headers":{"X":"a\\r\\nB: c"}}}]}',
            False,
            "$.rules[0]",
        ),
        ('{"models":[{"id":"m","embedding_dimensions":20000000}]}', False, "$.models[0]"),
    ],
)
def test_out_of_range_scenario_values_are_refused_when_loaded(
    fake: FakeLMStudio, text: str, toml: bool, where: str
) -> None:
    from fake_server._scenario_file import parse_scenario

    with pytest.raises(ScenarioError) as caught:
        fake.load_scenario(parse_scenario(text, "s", toml=toml), source="s")
    assert where in str(caught.value)
    assert fake.rules == []


@pytest.mark.parametrize(
    "script",
    [
        lambda f: f.chat.fail(503, retry_after=float("inf")),
        lambda f: f.chat.delay(float("nan")),
        lambda f: f.chat.stream(["a"], ttft=float("inf")),
        lambda f: f.chat.slow_body(float("inf")),
        lambda f: f.chat.respond({}, headers={"X": "a\r\nB: c"}),
        lambda f: f.add_model("m", type="embeddings", embedding_dimensions=20_000_000),
        lambda f: f.chat.garbage(10**9),
    ],
)
def test_out_of_range_script_values_are_refused(fake: FakeLMStudio, script: Any) -> None:
    with pytest.raises(ScriptError):
        script(fake)
    assert fake.rules == []


def test_too_many_embedding_inputs_get_a_400(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.add_model("acme/embed", type="embeddings", embedding_dimensions=4)
    body = {"model": "acme/embed", "input": ["x"] * 2049}
    answer = client.post("/v1/embeddings", json=body)
    assert answer.status_code == 400
    assert "at most 2048 items" in answer.json()["error"]
    ok = client.post("/v1/embeddings", json={**body, "input": ["x"] * 2048})
    assert ok.status_code == 200 and len(ok.json()["data"]) == 2048


def test_token_ids_written_as_doubles_are_embedded(client: httpx.Client) -> None:
    """JSON has no integer type: 1e+308 passes the schema's integer check, as in JavaScript."""
    body = {"model": "text-embedding-nomic-embed-text-v1.5", "input": [1e308, 2147483648]}
    assert client.post("/v1/embeddings", json=body).status_code == 200


@pytest.mark.parametrize("path", ["/v1/embeddings", "/api/v0/embeddings"])
def test_a_lone_surrogate_is_embedded(fake: FakeLMStudio, path: str) -> None:
    data = b'{"model":"text-embedding-nomic-embed-text-v1.5","input":["a\\ud800b","\\udfff"]}'
    answer = send_raw(fake, post_bytes(path, data))
    assert status_of(answer) == 200, answer[:300]
    fake.check()
