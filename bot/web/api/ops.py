"""/api/log, /api/report, /api/schedules, /api/accounts and /api/me."""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.engine import offload
from bot.shapes import log_json
from bot.store.posts import person
from bot.web import auth, queries
from bot.web.health import account_health, health_json
from bot.web.keys import SCHEDULER, SERVICES


async def log(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    entries = await queries.log_entries(services, request.query)
    return web.json_response([log_json(e, services.config) for e in entries])


async def report(request: web.Request) -> web.Response:
    from bot.engine.reporting import report_to_dict

    services = request.app[SERVICES]
    async with queries.report_turn(person(auth.actor(request))):
        value = await queries.report(services, request.query)
        shape = report_to_dict(value)
        shape["posts_per_week"] = await queries.weekly(services, value)
        body = await offload.run(json.dumps, shape, ensure_ascii=False)
    return web.Response(text=body, content_type="application/json")


async def schedules(request: web.Request) -> web.Response:
    items = await queries.schedules(request.app[SCHEDULER], 5)
    return web.json_response(
        [{**item, "next": [t.isoformat() for t in item.get("next", [])]} for item in items]
    )


def pause(paused: bool) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        await queries.pause_schedule(request.app[SCHEDULER], name, paused)
        return web.json_response({"schedule": name, "paused": paused})

    handler.__name__ = "api_schedule_pause" if paused else "api_schedule_resume"
    return handler


async def accounts(request: web.Request) -> web.Response:
    items = await account_health(request.app[SERVICES])
    return web.json_response([health_json(i) for i in items])


async def me(request: web.Request) -> web.Response:
    ident = auth.identity(request)
    return web.json_response({"name": ident.user.name, "role": ident.user.role, "via": ident.via})
