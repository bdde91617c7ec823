"""Reading a time a person typed: the CLI's ``--at`` and the admin's forms take the same
forms. Every date a person gives must lie in ``EARLIEST``..``LATEST``: the service converts
times between zones, and a date at the edge of what Python can hold (year 1 or 9999)
overflows on the way, long after it was stored."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def check_day(day: date, what: str) -> date:
    """``day`` if it lies in ``EARLIEST``..``LATEST``. Raises UserError naming ``what``."""
    if not EARLIEST <= day <= LATEST:
        raise UserError(
            f"{what}: {day.isoformat()} is outside the dates this service accepts "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()})"
        )
    return day


def parse_when(text: str, *, tz: ZoneInfo, now: datetime, what: str = "time") -> datetime:
    """'now', an ISO 8601 date (midnight) or date-time (a browser's datetime-local too); a
    time without an offset is read in ``tz``. Returns aware UTC. Raises UserError, also for a
    date outside ``EARLIEST``..``LATEST``."""
    text = text.strip()
    if text.lower() == "now":
        return now
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise UserError(
                f"not an ISO 8601 date or time: {text!r} (use 2024-05-01T08:00)"
            ) from None
        parsed = datetime(day.year, day.month, day.day)
    check_day(parsed.date(), what)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)
