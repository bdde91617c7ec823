"""Reading schedule files and computing fire times, across time zones and DST changes."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import AccountConfig, ColumnConfig, Config, Secret
from bot.domain.errors import ConfigError
from bot.engine.schedules import (
    ScheduleSpec,
    WhenQueueEmpty,
    fire_times_between,
    is_blackout,
    load_schedules,
    next_fire_times,
    parse_schedules,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_config(schedules_dir: Path = Path("/nonexistent"), grace: int = 600) -> Config:
    return Config(
        path=None,
        database_url="sqlite+aiosqlite:///:memory:",
        accounts=(
            AccountConfig("main", "wx1", Secret("s")),
            AccountConfig("ny", "wx2", Secret("s"), timezone="America/New_York"),
        ),
        columns=(ColumnConfig("学习平台", "main"), ColumnConfig("news", "ny")),
        schedules_dir=schedules_dir,
        misfire_grace_seconds=grace,
    )


def parse(text: str, config: Config | None = None) -> list[ScheduleSpec]:
    return parse_schedules(tomllib.loads(text), config or make_config(), source="s.toml")


def spec(cron: str = "", tz: str = "UTC", **fields: Any) -> ScheduleSpec:
    return ScheduleSpec(
        name="t", column="学习平台", timezone=tz, grace_seconds=600, cron=cron, **fields
    )


def local_day(zone: ZoneInfo, day: str) -> tuple[datetime, datetime]:
    """The instants just before the local day starts and at its last moment."""
    start = datetime.fromisoformat(day).replace(tzinfo=zone)
    end = (start + timedelta(days=1)).replace(tzinfo=zone)
    return start - timedelta(microseconds=1), end - timedelta(microseconds=1)


def fires_on(s: ScheduleSpec, zone: ZoneInfo, day: str) -> list[datetime]:
    return fire_times_between(s, *local_day(zone, day))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- reading --------------------------------------------------------------------------------


def test_a_minimal_schedule_takes_its_defaults_from_the_config() -> None:
    [s] = parse('[[schedule]]\nname = "m"\ncolumn = "学习平台"\ncron = "0 8 * * mon-fri"\n')
    assert s.timezone == "Asia/Shanghai"  # the column's account's
    assert (s.posts_per_slot, s.when_queue_empty, s.paused) == (1, WhenQueueEmpty.SKIP, False)
    assert s.grace_seconds == 600 and s.blackout_dates == frozenset()
    assert s.describe() == "cron 0 8 * * mon-fri"


def test_every_key_is_read() -> None:
    [s] = parse(
        """
        [[schedule]]
        name = "noon"
        column = "news"
        times = ["12:30", "08:00", "08:00"]
        days = ["FRI", "mon"]
        posts_per_slot = 2
        when_queue_empty = "draft"
        blackout_dates = [2024-10-01, "2024-10-02"]
        paused = true
        grace_seconds = 30
        """
    )
    assert s.timezone == "America/New_York"
    assert s.times == (time(8, 0), time(12, 30))
    assert s.days == ("mon", "fri")
    assert s.posts_per_slot == 2 and s.when_queue_empty is WhenQueueEmpty.DRAFT
    assert s.blackout_dates == {date(2024, 10, 1), date(2024, 10, 2)}
    assert s.paused is True and s.grace_seconds == 30
    assert s.describe() == "08:00, 12:30 on mon, fri"


def test_load_reads_every_file_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text(
        '[[schedule]]\nname = "b"\ncolumn = "news"\ntimes = ["09:00"]\n', encoding="utf-8"
    )
    (tmp_path / "a.toml").write_text(
        '[[schedule]]\nname = "a1"\ncolumn = "学习平台"\ncron = "0 8 * * *"\n'
        '[[schedule]]\nname = "a2"\ncolumn = "学习平台"\ncron = "0 9 * * *"\n',
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("not a schedule", encoding="utf-8")
    specs = load_schedules(make_config(tmp_path))
    assert [s.name for s in specs] == ["a1", "a2", "b"]
    assert specs[2].source.endswith("b.toml")


def test_a_missing_directory_means_no_schedules(tmp_path: Path) -> None:
    assert load_schedules(make_config(tmp_path / "absent")) == []


def test_a_name_used_in_two_files_names_both(tmp_path: Path) -> None:
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text(
            '[[schedule]]\nname = "same"\ncolumn = "news"\ncron = "0 8 * * *"\n', encoding="utf-8"
        )
    with pytest.raises(ConfigError) as caught:
        load_schedules(make_config(tmp_path))
    message = str(caught.value)
    assert "b.toml" in message and "a.toml" in message and "'same'" in message
    assert "name: duplicate" in message


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[[schedule]\nname =", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_schedules(make_config(tmp_path))


def test_the_project_example_schedule_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "schedules" / "weekday-morning.toml").read_text(encoding="utf-8")
    [s] = parse(text)
    assert (s.name, s.column, s.cron, s.timezone) == (
        "weekday-morning",
        "学习平台",
        "0 8 * * mon-fri",
        "Asia/Shanghai",
    )
    monday = next_fire_times(s, utc("2025-09-28T12:00:00"), 1)  # a Sunday in Beijing
    assert monday == [utc("2025-09-29T00:00:00")]


BASE = '[[schedule]]\nname = "bad"\ncolumn = "学习平台"\n'

BAD_SCHEDULES = [
    (BASE + 'cron = "0 8 * * *"\ncolour = "red"\n', "colour: unknown key"),
    ('[[schedule]]\ncolumn = "学习平台"\ncron = "0 8 * * *"\n', "name: is required"),
    ('[[schedule]]\nname = ""\ncolumn = "学习平台"\ncron = "0 8 * * *"\n', "name: must be"),
    ('[[schedule]]\nname = "bad"\ncolumn = "nope"\ncron = "0 8 * * *"\n', "column: no column"),
    ('[[schedule]]\nname = "bad"\ncron = "0 8 * * *"\n', "column: is required"),
    (BASE + 'cron = "0 8 * *"\n', "cron: bad expression"),
    (BASE + 'cron = "61 8 * * *"\n', "cron: bad expression"),
    (BASE + 'cron = "0 8 * * funday"\n', "cron: bad expression"),
    (BASE + 'cron = "0 8 * * 8"\n', "cron: bad expression"),
    (BASE + 'cron = "0 8 1 * mon"\n', "restricts both day of month and day of week"),
    (BASE + 'cron = "0 8 31 2 *"\n', "never fires"),
    (BASE + "cron = 8\n", "cron: must be a string"),
    (BASE + 'cron = "0 8 * * *"\ntimes = ["08:00"]\n', "cron: give cron or times, not both"),
    (BASE, "cron: one of cron or times is required"),
    (BASE + 'times = ["25:00"]\n', "times: '25:00' is not a time of day"),
    (BASE + 'times = ["8am"]\n', "times: '8am' is not a time of day"),
    (BASE + "times = []\n", "times: must be a non-empty list"),
    (BASE + 'times = ["08:00"]\ndays = ["funday"]\n', "days: 'funday' is not a weekday"),
    (BASE + 'cron = "0 8 * * *"\ndays = ["mon"]\n', "days: goes with times only"),
    (BASE + 'cron = "0 8 * * *"\ntimezone = "Mars/Olympus"\n', "timezone: unknown timezone"),
    (BASE + 'cron = "0 8 * * *"\nposts_per_slot = 0\n', "posts_per_slot: must be a whole number"),
    (BASE + 'cron = "0 8 * * *"\nposts_per_slot = true\n', "posts_per_slot: must be a whole"),
    (BASE + 'cron = "0 8 * * *"\nwhen_queue_empty = "wait"\n', "when_queue_empty: must be"),
    (BASE + 'cron = "0 8 * * *"\nblackout_dates = ["2024-13-01"]\n', "blackout_dates: '2024-13"),
    (BASE + 'cron = "0 8 * * *"\nblackout_dates = [2024-10-01T08:00:00]\n', "blackout_dates:"),
    (BASE + 'cron = "0 8 * * *"\npaused = "yes"\n', "paused: must be true or false"),
    (BASE + 'cron = "0 8 * * *"\ngrace_seconds = -5\n', "grace_seconds: must be a whole"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_SCHEDULES)
def test_a_bad_schedule_is_refused_in_one_line_naming_file_schedule_and_key(
    text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("s.toml: schedule[0]")
    assert expected in message


def test_a_bad_second_schedule_is_named_by_index_and_name() -> None:
    good = '[[schedule]]\nname = "ok"\ncolumn = "news"\ncron = "0 8 * * *"\n'
    bad = '[[schedule]]\nname = "late"\ncolumn = "news"\ncron = "0 25 * * *"\n'
    with pytest.raises(ConfigError, match=r"^s\.toml: schedule\[1\] \(late\): cron: "):
        parse(good + bad)


def test_a_duplicate_name_in_one_file_is_refused() -> None:
    one = '[[schedule]]\nname = "twice"\ncolumn = "news"\ncron = "0 8 * * *"\n'
    with pytest.raises(ConfigError, match="name: duplicate, already used in this file"):
        parse(one + one)


@pytest.mark.parametrize(
    "text",
    ['schedule = "daily"\n', 'title = "x"\n[[schedule]]\nname = "a"\n'],
)
def test_a_file_must_hold_schedule_tables(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^s\.toml: (schedule|title): "):
        parse(text)


# --- fire times -----------------------------------------------------------------------------


def test_fire_times_are_aware_utc_with_start_excluded_and_end_included() -> None:
    s = spec("*/15 * * * *")
    found = fire_times_between(s, utc("2024-05-01T10:00:00"), utc("2024-05-01T10:45:00"))
    assert found == [
        utc("2024-05-01T10:15:00"),
        utc("2024-05-01T10:30:00"),
        utc("2024-05-01T10:45:00"),
    ]
    assert all(t.tzinfo is UTC for t in found)
    assert next_fire_times(s, utc("2024-05-01T10:15:00"), 2) == found[1:]
    assert next_fire_times(s, utc("2024-05-01T10:15:00"), 0) == []


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_fire_times(spec("* * * * *"), datetime(2024, 1, 1), 1)


def test_shanghai_weekday_mornings_are_midnight_utc_all_year() -> None:
    s = spec("0 8 * * mon-fri", "Asia/Shanghai")
    # A week in March and one in November, when other zones change their clocks.
    for monday in ("2024-03-11", "2024-11-04"):
        start = datetime.fromisoformat(monday).replace(tzinfo=SHANGHAI)
        week = fire_times_between(s, start, start + timedelta(days=7))
        assert len(week) == 5
        assert all((t.hour, t.minute) == (0, 0) for t in week)
        assert [t.astimezone(SHANGHAI).strftime("%a") for t in week] == [
            "Mon",
            "Tue",
            "Wed",
            "Thu",
            "Fri",
        ]


@pytest.mark.parametrize(
    ("weekday_field", "expected"),
    [
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0,6", ["Sat", "Sun"]),
        ("*/3", ["Sun", "Wed", "Sat"]),
        ("sat,sun", ["Sat", "Sun"]),
    ],
)
def test_cron_weekday_numbers_follow_crontab(weekday_field: str, expected: list[str]) -> None:
    s = spec(f"0 8 * * {weekday_field}")
    week = fire_times_between(s, utc("2024-05-06T00:00:00"), utc("2024-05-13T00:00:00"))  # Mon
    assert {t.strftime("%a") for t in week} == set(expected)
    assert len(week) == len(expected)


def test_new_york_spring_forward_fires_a_skipped_time_once_an_hour_later() -> None:
    # 2024-03-10: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    s = spec("30 2 * * *", "America/New_York")
    assert fires_on(s, NEW_YORK, "2024-03-09") == [utc("2024-03-09T07:30:00")]  # 02:30 EST
    day = fires_on(s, NEW_YORK, "2024-03-10")
    assert day == [utc("2024-03-10T07:30:00")]  # APScheduler: 02:30 at the old offset
    assert day[0].astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    assert fires_on(s, NEW_YORK, "2024-03-11") == [utc("2024-03-11T06:30:00")]  # 02:30 EDT


def test_new_york_fall_back_fires_a_repeated_time_once() -> None:
    # 2024-11-03: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    s = spec("30 1 * * *", "America/New_York")
    assert fires_on(s, NEW_YORK, "2024-11-03") == [utc("2024-11-03T05:30:00")]  # 01:30 EDT
    assert fires_on(s, NEW_YORK, "2024-11-04") == [utc("2024-11-04T06:30:00")]  # 01:30 EST


def test_berlin_spring_forward_and_fall_back_fire_once() -> None:
    s = spec("30 2 * * *", "Europe/Berlin")
    spring = fires_on(s, BERLIN, "2024-03-31")  # 02:00 CET jumps to 03:00 CEST
    assert spring == [utc("2024-03-31T01:30:00")]
    assert spring[0].astimezone(BERLIN).strftime("%H:%M") == "03:30"
    autumn = fires_on(s, BERLIN, "2024-10-27")  # 03:00 CEST falls back to 02:00 CET
    assert autumn == [utc("2024-10-27T00:30:00")]  # the first 02:30, CEST


def test_berlin_mornings_keep_local_time_across_the_change() -> None:
    s = spec("0 8 * * *", "Europe/Berlin")
    found = fire_times_between(s, utc("2024-03-29T12:00:00"), utc("2024-04-02T12:00:00"))
    assert [t.astimezone(BERLIN).hour for t in found] == [8, 8, 8, 8]
    assert [t.hour for t in found] == [7, 6, 6, 6]  # 30 March CET, then CEST


def test_an_hourly_cron_runs_by_the_clock_through_both_changes() -> None:
    s = spec("30 * * * *", "America/New_York")
    assert len(fires_on(s, NEW_YORK, "2024-03-10")) == 23
    autumn = fires_on(s, NEW_YORK, "2024-11-03")
    assert len(autumn) == 25
    assert utc("2024-11-03T05:30:00") in autumn and utc("2024-11-03T06:30:00") in autumn


def test_times_of_day_follow_the_same_dst_rules() -> None:
    s = spec(tz="America/New_York", times=(time(1, 30), time(2, 30)))
    assert fires_on(s, NEW_YORK, "2024-11-03") == [
        utc("2024-11-03T05:30:00"),  # 01:30 EDT
        utc("2024-11-03T07:30:00"),  # 02:30 EST
    ]
    assert fires_on(s, NEW_YORK, "2024-03-10") == [
        utc("2024-03-10T06:30:00"),  # 01:30 EST
        utc("2024-03-10T07:30:00"),  # the skipped 02:30, as 03:30 EDT
    ]


def test_times_with_days_fire_only_on_those_days() -> None:
    s = spec(tz="Asia/Shanghai", times=(time(8), time(12, 30)), days=("mon", "fri"))
    found = next_fire_times(s, utc("2024-05-05T16:00:00"), 5)  # Monday 00:00 Beijing
    local = [t.astimezone(SHANGHAI).strftime("%a %H:%M") for t in found]
    assert local == ["Mon 08:00", "Mon 12:30", "Fri 08:00", "Fri 12:30", "Mon 08:00"]


def test_blackout_dates_are_local_dates_and_left_out_unless_asked() -> None:
    # 07:30 in Beijing on 1 October is still 30 September in UTC.
    s = spec("30 7 * * *", "Asia/Shanghai", blackout_dates=frozenset({date(2025, 10, 1)}))
    start, end = utc("2025-09-29T00:00:00"), utc("2025-10-02T00:00:00")
    everything = fire_times_between(s, start, end, include_blackout=True)
    assert everything == [
        utc("2025-09-29T23:30:00"),
        utc("2025-09-30T23:30:00"),
        utc("2025-10-01T23:30:00"),
    ]
    assert is_blackout(s, utc("2025-09-30T23:30:00"))
    assert not is_blackout(s, utc("2025-09-29T23:30:00"))
    assert fire_times_between(s, start, end) == [everything[0], everything[2]]
    assert next_fire_times(s, start, 2) == [everything[0], everything[2]]
