"""The admin API, under ``/__fake__``: a test in any language can load a scenario, read the
journal, check expectations and reset the fake over HTTP. Admin requests are not journaled;
they need the fake's API token when it has one; an unknown path under the prefix gets a 404
that lists the admin API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._errors import ScenarioError

if TYPE_CHECKING:
    from ._server import FakeLMStudio

ADMIN_PREFIX = "/__fake__"
Handler = Callable[[web.Request], Awaitable[web.Response]]
MSG_EMPTY_SCENARIO = (
    "the body is empty: send a scenario object as JSON, or as TOML with "
    "Content-Type: application/toml"
)

__all__ = ["ADMIN_PREFIX", "add_admin_routes"]


def _json(status: int, document: Any) -> web.Response:
    return web.json_response(
        document, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False)
    )


def add_admin_routes(app: web.Application, fake: FakeLMStudio) -> None:
    async def requests(request: web.Request) -> web.Response:
        journal = fake.journal
        return _json(
            200,
            {
                "requests": [e.to_dict() for e in journal.snapshot()],
                "total": journal.total,
                "dropped": journal.dropped,
            },
        )

    async def clear_requests(request: web.Request) -> web.Response:
        fake.journal.clear()
        return _json(200, {"cleared": True})

    async def reset(request: web.Request) -> web.Response:
        fake.reset()
        return _json(200, {"reset": True})

    async def scenario(request: web.Request) -> web.Response:
        from ._scenario import apply_scenario, parse_scenario

        raw = await request.read()
        source = f"POST {ADMIN_PREFIX}/scenario"
        toml = "toml" in (request.content_type or "")
        try:
            if not raw.strip():
                raise ScenarioError(source, MSG_EMPTY_SCENARIO)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ScenarioError(source, f"the body is not valid UTF-8 ({exc})") from None
            data = parse_scenario(text, source, toml=toml)
            # Named after this endpoint, in errors and in the rules' origin alike.
            apply_scenario(fake, data, source)
        except ScenarioError as exc:
            return _json(400, {"error": str(exc), "path": exc.path})
        return _json(200, {"loaded": True, "rules": len(fake.rules), "models": len(fake.catalog)})

    async def rules(request: web.Request) -> web.Response:
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

    async def check(request: web.Request) -> web.Response:
        try:
            fake.check()
        except AssertionError as exc:
            return _json(409, {"ok": False, "message": str(exc)})
        return _json(200, {"ok": True})

    routes = [
        ("GET", "requests", requests),
        ("DELETE", "requests", clear_requests),
        ("POST", "reset", reset),
        ("POST", "scenario", scenario),
        ("GET", "rules", rules),
        ("GET", "check", check),
    ]
    known = ", ".join(f"{method} {ADMIN_PREFIX}/{name}" for method, name, _ in routes)

    async def unknown(request: web.Request) -> web.Response:
        # Not LM Studio's "200 Unexpected endpoint": a typo in an admin call must fail loudly.
        return _json(
            404,
            {
                "error": f"no admin endpoint {request.method} {request.path}; the admin API has: "
                f"{known}"
            },
        )

    def guarded(handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.Response:
            # With a token set, the admin API wants it too: a fake reachable from the network
            # (--allow-remote) must not be reprogrammable by anyone.
            token = fake.api_token
            if token is not None and request.headers.get("Authorization") != f"Bearer {token}":
                return _json(
                    401,
                    {
                        "error": "the fake requires its API token on the admin API too: send "
                        "'Authorization: Bearer <token>'"
                    },
                )
            return await handler(request)

        return run

    for method, name, handler in routes:
        app.router.add_route(method, f"{ADMIN_PREFIX}/{name}", guarded(handler))
    app.router.add_route("*", ADMIN_PREFIX, unknown)
    app.router.add_route("*", f"{ADMIN_PREFIX}/{{tail:.*}}", unknown)
