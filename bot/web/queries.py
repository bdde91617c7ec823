"""What pages and the JSON API both read, with the same filters: posts, the catalogue, the
publish log, schedules and reports. Each takes the caller's values (form, query or JSON),
checks them and asks the store or the engine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Services
from bot.domain.errors import NotFoundError, UserError
from bot.domain.models import LogEntry, Post, PostStatus, Resource
from bot.engine.turns import BusyError, Turns, owned_by
from bot.i18n import Text
from bot.store import catalogue as catalogue_store
from bot.store import log as log_store
from bot.store import posts as post_store
from bot.store.budget import OverBudgetError
from bot.web import forms
from bot.web.keys import SchedulerView

PAGE_SIZE = 50


def report_tz(services: Services) -> ZoneInfo:
    return ZoneInfo(services.config.report_timezone)


def _status(value: str) -> PostStatus | None:
    if not value:
        return None
    try:
        return PostStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in PostStatus)
        raise UserError(f"status: {value!r} is not one of {known}") from None


async def posts(services: Services, values: Mapping[str, Any]) -> list[Post]:
    status = _status(forms.text(values, "status", max_len=20))
    attention = values.get("needs_attention")
    limit = forms.integer(values, "limit", default=200, low=1, high=1000) or 200
    offset = forms.integer(values, "offset", default=0, low=0, high=10_000_000) or 0
    async with services.engine.connect() as conn:
        return await post_store.list_posts(
            conn,
            statuses=[status] if status else None,
            column=forms.text(values, "column", max_len=100) or None,
            account=forms.text(values, "account", max_len=100) or None,
            needs_attention=forms.boolean(values, "needs_attention") if attention else None,
            limit=limit,
            offset=offset,
        )


# A search term's length multiplies the cost of LIKE on each value it is compared with (a
# repetitive summary costs about its length times the term's); people search for a name or
# a word or two, and a title is at most 200 characters (security review, N5).
SEARCH_CHARS = 50
# How long one catalogue read may take before the database stops it. On SQLite a search of
# 100,000 resources of varied text at the field limits, for a word found nowhere (every row
# read), took 0.7 s (0.9 s at worst; 0.15 s with a kind chosen), and the same rows of one
# repeated character 65 s (python -m tests.bench.catalogue_search). 2 s leaves ordinary
# searches twice their time on a busy machine and stops only text built to be slow or a
# catalogue too large to search without a kind; four searches at once then hold connections
# for 2 s at most, so drafting and publishing never wait behind them for long.
SEARCH_SECONDS = 2.0


async def catalogue(services: Services, values: Mapping[str, Any], *, owner: str) -> list[Resource]:
    """One page of the catalogue (``kind``, ``q``, ``limit``, ``offset``), read as ``owner``'s
    search: one of theirs at a time. Raises UserError, SearchesBusyError (429) and
    SearchTooSlowError (422)."""
    kind = forms.text(values, "kind", max_len=40)
    if kind and kind not in services.config.kinds:
        raise UserError(f"kind: {kind!r} is not one of {', '.join(services.config.kinds)}")
    term = forms.text(values, "q").strip()
    if len(term) > SEARCH_CHARS:
        message = "a search may be at most {n} characters long; shorten it"
        raise UserError(Text(message, {"n": SEARCH_CHARS}), n=SEARCH_CHARS)
    limit = forms.integer(values, "limit", default=PAGE_SIZE, low=1, high=1000) or PAGE_SIZE
    offset = forms.integer(values, "offset", default=0, low=0, high=10_000_000) or 0
    # A search or a far page reads through the catalogue (a scan each): 200 at once over
    # 400,000 resources held every pooled connection while a "draft now" waited 20 s
    # (security re-check 4, F3). Waiting for a turn holds no connection; a person waits for
    # no one's turn but their own, and no read runs past SEARCH_SECONDS (security review, N5).
    with owned_by(owner):
        async with CATALOGUE_READS.taken():
            try:
                return await catalogue_store.search_resources(
                    services.engine,
                    seconds=SEARCH_SECONDS,
                    kinds=[kind] if kind else [],
                    search=term,
                    limit=limit,
                    offset=offset,
                )
            except OverBudgetError as over:
                raise SearchTooSlowError(over.seconds) from None


class SearchesBusyError(BusyError):
    """Too many catalogue searches at once, or this person's previous one still runs."""

    sentence = "too many catalogue searches at once; try again in a moment"
    own_sentence = "your previous search is still running; try again when it is done"


