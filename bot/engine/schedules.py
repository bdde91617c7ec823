"""Schedules: ``schedules/*.toml`` read into frozen ``ScheduleSpec``s, and when each one fires.
Pure apart from reading the files; the ``Scheduler`` (``scheduling``) acts on the times.

Fire times come from APScheduler 3.x's ``CronTrigger`` in the schedule's time zone and are
returned as aware UTC, ascending. Around daylight-saving changes:

- spring forward: a wall time inside the skipped hour (02:30 in New York on 2024-03-10, in
  Berlin on 2024-03-31) does not exist. APScheduler reads it with the offset in force before
  the change, so the schedule fires once that day, at 03:30 local (07:30 UTC in New York).
- fall back: a wall time inside the repeated hour (01:30 in New York on 2024-11-03) exists
  twice and APScheduler yields both. We keep the first only, as cron does for a job at a fixed
  hour; a cron whose hour field is a wildcard (``*``, ``*/2``) runs by the clock and keeps both.

Cron day-of-week numbers follow crontab (0 and 7 are Sunday). APScheduler 3.x counts 0 as
Monday, so numbers are turned into day names before they reach it. Crontab fires when *either*
a restricted day of month or a restricted day of week matches, APScheduler when both do; a cron
restricting both is refused rather than read one way or the other.
"""

from __future__ import annotations

import functools
import heapq
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.config import Config
from bot.domain.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # 0..7
_KEYS = {
    "name",
    "column",
    "cron",
    "times",
    "days",
    "timezone",
    "posts_per_slot",
    "when_queue_empty",
    "blackout_dates",
    "paused",
    "grace_seconds",
}
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# A schedule that cannot fire after this moment is a mistake (e.g. "0 8 31 2 *").
_NEVER_FIRES_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)


class WhenQueueEmpty(StrEnum):
    SKIP = "skip"
    DRAFT = "draft"


@dataclass(frozen=True)
class ScheduleSpec:
    """One ``[[schedule]]`` table. Exactly one of ``cron`` and ``times`` is set."""

    name: str
    column: str
    timezone: str
    grace_seconds: int
    cron: str = ""
    times: tuple[time, ...] = ()
    days: tuple[str, ...] = ()  # with ``times``; empty: every day
    posts_per_slot: int = 1
    when_queue_empty: WhenQueueEmpty = WhenQueueEmpty.SKIP
    blackout_dates: frozenset[date] = frozenset()
    paused: bool = False
    source: str = ""  # the file it was read from, for messages

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        if self.cron:
            return f"cron {self.cron}"
        clock = ", ".join(t.strftime("%H:%M") for t in self.times)
        return f"{clock} on {', '.join(self.days)}" if self.days else f"{clock} every day"


# --- reading the files ----------------------------------------------------------------------


def load_schedules(config: Config) -> list[ScheduleSpec]:
    """Every schedule in ``config.schedules_dir/*.toml`` (files in name order); an empty list
    when the directory does not exist. Raises ConfigError naming file, schedule and key."""
    directory = config.schedules_dir
    if not directory.is_dir():
        return []
    specs: list[ScheduleSpec] = []
    for path in sorted(directory.glob("*.toml")):
        specs.extend(read_schedule_file(path, config))
    _check_unique_names(specs)
    return specs


