"""Times as people type them (``bot log --since 06:15``, ``--at "明天 8:00"``, the forms)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import UserError
from bot.domain.times import parse_when

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # 07:00 on 30 November in Beijing


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("now", "2026-11-30 07:00"),
        ("现在", "2026-11-30 07:00"),
        ("06:15", "2026-11-30 06:15"),
        ("6：15", "2026-11-30 06:15"),
        ("today 08:00", "2026-11-30 08:00"),
        ("明天 8:00", "2026-12-01 08:00"),
        ("yesterday", "2026-11-29 00:00"),
        ("2026/12/1", "2026-12-01 00:00"),
        ("2026.12.01 20:30", "2026-12-01 20:30"),
        ("2026年12月1日 8点", "2026-12-01 08:00"),
        ("2026-12-01 08:00", "2026-12-01 08:00"),
        ("2026-12-01T08:00", "2026-12-01 08:00"),
        ("2026-12-01T00:00+00:00", "2026-12-01 08:00"),
    ],
)
def test_times_people_type(typed: str, local: str) -> None:
    found = parse_when(typed, tz=TZ, now=NOW).astimezone(TZ)
    assert found.strftime("%Y-%m-%d %H:%M") == local


@pytest.mark.parametrize("typed", ["someday", "25:00", "2026-02-30", "明天 下午", "", "1999/1/1"])
def test_other_text_is_one_clear_line(typed: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(typed, tz=TZ, now=NOW)
    assert "\n" not in str(caught.value)
    assert "不是日期或时间" in caught.value.in_language("zh") or "1999" in str(caught.value)
