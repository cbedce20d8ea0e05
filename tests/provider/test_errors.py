"""The error tree and the one status-to-class mapping."""

from __future__ import annotations

import json

import httpx
import pytest

from pytest_lmstudio import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ModelNotFoundError,
    NetworkError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServiceNotFoundError,
)
from pytest_lmstudio.provider._errors import (
    available_models_from,
    error_fields,
    error_for_status,
    error_for_transport,
    scrub,
    too_slow,
)

TOKEN = "sk-lm-abcdefgh:abcdefghijklmnopqrst"


def test_tree() -> None:
    assert issubclass(ProviderTimeoutError, NetworkError)
    assert issubclass(ModelNotFoundError, InvalidRequestError)
    assert issubclass(AuthenticationError, ApiError)
    assert issubclass(RateLimitError, ApiError)
    for cls in (ConfigurationError, InvalidRequestError, NetworkError, ApiError):
        assert issubclass(cls, ProviderError)
    assert issubclass(ServiceNotFoundError, ProviderError)


def status(code: int, payload: object, **kwargs: object) -> ProviderError:
    return error_for_status(code, payload, method="POST", path="/v1/chat/completions", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "payload", "cls"),
    [
        (400, {"error": "'messages' field is required"}, InvalidRequestError),
        (422, None, InvalidRequestError),
        (
            401,
            {"error": {"message": "token required", "code": "invalid_api_key"}},
            AuthenticationError,
        ),
        (403, None, AuthenticationError),
        (429, {"error": "slow down"}, RateLimitError),
        (404, None, ApiError),
        (500, {"error": {"message": "Engine protocol predict request returned 500"}}, ApiError),
        (502, None, ApiError),
        (503, None, ApiError),
        (504, None, ApiError),
        (200, {"error": "Unexpected endpoint or method. (POST /v1/v1/chat/completions)"}, ApiError),
        (200, {"error": {"message": "Input does not fit in context length."}}, ApiError),
    ],
)
def test_status_mapping(code: int, payload: object, cls: type[ProviderError]) -> None:
    error = status(code, payload)
    assert type(error) is cls
    assert error.status_code == code
    assert error.suggestion


def test_model_not_found_both_wordings() -> None:
    new = status(
        400,
        {
            "error": {
                "message": 'Invalid model identifier "o4-mini". Please specify a valid downloaded '
                "model (e.g., qwen/qwen3-8b, text-embedding-nomic-embed-text-v1.5).",
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found",
            }
        },
        model="o4-mini",
    )
    assert isinstance(new, ModelNotFoundError)
    assert new.model == "o4-mini"
    assert new.code == "model_not_found"
    assert new.available_models == ("qwen/qwen3-8b", "text-embedding-nomic-embed-text-v1.5")
    old = status(
        404,
        {
            "error": {
                "message": 'Model "default" not found. Please specify a valid model.\n\n'
                "Your models:\n\nm1\nm2",
                "code": "model_not_found",
            }
        },
    )
    assert isinstance(old, ModelNotFoundError)
    assert old.available_models == ("m1", "m2")
    none_loaded = status(400, {"error": "No models loaded. Please load a model."})
    assert isinstance(none_loaded, ModelNotFoundError)
    assert none_loaded.available_models == ()


def test_available_models_parsing_ignores_ellipsis() -> None:
    assert available_models_from("(e.g., a, b, ...)") == ("a", "b")
    assert available_models_from("nothing here") == ()


def test_rate_limit_carries_retry_after() -> None:
    error = status(429, None, retry_after=2.5)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 2.5


def test_catch_all_names_the_endpoint_and_says_what_to_fix() -> None:
    error = status(200, {"error": "Unexpected endpoint or method. (POST /v1/v1/chat/completions)"})
    assert "POST /v1/chat/completions" in str(error)
    assert "without /v1" in str(error)


def test_error_fields_both_shapes() -> None:
    assert error_fields({"error": "text"}) == ("text", None, None)
    assert error_fields({"error": {"message": "m", "code": "c", "param": "p"}}) == ("m", "c", "p")
    assert error_fields({"message": "top"}) == ("top", None, None)
    assert error_fields(["not", "a", "mapping"]) == (None, None, None)


def test_error_fields_of_the_v1_dialect() -> None:
    # /api/v1 names the kind in ``type``; it stands in for the code only when it says more.
    v1 = {"error": {"type": "model_not_found", "message": 'Model "x" not found.'}}
    assert error_fields(v1) == ('Model "x" not found.', "model_not_found", None)
    assert error_fields({"error": {"type": "job_not_found", "message": "m"}})[1] == "job_not_found"
    assert error_fields({"error": {"type": "invalid_request_error", "message": "m"}})[1] is None
    coded = {"error": {"type": "model_not_found", "code": "c", "message": "m"}}
    assert error_fields(coded)[1] == "c"


