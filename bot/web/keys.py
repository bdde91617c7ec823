"""The typed keys under which the web application keeps its long-lived parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from jinja2 import Environment

from bot.app import Services
from bot.store.users import User
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


ROLE_RANK = {"editor": 1, "reviewer": 2, "admin": 3}


@dataclass(frozen=True)
class Identity:
    """The caller: a user, by session cookie or by API token."""

    user: User
    via: str  # "session" or "token"

    def may(self, role: str) -> bool:
        return ROLE_RANK.get(self.user.role, 0) >= ROLE_RANK[role]


SERVICES = web.AppKey("services", Services)
SCHEDULER: web.AppKey[SchedulerView | None] = web.AppKey("scheduler")
TEMPLATES = web.AppKey("templates", Environment)
SESSION_CODEC = web.AppKey("session_codec", SessionCodec)
# (method, canonical path) -> the least role that may call it, or None for a public route
ACCESS: web.AppKey[dict[tuple[str, str], Access]] = web.AppKey("access")
SECURE_COOKIES = web.AppKey("secure_cookies", bool)

# per request
LANG = web.RequestKey("lang", str)
TRANSLATE: web.RequestKey[Callable[[str], str]] = web.RequestKey("translate")
SESSION: web.RequestKey[dict[str, Any]] = web.RequestKey("session")
SESSION_DIRTY = web.RequestKey("session_dirty", bool)
IDENTITY: web.RequestKey[Identity | None] = web.RequestKey("identity")