class SearchTooSlowError(UserError):
    """A catalogue read ran past its time and was stopped."""

    http_status = 422

    def __init__(self, seconds: float) -> None:
        super().__init__(
            Text(
                "the catalogue search was stopped after {seconds} s; "
                "choose a kind to narrow it, or try other words",
                {"seconds": f"{seconds:g}"},
            ),
            seconds=seconds,
        )


CATALOGUE_READS = Turns(4, 32, SearchesBusyError)


def _bound(
    values: Mapping[str, Any], name: str, tz: ZoneInfo, now: datetime, *, end: bool
) -> datetime | None:
    """A date means its whole local day (the start, or the end for ``until``)."""
    raw = forms.text(values, name, max_len=40).strip()
    if not raw:
        return None
    if len(raw) == 10:
        day = forms.day(raw, name)
        moment = datetime.combine(day, time(0, 0), tzinfo=tz)
        return (
            moment + timedelta(days=1) - timedelta(microseconds=1) if end else moment
        ).astimezone(UTC)
    return forms.when(raw, tz=tz, now=now, name=name)


async def log_entries(services: Services, values: Mapping[str, Any]) -> list[LogEntry]:
    tz = report_tz(services)
    now = services.clock()
    post_id = forms.integer(values, "post", low=1, high=2**31)
    status = _status(forms.text(values, "status", max_len=20))
    limit = forms.integer(values, "limit", default=500, low=1, high=5000) or 500
    async with services.engine.connect() as conn:
        return await log_store.list_entries(
            conn,
            since=_bound(values, "since", tz, now, end=False),
            until=_bound(values, "until", tz, now, end=True),
            post_ids=[post_id] if post_id else None,
            account=forms.text(values, "account", max_len=100) or None,
            column=forms.text(values, "column", max_len=100) or None,
            post_status=status.value if status else None,
            limit=limit,
        )


async def schedules(scheduler: SchedulerView | None, n: int = 5) -> list[dict[str, Any]]:
    return await scheduler.upcoming(n) if scheduler is not None else []


async def pause_schedule(scheduler: SchedulerView | None, name: str, paused: bool) -> None:
    """Raises NotFoundError for an unknown schedule (or when no scheduler is configured)."""
    if scheduler is None:
        raise NotFoundError(f"no schedule named {name!r}: no scheduler in this process")
    await scheduler.set_paused(name, paused)


def period_values(values: Mapping[str, Any]) -> dict[str, str | None]:
    return {
        "from_": forms.text(values, "from", max_len=20).strip() or None,
        "to": forms.text(values, "to", max_len=20).strip() or None,
        "period": forms.text(values, "period", max_len=100).strip() or None,
    }


class ReportsBusyError(BusyError):
    """Too many reports at once, or this person's previous one is still being made."""

    sentence = "too many reports are being made; try again in a moment"
    own_sentence = "your previous report is still being made; try again when it is done"


# A report of ten years over a hundred accounts reads every post and log entry of its period
# and counts them in the shared worker pool: two are made at once, a few wait, one of a
# person's at a time, so one person's reports cannot fill the pool (security re-checks, L2).
REPORTS = Turns(2, 8, ReportsBusyError)


@contextlib.asynccontextmanager
async def report_turn(person: str) -> AsyncIterator[None]:
    """``person``'s turn at making a report (``REPORTS``); raises ReportsBusyError."""
    with owned_by(person):
        async with REPORTS.taken():
            yield


async def report(services: Services, values: Mapping[str, Any]) -> Any:
    """The engine's Report for the values' period (``from``/``to`` or ``period``), ``column``
    and ``timezone``. Raises UserError."""
    from bot.engine.reporting import build_report, resolve_period

    period = resolve_period(services.config, **period_values(values))
    column = forms.text(values, "column", max_len=100) or None
    if column:
        services.config.column(column)
    timezone = forms.text(values, "timezone", max_len=64) or None
    return await build_report(
        services.engine, services.config, period, column=column, timezone=timezone
    )


async def weekly(services: Services, report_value: Any) -> list[dict[str, Any]]:
    from bot.engine.reporting import posts_per_week

    return await posts_per_week(services.engine, report_value.period, report_value.timezone)
