"""The admin API, under ``/__fake__``: a test in any language can load a scenario, read the
journal, check expectations and reset the fake over HTTP. Admin requests are not journaled
and need no token."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._errors import ScenarioError

if TYPE_CHECKING:
    from ._server import FakeLMStudio

ADMIN_PREFIX = "/__fake__"

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
        raw = await request.read()
        source = f"POST {ADMIN_PREFIX}/scenario"
        try:
            if "toml" in (request.content_type or ""):
                from ._scenario import parse_toml

                data: Any = parse_toml(raw.decode("utf-8"))
            else:
                data = json.loads(raw or b"null")
            if not isinstance(data, dict):
                raise ScenarioError(source, "the body must be a scenario object (JSON or TOML)")
            fake.load_scenario(data)
        except ScenarioError as exc:
            return _json(400, {"error": str(exc).replace("<scenario>", source), "path": exc.path})
        except (ValueError, UnicodeDecodeError) as exc:
            return _json(400, {"error": f"{source}: not valid JSON or TOML: {exc}", "path": ""})
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

    add = app.router.add_route
    add("GET", f"{ADMIN_PREFIX}/requests", requests)
    add("DELETE", f"{ADMIN_PREFIX}/requests", clear_requests)
    add("POST", f"{ADMIN_PREFIX}/reset", reset)
    add("POST", f"{ADMIN_PREFIX}/scenario", scenario)
    add("GET", f"{ADMIN_PREFIX}/rules", rules)
    add("GET", f"{ADMIN_PREFIX}/check", check)
