"""Rendering pages: the Jinja2 environment (autoescape on for every template), the context
every page gets (caller, CSRF token, language, flash message), redirects and flash messages."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from bot.domain.links import is_platform_article_url
from bot.i18n import translate_sentence
from bot.web import auth
from bot.web.keys import IDENTITY, LANG, SERVICES, SESSION, TEMPLATES, TRANSLATE

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def build_environment(timezone: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tz = ZoneInfo(timezone)
    env.filters["dt"] = lambda value: _local(value, tz, "%Y-%m-%d %H:%M")
    env.filters["dts"] = lambda value: _local(value, tz, "%Y-%m-%d %H:%M:%S")
    env.filters["input_dt"] = lambda value: _local(value, tz, "%Y-%m-%dT%H:%M")
    env.filters["http_url"] = http_url
    env.filters["article_url"] = article_url
    env.globals["timezone"] = timezone
    return env


def http_url(value: str | None) -> str:
    """Only http(s) links are rendered as links; anything else (javascript:, data:) is not."""
    return value if value and value.startswith(("http://", "https://")) else "#"


def article_url(value: str | None) -> str:
    """A post's link to its published article: only one every browser reads as an article on
    mp.weixin.qq.com is rendered as a link (a pushed or typed link is never trusted for it)."""
    return value if value and is_platform_article_url(value) else "#"


# An ISO 8601 time with its offset, as the engine writes them into log details.
_ISO_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d|Z)")


def local_times(text: str, timezone: str) -> str:
    """``text`` with each ISO time in it shown as the page shows times: in ``timezone``,
    ``2026-11-30 08:00:00`` (the engine stores and logs UTC)."""

    def shown(found: re.Match[str]) -> str:
        try:
            value = datetime.fromisoformat(found.group().replace("Z", "+00:00"))
        except ValueError:
            return found.group()
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S")

    return _ISO_TIME.sub(shown, text)


def _local(value: datetime | None, tz: ZoneInfo, fmt: str) -> str:
    return value.astimezone(tz).strftime(fmt) if value is not None else ""


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    env = request.app[TEMPLATES]
    ident = request.get(IDENTITY)
    session = request.get(SESSION) or {}
    message = session.pop("flash", None)
    if message is not None:
        auth.mark_dirty(request)
    text = env.get_template(template).render(
        request=request,
        user=ident.user if ident else None,
        identity=ident,
        csrf_token=session.get("csrf", ""),
        lang=request.get(LANG, "zh"),
        _=request.get(TRANSLATE, _same),
        sentence=lambda english: local_times(
            translate_sentence(request.get(LANG, "zh"), english), str(env.globals["timezone"])
        ),
        flash=message,
        config=request.app[SERVICES].config,
        page_time=request.app[SERVICES].clock(),  # when this page was made
        **context,
    )
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _same(text: str) -> str:
    return text


def translate(request: web.Request, text: str) -> str:
    """``text`` in the request's language."""
    return request.get(TRANSLATE, _same)(text)


def redirect(location: str) -> web.Response:
    """303 See Other: the browser follows with a GET (post/redirect/get)."""
    return web.Response(status=303, headers={"Location": location})


def flash(request: web.Request, message: str, kind: str = "ok") -> None:
    """A one-line message shown on the next page rendered for this session."""
    request[SESSION]["flash"] = {"text": message, "kind": kind}
    auth.mark_dirty(request)


def local_target(value: str, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default`` (no open redirects)."""
    # Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil"), and control
    # characters cannot go into a header at all: refuse any of them.
    if any(ch <= " " or ch == "\x7f" for ch in value):
        return default
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
