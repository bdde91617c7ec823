"""Schedules in a running service: the APScheduler alarm opens a slot on time (not the 30 s
safety tick, which this test switches off), its trigger agrees with the engine's own fire
times (daylight-saving zones included), and slots left half-opened by a process that died
while drafting are recovered without touching one another process is still filling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import scheduling
from bot.engine.schedules import ScheduleSpec, job_trigger, next_fire_times
from bot.store import slots as slot_store
from tests.conftest import FakeClock
from tests.integration.test_scheduling import (
    T0,
    Harness,
    add_posts,
    open_db,
    post,
    schedule,
    slot_log,
    slots_of,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await open_db(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    yield engine
    await engine.dispose()


@pytest.mark.timeout(150)
async def test_the_alarm_opens_a_slot_at_its_fire_time_in_a_running_service(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the safety tick only the alarm can open the next slot (a broken alarm would
    # otherwise pass, up to 30 s late).
    monkeypatch.setattr(scheduling, "SAFETY_TICK_SECONDS", 3600.0)
    ids = await add_posts(engine, 3)
    # Started in the last seconds of a minute, the start-up pass and the alarm open two slots
    # before the first is looked at: start at the beginning of one instead.
    if (into := utc_now().second) >= 50:
        await asyncio.sleep(61 - into)
    harness = Harness(engine, FakeClock(), [schedule("minutely", "* * * * *")])
    harness.scheduler.clock = utc_now  # the real clock, as in `bot serve`
    stop = asyncio.Event()
    task = asyncio.create_task(harness.scheduler.run(stop))
    try:
        # The start-up pass opens the current minute's slot (a new schedule's newest within
        # grace); the next fire time is the next minute.
        for _ in range(500):
            if await slots_of(engine):
                break
            await asyncio.sleep(0.01)
        [first] = await slots_of(engine)
        next_fire = first.fire_at + timedelta(minutes=1)
        await asyncio.sleep(max(0.0, (next_fire - utc_now()).total_seconds()))
        for _ in range(100):  # up to 5 s after the fire time
            if len(await slots_of(engine)) == 2:
                break
            await asyncio.sleep(0.05)
        slots = await slots_of(engine)
        assert [s.fire_at for s in slots] == [first.fire_at, next_fire]
        opened_late = (slots[1].opened_at - next_fire).total_seconds()
        assert 0 <= opened_late < 5, opened_late
        assert slots[1].state == "opened" and slots[1].posts == 1
        assert (await post(engine, ids[1])).slot_id == slots[1].id
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


@pytest.mark.parametrize(
    "spec",
    [
        schedule("every-minute", "* * * * *"),
        schedule("weekday-mornings", "30 7 * * mon-fri"),
        ScheduleSpec(
            name="new-york",
            column="学习平台",
            timezone="America/New_York",
            grace_seconds=600,
            times=(time(2, 30), time(8, 0)),
        ),
        ScheduleSpec(
            name="berlin-sundays",
            column="学习平台",
            timezone="Europe/Berlin",
            grace_seconds=600,
            times=(time(2, 30),),
            days=("sun",),
        ),
    ],
    ids=lambda s: s.name,
)
def test_the_alarms_trigger_agrees_with_the_engines_fire_times(spec: ScheduleSpec) -> None:
    """Across both 2024 daylight-saving changes of New York and Berlin: the alarm wakes the
    process at every fire time the pass will open. (It may wake it more often: at Berlin's
    02:30 that happens twice, the pass finds the second one already opened.)"""
    trigger = job_trigger(spec)
    for start in (datetime(2024, 3, 8, tzinfo=UTC), datetime(2024, 10, 25, tzinfo=UTC)):
        expected = next_fire_times(spec, start, 12)
        woken: list[datetime] = []
        previous, now = None, start + timedelta(microseconds=1)
        while not woken or woken[-1] < expected[-1]:
            fire = trigger.get_next_fire_time(previous, now)
            assert fire is not None
            woken.append(fire.astimezone(UTC))
            # (in UTC: a wall-clock + 1 µs would lose the fold of a repeated hour)
            previous, now = fire, fire.astimezone(UTC) + timedelta(microseconds=1)
        assert set(expected) <= set(woken), (spec.name, sorted(set(expected) - set(woken)))
        assert len(woken) - len(expected) <= 1, woken


async def test_slots_left_opening_by_a_dead_process_are_recorded_empty_once(
    engine: AsyncEngine,
) -> None:
    clock = FakeClock(T0)
    harness = Harness(engine, clock, [schedule("minutely", "* * * * *")])
    stale_at = T0 - timedelta(minutes=30)
    fresh_at = T0 - timedelta(minutes=2)
    async with engine.begin() as conn:
        for fire_at in (stale_at, fresh_at):
            await slot_store.open_slot(
                conn,
                schedule="minutely",
                column="学习平台",
                fire_at=fire_at,
                now=fire_at,
                state="opening",
            )
    await harness.at(T0)
    states = {s.fire_at: s.state for s in await slots_of(engine)}
    # Opened 30 minutes ago and never finished: its process died; recorded as empty.
    assert states[stale_at] == "empty"
    # Opened 2 minutes ago: another process may still be drafting for it; left alone.
    assert states[fresh_at] == "opening"
    log = [e for e in await slot_log(engine) if "interrupted while drafting" in e.detail]
    assert len(log) == 1 and stale_at.isoformat() in log[0].detail

    await harness.at(T0 + timedelta(minutes=1))  # a later pass changes nothing more
    log = [e for e in await slot_log(engine) if "interrupted while drafting" in e.detail]
    assert len(log) == 1
    clock.now = fresh_at + scheduling.INTERRUPTED_AFTER + timedelta(seconds=1)
    await harness.at(clock.now)
    assert {s.fire_at: s.state for s in await slots_of(engine)}[fresh_at] == "empty"
