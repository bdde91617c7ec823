"""Reading form and JSON values: times, numbers, booleans, id lists."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import UserError
from bot.web import forms

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("2024-05-02T08:00", datetime(2024, 5, 2, 0, 0, tzinfo=UTC)),  # a browser's datetime-local
        ("2024-05-02", datetime(2024, 5, 1, 16, 0, tzinfo=UTC)),  # local midnight
        ("2024-05-02T08:00:00+00:00", datetime(2024, 5, 2, 8, 0, tzinfo=UTC)),
    ],
)
def test_when(text: str, expected: datetime) -> None:
    assert forms.when(text, tz=SHANGHAI, now=NOW) == expected


def test_when_refuses_nonsense_naming_the_value() -> None:
    with pytest.raises(UserError, match="tomorrow-ish"):
        forms.when("tomorrow-ish", tz=SHANGHAI, now=NOW)


def test_integer_boolean_and_strings() -> None:
    assert forms.integer({"n": " 5 "}, "n") == 5
    assert forms.integer({}, "n", default=3) == 3
    with pytest.raises(UserError, match="n: must be between"):
        forms.integer({"n": 50}, "n", high=10)
    with pytest.raises(UserError, match="whole number"):
        forms.integer({"n": True}, "n")
    assert forms.boolean({"b": "on"}, "b") is True
    assert forms.boolean({"b": False}, "b") is False
    with pytest.raises(UserError, match="b: must be true or false"):
        forms.boolean({"b": "maybe"}, "b")
    assert forms.strings({"ids": "a, b;c  d"}, "ids") == ["a", "b", "c", "d"]
    assert forms.strings({"ids": ["x", ""]}, "ids") == ["x"]
    with pytest.raises(UserError, match="list of strings"):
        forms.strings({"ids": [1]}, "ids")
    with pytest.raises(UserError, match="at most 3"):
        forms.text({"t": "long"}, "t", max_len=3)
