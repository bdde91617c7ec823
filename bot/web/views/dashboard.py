"""The dashboard: today's slots and what comes next, the queue, each account's health, and the
posts that need a person."""

from __future__ import annotations

from datetime import UTC, datetime, time

from aiohttp import web

from bot.domain.models import PostStatus
from bot.store import posts as post_store
from bot.store import slots as slot_store
from bot.web import queries
from bot.web.health import account_health
from bot.web.keys import SCHEDULER, SERVICES
from bot.web.render import render

SCARCE = 100  # endpoints whose daily limit is this small are always shown


async def dashboard(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    tz = queries.report_tz(services)
    now = services.clock()
    midnight = datetime.combine(now.astimezone(tz).date(), time(0, 0), tzinfo=tz).astimezone(UTC)
    async with services.engine.connect() as conn:
        slots = await slot_store.list_slots(conn, since=midnight, limit=100)
        counts = await post_store.count_by_status(conn)
        attention = await post_store.list_posts(conn, needs_attention=True, limit=50)
        failed = await post_store.list_posts(conn, statuses=[PostStatus.FAILED], limit=50)
        in_review = await post_store.list_posts(conn, statuses=[PostStatus.REVIEW], limit=50)
    upcoming = await queries.schedules(request.app[SCHEDULER], 3)
    health = await account_health(services)
    for item in health:
        item["quota"] = [
            q for q in item["quota"] if q["used"] or (q["limit"] or SCARCE + 1) <= SCARCE
        ]
    return render(
        request,
        "dashboard.html",
        slots=sorted(slots, key=lambda s: s.fire_at),
        upcoming=upcoming,
        counts=counts,
        health=health,
        attention=attention + [p for p in failed if not p.needs_attention],
        in_review=in_review,
        now=now,
    )