def read_schedule_file(path: Path, config: Config) -> list[ScheduleSpec]:
    """Raises ConfigError when the file is not valid TOML or a schedule in it is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_schedules(raw, config, source=str(path))


def parse_schedules(raw: Mapping[str, Any], config: Config, *, source: str) -> list[ScheduleSpec]:
    """The ``[[schedule]]`` tables of one parsed file. Raises ConfigError."""
    for key in raw:
        if key != "schedule":
            raise ConfigError(f"{source}: {key}: unknown key (a schedules file holds [[schedule]])")
    tables = raw.get("schedule", [])
    if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
        raise ConfigError(f"{source}: schedule: must be an array of tables ([[schedule]])")
    specs = [_SpecReader(source, i, table, config).spec() for i, table in enumerate(tables)]
    _check_unique_names(specs)
    return specs


def _check_unique_names(specs: list[ScheduleSpec]) -> None:
    seen: dict[str, ScheduleSpec] = {}
    for spec in specs:
        first = seen.setdefault(spec.name, spec)
        if first is not spec:
            where = "this file" if first.source == spec.source else first.source
            raise ConfigError(
                f"{spec.source}: schedule {spec.name!r}: name: duplicate, "
                f"already used in {where} (schedule names must be unique)"
            )


class _SpecReader:
    """Reads one ``[[schedule]]`` table; every error names file, index or name, and key."""

    def __init__(self, source: str, index: int, raw: Mapping[str, Any], config: Config) -> None:
        self.source = source
        self.index = index
        self.raw = raw
        self.config = config
        name = raw.get("name")
        label = f" ({name})" if isinstance(name, str) and name else ""
        self.where = f"{source}: schedule[{index}]{label}"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {key}: {problem}")

    def spec(self) -> ScheduleSpec:
        for key in self.raw:
            if key not in _KEYS:
                raise self.fail(key, f"unknown key (known: {', '.join(sorted(_KEYS))})")
        name = self.name()
        column = self.column()
        timezone = self.timezone(column)
        cron, times, days = self.when(timezone)
        spec = ScheduleSpec(
            name=name,
            column=column,
            timezone=timezone,
            grace_seconds=self.whole("grace_seconds", self.config.misfire_grace_seconds, low=0),
            cron=cron,
            times=times,
            days=days,
            posts_per_slot=self.whole("posts_per_slot", 1, low=1),
            when_queue_empty=self.queue_empty(),
            blackout_dates=self.blackout_dates(),
            paused=self.flag("paused"),
            source=self.source,
        )
        if triggers(spec)[0].get_next_fire_time(None, _NEVER_FIRES_REFERENCE) is None:
            raise self.fail("cron", f"{cron!r} never fires")
        return spec

    def name(self) -> str:
        value = self.raw.get("name")
        if value is None:
            raise self.fail("name", "is required")
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise self.fail("name", "must be a non-empty string without surrounding spaces")
        if len(value) > 100 or not value.isprintable():
            raise self.fail("name", "must be at most 100 printable characters")
        return value

    def column(self) -> str:
        value = self.raw.get("column")
        if not isinstance(value, str) or not value:
            raise self.fail("column", "is required (the name of a [[columns]] table)")
        known = [c.name for c in self.config.columns]
        if value not in known:
            raise self.fail("column", f"no column named {value!r} (known: {', '.join(known)})")
        return value

    def timezone(self, column: str) -> str:
        if "timezone" not in self.raw:
            return self.config.account(self.config.column(column).account).timezone
        value = self.raw["timezone"]
        if not isinstance(value, str):
            raise self.fail("timezone", "must be a string such as 'Asia/Shanghai'")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail("timezone", f"unknown timezone {value!r}") from None
        return value

    def when(self, timezone: str) -> tuple[str, tuple[time, ...], tuple[str, ...]]:
        has_cron, has_times = "cron" in self.raw, "times" in self.raw
        if has_cron and has_times:
            raise self.fail("cron", "give cron or times, not both")
        if not has_cron and not has_times:
            raise self.fail("cron", "one of cron or times is required")
        if has_cron:
            if "days" in self.raw:
                raise self.fail("days", "goes with times only (put the weekdays in the cron)")
            return self.cron(timezone), (), ()
        return "", self.times(), self.days()

    def cron(self, timezone: str) -> str:
        value = self.raw["cron"]
        if not isinstance(value, str):
            raise self.fail("cron", "must be a string of five fields such as '0 8 * * mon-fri'")
        expr = " ".join(value.split())
        try:
            cron_trigger(expr, ZoneInfo(timezone))
        except ValueError as exc:
            raise self.fail("cron", f"bad expression {value!r}: {exc}") from None
        return expr

    def times(self) -> tuple[time, ...]:
        value = self.raw["times"]
        if not isinstance(value, list) or not value:
            raise self.fail("times", "must be a non-empty list such as ['08:00', '12:30']")
        parsed: set[time] = set()
        for item in value:
            match = _TIME_OF_DAY.match(item) if isinstance(item, str) else None
            if match is None:
                raise self.fail("times", f"{item!r} is not a time of day HH:MM (00:00 to 23:59)")
            parsed.add(time(int(match[1]), int(match[2])))
        return tuple(sorted(parsed))

    def days(self) -> tuple[str, ...]:
        value = self.raw.get("days", [])
        if not isinstance(value, list):
            raise self.fail("days", "must be a list of weekdays such as ['mon', 'fri']")
        days: list[str] = []
        for item in value:
            day = item.strip().lower() if isinstance(item, str) else None
            if day not in WEEKDAYS:
                raise self.fail("days", f"{item!r} is not a weekday ({', '.join(WEEKDAYS)})")
            if day not in days:
                days.append(day)
        return tuple(sorted(days, key=WEEKDAYS.index))

    def whole(self, key: str, default: int, *, low: int) -> int:
        value = self.raw.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise self.fail(key, f"must be a whole number of at least {low}")
        return value

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def queue_empty(self) -> WhenQueueEmpty:
        value = self.raw.get("when_queue_empty", WhenQueueEmpty.SKIP.value)
        try:
            return WhenQueueEmpty(value)
        except ValueError:
            raise self.fail("when_queue_empty", "must be 'skip' or 'draft'") from None

    def blackout_dates(self) -> frozenset[date]:
        value = self.raw.get("blackout_dates", [])
        if not isinstance(value, list):
            raise self.fail("blackout_dates", "must be a list of dates such as [2024-10-01]")
        dates: set[date] = set()
        for item in value:
            parsed = _as_date(item)
            if parsed is None:
                raise self.fail("blackout_dates", f"{item!r} is not a date (2024-10-01)")
            dates.add(parsed)
        return frozenset(dates)


def _as_date(value: object) -> date | None:
    # A TOML date-time is a datetime, which is also a date: refuse it explicitly.
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


# --- triggers -------------------------------------------------------------------------------


def cron_trigger(expr: str, tz: ZoneInfo) -> CronTrigger:
    """A CronTrigger for a five-field crontab expression read in ``tz``. Raises ValueError."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected five fields (minute hour day month weekday), got {len(fields)}")
    if fields[2] not in ("*", "?") and fields[4] not in ("*", "?"):
        raise ValueError(
            "restricts both day of month and day of week, which cron and APScheduler read "
            "differently; use two schedules"
        )
    fields[4] = _crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=tz)


