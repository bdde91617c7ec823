"""``GET /metrics`` in the Prometheus text format (0.0.4). It needs a login or an API token
like every other route (any role): a scraper sends ``Authorization: Bearer TOKEN``
(``bearer_token`` / ``authorization`` in its scrape config).

Series: posts by status, API calls by account, endpoint and errcode (from the publish log),
calls used and left today per account and endpoint, whether an account is parked, and the
lateness of each schedule's latest slot."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from bot.domain.models import PostStatus
from bot.store import log as log_store
from bot.store import posts as post_store
from bot.store import slots as slot_store
from bot.web.health import account_health
from bot.web.keys import SERVICES


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _series(name: str, labels: dict[str, object], value: float) -> str:
    inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {value:g}" if inner else f"{name} {value:g}"


def _family(name: str, kind: str, help_text: str, lines: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *lines]


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    async with services.engine.connect() as conn:
        by_status = await post_store.count_by_status(conn)
        calls = await log_store.api_call_counts(conn)
        slots = await slot_store.list_slots(conn, limit=500)
    health = await account_health(services)
    out: list[str] = []
    out += _family(
        "bot_posts",
        "gauge",
        "Posts by status.",
        (_series("bot_posts", {"status": s.value}, by_status.get(s.value, 0)) for s in PostStatus),
    )
    out += _family(
        "bot_api_calls_total",
        "counter",
        "Account API calls by endpoint and errcode.",
        (
            _series(
                "bot_api_calls_total",
                {"account": a, "endpoint": e, "errcode": "none" if c is None else c},
                n,
            )
            for a, e, c, n in calls
        ),
    )
    quota_used, quota_left, parked = [], [], []
    for item in health:
        account = item["account"]
        parked.append(
            _series("bot_account_parked", {"account": account}, 1 if item["parked_until"] else 0)
        )
        for q in item["quota"]:
            labels = {"account": account, "endpoint": q["endpoint"]}
            quota_used.append(_series("bot_quota_used", labels, q["used"]))
            if q["left"] is not None:
                quota_left.append(_series("bot_quota_left", labels, q["left"]))
    out += _family("bot_quota_used", "gauge", "Calls made today (quota day).", quota_used)
    out += _family(
        "bot_quota_left", "gauge", "Calls left today before the daily limit.", quota_left
    )
    out += _family("bot_account_parked", "gauge", "1 while an account is parked (45009).", parked)
    latest: dict[str, float] = {}
    states: dict[str, int] = {}
    for slot in slots:  # newest first
        states[slot.state] = states.get(slot.state, 0) + 1
        if slot.schedule not in latest and slot.opened_at is not None:
            latest[slot.schedule] = (slot.opened_at - slot.fire_at).total_seconds()
    out += _family(
        "bot_slot_lateness_seconds",
        "gauge",
        "How late each schedule's latest slot opened.",
        (
            _series("bot_slot_lateness_seconds", {"schedule": s}, v)
            for s, v in sorted(latest.items())
        ),
    )
    out += _family(
        "bot_recent_slots",
        "gauge",
        "The latest 500 slots by state.",
        (_series("bot_recent_slots", {"state": s}, n) for s, n in sorted(states.items())),
    )
    return web.Response(
        body=("\n".join(out) + "\n").encode("utf-8"),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
