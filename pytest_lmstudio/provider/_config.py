"""``LMStudioConfig`` and its cascade: environment over a JSON or TOML file over defaults."""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, cast

from ._defaults import (
    DEFAULT_CACHE_TTL_MINUTES,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_ENDPOINT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_SECONDS,
    ENV_CONFIG_FILE,
    ENV_VARS,
)
from ._errors import ConfigurationError
from ._security import REDACTED, validate_endpoint

__all__ = ["LMStudioConfig"]


def _number(value: object, *, text: bool, minimum: float, strict_minimum: bool) -> float:
    if text and isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    if number < minimum or (strict_minimum and number == minimum):
        raise ValueError(f"{value!r} must be {'>' if strict_minimum else '>='} {minimum:g}")
    return number


def _integer(value: object, *, text: bool, minimum: int) -> int:
    if text and isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an integer") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{value!r} must be >= {minimum}")
    return value


def _token(value: object, *, text: bool) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    if not value:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        # Would break (or inject into) the Authorization header. Never echo the value.
        raise ValueError("the token contains whitespace or control characters")
    return value


def _hosts(value: object, *, text: bool) -> tuple[str, ...]:
    if isinstance(value, str):
        items: Iterable[object] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ValueError(f"expected a list of host names, got {type(value).__name__}")
    hosts = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"expected host names as strings, got {type(item).__name__}")
        if item.strip():
            hosts.append(item.strip().lower())
    return tuple(hosts)


def _endpoint_text(value: object, *, text: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a URL string, got {type(value).__name__}")
    return value


def _coerce(key: str, value: object, *, text: bool) -> object:
    """One setting checked and converted; ``text`` when it comes from an environment variable."""
    if key == "endpoint":
        return _endpoint_text(value, text=text)
    if key in ("timeout_seconds", "connect_timeout_seconds"):
        return _number(value, text=text, minimum=0, strict_minimum=True)
    if key == "cache_ttl_minutes":
        return _number(value, text=text, minimum=0, strict_minimum=False)
    if key == "max_retries":
        return _integer(value, text=text, minimum=0)
    if key == "max_response_bytes":
        return _integer(value, text=text, minimum=1)
    if key == "api_token":
        return _token(value, text=text)
    if key == "allowed_hosts":
        return _hosts(value, text=text)
    raise ValueError("unknown setting")  # pragma: no cover - keys are checked before


@dataclass(frozen=True)
class LMStudioConfig:
    """How to reach LM Studio.

    endpoint:                the server's root URL (no /v1), e.g. ``http://localhost:1234``
    timeout_seconds:         deadline for each phase, however the bytes trickle: the response
                             head, a whole answer, each stream chunk, the drain after [DONE]
    connect_timeout_seconds: limit for opening a connection
    cache_ttl_minutes:       how long the model list is reused (0: ask every time)
    max_retries:             retries of transient failures (connect errors, 429, 502-504)
    api_token:               sent as ``Authorization: Bearer``; never shown in repr or errors
    allowed_hosts:           hosts allowed besides loopback and private networks (names, IPs,
                             CIDR networks, or ``*``)
    max_response_bytes:      the largest answer (or whole stream) the provider will read,
                             counted after decompression

    ``LMStudioConfig.load()`` builds one from the environment (``LMSTUDIO_ENDPOINT``,
    ``LMSTUDIO_TIMEOUT``, ``LMSTUDIO_CACHE_TTL``, ``LMSTUDIO_MAX_RETRIES``, ``LMSTUDIO_API_TOKEN``,
    ``LMSTUDIO_ALLOWED_HOSTS``) over a JSON or TOML file over these defaults.
    """

    endpoint: str = DEFAULT_ENDPOINT
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    cache_ttl_minutes: float = DEFAULT_CACHE_TTL_MINUTES
    max_retries: int = DEFAULT_MAX_RETRIES
    api_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        for item in fields(self):
            try:
                value = _coerce(item.name, getattr(self, item.name), text=False)
                if item.name == "endpoint":
                    continue
                object.__setattr__(self, item.name, value)
            except ValueError as exc:
                raise ConfigurationError(str(exc), source="argument", key=item.name) from None
        try:
            endpoint = validate_endpoint(self.endpoint, self.allowed_hosts)
        except ValueError as exc:
            raise ConfigurationError(str(exc), source="argument", key="endpoint") from None
        object.__setattr__(self, "endpoint", endpoint)

    def __repr__(self) -> str:
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "api_token" and value is not None:
                value = REDACTED
            shown.append(f"{item.name}={value!r}")
        return f"LMStudioConfig({', '.join(shown)})"

    @property
    def cache_ttl_seconds(self) -> float:
        return self.cache_ttl_minutes * 60.0

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
    ) -> LMStudioConfig:
        """The configuration from ``env`` (default: ``os.environ``) over a file over defaults.

        The file is ``path``, else the one ``LMSTUDIO_CONFIG`` names, else none. JSON or TOML
        (by suffix ``.toml``); settings at the top level or in an ``lmstudio`` table. A bad value
        raises ``ConfigurationError`` naming the source (the variable or the file) and the key.
        """
        environ = os.environ if env is None else env
        values: dict[str, object] = {}
        sources: dict[str, tuple[str, str]] = {}
        file = path if path is not None else (environ.get(ENV_CONFIG_FILE) or None)
        if file is not None:
            label = os.fspath(file)
            for key, value in _read_file(Path(file)).items():
                if key not in _FIELD_NAMES:
                    raise ConfigurationError(
                        f"unknown setting (known: {', '.join(sorted(_FIELD_NAMES))})",
                        source=label,
                        key=key,
                    )
                values[key] = _checked(key, value, text=False, source=label, key_label=key)
                sources[key] = (label, key)
        for key, variable in ENV_VARS.items():
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            values[key] = _checked(key, raw, text=True, source="environment", key_label=variable)
            sources[key] = ("environment", variable)
        if "endpoint" in values:
            source, key_label = sources["endpoint"]
            try:
                hosts = cast("tuple[str, ...]", values.get("allowed_hosts", ()))
                values["endpoint"] = validate_endpoint(values["endpoint"], hosts)
            except ValueError as exc:
                raise ConfigurationError(str(exc), source=source, key=key_label) from None
        return cls(**values)  # type: ignore[arg-type]


_FIELD_NAMES = frozenset(item.name for item in fields(LMStudioConfig))


def _checked(key: str, value: object, *, text: bool, source: str, key_label: str) -> object:
    try:
        return _coerce(key, value, text=text)
    except ValueError as exc:
        raise ConfigurationError(str(exc), source=source, key=key_label) from None


def _read_file(path: Path) -> dict[str, Any]:
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the file ({exc.strerror or exc})", source=label
        ) from None
    try:
        if path.suffix.lower() == ".toml":
            # tomllib is 3.11+; tomli is the same parser for 3.10. Imported only when needed.
            toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
            data: object = toml.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"not valid {_kind(path)}: {exc}", source=label) from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"expected a {_kind(path)} object at the top", source=label)
    section = data.get("lmstudio")
    if isinstance(section, dict) and set(data) == {"lmstudio"}:
        data = section
    return {str(key): value for key, value in data.items()}


def _kind(path: Path) -> str:
    return "TOML" if path.suffix.lower() == ".toml" else "JSON"
