"""The web admin, the JSON API, the platform's callback and /metrics, on aiohttp."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import Services


def build_web_app(services: Services, *, scheduler: Any = None) -> web.Application:
    from bot.web.app import build_web_app as build

    return build(services, scheduler=scheduler)


__all__ = ["build_web_app"]
