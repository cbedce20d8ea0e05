"""The fake's routes, read from its own route table, as fuzz targets.

Nothing here lists a path by hand: ``targets()`` walks ``fake_server.dialects.route_table``,
so a door added later is fuzzed the day it lands. Its request schema is found by
``request_schema()``: a ``schema`` attribute on the route if the route table grows one, else
the OpenAI door's ``REQUEST_SCHEMAS`` matched on the path's last segments, else the scenario
schema for the admin scenario route. A body route with no schema found is still fuzzed, with
generic JSON, and ``Target.schema`` stays None so a report can say so.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from fake_server._catalog import Model
from fake_server._journal import Journal
from fake_server.dialects import ADMIN_PREFIX, Route, route_table
from fake_server.dialects.openai_requests import REQUEST_SCHEMAS
from fake_server.engine import Rule

#: Methods sent where a route takes any method ("*"), and to find which route answers.
ANY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
#: Path tails, longest first, that name an OpenAI-door request kind.
_TAILS = {"chat/completions": "chat", "completions": "completions", "embeddings": "embeddings"}
SCENARIO_SCHEMA = "scenario.schema.json"
_PARAM = re.compile(r"\{(\w+)(?::([^{}]*))?\}")


class _NoControl:
    """A stand-in for the facade: the route table only needs one to build closures."""

    journal = Journal()
    rules: list[Rule] = []
    catalog: list[Model] = []
    api_token: str | None = None

    def reset(self) -> None:
        raise NotImplementedError

    def check(self) -> None:
        raise NotImplementedError

    def load_scenario(self, scenario: Mapping[str, Any], *, source: str | None = None) -> None:
        raise NotImplementedError


def fake_routes() -> list[Route]:
    """The fake's route table, in its order (the catch-all last)."""
    return route_table(_NoControl())


def request_schema(route: Route) -> str | None:
    """The name (under ``schemas/``) of the JSON Schema of ``route``'s request body."""
    declared = getattr(route, "schema", None)
    if isinstance(declared, str):
        return declared
    if route.body == "none":
        return None
    if route.path == f"{ADMIN_PREFIX}/scenario":
        return SCENARIO_SCHEMA
    for tail in sorted(_TAILS, key=len, reverse=True):
        if route.path.endswith("/" + tail):
            return REQUEST_SCHEMAS.get(_TAILS[tail])
    return None


@dataclass(frozen=True)
class Target:
    """One route to fuzz. ``method`` is "*" where the route takes any method."""

    method: str
    path: str
    body: str
    auth: bool
    journal: bool
    schema: str | None
    catch_all: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def admin(self) -> bool:
        return self.path.startswith(ADMIN_PREFIX)

    @property
    def destructive(self) -> bool:
        """An admin route that changes the fake's state (reset, clear, load a scenario):
        fuzzed in a phase of its own, after the journal has been checked."""
        return self.admin and self.method not in ("GET", "*")

    @property
    def has_params(self) -> bool:
        return _PARAM.search(self.path) is not None

    def pick_method(self, rng: random.Random) -> str:
        return rng.choice(ANY_METHODS) if self.method == "*" else self.method

    def sample_path(self, rng: random.Random, models: Sequence[str]) -> str:
        """A concrete, percent-encoded path for this route."""
        if self.catch_all:
            return random_path(rng)

        def value(match: re.Match[str]) -> str:
            name, pattern = match.group(1), match.group(2) or "[^{}/]+"
            return _param_value(rng, name, pattern, models)

        return _PARAM.sub(value, self.path)


def targets() -> list[Target]:
    """Every route of the fake's route table, as a target."""
    out = []
    routes = fake_routes()
    for index, route in enumerate(routes):
        tail = route.path.rsplit("/", 1)[-1]
        out.append(
            Target(
                method=route.method,
                path=route.path,
                body=route.body,
                auth=route.auth,
                journal=route.journal,
                schema=request_schema(route),
                catch_all=index == len(routes) - 1 and tail.startswith("{"),
            )
        )
    return out


def _param_value(rng: random.Random, name: str, pattern: str, models: Sequence[str]) -> str:
    if "model" in name and models and rng.random() < 0.6:
        return quote_path(rng.choice(models))
    if name == "tail" or pattern in (".*", ".+"):
        # Several segments, never empty (".+"), sometimes odd.
        parts = [_segment(rng) for _ in range(rng.randint(1, 3))]
        return "/".join(parts)
    return _segment(rng)


_SAFE = string.ascii_letters + string.digits + "-._~"
_ODD_SEGMENTS = (
    "%ff%fe",  # not UTF-8 once decoded
    "%ed%a0%80",  # a UTF-8-encoded lone surrogate
    "%00",
    "%c0%af",  # an overlong "/"
    "%e2%80%ae",  # right-to-left override
    "..",
    "%2e%2e",
    "a%20b",
    "%F0%9F%98%80",
    "x" * 2000,
)


def _segment(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(_ODD_SEGMENTS)
    return "".join(rng.choice(_SAFE) for _ in range(rng.randint(1, 16)))


def random_path(rng: random.Random) -> str:
    """A path no door claims, sometimes odd; never under the admin prefix."""
    while True:
        path = "/" + "/".join(_segment(rng) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.2:
            path += "/"
        if not unquote(path).startswith(ADMIN_PREFIX):
            return path


def quote_path(text: str) -> str:
    """``text`` percent-encoded for a path (slashes kept)."""
    out = []
    for char in text:
        if char in _SAFE or char == "/":
            out.append(char)
        else:
            out.extend(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def _compile(path: str) -> re.Pattern[str]:
    pattern, last = "", 0
    for match in _PARAM.finditer(path):
        pattern += re.escape(path[last : match.start()])
        pattern += f"(?P<{match.group(1)}>{match.group(2) or '[^{}/]+'})"
        last = match.end()
    return re.compile(pattern + re.escape(path[last:]))


class Router:
    """Which route answers a method and a path, in the route table's order (as aiohttp
    resolves them: the first route whose path matches and takes the method)."""

    def __init__(self, table: Sequence[Target]) -> None:
        self._table = [(t, _compile(t.path)) for t in table]

    def resolve(self, method: str, path: str) -> Target | None:
        decoded = unquote(path.split("?", 1)[0], errors="replace")
        for target, pattern in self._table:
            if target.method in ("*", method) and pattern.fullmatch(decoded):
                return target
        return None
