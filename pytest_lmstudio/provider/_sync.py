# Generated from _client.py by scripts/unasync.py: do not edit. Edit _client.py, then run
# `make unasync` (`make test` fails while this file differs from what the script writes).
"""``SyncLMStudioProvider``: the blocking client, on ``httpx.Client``.

The same methods, parameters and behaviour as ``LMStudioProvider``, with threads for tasks:
``_client.py`` with each async token renamed by ``scripts/unasync.py``. Everything that is not
I/O (request building, parsing, validation, cache policy, error mapping) is shared with it
through ``ProviderCore`` and ``CacheSlot``.
"""

from __future__ import annotations

import logging
import random as _random
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._answers import download_result, fallback_capabilities
from ._cache import CacheSlot, Missing
from ._config import LMStudioConfig
from ._core import Call, ProviderCore, is_missing_route
from ._deadline import Deadline, DeadlineScope, DeadlineTransport
from ._defaults import DEFAULT_DOWNLOAD_POLL_SECONDS, DEFAULT_DOWNLOAD_TIMEOUT_SECONDS
from ._errors import (
    ConfigurationError,
    DownloadError,
    ProviderError,
)
from ._sync_stream import SyncChunkStream, abandon
from ._types import (
    CompletionRequest,
    CompletionResponse,
    DownloadProgress,
    DownloadResult,
    LoadedModel,
    ModelCapabilities,
    ModelInfo,
)

__all__ = ["SyncChunkStream", "SyncLMStudioProvider"]

T = TypeVar("T")
logger = logging.getLogger("pytest_lmstudio")


