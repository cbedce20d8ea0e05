"""The facade's settings checked: what a constructor or setter argument must be, said plainly."""

from __future__ import annotations

from collections.abc import Sequence

from ._catalog import seconds_in_range
from ._errors import ScriptError
from ._profiles import PROFILE_NAMES, PROFILES, REASONING_FORMATS, Profile
from .engine import ROUTE_NAMES, Chaos, check_chaos_faults
from .transport import LOOPBACK_HOSTS

__all__ = [
    "NOT_GIVEN",
    "NotGiven",
    "check_listening",
    "check_profile",
    "check_reasoning_format",
    "check_seed",
    "check_token",
    "new_chaos",
]


class NotGiven:
    """The type of ``NOT_GIVEN``: an argument left out, as opposed to ``None``."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def check_profile(name: object) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_NAMES)}; got {name!r}")
    return PROFILES[str(name)]


def check_seed(seed: object) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return seed


def check_listening(
    host: str, port: object, allow_remote: object, max_body_bytes: int, body_timeout: object
) -> None:
    """Where and how the fake may listen."""
    if host not in LOOPBACK_HOSTS and not allow_remote:
        raise ValueError(
            f"refusing to listen on {host!r}: the fake serves 127.0.0.1 only unless "
            "allow_remote=True (it has no authentication by default)"
        )
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer from 0 to 65535 (0: a free port), got {port!r}")
    if max_body_bytes < 1024:
        raise ValueError(f"max_body_bytes must be at least 1024, got {max_body_bytes}")
    if not seconds_in_range(body_timeout, 0.001, 3600.0):
        raise ValueError(
            f"body_timeout must be a number of seconds from 0.001 to 3600, got {body_timeout!r}"
        )
    if isinstance(allow_remote, str) or not isinstance(allow_remote, (bool, Sequence)):
        raise ValueError(
            "allow_remote takes True or a list of the host names clients may use, "
            f"got {allow_remote!r}"
        )


def check_extra_ports(ports: object, port: object) -> tuple[int, ...]:
    """More ports to serve on: real port numbers (not 0: nobody could find a port picked at
    random), each once, none the main port."""
    if isinstance(ports, (str, bytes)) or not isinstance(ports, Sequence):
        raise ValueError(f"extra_ports takes a list of port numbers, got {ports!r}")
    for extra in ports:
        if not isinstance(extra, int) or isinstance(extra, bool) or not 1 <= extra <= 65535:
            raise ValueError(f"extra_ports must be port numbers from 1 to 65535, got {extra!r}")
    if len(set(ports)) != len(ports) or port in ports:
        raise ValueError(f"extra_ports lists a port twice, or the main port: {list(ports)!r}")
    return tuple(ports)


def check_token(token: object) -> str | None:
    if token is None:
        return None
    if not isinstance(token, str) or not token.strip() or any(c.isspace() for c in token):
        raise ScriptError(
            "the API token must be a non-empty string without spaces (or None for no auth)"
        )
    return token


def check_reasoning_format(reasoning_format: object) -> str | None:
    if reasoning_format is not None and reasoning_format not in REASONING_FORMATS:
        raise ScriptError(
            f"the reasoning format is one of {', '.join(REASONING_FORMATS)} or None, "
            f"got {reasoning_format!r}"
        )
    return reasoning_format


def new_chaos(
    rate: object, faults: Sequence[str] | None, seed: object, routes: Sequence[str]
) -> Chaos | None:
    """The chaos settings ``fake.chaos()`` asks for (None: off), checked."""
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise ScriptError(f"chaos rate must be a number from 0 to 1, got {rate!r}")
    try:
        kinds = check_chaos_faults(faults)
    except ValueError as exc:
        raise ScriptError(str(exc)) from None
    unknown = sorted(set(routes) - set(ROUTE_NAMES))
    if unknown:
        raise ScriptError(f"chaos routes are chat, completions, embeddings, models; got {unknown}")
    return None if rate == 0 else Chaos(float(rate), kinds, check_seed(seed), tuple(routes))
