"""``discover()``: find a running LM Studio, the way its own tools do, and return the config for it.

In order: the configured endpoint; the port LM Studio's server last used, from the files under
the LM Studio home (``.internal/http-server-config.json`` ``{port, networkInterface}``, the HTTP
server's; then ``.internal/http-server.json`` ``{host, pid, port}``, which newer ``lms`` writes);
then a few candidate ports on 127.0.0.1, probed concurrently. Each stage's candidates are
confirmed with ``GET /lmstudio-greeting`` -> ``{"lmstudio": true}``, so that another
OpenAI-compatible server on a port is not mistaken for LM Studio. The API token is sent to the
configured endpoint only, never to a scanned port.

The LM Studio home is the path in ``~/.lmstudio-home-pointer``, else ``~/.cache/lm-studio`` when it
exists, else ``~/.lmstudio`` (as in lmstudio-js ``findLMStudioHome``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from ._config import LMStudioConfig
from ._defaults import (
    DISCOVERY_CANDIDATE_PORTS,
    DISCOVERY_HOST,
    DISCOVERY_PROBE_TIMEOUT_SECONDS,
    GREETING_PATH,
)
from ._errors import ServiceNotFoundError
from ._security import host_allowed, validate_endpoint

__all__ = ["discover", "lmstudio_home", "server_file_endpoints"]

SERVER_INFO_PATH_ENV = "LMS_API_SERVER_INFO_PATH"

_found: dict[tuple[object, ...], str] = {}
_lock = threading.Lock()


def lmstudio_home(user_home: Path | None = None) -> Path:
    """LM Studio's home directory (it need not exist)."""
    user_home = user_home if user_home is not None else Path.home()
    try:
        pointed = (user_home / ".lmstudio-home-pointer").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        pointed = ""
    if pointed:
        return Path(pointed).expanduser()
    cache = user_home / ".cache" / "lm-studio"
    if cache.is_dir():
        return cache
    return user_home / ".lmstudio"


def _file_endpoint(path: Path, host_key: str, allowed: Sequence[str]) -> tuple[str | None, str]:
    """(endpoint, why not) from one server file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "no such file"
    except (OSError, ValueError) as exc:
        return None, f"unreadable ({exc})"
    port = data.get("port") if isinstance(data, dict) else None
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        return None, "no valid port in it"
    host = data.get(host_key)
    if not isinstance(host, str) or not host or _is_local(host):
        host = DISCOVERY_HOST
    if not host_allowed(host, allowed):
        return None, f"host {host!r} is not on the allow-list"
    try:
        return validate_endpoint(f"http://{_netloc(host)}:{port}", allowed), ""
    except ValueError as exc:
        return None, str(exc)


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _netloc(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def server_file_endpoints(
    home: Path, *, env: Mapping[str, str], allowed_hosts: Sequence[str] = ()
) -> list[tuple[str | None, str]]:
    """(endpoint or None, description) for each server file, in the order they are tried."""
    internal = home / ".internal"
    info_path = Path(env[SERVER_INFO_PATH_ENV]) if env.get(SERVER_INFO_PATH_ENV) else None
    files = [
        (internal / "http-server-config.json", "networkInterface"),
        (info_path or internal / "http-server.json", "host"),
    ]
    result = []
    for path, host_key in files:
        endpoint, why = _file_endpoint(path, host_key, allowed_hosts)
        result.append((endpoint, f"{path}" if endpoint else f"{path}: {why}"))
    return result


def _probe(client: httpx.Client, endpoint: str, token: str | None) -> str | None:
    """None when LM Studio answers the greeting at ``endpoint``, else why not."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        response = client.get(endpoint + GREETING_PATH, headers=headers)
    except httpx.TimeoutException:
        return "no answer in time"
    except httpx.HTTPError as exc:
        return f"cannot connect ({type(exc).__name__})"
    if response.status_code != 200:
        return f"HTTP {response.status_code} to {GREETING_PATH}"
    try:
        greeting = response.json()
    except ValueError:
        greeting = None
    if not isinstance(greeting, dict) or greeting.get("lmstudio") is not True:
        return "answers, but is not LM Studio"
    return None


def _probe_all(
    client: httpx.Client, endpoints: Sequence[str], token_for: Mapping[str, str | None]
) -> list[str | None]:
    """Why each endpoint is not LM Studio (None where it is), probing all at once."""
    if len(endpoints) == 1:
        return [_probe(client, endpoints[0], token_for.get(endpoints[0]))]
    with ThreadPoolExecutor(
        max_workers=len(endpoints), thread_name_prefix="lmstudio-probe"
    ) as pool:
        futures = [pool.submit(_probe, client, e, token_for.get(e)) for e in endpoints]
        return [future.result() for future in futures]


def discover(
    config: LMStudioConfig | None = None,
    *,
    home: Path | None = None,
    ports: Sequence[int] = DISCOVERY_CANDIDATE_PORTS,
    probe_timeout: float = DISCOVERY_PROBE_TIMEOUT_SECONDS,
    refresh: bool = False,
    env: Mapping[str, str] | None = None,
) -> LMStudioConfig:
    """``config`` pointed at a running LM Studio, or ``ServiceNotFoundError`` saying what it tried.

    ``config`` defaults to ``LMStudioConfig.load()``; ``home`` to the LM Studio home; ``ports``
    are the candidates scanned last; each probe waits ``probe_timeout`` seconds. Blocking (probes
    run in threads, a second at worst): from async code, call it through
    ``anyio.to_thread.run_sync(discover)``. The result is cached for the process;
    ``refresh=True`` looks again.
    """
    environ = os.environ if env is None else env
    config = config if config is not None else LMStudioConfig.load(env=environ)
    key = (config.endpoint, home, tuple(ports), config.allowed_hosts)
    with _lock:
        found = None if refresh else _found.get(key)
    if found is None:
        found = _search(config, home, ports, probe_timeout, environ)
        with _lock:
            _found[key] = found
    return dataclasses.replace(config, endpoint=found)


def _search(
    config: LMStudioConfig,
    home: Path | None,
    ports: Sequence[int],
    probe_timeout: float,
    environ: Mapping[str, str],
) -> str:
    allowed = config.allowed_hosts
    files = server_file_endpoints(
        home if home is not None else lmstudio_home(), env=environ, allowed_hosts=allowed
    )
    stages: list[list[tuple[str | None, str]]] = [
        [(config.endpoint, "configured")],
        files,
        [(f"http://{DISCOVERY_HOST}:{port}", "candidate port") for port in ports],
    ]
    tried: list[str] = []
    seen: set[str] = set()
    token_for = {config.endpoint: config.api_token}
    timeout = httpx.Timeout(probe_timeout)
    with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client:
        for stage in stages:
            endpoints = []
            for endpoint, source in stage:
                if endpoint is None:
                    tried.append(source)
                elif endpoint not in seen:
                    seen.add(endpoint)
                    endpoints.append((endpoint, source))
            if not endpoints:
                continue
            reasons = _probe_all(client, [e for e, _ in endpoints], token_for)
            for (endpoint, source), reason in zip(endpoints, reasons, strict=True):
                if reason is None:
                    return endpoint
                tried.append(f"{endpoint} ({source}): {reason}")
    raise ServiceNotFoundError(
        "LM Studio is not reachable. Tried: " + "; ".join(tried), tried=tried
    )
