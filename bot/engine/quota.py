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
