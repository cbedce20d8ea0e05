"""Everything the async and the sync provider share; only the transport differs between them.

``ProviderCore`` turns a method call into a ``Call`` (validated, encoded, with the parser of its
answer), decides about retries, makes the deadlines and the body decoder each exchange is held
to, and turns an answer (status, headers, body) into a value or an error. Each provider only
moves bytes: ``httpx.AsyncClient`` or ``httpx.Client``.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from ._answers import (
    parse_completion,
    parse_download,
    parse_embeddings,
    parse_loaded,
    parse_models,
    parse_native_models,
    parse_unloaded,
    parse_v1_models,
)
from ._body import ACCEPT_ENCODING, BodyDecoder
from ._config import LMStudioConfig
from ._deadline import Deadline
from ._defaults import DEFAULT_CONNECT_TIMEOUT_SECONDS
from ._errors import (
    ApiError,
    InvalidRequestError,
    NetworkError,
    Phase,
    ProviderError,
    ProviderTimeoutError,
    bad_answer,
    error_for_transport,
    scrub,
    too_large,
    too_slow,
)
from ._retry import RetryPolicy, parse_retry_after
from ._sse import ChatStreamParser, SSEDecoder
from ._types import (
    CompletionRequest,
    CompletionResponse,
    DownloadProgress,
    LoadedModel,
    ModelCapabilities,
    ModelInfo,
    StreamChunk,
)
from ._validation import check_model, validate_embedding_inputs, validate_request
from ._wire import (
    CHAT_PATH,
    DOWNLOAD_PATH,
    EMBEDDINGS_PATH,
    LOAD_PATH,
    MODELS_PATH,
    NATIVE_MODELS_PATH,
    UNLOAD_PATH,
    V1_MODELS_PATH,
    chat_body,
    checked,
    decode_json,
    download_status_path,
    dumps,
    embeddings_body,
    error_from_body,
)

__all__ = ["Call", "ProviderCore", "chunks_from_completion", "is_missing_route"]

T = TypeVar("T")

USER_AGENT = "pytest-lmstudio/0.1"
# Transport failures worth a retry when they happen before the answer's head is whole (or, for
# a stream, before its first chunk; a stream too slow to send one is a ProviderTimeoutError).
# TimeoutError is a deadline that cancelled the async client.
RETRYABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    ProviderTimeoutError,
    TimeoutError,
)

# load_model's options that are counts; the others are switches.
_POSITIVE_INT_OPTIONS = frozenset({"context_length", "eval_batch_size", "num_experts"})
_JSON_HEADERS = {"Content-Type": "application/json"}
_STREAM_HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream"}


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One HTTP exchange to make: what to send, and how to read the answer's JSON."""

    method: str
    path: str
    body: bytes | None
    parse: Callable[[Any], T]
    model: str | None = None
    headers: Mapping[str, str] | None = None
    # False for a request that must not be sent twice (a load would load a second instance).
    retry: bool = True


def is_missing_route(error: ProviderError) -> bool:
    """Whether ``error`` says the server has no such route (a 404, or LM Studio's catch-all)."""
    if not isinstance(error, ApiError):
        return False
    if error.status_code == 404:
        return True
    return (error.server_message or "").startswith("Unexpected endpoint or method")


def chunks_from_completion(response: CompletionResponse) -> list[StreamChunk]:
    """A whole answer as stream chunks, for a server that ignored ``stream: true``."""
    chunks = [
        StreamChunk(
            content=response.content,
            reasoning=response.reasoning or "",
            tool_calls=response.tool_calls,
            finish_reason=response.finish_reason,
            model=response.model,
            id=response.id,
        )
    ]
    if response.usage is not None:
        chunks.append(StreamChunk(usage=response.usage, model=response.model, id=response.id))
    return chunks


