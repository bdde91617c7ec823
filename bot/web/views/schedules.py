"""Schedules: their next fire times and recent slots; pause and resume."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.store import slots as slot_store
from bot.web import queries
from bot.web.keys import SCHEDULER, SERVICES
from bot.web.render import flash, redirect, render, translate


async def schedules_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    async with services.engine.connect() as conn:
        recent = await slot_store.list_slots(conn, limit=30)
    return render(
        request,
        "schedules.html",
        scheduler_running=request.app[SCHEDULER] is not None,
        schedules=await queries.schedules(request.app[SCHEDULER], 5),
        recent=recent,
    )


def schedule_pause(paused: bool) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        await queries.pause_schedule(request.app[SCHEDULER], request.match_info["name"], paused)
        flash(request, translate(request, "Done."))
        return redirect("/schedules")

    handler.__name__ = "schedule_pause" if paused else "schedule_resume"
    return handler
