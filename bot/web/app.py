"""The web application's composition: routes, middlewares (security headers, errors,
language, auth), templates, the session codec, static files and the scheduler the schedule
pages talk to."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from bot.app import Services
from bot.web.auth import auth_middleware
from bot.web.errors import error_middleware
from bot.web.i18n import language_middleware
from bot.web.keys import (
    ACCESS,
    SCHEDULER,
    SECURE_COOKIES,
    SERVICES,
    SESSION_CODEC,
    TEMPLATES,
    Access,
    SchedulerView,
)
from bot.web.limits import MAX_UPLOAD, limit_body
from bot.web.render import build_environment
from bot.web.routes import ROUTES
from bot.web.security import hide_server, security_headers
from bot.web.sessions import SessionCodec

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


def build_web_app(services: Services, *, scheduler: SchedulerView | None = None) -> web.Application:
    """The admin + JSON API + callback application over ``services``. Without ``scheduler``
    one is made from the schedules directory (for listing and pausing; it does not run)."""
    config = services.config
    app = web.Application(
        client_max_size=MAX_UPLOAD,
        middlewares=[
            security_headers,
            language_middleware(config.web.language),
            error_middleware,
            limit_body,
            auth_middleware,
        ],
    )
    app.on_response_prepare.append(hide_server)
    app.on_cleanup.append(_settle_background_writes)
    app[SERVICES] = services
    app[SCHEDULER] = scheduler if scheduler is not None else _default_scheduler(services)
    app[TEMPLATES] = build_environment(config.report_timezone)
    session_key = config.web.session_key.value if config.web.session_key else None
    if session_key is None:
        logger.warning("no [web] session_key: sessions end when this process stops")
    app[SESSION_CODEC] = SessionCodec(session_key)
    app[SECURE_COOKIES] = config.web.base_url.startswith("https://")
    access: dict[tuple[str, str], Access] = {}
    for route in ROUTES:
        added = app.router.add_route(route.method, route.path, route.handler)
        canonical = added.resource.canonical if added.resource else route.path
        access[(route.method, canonical)] = route.access
    static = app.router.add_static("/static/", STATIC_DIR)
    access[("GET", static.canonical)] = Access(None)
    app[ACCESS] = access
    return app


async def _settle_background_writes(_app: web.Application) -> None:
    """API tokens' uses recorded in the background finish before the database closes."""
    from bot.web.users import settle_touches

    await settle_touches()


def _default_scheduler(services: Services) -> SchedulerView | None:
    try:
        from bot.engine.schedules import load_schedules
        from bot.engine.scheduling import Scheduler

        specs = load_schedules(services.config)
    except Exception as exc:  # no schedules is a valid setup; say why the page is empty
        logger.warning("schedules unavailable in the admin: %s", exc)
        return None
    return Scheduler(
        services.engine,
        services.config,
        specs,
        services.clock,
        services.drafting,
        services.worker.wake.set,
    )