def test_messages_never_carry_the_token_nor_a_whole_body() -> None:
    long = "x" * 5000
    error = status(500, {"error": f"failed for Bearer {TOKEN} and {TOKEN} {long}"}, secret=TOKEN)
    text = str(error) + repr(error) + (error.server_message or "")
    assert TOKEN not in text
    assert "abcdefghijklmnopqrst" not in text
    assert len(error.server_message or "") <= 500


def test_custom_secret_is_redacted() -> None:
    error = status(401, {"error": "bad token my-proxy-secret-123"}, secret="my-proxy-secret-123")
    assert "my-proxy-secret-123" not in str(error)


@pytest.mark.parametrize(
    ("exc", "cls", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), NetworkError, "lms server start"),
        (httpx.ConnectTimeout("t"), ProviderTimeoutError, "connecting"),
        (httpx.ReadTimeout("t"), ProviderTimeoutError, "waiting for the answer"),
        (httpx.WriteTimeout("t"), ProviderTimeoutError, "sending"),
        (httpx.PoolTimeout("t"), ProviderTimeoutError, "free connection"),
        (httpx.RemoteProtocolError("Server disconnected"), NetworkError, "broke"),
        (httpx.ReadError("reset"), NetworkError, "broke"),
        (httpx.UnsupportedProtocol("x"), NetworkError, "UnsupportedProtocol"),
    ],
)
def test_transport_mapping(exc: httpx.HTTPError, cls: type[NetworkError], words: str) -> None:
    error = error_for_transport(exc, method="GET", path="/v1/models")
    assert type(error) is cls
    assert words in str(error)
    assert error.status_code is None


def test_configuration_error_names_source_and_key() -> None:
    error = ConfigurationError("bad", source="environment", key="LMSTUDIO_TIMEOUT")
    assert (error.source, error.key) == ("environment", "LMSTUDIO_TIMEOUT")
    assert "[environment, LMSTUDIO_TIMEOUT]" in str(error)


def test_errors_module_is_the_only_status_mapping() -> None:
    # STYLE 2: one function maps status codes to classes; no other module builds status errors.
    from pathlib import Path

    import pytest_lmstudio.provider as package

    root = Path(package.__file__).parent
    for source in root.glob("*.py"):
        if source.name == "_errors.py":
            continue
        text = source.read_text(encoding="utf-8")
        for name in ("AuthenticationError(", "RateLimitError(", "ModelNotFoundError("):
            assert name not in text, (source.name, name)


SECRET = "tok-0123456789abcdef0123456789abcdef"


def test_model_names_holding_the_secret_are_left_out() -> None:
    message = f"No model. Your models:\nqwen/qwen3-8b\n{SECRET}\nacme/{SECRET[:12]}\n{SECRET[5:]}"
    error = status(404, {"error": {"message": message, "code": "model_not_found"}}, secret=SECRET)
    assert isinstance(error, ModelNotFoundError)
    assert error.available_models == ("qwen/qwen3-8b",)


def test_error_code_is_redacted_and_cut() -> None:
    error = status(400, {"error": {"message": "no", "code": SECRET + "x" * 500}}, secret=SECRET)
    assert error.code is not None
    assert error.code.startswith("***x") and len(error.code) <= 100


def test_transport_messages_quoting_the_server_are_redacted() -> None:
    # h11 quotes a bad status line whole; httpcore and httpx chain and repeat it.
    quoted = f"illegal status line: bytearray(b'HTTP/1.1 2x0 {SECRET}')"
    try:
        try:
            raise ValueError(quoted)
        except ValueError as inner:
            raise httpx.RemoteProtocolError(quoted) from inner
    except httpx.RemoteProtocolError as exc:
        error = error_for_transport(exc, method="GET", path="/v1/models", secret=SECRET)
        cause: BaseException = exc
    assert SECRET[:8] not in str(error)
    assert "illegal status line" in str(error)
    assert SECRET[:8] not in str(cause) and SECRET[:8] not in str(cause.__cause__)


def test_scrub_empties_what_parse_errors_keep_of_the_body() -> None:
    body = f'{{"a": "{SECRET}" oops'
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        decode_error = exc
    try:
        (SECRET.encode() + b"\xff").decode("utf-8")
    except UnicodeDecodeError as exc:
        unicode_error = exc
    for exc in (decode_error, unicode_error):
        scrub(exc, SECRET)
        assert SECRET not in repr(vars(exc)) + repr(exc.args) + str(exc)
    assert decode_error.doc == "" and unicode_error.object == b""
    assert "line 1" in str(decode_error)  # where it broke is kept


def test_too_slow_names_the_phase() -> None:
    where = {"method": "POST", "path": "/v1/chat/completions", "seconds": 2.0}
    assert "no status and headers 2 s" in str(too_slow(phase="head", **where))
    assert "took longer than 2 s" in str(too_slow(phase="answer", **where))
    assert "no chunk for 2 s" in str(too_slow(phase="chunk", **where))
