"""Response headers every answer carries: a strict Content-Security-Policy (no inline
script, no framing), nosniff, a same-origin referrer policy, HSTS when the service is served
over https, and a Server header that names no software version. A handler that sets its own
CSP (the sandboxed post preview) keeps it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.web.keys import SECURE_COOKIES

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https: http:",
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

# The preview shows a post's HTML exactly as the platform receives it: inline styles and
# remote images allowed, never scripts, in a sandbox with an opaque origin.
PREVIEW_CSP = "; ".join(
    [
        "sandbox",
        "default-src 'none'",
        "img-src https: http: data:",
        "style-src 'unsafe-inline'",
        "frame-ancestors 'self'",
    ]
)


HSTS = "max-age=31536000"
SERVER = "bot"  # no name or version of the software that runs it


async def hide_server(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer, static files and errors included."""
    response.headers["Server"] = SERVER


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.app[SECURE_COOKIES]:  # served over https (base_url): browsers stay on https
        headers.setdefault("Strict-Transport-Security", HSTS)
    # Pages hold private data; the static files (CSS, the vendored chart library) do not.
    if request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "public, max-age=3600")
    else:
        headers.setdefault("Cache-Control", "no-store")
    return response