class _Borrowed(httpx.BaseTransport):
    """A transport the provider uses but does not own: closing the provider leaves it open."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)

    def close(self) -> None:
        pass


class SyncLMStudioProvider:
    """An LM Studio client (``with SyncLMStudioProvider() as provider: ...``).

    Safe to share between concurrent callers. ``config`` defaults to ``LMStudioConfig.load()``
    (environment, config file, defaults). ``sleep``, ``random`` and ``clock`` replace
    ``time.sleep``, ``random.random`` and ``time.monotonic`` (retry waits, their jitter, the
    model cache's age, and ``download_model``'s polls and timeout), so that tests need not
    wait. ``keepalive=False`` closes every connection once its answer is read: slower, but then
    no connection outlives its request,
    and ``close_idle()`` is enough to release the provider. ``transport`` sends the requests
    through an ``httpx.BaseTransport`` of the caller's (a connection pool shared by several
    providers, or a mock); the provider never closes it, and ``keepalive`` is then the
    transport's business.

    Deadlines, each ``timeout_seconds`` long, that no trickle of bytes extends: the response head
    (from sending the request to having its status and headers, any ``100 Continue`` included);
    a whole answer (from sending the request to its last byte); each chunk of a stream (from the
    caller asking for it, or for the first, from the head, to having it: keep-alives and empty
    deltas do not count); the drain after ``[DONE]``. ``max_response_bytes`` bounds an answer, and
    a whole stream, after decompression.
    """

    def __init__(
        self,
        config: LMStudioConfig | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
        keepalive: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config if config is not None else LMStudioConfig.load()
        self._core = ProviderCore(self.config, random=random or _random.random)
        # Whether connections of the provider's own may stay open between requests.
        self._holds_connections = keepalive and transport is None
        options = self._core.client_options()
        if transport is not None:
            options["transport"] = _Borrowed(transport)
        else:
            options["transport"] = DeadlineTransport(
                **self._core.transport_options(keepalive=keepalive)
            )
        self._http = httpx.Client(**options)
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        ttl = self.config.cache_ttl_seconds
        self._models: CacheSlot[tuple[ModelInfo, ...]] = CacheSlot(ttl, clock or time.monotonic)
        self._native: CacheSlot[dict[str, ModelCapabilities] | None] = CacheSlot(
            ttl, clock or time.monotonic
        )
        self._models_lock = threading.Lock()
        self._native_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SyncLMStudioProvider(endpoint={self.config.endpoint!r})"

    def __enter__(self) -> SyncLMStudioProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool; closing twice is harmless."""
        self._http.close()

    def close_idle(self) -> None:
        """Release a provider that holds no connection of its own, without closing anything.

        That is one made with ``keepalive=False``, which keeps no connection between requests,
        or with a ``transport``, whose connections are its owner's to close; no event loop is
        needed then. Any other provider needs ``close()``.
        """
        if self._holds_connections:
            raise RuntimeError(
                "close_idle() needs keepalive=False or a transport; use `provider.close()`"
            )

    # --- models ------------------------------------------------------------------------------

    def list_models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """The models ``GET /v1/models`` lists (cached for ``cache_ttl_minutes``)."""
        return list(self._model_list(force=refresh))

    def supports_model(self, model: str) -> bool:
        """Whether the server lists ``model``; a miss refreshes the list (at most every 5 s).

        Errors asking the server (unreachable, 401 ...) are raised, not answered with False.
        """
        model = self._core.check_model(model)
        models = self._model_list()
        if any(info.id == model for info in models):
            return True
        if not self._models.may_refresh_on_miss():
            return False
        models = self._model_list(force=True)
        return any(info.id == model for info in models)

    def model_capabilities(self, model: str) -> ModelCapabilities | None:
        """What ``model`` can do (None for a model the server does not know).

        From ``/api/v1/models`` (LM Studio 0.4 and later: loaded instances, their context
        length, reasoning, vision, tool use), else ``/api/v0/models``; from ``/v1/models`` with
        the defaults ``ModelCapabilities`` documents when the server has no native API.
        """
        model = self._core.check_model(model)
        native = self._native_table()
        if native is not None and model not in native and self._native.may_refresh_on_miss():
            native = self._native_table(force=True)
        if native is None:
            return fallback_capabilities(model) if self.supports_model(model) else None
        return native.get(model)

    def _model_list(self, *, force: bool = False) -> tuple[ModelInfo, ...]:
        call = self._core.models_call()
        return self._cached(self._models, self._models_lock, lambda: self._execute(call), force)

    def _native_table(self, *, force: bool = False) -> dict[str, ModelCapabilities] | None:
        calls = (self._core.v1_models_call(), self._core.native_models_call())

        def fetch() -> dict[str, ModelCapabilities] | None:
            for call in calls:  # /api/v1 (LM Studio 0.4+), then /api/v0
                try:
                    return self._execute(call)
                except ProviderError as error:
                    if not is_missing_route(error):
                        raise
            return None  # no native API here: fall back to /v1/models

        return self._cached(self._native, self._native_lock, fetch, force)

    def _cached(
        self,
        slot: CacheSlot[T],
        lock: threading.Lock,
        fetch: Callable[[], T],
        force: bool,
    ) -> T:
        value = slot.lookup(force=force)
        if not isinstance(value, Missing):
            return value
        seen = slot.generation
        with lock:
            value = slot.after_wait(seen, force=force)
            if not isinstance(value, Missing):
                return value
            try:
                fetched = fetch()
            except ProviderError as error:
                slot.fail(error)
                raise
            return slot.store(fetched)

    # --- model management (/api/v1, LM Studio 0.4 and later) ----------------------------------

    def load_model(
        self,
        model: str,
        *,
        context_length: int | None = None,
        eval_batch_size: int | None = None,
        flash_attention: bool | None = None,
        num_experts: int | None = None,
        offload_kv_cache_to_gpu: bool | None = None,
        echo_load_config: bool = False,
    ) -> LoadedModel:
        """Load ``model`` (``POST /api/v1/models/load``) and return the instance once loaded.

        The options left None keep LM Studio's defaults; ``echo_load_config=True`` asks for
        the settings that applied (``LoadedModel.load_config``). A model already loaded gets a
        second instance (``key:2``). The load must finish within ``timeout_seconds``, and is
        never retried (a retry would load another instance). An unknown model raises
        ``ModelNotFoundError``::

            loaded = provider.load_model("qwen/qwen3-8b", context_length=8192)
            provider.unload_model(loaded.instance_id)
        """
        call = self._core.load_call(
            model,
            {
                "context_length": context_length,
                "eval_batch_size": eval_batch_size,
                "flash_attention": flash_attention,
                "num_experts": num_experts,
                "offload_kv_cache_to_gpu": offload_kv_cache_to_gpu,
                "echo_load_config": echo_load_config or None,
            },
        )
        return self._execute(call)

    def unload_model(self, instance_id: str) -> None:
        """Unload one instance (``POST /api/v1/models/unload``): ``LoadedModel.instance_id``,
        or a model's key for its first instance. An unknown instance raises
        ``ModelNotFoundError``."""
        self._execute(self._core.unload_call(instance_id))

    def download_model(
        self,
        model: str,
        *,
        on_progress: Callable[[DownloadProgress], object] | None = None,
        poll_interval: float = DEFAULT_DOWNLOAD_POLL_SECONDS,
        timeout_seconds: float = DEFAULT_DOWNLOAD_TIMEOUT_SECONDS,
    ) -> DownloadResult:
        """Download ``model`` (``POST /api/v1/models/download``) and wait until it is done.

        The job is polled (``GET /api/v1/models/download/status/{job_id}``) every
        ``poll_interval`` seconds, and ``on_progress`` called with each state, the last one
        included. A model already downloaded returns at once (``result.already_downloaded``).
        A job that fails raises ``DownloadError``, and so does one still running after
        ``timeout_seconds`` (the job goes on in LM Studio). An unknown model raises
        ``ModelNotFoundError``::

            result = provider.download_model(
                "ibm/granite-4-micro", on_progress=lambda p: print(p.fraction)
            )
        """
        if not poll_interval > 0 or not timeout_seconds > 0:
            raise ConfigurationError(
                "download_model: poll_interval and timeout_seconds must be positive, got "
                f"{poll_interval!r} and {timeout_seconds!r}"
            )
        started = self._clock()
        progress = self._execute(self._core.download_call(model))
        while progress is not None:
            if on_progress is not None:
                on_progress(progress)
            if progress.status == "completed":
                break
            if progress.status == "failed":
                raise DownloadError(
                    f"Downloading {model!r} failed (job {progress.job_id})",
                    job_id=progress.job_id,
                    status=progress.status,
                )
            if self._clock() - started + poll_interval > timeout_seconds:
                raise DownloadError(
                    f"Downloading {model!r} did not finish within {timeout_seconds:g} s "
                    f"(job {progress.job_id}, {progress.status}); it goes on in LM Studio",
                    job_id=progress.job_id,
                    status=progress.status,
                )
            self._sleep(poll_interval)
            progress = self._execute(self._core.download_status_call(progress.job_id))
        return download_result(model, progress)

    # --- inference ---------------------------------------------------------------------------

    def complete(self, request: CompletionRequest) -> CompletionResponse:
        """A whole chat completion (``POST /v1/chat/completions``)."""
        return self._execute(self._core.chat_call(request))

    def stream(self, request: CompletionRequest) -> SyncChunkStream:
        """A streamed chat completion: ``for chunk in provider.stream(request)``.

        ``with provider.stream(request) as chunks`` also closes the connection when a
        caller stops early. The request is validated here, and sent at the first iteration.
        """
        return SyncChunkStream(self, self._core.chat_call(request, stream=True))

    def embed(self, model: str, inputs: str | Sequence[str]) -> list[list[float]]:
        """One embedding vector per input (``POST /v1/embeddings``), in input order."""
        return self._execute(self._core.embed_call(model, inputs))

    # --- transport ---------------------------------------------------------------------------

    def _execute(self, call: Call[T]) -> T:
        response, _, deadline = self._send(call)
        try:
            body = self._read(call, response, deadline)
        finally:
            response.close()
        return self._core.result(call, response.status_code, body)

    def _send(self, call: Call[Any], attempt: int = 0) -> tuple[httpx.Response, int, Deadline]:
        """The answer's head (body unread), after retrying transient failures; the attempt
        number, and the deadline of that attempt's head (its body's too: a whole answer must
        arrive within the timeout of its request)."""
        while True:
            request = self._http.build_request(
                call.method, call.path, content=call.body, headers=call.headers
            )
            deadline = self._core.deadline()
            try:
                with DeadlineScope(deadline):
                    response = self._http.send(request, stream=True)
            except (httpx.HTTPError, TimeoutError) as exc:
                error = self._core.transport_error(call, exc, "head")
                delay = self._core.transport_retry_delay(attempt, exc) if call.retry else None
                if delay is None:
                    raise error from exc
                logger.info("%s; retry in %.2fs", error.message, delay)
            else:
                status = response.status_code
                delay = (
                    self._core.status_retry_delay(attempt, status, response.headers)
                    if status >= 400 and call.retry
                    else None
                )
                if delay is None:
                    return response, attempt, deadline
                response.close()
                logger.info("%s %s got %d; retry in %.2fs", call.method, call.path, status, delay)
            self._sleep(delay)
            attempt += 1

    def _read(self, call: Call[Any], response: httpx.Response, deadline: Deadline) -> bytes:
        """The whole body, decompressed, up to ``max_response_bytes`` and by ``deadline``; an
        error answer's body too."""
        self._core.check_length(call, response.headers)
        decoder = self._core.body_decoder(call, response.headers)
        parts: list[bytes] = []
        raw = response.iter_raw()
        try:
            with DeadlineScope(deadline):
                for part in raw:
                    if deadline.expired():  # for a transport of the caller's, which reads on
                        raise self._core.too_slow(call, "answer")
                    parts += decoder.feed(part)
                parts += decoder.flush()
        except ProviderError:
            abandon(response, raw)
            raise
        except (httpx.HTTPError, TimeoutError) as exc:
            abandon(response, raw)
            raise self._core.transport_error(call, exc, "answer") from exc
        body = b"".join(parts)
        if response.status_code >= 300:
            raise self._core.status_error(call, response.status_code, body, response.headers)
        return body
