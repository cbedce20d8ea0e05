"""The admin API, under ``/__fake__``: a test in any language can load a scenario (add its
rules, or replace them), clear the rules, read the journal (waiting for requests still on
their way), check expectations and reset the fake over HTTP. Admin requests are not journaled;
they need the fake's API token when it has one; an unknown path under the prefix gets a 404
that lists the admin API.

The facade (``FakeLMStudio``) is what these routes control; they see it through ``Control``,
so that this layer does not depend on the one above it.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from .._catalog import Model
from .._errors import ScenarioError
from .._journal import DEFAULT_WAIT_SECONDS, Journal, wait_failure, wait_problem
from .._scenario_file import parse_scenario
from ..engine import Rule
from ._base import Call, Handler, JsonOut, Out, RawOut, Route

ADMIN_PREFIX = "/__fake__"
MSG_EMPTY_SCENARIO = (
    "the body is empty: send a scenario object as JSON, or as TOML with "
    "Content-Type: application/toml"
)
#: ``GET /__fake__/requests?wait=N&timeout=S`` holds the request at most this long.
MAX_ADMIN_WAIT_SECONDS = 60.0
#: How often a waiting admin request looks at the journal (it runs in the server's loop,
#: which must not block on the journal's condition).
WAIT_POLL_SECONDS = 0.005
MSG_WAIT_QUERY = (
    "GET {prefix}/requests?wait=N&timeout=S waits until N requests have arrived (at most "
    "{limit:g} s; {default:g} s unless told): {problem}"
)
MSG_TOKEN = (
    "the fake requires its API token on the admin API too: send 'Authorization: Bearer <token>'"
)

__all__ = ["ADMIN_PREFIX", "Control", "routes"]


class Control(Protocol):
    """What the admin API needs of the fake."""

    @property
    def journal(self) -> Journal: ...

    @property
    def rules(self) -> list[Rule]: ...

    @property
    def catalog(self) -> list[Model]: ...

    @property
    def api_token(self) -> str | None: ...

    def reset(self) -> None: ...

    def clear_rules(self) -> None: ...

    def check(self) -> None: ...

    def load_scenario(
        self, scenario: Mapping[str, Any], *, source: str | None = None, replace: bool = False
    ) -> None: ...


def _json(status: int, document: Any) -> JsonOut:
    return JsonOut(status, document, express=False)


def routes(fake: Control) -> list[Route]:
    """The admin routes, and last the 404 for any other path under the prefix."""

    async def requests(call: Call) -> Out:
        journal = fake.journal
        query = parse_qs(call.entry.query, keep_blank_values=True)
        if "wait" in query or "timeout" in query:
            failure = await _wait(journal, query)
            if failure is not None:
                return failure
        entries = ",".join(e.to_json() for e in journal.snapshot())
        text = f'{{"requests":[{entries}],"total":{journal.total},"dropped":{journal.dropped}}}'
        return RawOut(200, text.encode(), "application/json; charset=utf-8")

    async def clear_requests(call: Call) -> Out:
        fake.journal.clear()
        return _json(200, {"cleared": True})

    async def reset(call: Call) -> Out:
        fake.reset()
        return _json(200, {"reset": True})

    async def scenario(call: Call) -> Out:
        # POST adds the scenario's rules after the fake's; PUT replaces them (a CI job that
        # started the fake with a catch-all rule can override it).
        replace = call.method == "PUT"
        source = f"{call.method} {ADMIN_PREFIX}/scenario"
        toml = "toml" in call.content_type
        try:
            if not call.raw.strip():
                raise ScenarioError(source, MSG_EMPTY_SCENARIO)
            try:
                text = call.raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ScenarioError(source, f"the body is not valid UTF-8 ({exc})") from None
            data = parse_scenario(text, source, toml=toml)
            # Named after this endpoint, in errors and in the rules' origin alike.
            fake.load_scenario(data, source=source, replace=replace)
        except ScenarioError as exc:
            return _json(400, {"error": str(exc), "path": exc.path})
        return _json(
            200,
            {
                "loaded": True,
                "replaced": replace,
                "rules": len(fake.rules),
                "models": len(fake.catalog),
            },
        )

    async def clear_rules(call: Call) -> Out:
        fake.clear_rules()
        return _json(200, {"cleared": True, "rules": 0})

    async def rules(call: Call) -> Out:
        return _json(
            200,
            {
                "rules": [
                    {
                        "id": r.id,
                        "route": r.route,
                        "description": r.describe(),
                        "times": r.times,
                        "calls": r.calls,
                    }
                    for r in fake.rules
                ]
            },
        )

    async def check(call: Call) -> Out:
        try:
            fake.check()
        except AssertionError as exc:
            return _json(409, {"ok": False, "message": str(exc)})
        return _json(200, {"ok": True})

    table: list[tuple[str, str, Handler, str]] = [
        ("GET", "requests", requests, "none"),
        ("DELETE", "requests", clear_requests, "none"),
        ("POST", "reset", reset, "none"),
        ("POST", "scenario", scenario, "raw"),
        ("PUT", "scenario", scenario, "raw"),
        ("GET", "rules", rules, "none"),
        ("DELETE", "rules", clear_rules, "none"),
        ("GET", "check", check, "none"),
    ]
    known = ", ".join(f"{method} {ADMIN_PREFIX}/{name}" for method, name, _, _ in table)

    async def unknown(call: Call) -> Out:
        # Not LM Studio's "200 Unexpected endpoint": a typo in an admin call must fail loudly.
        return _json(
            404,
            {"error": f"no admin endpoint {call.method} {call.path}; the admin API has: {known}"},
        )

    def guarded(handler: Handler) -> Handler:
        async def run(call: Call) -> Out:
            # With a token set, the admin API wants it too: a fake reachable from the network
            # (--allow-remote) must not be reprogrammable by anyone.
            token = fake.api_token
            given = call.headers.get("Authorization", "")
            if token is not None and not hmac.compare_digest(
                given.encode("utf-8", "surrogateescape"), f"Bearer {token}".encode()
            ):
                return _json(401, {"error": MSG_TOKEN})
            return await handler(call)

        return run

    out = [
        Route(
            method,
            f"{ADMIN_PREFIX}/{name}",
            guarded(handler),
            body=body,
            auth=False,
            journal=False,
            local_only=True,
        )
        for method, name, handler, body in table
    ]
    for path in (ADMIN_PREFIX, f"{ADMIN_PREFIX}/{{tail:.*}}"):
        out.append(
            Route("*", path, unknown, body="none", auth=False, journal=False, local_only=True)
        )
    return out


async def _wait(journal: Journal, query: Mapping[str, list[str]]) -> Out | None:
    """Hold the request until ``wait`` requests have arrived: None once they have, else the
    answer (400 for a bad query, 409 naming what arrived when the time is up)."""
    count: object = _number(query.get("wait", ["0"])[-1], int)
    timeout: object = _number(query.get("timeout", [f"{DEFAULT_WAIT_SECONDS:g}"])[-1], float)
    problem = wait_problem(count, timeout, MAX_ADMIN_WAIT_SECONDS)
    if problem is not None:
        message = MSG_WAIT_QUERY.format(
            prefix=ADMIN_PREFIX,
            limit=MAX_ADMIN_WAIT_SECONDS,
            default=DEFAULT_WAIT_SECONDS,
            problem=problem,
        )
        return _json(400, {"error": message})
    assert isinstance(count, int) and isinstance(timeout, float)
    deadline = time.monotonic() + timeout
    while journal.total < count:
        if time.monotonic() >= deadline:
            return _json(409, {"error": wait_failure(journal, count, timeout)})
        await asyncio.sleep(WAIT_POLL_SECONDS)
    return None


def _number(text: str, kind: type[int] | type[float]) -> object:
    """``text`` as an int or a float, or the text itself when it is neither (for the error)."""
    try:
        return kind(text)
    except ValueError:
        return text