def _crontab_weekdays(field: str) -> str:
    """Crontab weekday numbers (0/7 = Sunday) as day names; names and ``*`` pass unchanged."""
    parts = [part.partition("/") for part in field.split(",")]
    numeric = any(
        any(ch.isdigit() for ch in span) or (span == "*" and step) for span, _, step in parts
    )
    if not numeric:
        return field
    days: set[int] = set()
    for span, _, step in parts:
        days.update(_crontab_day_numbers(field, span, step))
    return ",".join(_CRONTAB_DAYS[d] for d in sorted(days))


def _crontab_day_numbers(field: str, span: str, step_text: str) -> list[int]:
    if step_text and not (step_text.isdigit() and int(step_text) > 0):
        raise ValueError(f"day-of-week field {field!r}: bad step {step_text!r}")
    step = int(step_text) if step_text else 1
    if span == "*":
        low, high = 0, 6
    else:
        first, _, last = span.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"day-of-week field {field!r}: use numbers 0-7 or names, not a mix")
        low = int(first)
        high = int(last) if last else (7 if step_text else low)  # "5/2": from 5 to the end
        if high > 7 or low > high:
            raise ValueError(f"day-of-week field {field!r}: days run 0-7 (0 and 7 are Sunday)")
    return [d % 7 for d in range(low, high + 1, step)]


@functools.cache
def triggers(spec: ScheduleSpec) -> tuple[CronTrigger, ...]:
    """One CronTrigger for a cron schedule, one per time of day for a ``times`` schedule."""
    if spec.cron:
        return (cron_trigger(spec.cron, spec.tz),)
    day_of_week = ",".join(spec.days) if spec.days else "*"
    return tuple(
        CronTrigger(hour=t.hour, minute=t.minute, day_of_week=day_of_week, timezone=spec.tz)
        for t in spec.times
    )


def job_trigger(spec: ScheduleSpec) -> BaseTrigger:
    """One trigger for an in-process wake-up job (APScheduler's ``add_job``)."""
    found = triggers(spec)
    return found[0] if len(found) == 1 else OrTrigger(list(found))


# --- fire times -----------------------------------------------------------------------------


def is_blackout(spec: ScheduleSpec, fire_at: datetime) -> bool:
    """Whether ``fire_at`` falls on one of the schedule's blackout dates, in its time zone."""
    return fire_at.astimezone(spec.tz).date() in spec.blackout_dates


def fire_times_between(
    spec: ScheduleSpec, start: datetime, end: datetime, *, include_blackout: bool = False
) -> list[datetime]:
    """Fire times ``t`` with ``start < t <= end`` (aware datetimes), as aware UTC ascending.
    Blackout dates are left out unless ``include_blackout``."""
    found: list[datetime] = []
    for fire_at in _fire_times_after(spec, start, include_blackout):
        if fire_at > end:
            break
        found.append(fire_at)
    return found


def next_fire_times(
    spec: ScheduleSpec, after: datetime, n: int, *, include_blackout: bool = False
) -> list[datetime]:
    """The next ``n`` fire times strictly after ``after``, as aware UTC (fewer if the schedule
    stops firing). Blackout dates are left out unless ``include_blackout``."""
    found: list[datetime] = []
    if n <= 0:
        return found
    for fire_at in _fire_times_after(spec, after, include_blackout):
        found.append(fire_at)
        if len(found) == n:
            break
    return found


def _fire_times_after(
    spec: ScheduleSpec, after: datetime, include_blackout: bool
) -> Iterator[datetime]:
    if after.tzinfo is None:
        raise ValueError("fire times need an aware datetime")
    streams = [_trigger_times(trigger, after) for trigger in triggers(spec)]
    keep_repeats = bool(spec.cron) and spec.cron.split()[1].startswith("*")
    previous: datetime | None = None
    for fire_at in heapq.merge(*streams):
        if fire_at == previous:  # two times of day can never coincide, but be safe
            continue
        previous = fire_at
        if not keep_repeats and fire_at.astimezone(spec.tz).fold == 1:
            continue  # the second pass through a repeated wall-clock hour
        if not include_blackout and is_blackout(spec, fire_at):
            continue
        yield fire_at


def _trigger_times(trigger: CronTrigger, after: datetime) -> Iterator[datetime]:
    cursor = after.astimezone(UTC)
    while True:
        # APScheduler rounds "now" up to the next whole second; one microsecond past the last
        # fire time makes the search strictly later than it.
        found = trigger.get_next_fire_time(None, cursor + timedelta(microseconds=1))
        if found is None:
            return
        cursor = found.astimezone(UTC)
        yield cursor
