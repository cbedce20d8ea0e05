"""Every error the provider raises, and the one place where answers and failures become errors.

    ProviderError                  root: catch this to catch everything the provider raises
    ├── ConfigurationError         a bad setting (argument, environment or file), before any I/O
    ├── InvalidRequestError        refused by validation before sending, or a 4xx "bad request"
    │   └── ModelNotFoundError     the server does not know (or has not loaded) the model
    ├── NetworkError               no usable HTTP exchange: refused, reset, DNS, protocol error
    │   └── ProviderTimeoutError   connect, write or pool timeout; no response head, no whole
    │                              answer, or no next stream chunk within timeout_seconds
    ├── ApiError                   the server answered, but not with a usable answer: 5xx, a body
    │   │                          that is not JSON (or nested too deep to read) or breaks the
    │   │                          format, an answer or stream over max_response_bytes, the
    │   │                          "Unexpected endpoint" catch-all, an SSE ``event: error`` frame
    │   ├── AuthenticationError    401 / 403: missing or wrong API token
    │   ├── RateLimitError         429, with ``retry_after`` in seconds when the server said
    │   └── DownloadError          a download job that failed, or did not finish in time
    └── ServiceNotFoundError       ``discover()`` found no LM Studio

Each error carries ``status_code`` (None before any answer), ``server_message`` (LM Studio's own
words, cut to a few hundred characters, never a whole body), ``code`` (LM Studio's error code,
e.g. ``model_not_found``; for ``/api/v1``, whose errors name a ``type`` and often no code, its
``type``) and ``suggestion`` (what to do next). The API token never appears in
any of them, even when the server echoes it (whole or cut): every text from the server is passed
through ``redact`` on the way in, before it is cut, and ``scrub`` takes it out of the low-level
exceptions an error is chained to.

``error_for_status`` is the only function that maps a status code to a class;
``error_for_transport`` the only one that translates httpx's exceptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import httpx

from ._defaults import MAX_ERROR_CODE_CHARS, MAX_ERROR_MESSAGE_CHARS
from ._security import clip, redact

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "DownloadError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "NetworkError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ServiceNotFoundError",
    "error_for_status",
    "error_for_transport",
    "scrub",
]

SUGGEST_START_SERVER = (
    "Is LM Studio's server running? Start it with `lms server start` (or the Developer tab in "
    "the app), and check that the endpoint's host and port match (LMSTUDIO_ENDPOINT)."
)
SUGGEST_TIMEOUT = (
    "The server did not answer in time. A model loading on first use (JIT) can take tens of "
    "seconds: load it beforehand with `lms load <model>`, or raise LMSTUDIO_TIMEOUT."
)
SUGGEST_FIX_REQUEST = "Fix the request: the message names the field LM Studio refused."
SUGGEST_MODEL = (
    "Use one of the models the server lists (`lms ls`, or list_models()), download it with "
    "`lms get <model>`, or load it with `lms load <model>`."
)
SUGGEST_AUTH = (
    "The server requires an API token: create one in LM Studio (Developer > Server Settings > "
    "Manage Tokens) and set LMSTUDIO_API_TOKEN, or pass LMStudioConfig(api_token=...)."
)
SUGGEST_DOWNLOAD = (
    "Check LM Studio's Downloads panel (or `lms get <model>`) for why the download stopped, "
    "then try again; a slow download may need a larger timeout_seconds."
)
SUGGEST_RATE_LIMIT = "The server is busy: wait for retry_after seconds and try again."
SUGGEST_SERVER_ERROR = (
    "LM Studio failed while answering. Check its server log (Developer tab, or `lms log stream`) "
    "and try again; reloading the model often helps."
)
SUGGEST_BAD_ANSWER = (
    "The answer does not look like LM Studio's. Check that the endpoint points at LM Studio "
    "(not another service on that port) and that LM Studio is up to date."
)
SUGGEST_WRONG_ENDPOINT = (
    "The endpoint must be the server's root, e.g. http://localhost:1234, without /v1 or "
    "another path: LM Studio answers unknown paths with 200 and this error."
)
SUGGEST_NOT_FOUND = (
    "The server has no such route: check that the endpoint points at LM Studio, at its root."
)
SUGGEST_CONFIG = "Fix the value named above; LMStudioConfig's docstring lists every setting."
SUGGEST_DISCOVERY = (
    "Start LM Studio's server (`lms server start`), or set LMSTUDIO_ENDPOINT to where it listens."
)
SUGGEST_TOO_LARGE = (
    "The answer is larger than max_response_bytes allows; raise it if the answer is legitimate."
)

_UNEXPECTED_ENDPOINT = "Unexpected endpoint or method"
# The error ``type`` values of LM Studio's native REST API v1 that say more than a status does.
V1_ERROR_TYPES = frozenset({"model_not_found", "job_not_found", "not_implemented"})


class ProviderError(Exception):
    """Root of every error the provider raises."""

    default_suggestion = SUGGEST_SERVER_ERROR

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        server_message: str | None = None,
        code: str | None = None,
        suggestion: str | None = None,
        secret: str | None = None,
    ) -> None:
        self.message = redact(message, secret)
        self.status_code = status_code
        self.server_message = (
            None
            if server_message is None
            else clip(server_message.strip(), MAX_ERROR_MESSAGE_CHARS, secret).strip()
        )
        self.code = None if code is None else clip(code, MAX_ERROR_CODE_CHARS, secret)
        self.suggestion = suggestion if suggestion is not None else self.default_suggestion
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.status_code is not None:
            text += f" (HTTP {self.status_code})"
        if self.server_message and self.server_message not in self.message:
            text += f": {self.server_message}"
        if not self.suggestion:
            return text
        return f"{text} {self.suggestion}" if text.endswith(".") else f"{text}. {self.suggestion}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its attributes, not through __init__: the subclasses take other
        # arguments, and the message is already rendered (and redacted).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[ProviderError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Unpickle a ``ProviderError``: its rendered message and its attributes, as they were."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(ProviderError, ValueError):
    """A setting is invalid; ``source`` and ``key`` say where it came from."""

    default_suggestion = SUGGEST_CONFIG

    def __init__(self, message: str, *, source: str = "argument", key: str | None = None) -> None:
        self.source = source
        self.key = key
        where = f"{source}, {key}" if key else source
        super().__init__(f"[{where}] {message}")


class InvalidRequestError(ProviderError, ValueError):
    """The request is invalid: refused before sending (``field`` names it) or by the server."""

    default_suggestion = SUGGEST_FIX_REQUEST

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        self.field = field
        super().__init__(message, **kwargs)


class ModelNotFoundError(InvalidRequestError):
    """The server does not know the model, or none is loaded; ``available_models`` as it named
    them (a name that holds the API token, or a piece of it, is left out)."""

    default_suggestion = SUGGEST_MODEL

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        available_models: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        secret = kwargs.get("secret")
        self.model = model
        self.available_models = tuple(
            name for name in available_models if redact(name, secret) == name
        )
        super().__init__(message, field="model", **kwargs)


class NetworkError(ProviderError):
    """No usable HTTP exchange happened: connection refused or reset, DNS, protocol error."""

    default_suggestion = SUGGEST_START_SERVER


class ProviderTimeoutError(NetworkError):
    """Connecting, sending or waiting for the answer took longer than the configured timeout."""

    default_suggestion = SUGGEST_TIMEOUT


class ApiError(ProviderError):
    """The server answered, but not with a usable answer."""


class AuthenticationError(ApiError):
    """The server wants an API token, or refused the one sent."""

    default_suggestion = SUGGEST_AUTH


class RateLimitError(ApiError):
    """HTTP 429; ``retry_after`` is the wait in seconds the server asked for, if any."""

    default_suggestion = SUGGEST_RATE_LIMIT

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class DownloadError(ApiError):
    """A download job ended ``failed``, or did not finish within its timeout; ``job_id`` and
    ``status`` are its last known state."""

    default_suggestion = SUGGEST_DOWNLOAD

    def __init__(
        self, message: str, *, job_id: str | None = None, status: str | None = None, **kwargs: Any
    ) -> None:
        self.job_id = job_id
        self.status = status
        super().__init__(message, **kwargs)


class ServiceNotFoundError(ProviderError):
    """Discovery found no LM Studio; ``tried`` lists every place it looked, and why it failed."""

    default_suggestion = SUGGEST_DISCOVERY

    def __init__(self, message: str, *, tried: Iterable[str] = ()) -> None:
        self.tried = tuple(tried)
        super().__init__(message)


def error_fields(payload: object) -> tuple[str | None, str | None, str | None]:
    """(message, code, param) from an error body in either of LM Studio's two shapes.

    ``{"error": "text"}`` (most validation errors, the catch-all) or
    ``{"error": {"message", "type", "param", "code"}}`` (OpenAI style, and ``/api/v1``'s, whose
    ``type`` stands in for a missing code when it is one of ``V1_ERROR_TYPES``); the SSE error
    frame also repeats the message at the top level.
    """
    if not isinstance(payload, Mapping):
        return None, None, None
    error = payload.get("error")
    if isinstance(error, str):
        return error, None, None
    if isinstance(error, Mapping):
        message = error.get("message")
        code = error.get("code")
        if code is None and error.get("type") in V1_ERROR_TYPES:
            code = error.get("type")  # /api/v1 names the kind in ``type``, often without a code
        param = error.get("param")
        return (
            message if isinstance(message, str) else None,
            code if isinstance(code, str) else None,
            param if isinstance(param, str) else None,
        )
    message = payload.get("message")
    return (message if isinstance(message, str) else None), None, None


_EXAMPLES = re.compile(r"\(e\.g\.,?\s*(?P<names>[^)]*)\)")
_YOUR_MODELS = re.compile(r"Your models:\s*(?P<names>.*)\Z", re.DOTALL)


def available_models_from(message: str) -> tuple[str, ...]:
    """The model ids LM Studio lists in its "model not found" messages (both known wordings)."""
    match = _EXAMPLES.search(message)
    if match:
        names = [name.strip() for name in match["names"].split(",")]
    else:
        match = _YOUR_MODELS.search(message)
        names = [line.strip() for line in match["names"].splitlines()] if match else []
    return tuple(name for name in names if name and name not in {"...", "…"})


def _is_model_missing(status: int, message: str | None, code: str | None) -> bool:
    if code == "model_not_found":
        return True
    if message is None or status not in (400, 404):
        return False
    lowered = message.lower()
    return lowered.startswith("no models loaded") or "invalid model identifier" in lowered


def error_for_status(
    status: int,
    payload: object,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
    model: str | None = None,
    secret: str | None = None,
) -> ProviderError:
    """The error for an answer with this status and this (parsed JSON) error body.

    The one mapping from status codes to classes. A 2xx status reaches it only when the body is
    an error: LM Studio's catch-all for unknown routes (200 + "Unexpected endpoint or method"),
    or an error inside a stream.
    """
    message, code, _param = error_fields(payload)
    where = f"{method} {path}"
    common: dict[str, Any] = {
        "status_code": status,
        "server_message": message,
        "code": code,
        "secret": secret,
    }
    if message is not None and message.startswith(_UNEXPECTED_ENDPOINT):
        return ApiError(
            f"LM Studio does not serve {where}: the endpoint is probably misconfigured",
            suggestion=SUGGEST_WRONG_ENDPOINT,
            **common,
        )
    if _is_model_missing(status, message, code):
        return ModelNotFoundError(
            f"Model {model!r} is not available" if model else "The model is not available",
            model=model,
            available_models=available_models_from(message or ""),
            **common,
        )
    if status in (401, 403):
        return AuthenticationError(f"{where} was refused: not authorised", **common)
    if status == 429:
        return RateLimitError(f"{where} was rate limited", retry_after=retry_after, **common)
    if status == 404:
        return ApiError(f"{where} was not found", suggestion=SUGGEST_NOT_FOUND, **common)
    if status in (400, 413, 422):
        return InvalidRequestError(f"{where} was refused as invalid", **common)
    if status >= 500:
        return ApiError(f"{where} failed on the server", **common)
    return ApiError(f"{where} answered with an error", **common)


def error_for_transport(
    exc: httpx.HTTPError, *, method: str, path: str, secret: str | None = None
) -> NetworkError:
    """The error for a failure below HTTP: httpx's exceptions, translated in this one place.

    Their messages may quote what the server sent (h11 quotes a bad status line whole), so
    ``exc`` and what it is chained to are scrubbed, and the message is redacted.
    """
    scrub(exc, secret)
    where = f"{method} {path}"
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "waiting")
        return ProviderTimeoutError(f"{where} timed out {phase}")
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"Cannot connect for {where} ({_reason(exc)})", secret=secret)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return NetworkError(
            f"The connection broke during {where} ({_reason(exc)})",
            suggestion=SUGGEST_START_SERVER,
            secret=secret,
        )
    return NetworkError(f"{where} failed: {type(exc).__name__} ({_reason(exc)})", secret=secret)


def _reason(exc: BaseException) -> str:
    # httpx's messages name the OS error ("[Errno 111] Connection refused"), or h11's complaint
    # about the server's bytes, which may quote them: the caller redacts.
    return str(exc) or type(exc).__name__


def scrub(exc: BaseException, secret: str | None) -> BaseException:
    """``exc``, with what the server sent taken out of it and of every exception it is chained
    to, in place: texts in ``args`` redacted, the document a JSON error keeps and the bytes a
    decoding error keeps dropped (they may hold the token, and a whole body besides).

    An error raised ``from`` such an exception prints it in every traceback, so the chain must
    be as clean as the error.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, json.JSONDecodeError):
            current.doc = ""
        if isinstance(current, UnicodeDecodeError):
            current.object = b""
        current.args = tuple(_scrub_arg(arg, secret) for arg in current.args)
        todo += [current.__cause__, current.__context__]
    return exc


