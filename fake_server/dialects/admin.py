"""The admin API, under ``/__fake__``: a test in any language can load a scenario, read the
journal, check expectations and reset the fake over HTTP. Admin requests are not journaled;
they need the fake's API token when it has one; an unknown path under the prefix gets a 404
that lists the admin API.

The facade (``FakeLMStudio``) is what these routes control; they see it through ``Control``,
so that this layer does not depend on the one above it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, Protocol

from .._catalog import Model
from .._errors import ScenarioError
from .._journal import Journal
from .._scenario_file import parse_scenario
from ..engine import Rule
from ._base import Call, Handler, JsonOut, Out, RawOut, Route

ADMIN_PREFIX = "/__fake__"
MSG_EMPTY_SCENARIO = (
    "the body is empty: send a scenario object as JSON, or as TOML with "
    "Content-Type: application/toml"
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

    def check(self) -> None: ...

    def load_scenario(self, scenario: Mapping[str, Any], *, source: str | None = None) -> None: ...


def _json(status: int, document: Any) -> JsonOut:
    return JsonOut(status, document, express=False)


def routes(fake: Control) -> list[Route]:
    """The admin routes, and last the 404 for any other path under the prefix."""

    async def requests(call: Call) -> Out:
        journal = fake.journal
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
        source = f"POST {ADMIN_PREFIX}/scenario"
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
            fake.load_scenario(data, source=source)
        except ScenarioError as exc:
            return _json(400, {"error": str(exc), "path": exc.path})
        return _json(200, {"loaded": True, "rules": len(fake.rules), "models": len(fake.catalog)})

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
        ("GET", "rules", rules, "none"),
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
