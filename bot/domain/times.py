"""Reading a time a person typed: the CLI's ``--at`` and the admin's forms take the same
forms."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError


def parse_when(text: str, *, tz: ZoneInfo, now: datetime) -> datetime:
    """'now', an ISO 8601 date (midnight) or date-time (a browser's datetime-local too); a
    time without an offset is read in ``tz``. Returns aware UTC. Raises UserError."""
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
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)
