"""Every default the provider uses, as named constants in one place."""

from __future__ import annotations

import ipaddress

# --- configuration (LMStudioConfig) -------------------------------------------------------
DEFAULT_ENDPOINT = "http://localhost:1234"
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_CACHE_TTL_MINUTES = 5.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024

# Environment variables read by ``LMStudioConfig.load()``, keyed by the config field they set.
ENV_VARS: dict[str, str] = {
    "endpoint": "LMSTUDIO_ENDPOINT",
    "timeout_seconds": "LMSTUDIO_TIMEOUT",
    "cache_ttl_minutes": "LMSTUDIO_CACHE_TTL",
    "max_retries": "LMSTUDIO_MAX_RETRIES",
    "api_token": "LMSTUDIO_API_TOKEN",
    "allowed_hosts": "LMSTUDIO_ALLOWED_HOSTS",
}
ENV_CONFIG_FILE = "LMSTUDIO_CONFIG"

# --- retries (openai-python's numbers, with a tighter cap on Retry-After) ---------------------
RETRY_INITIAL_DELAY_SECONDS = 0.5
RETRY_MAX_DELAY_SECONDS = 8.0
RETRY_MAX_RETRY_AFTER_SECONDS = 30.0
RETRY_JITTER_FRACTION = 0.25
RETRY_STATUSES = frozenset({429, 502, 503, 504})

# --- model cache ------------------------------------------------------------------------------
# A miss refreshes the model list at most this often, so that a caller asking again and again
# for a model that does not exist does not turn each question into a GET /v1/models.
MISS_REFRESH_INTERVAL_SECONDS = 5.0

# ``model_capabilities`` fallback when the native /api/v0/models is absent (non-LM Studio
# servers, LM Studio before 0.3.6): /v1/models carries ids only, so the rest is assumed.
FALLBACK_CONTEXT_LENGTH = 4096
FALLBACK_MODEL_TYPE = "llm"

# --- security -------------------------------------------------------------------------------
# Hosts reachable without configuration: loopback and the private ranges a LAN server sits in.
# Link-local (169.254.0.0/16, where cloud metadata services live) is deliberately absent.
DEFAULT_ALLOWED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("::1/128"),
    ipaddress.ip_network("fc00::/7"),
)
DEFAULT_ALLOWED_HOSTNAMES = frozenset({"localhost"})
MAX_MODEL_ID_LENGTH = 512
# Longest server message kept in an error (the rest is cut, never the whole body).
MAX_ERROR_MESSAGE_CHARS = 500
# Longest error code kept (LM Studio's are words such as ``model_not_found``).
MAX_ERROR_CODE_CHARS = 100
# How much of an answer that is not JSON an error quotes.
PREVIEW_CHARS = 80

# --- discovery --------------------------------------------------------------------------------
# LM Studio's default HTTP port first, then the next few, where people move it when 1234 is taken.
DISCOVERY_CANDIDATE_PORTS = (1234, 1235, 1236, 1237, 1238)
DISCOVERY_PROBE_TIMEOUT_SECONDS = 0.5
DISCOVERY_HOST = "127.0.0.1"
GREETING_PATH = "/lmstudio-greeting"

# --- model management -------------------------------------------------------------------------
# download_model: how often it asks how the job stands, and how long it waits in all (a large
# model on a slow line takes a while; past this the job goes on in LM Studio, unwatched).
DEFAULT_DOWNLOAD_POLL_SECONDS = 1.0
DEFAULT_DOWNLOAD_TIMEOUT_SECONDS = 3600.0
