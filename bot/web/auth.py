"""Who is calling and what they may do: the session cookie or a Bearer token identifies the
caller, the routes table says the least role each route needs, and every unsafe request made
with a session must carry the session's CSRF token (a form field or the X-CSRF-Token header).
Requests with a Bearer token are exempt from CSRF: a browser never adds that header itself.

Roles are ordered: an editor drafts and edits, a reviewer also approves and rejects, an admin
may do everything, including managing users and schedules."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.domain.errors import ForbiddenError
from bot.store.users import User
from bot.web import forms, users
from bot.web.keys import (
    ACCESS,
    IDENTITY,
    SECURE_COOKIES,
    SERVICES,
    SESSION,
    SESSION_CODEC,
    SESSION_DIRTY,
    Access,
    Identity,
)
from bot.web.sessions import COOKIE, MAX_AGE, new_csrf_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def identity(request: web.Request) -> Identity:
    """The caller of a route that requires login (the middleware has checked)."""
    found: Identity | None = request.get(IDENTITY)
    if found is None:  # a route table mistake, never a caller's
        raise ForbiddenError("login required")
    return found


def actor(request: web.Request) -> str:
    ident = identity(request)
    return f"web:{ident.user.name}" if ident.via == "session" else f"api:{ident.user.name}"


def wants_json(request: web.Request) -> bool:
    path = request.path
    return path.startswith(("/api/", "/callback/")) or path in ("/metrics", "/healthz")


def client_address(request: web.Request) -> str:
    """The caller's address: the connection's, unless it comes from a proxy named in
    ``[web] trusted_proxies``; then the last address in X-Forwarded-For that is not one of
    those proxies (the ones before it are whatever the client chose to send)."""
    remote = request.remote or ""
    proxies = request.app[SERVICES].config.web.trusted_proxies
    if not proxies or not _among(remote, proxies):
        return remote
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _among(hop, proxies):
            return hop if _address(hop) is not None else remote
    return hops[0] if hops else remote


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _among(text: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


# --- the session ------------------------------------------------------------------------------


def session(request: web.Request) -> dict[str, Any]:
    found: dict[str, Any] = request[SESSION]
    return found


def replace_session(request: web.Request, value: dict[str, Any]) -> None:
    """Start a fresh session (log in or out): a new CSRF token, so one seen before does not
    carry over."""
    request[SESSION] = {**value, "csrf": new_csrf_token()}
    request[SESSION_DIRTY] = True


def mark_dirty(request: web.Request) -> None:
    request[SESSION_DIRTY] = True


def csrf_token(request: web.Request) -> str:
    return str(session(request)["csrf"])


async def start_login(request: web.Request, user: User) -> None:
    """Log the browser in as ``user``: a new login on the server, a fresh cookie and CSRF
    token (one seen before the login does not carry over)."""
    services = request.app[SERVICES]
    now = services.clock()
    session_id = await users.start_session(services.engine, user, now=now)
    replace_session(request, {"uid": user.id, "sid": session_id, "login_at": int(now.timestamp())})


async def end_login(request: web.Request) -> None:
    """Log the browser out: the login ends on the server, so a copy of the cookie stops
    working too."""
    sid = session(request).get("sid")
    await users.end_session(request.app[SERVICES].engine, sid if isinstance(sid, str) else "")
    replace_session(request, {})


def _load_session(request: web.Request, now: datetime) -> None:
    codec = request.app[SESSION_CODEC]
    raw = request.cookies.get(COOKIE, "")
    value = codec.decode(raw, now=now) if raw else None
    if value is None or not isinstance(value.get("csrf"), str):
        request[SESSION] = {"csrf": new_csrf_token()}
        request[SESSION_DIRTY] = True
    else:
        request[SESSION] = value
        request[SESSION_DIRTY] = False


def _store_session(request: web.Request, response: web.StreamResponse, now: datetime) -> None:
    if not request.get(SESSION_DIRTY) or response.prepared:
        return
    cookie = request.app[SESSION_CODEC].encode(session(request), now=now)
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="Lax",
        secure=request.app[SECURE_COOKIES],
        path="/",
    )


# --- the middleware ---------------------------------------------------------------------------


def route_access(request: web.Request) -> Access | None:
    """The route's Access, or None when nothing matched (a 404 or 405 answer follows)."""
    route = request.match_info.route
    resource = route.resource
    if resource is None:
        return None
    method = "GET" if route.method == "HEAD" else route.method
    table: dict[tuple[str, str], Access] = request.app[ACCESS]
    return table.get((method, resource.canonical))


async def _caller(request: web.Request, now: datetime) -> Identity | None:
    engine = request.app[SERVICES].engine
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Unauthorized("the Authorization header must be 'Bearer TOKEN'")
        user = await users.user_for_token(engine, token.strip(), now=now)
        if user is None:
            raise _Unauthorized("the API token is not valid")
        return Identity(user, "token")
    uid = session(request).get("uid")
    if not isinstance(uid, int):
        return None
    login_at = session(request).get("login_at")
    if not isinstance(login_at, int) or now.timestamp() - login_at > MAX_AGE.total_seconds():
        # Re-encoding the cookie (a flash message) renews it; the login itself still ends.
        replace_session(request, {})
        return None
    sid = session(request).get("sid")
    user = await users.user_for_session(engine, sid if isinstance(sid, str) else "", now=now)
    if user is None or user.id != uid:  # logged out, revoked, or the user deleted meanwhile
        replace_session(request, {})
        return None
    return Identity(user, "session")


class _Unauthorized(Exception):
    pass


def _refuse_anonymous(request: web.Request, message: str) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response(
            {"error": message}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    target = request.path_qs if request.method in SAFE_METHODS else "/"
    return web.Response(status=303, headers={"Location": "/login?next=" + quote(target, safe="")})


async def _check_csrf(request: web.Request) -> None:
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.content_type in FORM_TYPES:
        value = (await forms.form(request)).get(CSRF_FIELD, "")
        given = value if isinstance(value, str) else ""
    expected = csrf_token(request)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ForbiddenError("the form's CSRF token is missing or wrong; reload the page")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    now = request.app[SERVICES].clock()
    _load_session(request, now)
    access = route_access(request)
    if access is None:  # unknown path or method: let the router answer 404/405
        return await handler(request)
    try:
        ident = await _caller(request, now)
    except _Unauthorized as exc:
        return web.json_response(
            {"error": str(exc)}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    request[IDENTITY] = ident
    if access.role is not None:
        if ident is None:
            return _refuse_anonymous(request, "log in or send 'Authorization: Bearer TOKEN'")
        if not ident.may(access.role):
            raise ForbiddenError(f"this needs the {access.role} role; you are {ident.user.role}")
    if (
        access.csrf
        and request.method not in SAFE_METHODS
        and (ident is None or ident.via != "token")
    ):
        await _check_csrf(request)
    response = await handler(request)
    # API, callback and health answers need no cookie unless a logged-in browser called them;
    # static files never carry one (they may be cached, by the browser or a proxy).
    if request.path.startswith("/static/"):
        return response
    if not wants_json(request) or (ident is not None and ident.via == "session"):
        _store_session(request, response, now)
    return response
