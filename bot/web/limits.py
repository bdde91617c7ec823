"""How much a request may send: catalogue uploads up to ``MAX_UPLOAD``, a logged-in form or
JSON body up to ``MAX_BODY``, the login form (anyone may post it) up to ``MAX_LOGIN_BODY``.
A declared length above the limit is refused before anything is read; a chunked body is cut
off where it passes the limit. Either way the answer says what the limit is."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.domain.errors import UserError

MAX_UPLOAD = 20 * 1024 * 1024
MAX_BODY = 1024 * 1024  # a post's markdown is at most 50,000 characters: 150 KB of UTF-8
MAX_LOGIN_BODY = 16 * 1024
UPLOAD_PATHS = frozenset({"/api/catalogue/import", "/catalogue/import"})


class BodyTooLargeError(UserError):
    http_status = 413


def body_limit(path: str) -> int:
    if path in UPLOAD_PATHS:
        return MAX_UPLOAD
    if path == "/login":
        return MAX_LOGIN_BODY
    return MAX_BODY


def too_large_message(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    hint = "; split the catalogue into several files" if limit == MAX_UPLOAD else ""
    return f"the request body is larger than {size}, the most this address takes{hint}"


@web.middleware
async def limit_body(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = body_limit(request.path)
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLargeError(too_large_message(limit))
    # aiohttp reads the limit from the request when the body is read; setting it here keeps
    # this request object (a clone would lose what the outer middlewares store on it).
    request._client_max_size = limit
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge as exc:
        # aiohttp cut off a chunked body at this limit (a handler's own, smaller limit, such
        # as the callback's, says its own words).
        if f"size {limit} exceeded" not in (exc.text or ""):
            raise
        raise BodyTooLargeError(too_large_message(limit)) from None
