"""Daily quotas per endpoint (45009, counted per Asia/Shanghai calendar day) and the per-minute
limit (45011), as the platform keeps them (wechat-api.md §8)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.account.simulator.errors import ApiFault

QUOTA_TZ = ZoneInfo("Asia/Shanghai")
CLEAR_QUOTA_PER_MONTH = 10


def quota_day(now: float) -> date:
    """The platform's quota day: the calendar day in Beijing time."""
    return datetime.fromtimestamp(now, UTC).astimezone(QUOTA_TZ).date()


class QuotaBook:
    def __init__(
        self, daily_limit: Callable[[str], int | None], minute_limit: Callable[[str], int]
    ) -> None:
        self._daily_limit = daily_limit
        self._minute_limit = minute_limit
        self._day: date | None = None
        self._used: Counter[str] = Counter()
        self._minute: int | None = None
        self._this_minute: Counter[str] = Counter()
        self._clears: Counter[tuple[int, int]] = Counter()  # (year, month) -> clear_quota uses

    def _roll(self, now: float) -> None:
        day = quota_day(now)
        if day != self._day:
            self._day, self._used = day, Counter()
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._this_minute = minute, Counter()

    def admit(self, path: str, now: float) -> None:
        """Count one call of ``path``; raises ApiFault 45009 when today's quota is used up or
        45011 when this minute's limit is reached (the refused call is not counted)."""
        self._roll(now)
        limit = self._daily_limit(path)
        if limit is not None and self._used[path] >= limit:
            raise ApiFault(45009)
        if self._this_minute[path] >= self._minute_limit(path):
            raise ApiFault(45011)
        self._used[path] += 1
        self._this_minute[path] += 1

    def info(self, path: str, now: float) -> dict[str, object]:
        """The answer of openapi/quota/get for ``path``."""
        self._roll(now)
        limit = self._daily_limit(path)
        used = self._used[path]
        return {
            "quota": {
                "daily_limit": limit or 0,
                "used": used,
                "remain": max(0, (limit or 0) - used),
            },
        }

    def clear(self, now: float) -> None:
        """clear_quota: today's counters start again; 10 per month (48006 beyond)."""
        day = quota_day(now)
        month = (day.year, day.month)
        if self._clears[month] >= CLEAR_QUOTA_PER_MONTH:
            raise ApiFault(48006)
        self._clears[month] += 1
        self._used = Counter()

    def used(self, now: float) -> dict[str, int]:
        self._roll(now)
        return dict(sorted(self._used.items()))
