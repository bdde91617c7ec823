"""Quota days and budgets: the platform counts calls per Asia/Shanghai calendar day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUOTA_TZ = ZoneInfo("Asia/Shanghai")


def quota_day(now: datetime) -> date:
    return now.astimezone(QUOTA_TZ).date()


def next_quota_day_start(now: datetime) -> datetime:
    """Midnight Beijing time after ``now``, as an aware datetime."""
    tomorrow = quota_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=QUOTA_TZ)


def poll_delay(polls: int, *, first: float, maximum: float) -> float:
    """Seconds to wait before status poll number ``polls`` (0-based): growing intervals."""
    return min(maximum, first * (2 ** min(polls, 20)))


def poll_budget_left(used: int, daily_limit: int, share: float) -> int:
    """How many more freepublish/get calls polling may make today; the rest of the daily limit
    is left for people and for reconciliation."""
    return max(0, int(daily_limit * share) - used)


def mass_send_window(now: datetime, account_type: str) -> tuple[datetime, datetime, int]:
    """The current mass-send allowance window as (start, end, sends allowed): a subscription
    account may mass-send once a (Beijing) day, a service account 4 times a calendar month."""
    local = now.astimezone(QUOTA_TZ)
    if account_type == "service":
        start = datetime(local.year, local.month, 1, tzinfo=QUOTA_TZ)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        return start, datetime(year, month, 1, tzinfo=QUOTA_TZ), 4
    start = datetime.combine(local.date(), time(0, 0), tzinfo=QUOTA_TZ)
    return start, next_quota_day_start(now), 1
