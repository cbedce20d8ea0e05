"""What the fake generates and how it looks on the wire, as LM Studio does it: Express's head,
JavaScript's words, reasoning, context limits, structured output, the settings LM Studio has
(#619, auto-evict) and the quirks of its versions (profiles)."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import httpx
import pytest

from fake_server import FakeCheckError, FakeLMStudio

MODEL = "qwen/qwen3-8b"
REASONER = "openai/gpt-oss-20b"
CHAT = "/v1/chat/completions"
HI = [{"role": "user", "content": "Hi"}]


def chat(client: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", MODEL)
    body.setdefault("messages", HI)
    return client.post(CHAT, json=body)


def events(response: httpx.Response) -> list[tuple[str, str]]:
    """(event name or "", data) of each SSE event."""
    out = []
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        name, data = "", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        out.append((name, data))
    return out


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(d) for n, d in events(response) if not n and d != "[DONE]"]


def head(fake: FakeLMStudio, request: bytes) -> list[str]:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
    return [line.split(":", 1)[0] for line in data.split(b"\r\n\r\n")[0].decode().split("\r\n")[1:]]


# -- Express's head -----------------------------------------------------------------------
def test_a_json_answer_has_expresss_head_in_expresss_order(fake: FakeLMStudio) -> None:
    names = head(fake, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
    assert names == [
        "X-Powered-By", "Content-Type", "Content-Length", "ETag", "Date", "Connection",
        "Keep-Alive",
    ]  # fmt: skip


def test_a_stream_has_lm_studios_head(fake: FakeLMStudio) -> None:
    body = json.dumps({"model": MODEL, "messages": HI, "stream": True}).encode()
    request = (
        f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    assert head(fake, request) == [
        "X-Powered-By", "Content-Type", "Cache-Control", "Connection", "Date",
        "Transfer-Encoding",
    ]  # fmt: skip


def test_no_server_header_and_keep_alive(client: httpx.Client) -> None:
    response = client.get("/v1/models")
    assert "server" not in response.headers
    assert response.headers["connection"] == "keep-alive"
    assert response.headers["keep-alive"] == "timeout=5"


# -- JavaScript's words -------------------------------------------------------------------
def test_a_bad_value_is_worded_without_python(client: httpx.Client) -> None:
    response = chat(client, temperature="hot")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid 'temperature' in payload: expected number or null, received string"
    }


def test_an_empty_tool_call_id_gets_lm_studios_message_alone(client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "tool", "tool_call_id": "", "content": "42"},
    ]
    response = chat(client, messages=messages)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid 'messages' in payload. Please check the structure of your "
        "'messages' and try again"
    }


# -- LM Studio's settings -----------------------------------------------------------------
def test_the_single_loaded_fallback_serves_any_name(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_jit(False)
    assert chat(client, model="gpt-4o").status_code == 400
    fake.set_single_loaded_fallback(True)
    answer = chat(client, model="gpt-4o")
    assert answer.status_code == 200 and answer.json()["model"] == MODEL


def test_auto_evict_can_be_turned_off(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.add_model("acme/a", loaded=False)
    fake.add_model("acme/b", loaded=False)
    fake.set_auto_evict(False)
    assert chat(client, model="acme/a").status_code == 200
    assert chat(client, model="acme/b").status_code == 200
    states = {m.id: m.state for m in fake.catalog}
    assert states["acme/a"] == states["acme/b"] == "loaded"
    fake.set_auto_evict(True)
    fake.add_model("acme/c", loaded=False)
    assert chat(client, model="acme/c").status_code == 200
    states = {m.id: m.state for m in fake.catalog}
    assert (states["acme/a"], states["acme/b"], states["acme/c"]) == (
        "not-loaded",
        "not-loaded",
        "loaded",
    )


def test_the_settings_come_from_a_scenario(fake: FakeLMStudio) -> None:
    fake.load_scenario(
        {"single_loaded_fallback": True, "auto_evict": False, "reasoning_format": "think"}
    )
    assert fake.rules == []


# -- reasoning ----------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["reasoning", "reasoning_content"])
def test_a_reasoning_model_reasons_in_a_field(
    fake: FakeLMStudio, client: httpx.Client, form: str
) -> None:
    fake.set_reasoning_format(form)
    plain = chat(client, model=REASONER).json()
    message = plain["choices"][0]["message"]
    assert message[form] and message["content"]
    streamed = chat(client, model=REASONER, stream=True)
    deltas = [c["choices"][0]["delta"] for c in chunks(streamed) if c["choices"]]
    thought = [d[form] for d in deltas if form in d]
    said = [d["content"] for d in deltas if "content" in d]
    assert "".join(thought) == message[form] and "".join(said) == message["content"]
    first_content = next(i for i, d in enumerate(deltas) if "content" in d)
    assert all(form in d for d in deltas[:first_content])  # reasoning comes first
    assert deltas[0]["role"] == "assistant"
    words = len(re.findall(r"\w+|[^\w\s]", message[form] + message["content"]))
    assert plain["usage"]["completion_tokens"] == words


def test_think_tags_put_reasoning_in_the_content(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_reasoning_format("think")
    message = chat(client, model=REASONER).json()["choices"][0]["message"]
    assert re.fullmatch(r"<think>\n.+\n</think>\n\n.+", message["content"], re.S)
    assert "reasoning" not in message
    streamed = chat(client, model=REASONER, stream=True)
    joined = "".join(
        c["choices"][0]["delta"].get("content", "") for c in chunks(streamed) if c["choices"]
    )
    assert joined == message["content"]


def test_a_scripted_stream_reasons(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.chat.stream(["Hel", "lo"], reasoning=["Let me ", "think."])
    deltas = [c["choices"][0]["delta"] for c in chunks(chat(client, stream=True))]
    assert [d.get("reasoning") for d in deltas[:2]] == ["Let me ", "think."]
    assert [d.get("content") for d in deltas[2:4]] == ["Hel", "lo"]


def test_reasoning_uses_up_max_tokens_first(client: httpx.Client) -> None:
    answer = chat(client, model=REASONER, max_tokens=3).json()
    message = answer["choices"][0]["message"]
    assert answer["choices"][0]["finish_reason"] == "length"
    assert message["content"] == "" and len(re.findall(r"\w+|[^\w\s]", message["reasoning"])) == 3


def test_the_strict_openai_profile_sends_no_reasoning(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_profile("openai")
    message = chat(client, model=REASONER).json()["choices"][0]["message"]
    assert "reasoning" not in message and message["content"]


# -- the context ---------------------------------------------------------------------------
LONG = [{"role": "user", "content": "word " * 5000}]  # 5,000 tokens > the 4,096 loaded


def test_a_prompt_longer_than_the_context_is_refused(client: httpx.Client) -> None:
    response = chat(client, messages=LONG)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Input does not fit in context length. The input has 5004 tokens, but the "
        "context length only supports 4096 tokens."
    }


def test_streamed_the_overflow_is_an_error_event(client: httpx.Client) -> None:
    response = chat(client, messages=LONG, stream=True)
    assert response.status_code == 200
    ((name, data),) = events(response)
    assert name == "error"
    assert json.loads(data)["error"]["message"].startswith("Input does not fit in context")


@pytest.mark.parametrize(
    ("profile", "start"),
    [
        ("lmstudio-0.4.0", "Input does not fit"),
        ("lmstudio-0.3.23", "Trying to keep the first 5004"),
    ],
)
def test_older_versions_refuse_the_stream_before_it_starts(
    fake: FakeLMStudio, client: httpx.Client, profile: str, start: str
) -> None:
    fake.set_profile(profile)
    response = chat(client, messages=LONG, stream=True)
    assert response.status_code == 400 and response.json()["error"].startswith(start)


def test_the_answer_is_cut_to_the_context_left(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "word " * 4090}]  # 4,094 with the template
    answer = chat(client, messages=messages, max_tokens=500).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] == 2


# -- structured output --------------------------------------------------------------------
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "role": {"enum": ["admin", "user"]},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
    },
    "required": ["name", "age", "role", "tags"],
    "additionalProperties": False,
}


def _format(schema: Any, strict: Any = True) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "person", "strict": strict, "schema": schema},
    }


@pytest.mark.parametrize("strict", [True, "true", None])
def test_a_schema_gets_json_that_fits(client: httpx.Client, strict: Any) -> None:
    import jsonschema

    plain = chat(client, response_format=_format(PERSON, strict))
    assert plain.status_code == 200, plain.text
    text = plain.json()["choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(text), PERSON)
    streamed = chat(client, response_format=_format(PERSON, strict), stream=True)
    joined = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks(streamed))
    assert joined == text


def test_an_unsupported_schema_is_a_400_naming_the_keyword(client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"x": {"not": {"type": "string"}}}}
    response = chat(client, response_format=_format(schema))
    assert response.status_code == 400
    message = response.json()["error"]
    assert "unsupported keyword 'not'" in message and "/properties/x" in message


def test_a_forced_tool_call_fits_its_parameters(client: httpx.Client) -> None:
    import jsonschema

    tools = [{"type": "function", "function": {"name": "save", "parameters": PERSON}}]
    answer = chat(client, tools=tools, tool_choice="required").json()
    (call,) = answer["choices"][0]["message"]["tool_calls"]
    jsonschema.validate(json.loads(call["function"]["arguments"]), PERSON)


def test_a_scripted_json_is_checked_against_the_requests_schema(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.reply(json={"name": "Ada", "age": 36, "role": "admin", "tags": []}, times=1)
    fits = chat(client, response_format=_format(PERSON))
    assert json.loads(fits.json()["choices"][0]["message"]["content"])["name"] == "Ada"
    fake.check()
    fake.chat.reply(json={"name": "Ada"})
    assert chat(client, response_format=_format(PERSON)).status_code == 200
    with pytest.raises(FakeCheckError, match="does not fit the request's response_format"):
        fake.check()


# -- version profiles ---------------------------------------------------------------------
def test_lms_status_reports_the_profiles_version(fake: FakeLMStudio, client: httpx.Client) -> None:
    assert client.get("/lms-status").json()["version"] == "0.4.21"
    fake.set_profile("lmstudio-0.3.9")
    assert client.get("/lms-status").json() == {"package": "lmstudio", "version": "0.3.9"}


def test_0_3_9_puts_the_role_on_every_delta(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_profile("lmstudio-0.3.9")
    fake.chat.stream(["a", "b", "c"])
    deltas = [c["choices"][0]["delta"] for c in chunks(chat(client, stream=True))]
    assert [d.get("role") for d in deltas[:3]] == ["assistant"] * 3


def test_before_0_3_16_tool_call_chunks_repeat_an_empty_name(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_profile("lmstudio-0.3.15")
    fake.chat.reply(tool_calls=[{"name": "f", "arguments": {"a": 1}}])
    deltas = [c["choices"][0]["delta"] for c in chunks(chat(client, stream=True))]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls[0]["function"]["name"] == "f"
    assert all(c["type"] == "function" and c["function"]["name"] == "" for c in calls[1:])


def test_before_0_3_18_include_usage_is_ignored(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_profile("lmstudio-0.3.15")
    streamed = chat(client, stream=True, stream_options={"include_usage": True})
    assert not any("usage" in c for c in chunks(streamed))
    refused = chat(client, response_format={"type": "json_object"})
    assert refused.json() == {"error": "'response_format.type' must be 'json_schema'"}


def test_before_0_3_31_an_unknown_model_is_a_404(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_profile("lmstudio-0.3.23")
    response = chat(client, model="gpt-4o")
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert message.startswith('Model "gpt-4o" not found. Please specify a valid model.')
    assert "\n\nYour models:\n\nqwen/qwen3-8b\n" in message


def test_0_3_5_has_no_rest_v0(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.set_profile("lmstudio-0.3.5")
    response = client.get("/api/v0/models")
    assert response.status_code == 200
    assert response.json() == {"error": "Unexpected endpoint or method. (GET /api/v0/models)"}
