"""Checks that keep the provider from being turned against its user (the seed's "prevent SSRF").

* endpoints: http or https only, no credentials, query or fragment in the URL, and a host on an
  allow-list (loopback and private networks by default; anything else only when configured);
* model ids: no control characters and nothing that could escape a URL path segment;
* secrets: ``redact`` takes API tokens out of any text that could end up in a message or log,
  ``clip`` and ``preview`` cut what a server sent to a few characters, redacted before the cut.

The functions here raise plain ``ValueError`` with a message; the caller turns it into the
matching ``ConfigurationError`` or ``InvalidRequestError`` (this module sits below ``_errors``).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from ._defaults import DEFAULT_ALLOWED_HOSTNAMES, DEFAULT_ALLOWED_NETWORKS, MAX_MODEL_ID_LENGTH

__all__ = ["clip", "host_allowed", "model_id_problem", "preview", "redact", "validate_endpoint"]

_TOKEN_PATTERN = re.compile(r"sk-lm-[A-Za-z0-9]{8}:[A-Za-z0-9]{20}")
_BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)\S+")
REDACTED = "***"
#: This many characters in a row of the secret count as the secret: a server may echo it cut.
SECRET_PIECE = 8
#: Room past the cut, so that a token that starts before it is whole when it is redacted.
_SLACK = 64


def redact(text: str, secret: str | None = None) -> str:
    """``text`` without ``secret`` (or any piece of it, plain or escaped as ``repr`` escapes
    it), LM Studio-shaped tokens, or anything after ``Bearer``."""
    if secret:
        for form in _forms(secret):
            text = _without_pieces(text, form)
    if "sk-lm-" in text:
        text = _TOKEN_PATTERN.sub(REDACTED, text)
    if "earer" in text:
        text = _BEARER_PATTERN.sub(r"\g<1>" + REDACTED, text)
    return text


def clip(text: str, limit: int, secret: str | None = None) -> str:
    """At most ``limit`` characters of ``text``, redacted. Redaction comes before the cut, so
    that the cut cannot leave the first half of a secret behind."""
    text = redact(text[: limit + _reach(secret)], secret)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview(data: bytes, limit: int = 80, secret: str | None = None) -> str:
    """The start of a body (UTF-8, bad bytes replaced), as ``clip`` cuts it."""
    window = data[: 4 * limit + _reach(secret)]  # a character is at most 4 bytes
    return clip(window.decode("utf-8", "replace"), limit, secret)


def _reach(secret: str | None) -> int:
    """How far past a cut a secret that starts before it can reach, with room to spare."""
    if not secret:
        return _SLACK
    return max(len(form.encode("utf-8")) for form in _forms(secret)) + _SLACK


def _forms(secret: str) -> list[str]:
    """The secret as it appears in text: plain, and as ``repr`` shows a str or bytes holding it
    (an error message may quote what the server sent that way)."""
    forms = [secret]
    for escaped in (repr(secret)[1:-1], repr(secret.encode("utf-8"))[2:-1]):
        if escaped not in forms:
            forms.append(escaped)
    return forms


def _without_pieces(text: str, secret: str) -> str:
    """``text`` with every run of at least ``SECRET_PIECE`` characters of ``secret`` (all of it,
    if shorter) replaced by ``REDACTED``."""
    size = min(len(secret), SECRET_PIECE)
    if len(text) < size:
        return text
    pieces = {secret[start : start + size] for start in range(len(secret) - size + 1)}
    parts = []
    start = done = 0
    while start <= len(text) - size:
        if text[start : start + size] not in pieces:
            start += 1
            continue
        end = start + size
        while end < len(text) and text[start : end + 1] in secret:
            end += 1
        parts += [text[done:start], REDACTED]
        start = done = end
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def host_allowed(host: str, allowed_hosts: Iterable[str] = ()) -> bool:
    """Whether the provider may talk to ``host`` (a name or an IP literal, brackets removed).

    ``allowed_hosts`` entries are host names (exact, case-insensitive), IP addresses, networks in
    CIDR form, or ``*`` for any host.
    """
    host = host.lower().rstrip(".")
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for entry in allowed_hosts:
        entry = entry.strip().lower()
        if entry == "*" or entry == host:
            return True
        if address is not None and ("/" in entry or entry[:1].isdigit() or ":" in entry):
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    if address is None:
        return host in DEFAULT_ALLOWED_HOSTNAMES
    return any(address in network for network in DEFAULT_ALLOWED_NETWORKS)


def validate_endpoint(url: object, allowed_hosts: Iterable[str] = ()) -> str:
    """The endpoint, normalised (lower-case scheme and host, no trailing slash), or ValueError."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("the endpoint must be a non-empty URL such as http://localhost:1234")
    url = url.strip()
    if _has_control(url) or any(ch.isspace() for ch in url):
        raise ValueError("the endpoint contains whitespace or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"the endpoint must use http or https, not {parts.scheme or 'nothing'!r}")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ValueError("the endpoint must not carry credentials; use api_token instead")
    if "?" in url or "#" in url:
        raise ValueError("the endpoint must not have a query or a fragment")
    host = parts.hostname
    if not host:
        raise ValueError("the endpoint has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"the endpoint's port is invalid ({exc})") from None
    path = parts.path.rstrip("/")
    if any(segment in (".", "..") for segment in path.split("/")) or "\\" in path:
        raise ValueError("the endpoint's path must not contain '.', '..' or backslashes")
    if host in ("0.0.0.0", "::"):
        raise ValueError(
            f"{host} is where a server listens, not an address to call; use 127.0.0.1 instead"
        )
    if not host_allowed(host, allowed_hosts):
        raise ValueError(
            f"host {host!r} is not on the allow-list (loopback and private networks); add it to "
            "allowed_hosts (LMSTUDIO_ALLOWED_HOSTS) to talk to it"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path}"


def model_id_problem(model: object) -> str | None:
    """Why ``model`` is not a usable model identifier, or None when it is."""
    if not isinstance(model, str):
        return f"the model id must be a string, not {type(model).__name__}"
    if not model:
        return "the model id is empty"
    if len(model) > MAX_MODEL_ID_LENGTH:
        return f"the model id is longer than {MAX_MODEL_ID_LENGTH} characters"
    if _has_control(model):
        return "the model id contains control characters"
    if model != model.strip():
        return "the model id has leading or trailing whitespace"
    if any(ch in model for ch in "\\?#%"):
        return "the model id contains one of \\ ? # %"
    if model.startswith("/") or "//" in model:
        return "the model id must not start with '/' or contain '//'"
    if any(segment in (".", "..") for segment in model.split("/")):
        return "the model id must not contain '.' or '..' path segments"
    return None
