"""LM Studio's server is Express: its headers, its ETag, in one place."""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.helpers import rfc822_formatted_time

from .._json import dumps

JSON_TYPE = "application/json; charset=utf-8"
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"}

__all__ = [
    "JSON_TYPE",
    "etag",
    "express_json",
    "express_order",
    "plain_json",
    "sse_headers",
]

#: Where Node's http module puts its own headers: after everything the app set.
_NODE_LAST = ("Date", "Connection", "Keep-Alive", "Transfer-Encoding")
#: Where Express's res.send puts its headers: after the ones the app set before sending.
_SEND_LAST = ("Content-Type", "Content-Length", "ETag")


def etag(data: bytes) -> str:
    """Express's weak ETag: ``W/"<length hex>-<base64 sha1, 27 chars>"``."""
    digest = binascii.b2a_base64(hashlib.sha1(data).digest(), newline=False)[:27].decode()
    return f'W/"{len(data):x}-{digest}"'


def express_json(
    status: int, document: Any, cors: bool, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer as Express's ``res.json`` sends it (a 204: no body), its head already in
    Express's order (``express_order`` then only drops aiohttp's ``Server``)."""
    if status == 204:
        return web.Response(status=204, headers={"X-Powered-By": "Express", **(headers or {})})
    data = dumps(document).encode("utf-8")
    out = {"X-Powered-By": "Express"}
    if cors:
        out.update(CORS_HEADERS)
    if headers:
        out.update(headers)
    out["Content-Type"] = JSON_TYPE
    out["Content-Length"] = str(len(data))
    out["ETag"] = etag(data)
    out["Date"] = rfc822_formatted_time()
    out["Connection"] = "keep-alive"
    out["Keep-Alive"] = "timeout=5"
    return web.Response(status=status, body=data, headers=out)


def plain_json(status: int, document: Any) -> web.Response:
    """A JSON answer of the fake's own (the admin API): not LM Studio's, so no Express."""
    return web.Response(
        status=status, body=dumps(document).encode(), headers={"Content-Type": JSON_TYPE}
    )


def sse_headers(cors: bool) -> dict[str, str]:
    """The head of an event stream, as LM Studio sends it."""
    out = {
        "X-Powered-By": "Express",
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        "Connection": "keep-alive",
    }
    if cors:
        out.update(CORS_HEADERS)
    return out


async def express_order(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Make the head look like Node's (an ``on_response_prepare`` hook, run after aiohttp has
    added its own headers): no ``Server`` header, and for Express's answers its order
    (``X-Powered-By``, what the app set, ``Content-Type``, ``Content-Length``, ``ETag``, then
    Node's ``Date``, ``Connection: keep-alive``, ``Keep-Alive: timeout=5``)."""
    headers = response.headers
    headers.popall("Server", None)
    if "X-Powered-By" not in headers:
        return
    if headers.get("Keep-Alive") == "timeout=5" and "ETag" in headers:
        # express_json built the head in order; only a connection that will close differs
        if not response.keep_alive:
            headers["Connection"] = "close"
            headers.popall("Keep-Alive", None)
        return
    if response.keep_alive and "Connection" not in headers:
        headers["Connection"] = "keep-alive"
    if headers.get("Connection", "").lower() == "close":
        headers.popall("Keep-Alive", None)
    sent = "ETag" in headers  # res.send()'s answer; a stream sets its own head
    node_last = _NODE_LAST if sent else ("Date", "Keep-Alive", "Transfer-Encoding")
    send_last = _SEND_LAST if sent else ()

    def place(name: str) -> tuple[int, int]:
        if name == "X-Powered-By":
            return 0, 0
        if name in node_last:
            return 3, node_last.index(name)
        if name in send_last:
            return 2, send_last.index(name)
        return 1, 0

    ordered = sorted(headers.items(), key=lambda item: place(item[0]))
    headers.clear()
    headers.extend(ordered)
