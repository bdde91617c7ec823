"""Times people type (the CLI's --at, the admin's forms) across daylight-saving edges: a
wall-clock time that does not exist, or exists twice, in the zone is refused with one line
saying why and how to give it; every other time is read in the zone with its offset of that
day; a time with an offset is taken as written."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import UserError
from bot.domain.times import parse_when

NOW = datetime(2024, 1, 1, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "tz", "expected"),
    [
        # Either side of New York's spring-forward (2024-03-10 02:00 EST -> 03:00 EDT).
        ("2024-03-10T01:59", NEW_YORK, "2024-03-10T06:59"),
        ("2024-03-10T03:00", NEW_YORK, "2024-03-10T07:00"),
        ("2024-03-09T08:00", NEW_YORK, "2024-03-09T13:00"),
        ("2024-03-11T08:00", NEW_YORK, "2024-03-11T12:00"),
        # Either side of its fall-back (2024-11-03 02:00 EDT -> 01:00 EST).
        ("2024-11-03T00:59", NEW_YORK, "2024-11-03T04:59"),
        ("2024-11-03T02:00", NEW_YORK, "2024-11-03T07:00"),
        # Berlin: spring 2024-03-31 02:00 -> 03:00, autumn 2024-10-27 03:00 -> 02:00.
        ("2024-03-31T03:30", BERLIN, "2024-03-31T01:30"),
        ("2024-10-27T03:30", BERLIN, "2024-10-27T02:30"),
        # A zone without daylight saving, and a date alone (midnight).
        ("2024-03-10T02:30", SHANGHAI, "2024-03-09T18:30"),
        ("2024-03-10", NEW_YORK, "2024-03-10T05:00"),
    ],
)
def test_a_time_is_read_with_its_zones_offset_of_that_day(
    typed: str, tz: ZoneInfo, expected: str
) -> None:
    assert parse_when(typed, tz=tz, now=NOW) == utc(expected)


@pytest.mark.parametrize(
    ("typed", "tz", "offset"),
    [
        ("2024-03-10T02:30", NEW_YORK, "-05:00"),
        ("2024-03-10T02:00", NEW_YORK, "-05:00"),
        ("2024-03-31T02:15", BERLIN, "+01:00"),
    ],
)
def test_a_time_the_clocks_skip_is_refused(typed: str, tz: ZoneInfo, offset: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(typed, tz=tz, now=NOW, what="--at")
    message = str(caught.value)
    assert message.startswith(f"--at: {typed} does not exist in {tz.key}")
    assert "daylight saving" in message and f"{typed}:00{offset}" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("typed", "tz", "first", "second"),
    [
        ("2024-11-03T01:30", NEW_YORK, "-04:00", "-05:00"),
        ("2024-10-27T02:30", BERLIN, "+02:00", "+01:00"),
    ],
)
def test_a_time_the_clocks_show_twice_is_refused_naming_both(
    typed: str, tz: ZoneInfo, first: str, second: str
) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(typed, tz=tz, now=NOW, what="scheduled_for")
    message = str(caught.value)
    assert message.startswith(f"scheduled_for: {typed} happens twice in {tz.key}")
    assert f"{typed}:00{first} or {typed}:00{second}" in message
    # Either instant, given with its offset, is taken as written.
    assert parse_when(f"{typed}{first}", tz=tz, now=NOW) < parse_when(
        f"{typed}{second}", tz=tz, now=NOW
    )


def test_an_offset_overrides_the_zone_even_inside_a_gap() -> None:
    assert parse_when("2024-03-10T02:30-05:00", tz=NEW_YORK, now=NOW) == utc("2024-03-10T07:30")
