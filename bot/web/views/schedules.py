"""Schedules: their next fire times and recent slots; pause and resume."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.store import slots as slot_store
from bot.web import queries
from bot.web.keys import SCHEDULER, SERVICES
from bot.web.render import flash, redirect, render, translate

_WEEKDAYS = {"mon-fri", "1-5", "mon,tue,wed,thu,fri"}
_WEEKENDS = {"sat,sun", "sun,sat", "6,0", "0,6", "6-7", "sat-sun"}


def when_in_words(when: str) -> tuple[str, dict[str, str]] | None:
    """A schedule's cron in words, for the common forms (every minute; a time every day, on
    weekdays or at weekends): the English to translate and its fields, or None."""
    if not when.startswith("cron "):
        return None
    fields = when.removeprefix("cron ").split()
    if len(fields) != 5:
        return None
    minute, hour, dom, month, dow = fields
    if fields == ["*"] * 5:
        return "every minute", {}
    if not (minute.isdigit() and hour.isdigit() and dom == "*" and month == "*"):
        return None
    at = f"{int(hour):02d}:{int(minute):02d}"
    if dow == "*":
        return "every day at {at}", {"at": at}
    if dow.lower() in _WEEKDAYS:
        return "on weekdays at {at}", {"at": at}
    if dow.lower() in _WEEKENDS:
        return "at weekends at {at}", {"at": at}
    return None


async def schedules_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    async with services.engine.connect() as conn:
        recent = await slot_store.list_slots(conn, limit=30)
    return render(
        request,
        "schedules.html",
        scheduler_running=request.app[SCHEDULER] is not None,
        schedules=[
            {**item, "words": _words(request, str(item.get("when", "")))}
            for item in await queries.schedules(request.app[SCHEDULER], 5)
        ],
        recent=recent,
    )


def schedule_pause(paused: bool) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        await queries.pause_schedule(request.app[SCHEDULER], request.match_info["name"], paused)
        flash(request, translate(request, "Done."))
        return redirect("/schedules")

    handler.__name__ = "schedule_pause" if paused else "schedule_resume"
    return handler


def _words(request: web.Request, when: str) -> str:
    found = when_in_words(when)
    return translate(request, found[0]).format(**found[1]) if found else ""
