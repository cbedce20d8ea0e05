"""The fake's own checks of incoming frames, over a raw websocket (httpx-ws, the SDK's own
websocket client): what it does not understand gets LM Studio's ``communicationWarning``
and, where LM Studio would leave the call hanging, an error; never a 5xx or a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import referencing.exceptions
from httpx_ws import WebSocketSession, WebSocketUpgradeError, connect_ws

from fake_server import FakeLMStudio
from fake_server.dialects.sdk import _session

from .frames import LMS_JSON, Frame, LmsSchema, fixed_refs

AUTH = {"authVersion": 1, "clientIdentifier": "guest:test", "clientPasskey": "secret"}
MODEL = "qwen/qwen3-8b"
QUERY = {"type": "query", "query": {"identifier": MODEL}}
TIMEOUT = 5.0


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT) as client:
        yield client


def _open(fake: FakeLMStudio, http: httpx.Client, namespace: str) -> Any:
    return connect_ws(f"{fake.url}/{namespace}", http)


def _authed(ws: WebSocketSession) -> None:
    ws.send_text("not an auth packet")  # LM Studio ignores it and keeps waiting
    ws.send_json({"type": "rpcCall", "endpoint": "listLoaded", "callId": 0})
    ws.send_json(AUTH)
    assert ws.receive_json(timeout=TIMEOUT) == {"success": True}


def _next(ws: WebSocketSession) -> dict[str, Any]:
    value: dict[str, Any] = ws.receive_json(timeout=TIMEOUT)
    return value


def test_malformed_frames_get_warnings_and_errors(fake: FakeLMStudio, http: httpx.Client) -> None:
    with _open(fake, http, "llm") as ws:
        _authed(ws)
        ws.send_text("{not json")
        assert _next(ws)["kind"] == "unknown"
        ws.send_bytes(b"\x00\x01")
        assert "binary" in _next(ws)["warning"]
        ws.send_json({"type": "keepAlive"})
        assert _next(ws) == {"type": "keepAliveAck"}
        ws.send_json({"type": "rpcCall", "endpoint": "listLoaded", "callId": "one"})
        assert "invalid rpcCall" in _next(ws)["warning"]
        ws.send_json({"type": "rpcCall", "endpoint": "searchModels", "callId": 0})
        warned = _next(ws)
        assert warned["kind"] == "rpcEndpointUnknown" and "searchModels" in warned["warning"]
        failed = _next(ws)
        assert failed["type"] == "rpcError" and failed["callId"] == 0
        ws.send_json({"type": "rpcCall", "endpoint": "tokenize", "callId": 1,
                      "parameter": {"specifier": QUERY}})  # fmt: skip
        warned = _next(ws)
        assert warned["kind"] == "rpcParameterTypeError"
        assert "- parameter.inputString: Required" in warned["warning"]
        assert _next(ws)["type"] == "rpcError"
        ws.send_json({"type": "channelCreate", "endpoint": "predict", "channelId": 1,
                      "creationParameter": {"modelSpecifier": QUERY, "history": {},
                                            "predictionConfigStack": {"layers": []}}})  # fmt: skip
        warned = _next(ws)
        assert warned["kind"] == "channelCreationParameterTypeError"
        assert "history.messages: Required" in warned["warning"]
        words = warned["warning"]
        error = {"title": words, "rootTitle": words}
        assert _next(ws) == {"type": "channelError", "channelId": 1, "error": error}
        ws.send_json({"type": "channelSend", "channelId": 9, "message": {"type": "cancel"}})
        assert _next(ws)["kind"] == "channelUnknown"
        ws.send_json({"type": "nonsense"})
        assert _next(ws)["kind"] == "unknown"
        # Still serving after all that:
        ws.send_json({"type": "rpcCall", "endpoint": "countTokens", "callId": 2,
                      "parameter": {"specifier": QUERY, "inputString": "Hi there"}})  # fmt: skip
        assert _next(ws) == {"type": "rpcResult", "callId": 2, "result": {"tokenCount": 2}}
    statuses = [r.status for r in fake.requests if r.api == "sdk"]
    assert statuses and all(s is not None and s < 500 for s in statuses)
    assert fake.errors == []


def test_results_without_a_value_have_no_result_key(fake: FakeLMStudio, http: httpx.Client) -> None:
    with _open(fake, http, "llm") as ws:
        _authed(ws)
        missing = {"type": "query", "query": {"identifier": "no-such-model"}}
        ws.send_json({"type": "rpcCall", "endpoint": "getModelInfo", "callId": 0,
                      "parameter": {"specifier": missing, "throwIfNotFound": False}})  # fmt: skip
        assert _next(ws) == {"type": "rpcResult", "callId": 0}
        ws.send_json({"type": "rpcCall", "endpoint": "getModelInfo", "callId": 1,
                      "parameter": {"specifier": missing, "throwIfNotFound": True}})  # fmt: skip
        error = _next(ws)["error"]
        assert error["displayData"]["code"] == "generic.noModelMatchingQuery"
        assert error["displayData"]["loadedModelsSample"] == [MODEL]


def test_unknown_namespace_and_plain_get(fake: FakeLMStudio, http: httpx.Client) -> None:
    with pytest.raises(WebSocketUpgradeError) as refused, _open(fake, http, "nowhere"):
        pass
    assert refused.value.response.status_code == 404
    plain = http.get(f"{fake.url}/llm")
    assert plain.status_code == 200 and "Unexpected endpoint" in plain.text


def test_namespaces_without_endpoints_fail_fast(fake: FakeLMStudio, http: httpx.Client) -> None:
    with _open(fake, http, "repository") as ws:
        _authed(ws)
        ws.send_json({"type": "rpcCall", "endpoint": "searchModels", "callId": 3,
                      "parameter": {"opts": {"searchTerm": "qwen"}}})  # fmt: skip
        assert _next(ws)["kind"] == "rpcEndpointUnknown"
        assert _next(ws)["type"] == "rpcError"


def test_auth_timeout(
    fake: FakeLMStudio, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_session, "AUTH_TIMEOUT_SECONDS", 0.1)
    with _open(fake, http, "system") as ws:
        assert _next(ws) == {"success": False, "error": "Authentication timed out"}


def test_a_client_warning_is_an_error_for_check(fake: FakeLMStudio, http: httpx.Client) -> None:
    with _open(fake, http, "llm") as ws:
        _authed(ws)
        ws.send_json({"type": "communicationWarning", "warning": "Received invalid result",
                      "kind": "rpcResultTypeError"})  # fmt: skip
        ws.send_json({"type": "keepAlive"})
        assert _next(ws) == {"type": "keepAliveAck"}
    assert any("rejected a message from the fake" in e for e in fake.errors)
    fake.reset()  # the teardown check passes


# -- the validator of the suite catches what it should ----------------------------------------
def test_the_ref_quirk_is_resolved() -> None:
    document = json.loads(Path(LMS_JSON).read_text(encoding="utf-8"))
    with pytest.raises(referencing.exceptions.Unresolvable, match="llm/rpc/tokenize"):
        jsonschema.Draft7Validator(
            {
                "$ref": "#/definitions/pseudo~1llm~1rpc~1tokenize",
                "definitions": document["definitions"],
            }
        ).validate({"parameter": {}})
    fixed = fixed_refs(document)
    nested = fixed["definitions"]["llmInstanceInfo"]["properties"]["modelKey"]["$ref"]
    assert nested == "#/definitions/embeddingModelInfo/properties/modelKey"
    returns = fixed["definitions"]["pseudo/llm/rpc/tokenize"]["properties"]["returns"]["$ref"]
    assert returns == "#/definitions/llm~1rpc~1tokenize~1returns"


def test_the_validator_rejects_bad_frames() -> None:
    schema = LmsSchema()
    auth = [Frame(1, "llm", True, json.dumps(AUTH)), Frame(1, "llm", False, '{"success":true}')]
    call = Frame(1, "llm", True, json.dumps({"type": "rpcCall", "endpoint": "countTokens",
             "callId": 0, "parameter": {"specifier": QUERY, "inputString": "x"}}))  # fmt: skip
    good = Frame(1, "llm", False, '{"type":"rpcResult","callId":0,"result":{"tokenCount":1}}')
    assert schema.check([*auth, call, good]) == 4
    for bad in (
        '{"type":"rpcResult","callId":0,"result":{"tokenCount":"1"}}',
        '{"type":"rpcResult","callId":0,"result":null}',
        '{"type":"rpcError","callId":0,"error":{"title":7}}',
    ):
        with pytest.raises(AssertionError, match="is invalid"):
            schema.check([*auth, call, Frame(1, "llm", False, bad)])
    parameter = {"specifier": QUERY, "inputString": "x", "more": 1}
    extra = json.dumps({"type": "rpcCall", "endpoint": "countTokens", "callId": 0,
                        "parameter": parameter})  # fmt: skip
    with pytest.raises(AssertionError, match="Additional properties"):
        schema.check([*auth, Frame(1, "llm", True, extra)])
    assert schema.check([*auth, Frame(1, "llm", True, extra)], strict_client=False) == 3
    raw = {"type": "channelCreate", "endpoint": "completeRawText", "channelId": 0,
           "creationParameter": {"rawPrompt": "Once"}}  # fmt: skip
    frames = [*auth, Frame(1, "llm", True, json.dumps(raw)),
              Frame(1, "llm", False, '{"type":"channelClose","channelId":0}')]  # fmt: skip
    with pytest.raises(AssertionError, match="completeRawText"):
        schema.check(frames)
    assert schema.check(frames, unlisted=["llm/completeRawText"]) == 3