class ProviderCore:
    """Request building, answer parsing, retry decisions and error mapping, without I/O."""

    def __init__(self, config: LMStudioConfig, *, random: Callable[[], float]) -> None:
        self.config = config
        self.secret = config.api_token
        self.retry = RetryPolicy(max_retries=config.max_retries)
        self._random = random

    # --- transport settings ------------------------------------------------------------------

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient``.

        The transport's are ``transport_options``.
        """
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if self.config.api_token:
            headers["Authorization"] = f"Bearer {self.config.api_token}"
        timeout = self.config.timeout_seconds
        connect = min(
            self.config.connect_timeout_seconds or DEFAULT_CONNECT_TIMEOUT_SECONDS, timeout
        )
        return {
            "base_url": self.config.endpoint,
            "headers": headers,
            "timeout": httpx.Timeout(timeout, connect=connect),
            # No proxies or .netrc from the environment: a local server is called directly, and
            # credentials never come from anywhere but the config.
            "trust_env": False,
            "follow_redirects": False,
        }

    def transport_options(self, *, keepalive: bool = True) -> dict[str, Any]:
        """Keyword arguments for the provider's own transport (``DeadlineTransport``).

        ``keepalive=False`` closes each connection when its answer has been read, so that no
        connection outlives the request (and the event loop) that opened it.
        """
        return {
            "limits": httpx.Limits(max_keepalive_connections=None if keepalive else 0),
            # httpx would build a new SSL context (loading the CA bundle: ~15 ms) per client.
            "verify": shared_ssl_context(),
            "trust_env": False,
        }

    # --- calls -------------------------------------------------------------------------------

    def models_call(self) -> Call[tuple[ModelInfo, ...]]:
        return Call("GET", MODELS_PATH, None, parse_models)

    def native_models_call(self) -> Call[dict[str, ModelCapabilities]]:
        return Call("GET", NATIVE_MODELS_PATH, None, parse_native_models)

    def v1_models_call(self) -> Call[dict[str, ModelCapabilities]]:
        return Call("GET", V1_MODELS_PATH, None, parse_v1_models)

    def load_call(self, model: str, options: Mapping[str, object]) -> Call[LoadedModel]:
        """``POST /api/v1/models/load``; ``options`` left None are not sent (the body is
        closed: LM Studio refuses any key it does not know)."""
        model = check_model(model)
        body: dict[str, object] = {"model": model}
        for name, value in options.items():
            if value is None:
                continue
            if name in _POSITIVE_INT_OPTIONS and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise InvalidRequestError(
                    f"{name} must be a positive integer, got {value!r}", field=name
                )
            if name not in _POSITIVE_INT_OPTIONS and not isinstance(value, bool):
                raise InvalidRequestError(
                    f"{name} must be True or False, got {value!r}", field=name
                )
            body[name] = value
        return Call(
            "POST",
            LOAD_PATH,
            dumps(body),
            parse_loaded,
            model=model,
            headers=_JSON_HEADERS,
            retry=False,
        )

    def unload_call(self, instance_id: str) -> Call[None]:
        instance_id = check_model(instance_id, "instance_id")
        return Call(
            "POST",
            UNLOAD_PATH,
            dumps({"instance_id": instance_id}),
            parse_unloaded,
            model=instance_id,
            headers=_JSON_HEADERS,
        )

    def download_call(self, model: str) -> Call[DownloadProgress | None]:
        model = check_model(model)
        return Call(
            "POST",
            DOWNLOAD_PATH,
            dumps({"model": model}),
            parse_download,
            model=model,
            headers=_JSON_HEADERS,
        )

    def download_status_call(self, job_id: str) -> Call[DownloadProgress | None]:
        return Call("GET", download_status_path(job_id), None, parse_download)

    def chat_call(
        self, request: CompletionRequest, *, stream: bool = False
    ) -> Call[CompletionResponse]:
        validate_request(request)
        return Call(
            "POST",
            CHAT_PATH,
            chat_body(request, stream=stream),
            parse_completion,
            model=request.model,
            headers=_STREAM_HEADERS if stream else _JSON_HEADERS,
        )

    def embed_call(self, model: str, inputs: str | Sequence[str]) -> Call[list[list[float]]]:
        items = validate_embedding_inputs(model, inputs)
        count = len(items)
        return Call(
            "POST",
            EMBEDDINGS_PATH,
            embeddings_body(model, items),
            lambda value: parse_embeddings(value, count),
            model=model,
            headers=_JSON_HEADERS,
        )

    def check_model(self, model: object) -> str:
        return check_model(model)

    # --- answers -----------------------------------------------------------------------------

    def result(self, call: Call[T], status: int, body: bytes) -> T:
        """The value of a finished exchange, or the error it stands for."""
        if status >= 300:
            raise self.status_error(call, status, body, {})
        value = decode_json(
            body,
            method=call.method,
            path=call.path,
            status=status,
            secret=self.secret,
            model=call.model,
        )
        result: T = checked(call.parse, value, method=call.method, path=call.path)
        return result

    def status_error(
        self, call: Call[Any], status: int, body: bytes, headers: Mapping[str, str]
    ) -> ProviderError:
        return error_from_body(
            status,
            body,
            method=call.method,
            path=call.path,
            retry_after=parse_retry_after(headers, time.time()),
            model=call.model,
            secret=self.secret,
        )

    def transport_error(
        self, call: Call[Any], exc: httpx.HTTPError | TimeoutError, phase: Phase
    ) -> NetworkError:
        """The error for a failure of the transport during ``phase``.

        A read that timed out, or a cancelled wait (``TimeoutError``), is the phase's deadline:
        every read under it waits at most the time left. A connect, write or pool timeout keeps
        httpx's more precise words.
        """
        if isinstance(exc, (TimeoutError, httpx.ReadTimeout)):
            scrub(exc, self.secret)
            return self.too_slow(call, phase)
        return error_for_transport(exc, method=call.method, path=call.path, secret=self.secret)

    def check_length(self, call: Call[Any], headers: Mapping[str, str]) -> None:
        declared = headers.get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.config.max_response_bytes
        ):
            raise too_large(
                method=call.method, path=call.path, limit=self.config.max_response_bytes
            )

    def body_decoder(
        self, call: Call[Any], headers: Mapping[str, str], *, stream: bool = False
    ) -> BodyDecoder:
        """The decoder of one answer's body (for a stream: of all of it), which holds it to
        ``max_response_bytes`` after decompression."""
        limit = self.config.max_response_bytes
        return BodyDecoder(
            limit,
            headers.get("content-encoding", ""),
            too_large=lambda: too_large(
                method=call.method, path=call.path, limit=limit, stream=stream
            ),
            bad=lambda detail: bad_answer(
                detail, method=call.method, path=call.path, secret=self.secret
            ),
        )

    def deadline(self) -> Deadline:
        """A deadline ``timeout_seconds`` from now (on ``time.monotonic``, never on the injected
        clock, which ages the model cache and times ``download_model``)."""
        return Deadline(self.config.timeout_seconds)

    def too_slow(self, call: Call[Any], phase: Phase) -> ProviderTimeoutError:
        return too_slow(
            method=call.method, path=call.path, seconds=self.config.timeout_seconds, phase=phase
        )

    # --- retries -----------------------------------------------------------------------------

    def status_retry_delay(
        self, attempt: int, status: int, headers: Mapping[str, str]
    ) -> float | None:
        """Seconds to wait before retrying this answer, or None: do not retry."""
        if attempt >= self.retry.max_retries or not self.retry.retries_status(status):
            return None
        return self.retry.delay(attempt, parse_retry_after(headers, time.time()), self._random())

    def transport_retry_delay(self, attempt: int, exc: BaseException | None) -> float | None:
        """Seconds to wait before retrying after a failure before the first byte (for a
        stream: before its first chunk), or None."""
        if attempt >= self.retry.max_retries or not isinstance(exc, RETRYABLE_TRANSPORT_ERRORS):
            return None
        return self.retry.delay(attempt, None, self._random())

    # --- streams -----------------------------------------------------------------------------

    def stream_parser(self, call: Call[Any]) -> tuple[SSEDecoder, ChatStreamParser]:
        return (
            SSEDecoder(self.config.max_response_bytes),
            ChatStreamParser(method=call.method, path=call.path, secret=self.secret),
        )

    def stream_fallback(
        self, call: Call[CompletionResponse], status: int, body: bytes
    ) -> list[StreamChunk]:
        """Chunks for a stream request answered with plain JSON (an error, or a whole answer)."""
        return chunks_from_completion(self.result(call, status, body))

    def bad_stream(self, call: Call[Any], exc: ValueError) -> ApiError:
        # The SSE decoder's complaints are its own words (an event's size), never the bytes.
        return ApiError(
            f"Unusable stream in answer to {call.method} {call.path}: {exc}", status_code=200
        )


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def shared_ssl_context() -> ssl.SSLContext:
    """One default-verifying SSL context for the process, made on first use."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = ssl.create_default_context()
        return _ssl_context
