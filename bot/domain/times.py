"""Reading a time a person typed: the CLI's ``--at`` and the admin's forms take the same
forms. Every date a person gives must lie in ``EARLIEST``..``LATEST``: the service converts
times between zones, and a date at the edge of what Python can hold (year 1 or 9999)
overflows on the way, long after it was stored."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.i18n import text as text_

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


# Words people type for "now" and for days relative to today, in English and Chinese.
NOW_WORDS = frozenset({"now", "现在", "立即", "马上"})
DAY_WORDS = {"today": 0, "今天": 0, "yesterday": -1, "昨天": -1, "tomorrow": 1, "明天": 1}
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?$")
_FORMS = "2024-05-01 08:00, 2024/5/1, 2024年5月1日 8:00, 08:00, today 08:00, now"


def parse_when(text: str, *, tz: ZoneInfo, now: datetime, what: str = "time") -> datetime:
    """A time as people type it; one without an offset is read in ``tz``. Returns aware UTC.

    Accepted: ``now`` (现在); an ISO 8601 date (midnight) or date-time, also with a space
    (a browser's datetime-local too); a date with ``/`` or ``.`` or as ``2024年5月1日``,
    optionally followed by a time; a time alone (``06:15``, today); ``today``, ``yesterday``
    or ``tomorrow`` (今天, 昨天, 明天), optionally followed by a time.
    Raises UserError, also for a date outside ``EARLIEST``..``LATEST``.
    """
    text = text.strip()
    if text.lower() in NOW_WORDS:
        return now
    parsed = _parse_local(text, tz=tz, now=now)
    if parsed is None:
        raise UserError(
            text_("not a date or time: {text} (use {forms})", text=repr(text), forms=_FORMS)
        )
    check_day(parsed.date(), what)
    if parsed.tzinfo is None:
        parsed = _read_in(parsed, tz, text, what)
    return parsed.astimezone(UTC)


def _read_in(naive: datetime, tz: ZoneInfo, text: str, what: str) -> datetime:
    """``naive`` as a wall-clock time in ``tz``. Raises UserError for a time the clocks skip
    (daylight saving starts) or show twice (it ends): which instant was meant is unknown, so
    the person says it with an offset."""
    earlier, later = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    if earlier.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise UserError(
            text_(
                "{what}: {text} does not exist in {zone} (the clocks skip it when daylight "
                "saving starts); give another time or an offset, e.g. {example}",
                what=what,
                text=text,
                zone=tz.key,
                example=naive.isoformat() + _offset(earlier),
            )
        )
    raise UserError(
        text_(
            "{what}: {text} happens twice in {zone} (the clocks go back); say which with an "
            "offset: {first} or {second}",
            what=what,
            text=text,
            zone=tz.key,
            first=naive.isoformat() + _offset(earlier),
            second=naive.isoformat() + _offset(later),
        )
    )


def _offset(moment: datetime) -> str:
    return moment.isoformat()[-6:]


def _parse_local(text: str, *, tz: ZoneInfo, now: datetime) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    head, _, rest = text.replace("T", " ", 1).partition(" ")
    rest = rest.strip()
    today = now.astimezone(tz).date()
    if head.lower() in DAY_WORDS:
        day: date | None = today + timedelta(days=DAY_WORDS[head.lower()])
    elif _CLOCK.match(head) and not rest:
        day, rest = today, head
    else:
        found = _DAY.match(head)
        day = _date(*found.groups()) if found else None
    if day is None:
        return None
    if not rest:
        return datetime(day.year, day.month, day.day)
    clock = _CLOCK.match(rest.replace("点", ":00") if rest.endswith("点") else rest)
    if clock is None:
        return None
    hour, minute, second = (int(g) if g else 0 for g in clock.groups())
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime(day.year, day.month, day.day, hour, minute, second)


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