def _scrub_arg(arg: object, secret: str | None) -> object:
    if isinstance(arg, (bytes, bytearray)):
        return b""  # only a decoding error keeps bytes: the document it failed on
    if isinstance(arg, (int, float, bool)) or arg is None:
        return arg
    text = str(arg)
    cleaned = redact(text, secret)
    if isinstance(arg, str) or cleaned != text:
        return cleaned
    return arg  # an exception (httpcore keeps h11's): scrubbed in turn, being its cause


#: Where a deadline ran out: the response head (from sending the request to having its status
#: and headers), a whole answer (from sending the request to its last byte), or the next
#: chunk of a stream (from the caller asking for it to having it).
Phase = Literal["head", "answer", "chunk"]


def too_slow(*, method: str, path: str, seconds: float, phase: Phase) -> ProviderTimeoutError:
    """The bytes kept coming, but too slowly, or not the right ones: ``phase`` did not end
    within ``seconds``, however many bytes arrived meanwhile."""
    where = f"{method} {path}"
    if phase == "head":
        return ProviderTimeoutError(
            f"{where} timed out waiting for the answer: no status and headers {seconds:g} s "
            "after sending the request"
        )
    if phase == "chunk":
        return ProviderTimeoutError(
            f"{where} timed out: the stream handed out no chunk for {seconds:g} s"
        )
    return ProviderTimeoutError(
        f"{where} timed out: the answer took longer than {seconds:g} s to arrive"
    )


def too_large(*, method: str, path: str, limit: int, stream: bool = False) -> ApiError:
    """The answer (or a whole stream) went past ``max_response_bytes``, decompressed; reading
    stopped there."""
    what = "The stream answering" if stream else "The answer to"
    return ApiError(
        f"{what} {method} {path} is larger than {limit} bytes",
        suggestion=SUGGEST_TOO_LARGE,
    )


def bad_answer(
    detail: str, *, method: str, path: str, status: int | None = 200, secret: str | None = None
) -> ApiError:
    """An answer that is not JSON, or JSON that breaks LM Studio's format; ``detail`` says
    where (quoting the answer only through ``preview``, which redacts before it cuts)."""
    return ApiError(
        f"Unusable answer to {method} {path}: {detail}",
        status_code=status,
        suggestion=SUGGEST_BAD_ANSWER,
        secret=secret,
    )


# Tracebacks and reprs name a class by its module: show the one users import the errors from
# (``pytest_lmstudio.ModelNotFoundError``), not this private module. Pickling finds them there
# too (``pytest_lmstudio`` loads them on first use).
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and issubclass(_value, Exception):
        _value.__module__ = "pytest_lmstudio"
del _name, _value
