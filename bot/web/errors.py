"""The one place where errors become HTTP answers: a domain error carries its status
(``BotError.http_status``); the JSON API and the callback get ``{"error": "..."}``, pages get
an error page. Anything unexpected is logged and answered 500 without details."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.domain.errors import BotError, ContentRejectedError
from bot.web.auth import wants_json
from bot.web.keys import LANG
from bot.web.render import render, translate

logger = logging.getLogger(__name__)


def _answer(request: web.Request, status: int, message: str, **extra: object) -> web.Response:
    """The JSON API answers in English (what scripts match on); pages in the reader's language
    (``message`` is then already translated)."""
    if wants_json(request):
        return web.json_response({"error": message, **extra}, status=status)
    try:
        return render(request, "error.html", status=status, message=message, extra=extra)
    except Exception:  # the error page itself failed: plain text is still an answer
        logger.exception("the error page could not be rendered")
        return web.Response(text=message, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _answer(request, exc.status, _in_language(request, exc.reason))
    except ContentRejectedError as exc:
        from bot.content.checks.findings import finding_dict

        lang = request.get(LANG, "zh")
        findings = [finding_dict(f, lang) for f in exc.findings]
        return _answer(request, exc.http_status, exc.message, findings=findings)
    except BotError as exc:
        if exc.http_status >= 500:
            logger.warning("%s %s: %s", request.method, request.path, exc)
        message = exc.message if wants_json(request) else exc.in_language(request.get(LANG, "zh"))
        return _answer(request, exc.http_status, message)
    except Exception:
        logger.exception("%s %s failed", request.method, request.path)
        message = "internal error; the server log has the details"
        return _answer(request, 500, _in_language(request, message))


def _in_language(request: web.Request, message: str) -> str:
    return message if wants_json(request) else translate(request, message)
