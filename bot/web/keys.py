"""The typed keys under which the web application keeps its long-lived parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from jinja2 import Environment

from bot.app import Services
from bot.web.sessions import SessionCodec


class SchedulerView(Protocol):
    """What the admin needs from the scheduler (bot.engine.scheduling.Scheduler)."""

    async def upcoming(self, n: int) -> list[dict[str, Any]]: ...

    async def set_paused(self, name: str, paused: bool) -> None: ...


@dataclass(frozen=True)
class Access:
    """What a route asks of its caller: the least role (None: anyone) and whether an unsafe
    request must carry the CSRF token (off only for the platform's callback)."""

    role: str | None
    csrf: bool = True


SERVICES = web.AppKey("services", Services)
SCHEDULER: web.AppKey[SchedulerView | None] = web.AppKey("scheduler")
TEMPLATES = web.AppKey("templates", Environment)
SESSION_CODEC = web.AppKey("session_codec", SessionCodec)
# (method, canonical path) -> the least role that may call it, or None for a public route
ACCESS: web.AppKey[dict[tuple[str, str], Access]] = web.AppKey("access")
SECURE_COOKIES = web.AppKey("secure_cookies", bool)
