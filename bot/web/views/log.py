"""The publish log: filter by account, column, post status and dates; each entry with its
errcode and latency, grouped by post, with a link to the published article."""

from __future__ import annotations

from aiohttp import web

from bot.domain.models import PostStatus
from bot.store import posts as post_store
from bot.web import queries
from bot.web.keys import SERVICES
from bot.web.render import render


async def log_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    entries = await queries.log_entries(services, request.query)
    post_ids = sorted({e.post_id for e in entries if e.post_id is not None})
    async with services.engine.connect() as conn:
        # One read per post shown; the log page holds at most a few hundred.
        posts = {pid: await post_store.get(conn, pid) for pid in post_ids[-300:]}
    return render(
        request,
        "log.html",
        entries=list(reversed(entries)),
        posts=posts,
        filters={
            k: request.query.get(k, "")
            for k in ("account", "column", "status", "since", "until", "post")
        },
        accounts=[a.name for a in services.config.accounts],
        columns=[c.name for c in services.config.columns],
        statuses=[s.value for s in PostStatus],
    )
