"""The admin's language for each request: ``?lang=`` (remembered in a cookie), else the cookie,
else ``[web] language``. Templates and views write English and wrap it in ``_()``; the Chinese
lives in ``bot.i18n`` (one table, split by area under ``bot/i18n/zh/``)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.i18n import LANGUAGES, ZH, Translate, translator
from bot.web.keys import LANG, TRANSLATE

__all__ = [
    "COOKIE",
    "LANGUAGES",
    "ZH",
    "Translate",
    "choose_language",
    "language_middleware",
    "translator",
]

COOKIE = "lang"


def choose_language(request: web.Request, default: str) -> tuple[str, bool]:
    """The language for this request and whether it was just chosen with ``?lang=``."""
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(COOKIE, "")
    if remembered in LANGUAGES:
        return remembered, False
    return (default if default in LANGUAGES else "zh"), False


def language_middleware(default: str) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        lang, chosen = choose_language(request, default)
        request[LANG] = lang
        request[TRANSLATE] = translator(lang)
        response = await handler(request)
        if chosen:
            response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    return middleware
