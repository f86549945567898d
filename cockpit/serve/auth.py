"""The guard in front of every request of `cockpit serve`.

The token travels once, in the URL printed at start.  The index with a valid `?token=`
sets an HttpOnly, SameSite=Lax cookie and redirects to the same page without the
token, so the address bar, the history and any Referer never hold it again; the page's
static files and its websocket carry the cookie.  A missing token is a 401, a wrong one
a 403, both with an empty body: no page, no script, no static file.  The websocket also
needs the served Origin, so a page of another site cannot drive a session even in a
browser that holds the cookie.

Lax, not Strict: the URL is shared in a chat and clicked there, a navigation from another
site, and the redirect that follows it would go without a Strict cookie (a 401).  Lax
cookies go with top-level GET navigations only: no other site's frame, image, script or
fetch gets them, framing is refused, and the websocket checks its Origin.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from aiohttp import web

COOKIE = "cockpit_serve"  # and the port: browsers share a host's cookies across ports
TOKEN_PARAM = "token"
WEBSOCKET_PATH = "/ws"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, as a browser sends it in an Origin header."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def cookie_name(origin: str) -> str:
    port = urlsplit(origin).port
    return f"{COOKIE}_{port}" if port else COOKIE


def same_secret(given: str, token: str) -> bool:
    # Bytes: compare_digest refuses non-ASCII str, and a query string may hold any text.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode())


def refused(status: int) -> web.Response:
    return web.Response(status=status, body=b"", headers={"Cache-Control": "no-store"})


def guard(
    token: str, origin: str
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware that lets through only requests that carry `token`."""
    cookie_key = cookie_name(origin)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.query.get(TOKEN_PARAM)
        if given is not None:
            if request.path != "/" or not same_secret(given, token):
                return refused(403)
            return _enter(request, token, cookie_key)
        cookie = request.cookies.get(cookie_key)
        if cookie is None:
            return refused(401)
        if not same_secret(cookie, token):
            return refused(403)
        if request.path == WEBSOCKET_PATH and request.headers.get("Origin") != origin:
            return refused(403)
        return await handler(request)

    return middleware


def _enter(request: web.Request, token: str, cookie_key: str) -> web.Response:
    """The cookie, and the same page without the token in its address."""
    rest = [(k, v) for k, v in request.query.items() if k != TOKEN_PARAM]
    location = f"/?{urlencode(rest)}" if rest else "/"
    response = web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    response.set_cookie(cookie_key, token, httponly=True, samesite="Lax", path="/")
    return response


async def safety_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """No framing (a page of another site must not overlay an armed session's keys) and
    no Referer to anything the page links to."""
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["Referrer-Policy"] = "no-referrer"
