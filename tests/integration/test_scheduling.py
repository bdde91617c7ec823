"""The Scheduler on a real database with an injected clock: slots open once, take waiting posts
in order, draft when asked, fire late within grace and are recorded as missed beyond it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import AccountConfig, ColumnConfig, Config, Secret
from bot.content.sample import DEFAULT_COVER
from bot.domain.errors import NotFoundError
from bot.domain.models import LogEntry, Post, PostStatus, Resource, Slot
from bot.engine.drafting import Drafting
from bot.engine.schedules import ScheduleSpec, WhenQueueEmpty
from bot.engine.scheduling import Scheduler, SlotOutcome
from bot.store import catalogue as catalogue_store
from bot.store import db
from bot.store import log as log_store
from bot.store import posts as post_store
from bot.store import slots as slot_store
from tests.conftest import FakeClock

COLUMN = "学习平台"
REVIEWED = "审核栏目"
T0 = datetime(2024, 5, 6, 2, 0, 5, tzinfo=UTC)  # 10:00:05 in Beijing, a Monday


def make_config() -> Config:
    return Config(
        path=None,
        database_url="",
        accounts=(AccountConfig("main", "wx1", Secret("s")),),
        columns=(
            ColumnConfig(COLUMN, "main", author="团区委"),
            ColumnConfig(REVIEWED, "main", author="团区委", require_review=True),
        ),
    )


def schedule(
    name: str = "minutely", cron: str = "* * * * *", column: str = COLUMN, **fields: Any
) -> ScheduleSpec:
    fields.setdefault("grace_seconds", 600)
    return ScheduleSpec(name=name, column=column, timezone="Asia/Shanghai", cron=cron, **fields)


async def open_db(url: str) -> AsyncEngine:
    engine = db.open_engine(url)
    await db.upgrade(engine)
    return engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await open_db(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


class Harness:
    """A Scheduler with a real Drafting (its image upload, the one platform call, answered
    locally) and a count of publisher wake-ups."""

    def __init__(self, engine: AsyncEngine, clock: FakeClock, specs: list[ScheduleSpec]) -> None:
        self.engine = engine
        self.clock = clock
        self.config = make_config()
        self.wakeups = 0
        self.drafting = Drafting(
            engine=engine,
            config=self.config,
            clock=clock,
            upload_image=self._upload,
            load_image=self._load,
            has_schedule=lambda column: True,
            default_cover=DEFAULT_COVER,
        )
        self.scheduler = Scheduler(engine, self.config, specs, clock, self.drafting, self._wake)

    def _wake(self) -> None:
        self.wakeups += 1

    async def _upload(self, account: str, data: bytes, filename: str) -> str:
        return f"https://mmbiz.qpic.cn/{account}/{filename}"

    async def _load(self, ref: str) -> bytes:
        return await asyncio.to_thread(Path(ref).read_bytes)

    async def at(self, when: datetime) -> list[SlotOutcome]:
        self.clock.now = when
        return await self.scheduler.open_due_slots(when)


async def add_posts(engine: AsyncEngine, n: int, column: str = COLUMN) -> list[int]:
    ids = []
    async with engine.begin() as conn:
        for i in range(n):
            new = post_store.NewPost(
                column=column,
                account="main",
                title=f"第{i + 1}篇",
                author="团区委",
                digest="",
                markdown="正文",
                content_html="<p>正文</p>",
                content_source_url="",
                cover=str(DEFAULT_COVER),
                delivery="publish",
                status=PostStatus.QUEUED,
                resources=[],
            )
            ids.append(await post_store.create(conn, new, now=T0 - timedelta(hours=1)))
    return ids


async def add_resource(engine: AsyncEngine) -> None:
    resource = Resource(
        "platform-zhtj",
        "platform",
        "智慧团建平台",
        summary="团员管理与组织生活的线上平台。",
        url="https://zhtj.youth.cn/zhtj/",
    )
    async with engine.begin() as conn:
        await catalogue_store.upsert(conn, [resource], now=T0)


async def slots_of(engine: AsyncEngine, name: str = "minutely") -> list[Slot]:
    async with engine.connect() as conn:
        return sorted(
            await slot_store.list_slots(conn, schedule=name, limit=1000), key=lambda s: s.fire_at
        )


async def post(engine: AsyncEngine, post_id: int) -> Post:
    async with engine.connect() as conn:
        return await post_store.get(conn, post_id)


async def slot_log(engine: AsyncEngine) -> list[LogEntry]:
    async with engine.connect() as conn:
        entries = await log_store.list_entries(conn)
    return [e for e in entries if e.step == "slot" and e.post_id is None]


def minute(n: int, second: int = 5) -> datetime:
    return T0.replace(second=second) + timedelta(minutes=n)


# --- filling slots --------------------------------------------------------------------------


async def test_each_slot_takes_one_waiting_post_in_queue_order(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    ids = await add_posts(engine, 3)
    harness = Harness(engine, clock, [schedule()])
    taken = []
    for n in range(4):
        outcomes = await harness.at(minute(n))
        assert [o.fire_at for o in outcomes] == [minute(n, second=0)]
        taken.append(outcomes[0].post_ids)
    assert taken == [(ids[0],), (ids[1],), (ids[2],), ()]
    assert [(s.state, s.posts) for s in await slots_of(engine)] == [("opened", 1)] * 3 + [
        ("empty", 0)
    ]
    first = await post(engine, ids[0])
    assert first.scheduled_for == minute(0)  # due at once: the publisher takes it now
    assert first.slot_id == (await slots_of(engine))[0].id
    assert harness.wakeups == 3
    entries = await slot_log(engine)
    assert [e.outcome for e in entries] == ["ok", "ok", "ok", "empty"]
    assert "schedule=minutely" in entries[0].detail and "late=5.0s" in entries[0].detail
    assert "fire_at=2024-05-06T02:00:00+00:00" in entries[0].detail
    assert "local=2024-05-06T10:00:00+08:00" in entries[0].detail


async def test_a_slot_takes_up_to_posts_per_slot(engine: AsyncEngine, clock: FakeClock) -> None:
    ids = await add_posts(engine, 3)
    harness = Harness(engine, clock, [schedule(posts_per_slot=2)])
    [first] = await harness.at(minute(0))
    [second] = await harness.at(minute(1))
    assert (first.post_ids, second.post_ids) == ((ids[0], ids[1]), (ids[2],))


async def test_a_second_pass_in_the_same_minute_opens_nothing(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_posts(engine, 2)
    harness = Harness(engine, clock, [schedule()])
    assert len(await harness.at(minute(0))) == 1
    assert await harness.at(minute(0, second=40)) == []
    assert len(await slots_of(engine)) == 1


async def test_an_empty_queue_takes_nothing_and_drafts_nothing_by_default(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_resource(engine)
    harness = Harness(engine, clock, [schedule()])
    [outcome] = await harness.at(minute(0))
    assert (outcome.state, outcome.post_ids) == ("empty", ())
    async with engine.connect() as conn:
        assert await post_store.list_posts(conn) == []
    assert harness.wakeups == 0


async def test_an_empty_queue_drafts_one_post_when_asked(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_resource(engine)
    harness = Harness(engine, clock, [schedule(when_queue_empty=WhenQueueEmpty.DRAFT)])
    [outcome] = await harness.at(minute(0))
    assert outcome.state == "opened" and len(outcome.post_ids) == 1
    drafted = await post(engine, outcome.post_ids[0])
    assert (drafted.status, drafted.scheduled_for, drafted.title) == (
        PostStatus.QUEUED,
        minute(0),
        "智慧团建平台",
    )
    assert [(s.state, s.posts) for s in await slots_of(engine)] == [("opened", 1)]
    assert "drafted post" in (await slot_log(engine))[0].detail
    assert harness.wakeups == 1


async def test_a_review_column_drafts_into_review_not_publishing(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_resource(engine)
    spec = schedule(column=REVIEWED, when_queue_empty=WhenQueueEmpty.DRAFT)
    [outcome] = await Harness(engine, clock, [spec]).at(minute(0))
    drafted = await post(engine, outcome.post_ids[0])
    assert drafted.status == PostStatus.REVIEW
    assert "waits for review" in (await slot_log(engine))[0].detail


async def test_a_failed_draft_leaves_the_slot_empty_and_logs_why(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    harness = Harness(engine, clock, [schedule(when_queue_empty=WhenQueueEmpty.DRAFT)])
    [outcome] = await harness.at(minute(0))  # the catalogue is empty: nothing to feature
    assert (outcome.state, outcome.post_ids) == ("empty", ())
    [entry] = await slot_log(engine)
    assert entry.outcome == "error" and "drafting failed" in entry.detail
    assert [s.state for s in await slots_of(engine)] == ["empty"]


# --- several processes ----------------------------------------------------------------------


async def test_two_schedulers_on_one_database_open_each_slot_once(
    database_url: str, clock: FakeClock
) -> None:
    first, second = await open_db(database_url), db.open_engine(database_url)
    try:
        ids = await add_posts(first, 4)
        one = Harness(first, clock, [schedule()])
        two = Harness(second, clock, [schedule()])
        taken: list[int] = []
        for n in range(4):
            clock.now = minute(n)
            results = await asyncio.gather(
                one.scheduler.open_due_slots(minute(n)), two.scheduler.open_due_slots(minute(n))
            )
            outcomes = [o for result in results for o in result]
            assert len(outcomes) == 1, outcomes
            taken.extend(outcomes[0].post_ids)
        assert taken == ids  # each post taken once, in order
        slots = await slots_of(first)
        assert [s.fire_at for s in slots] == [minute(n, second=0) for n in range(4)]
        assert {(await post(first, i)).slot_id for i in ids} == {s.id for s in slots}
    finally:
        await first.dispose()
        await second.dispose()


# --- restarts and grace ---------------------------------------------------------------------


async def test_a_new_schedule_opens_only_its_newest_fire_time_within_grace(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_posts(engine, 5)
    [outcome] = await Harness(engine, clock, [schedule()]).at(minute(0))
    assert outcome.fire_at == minute(0, second=0)
    assert len(await slots_of(engine)) == 1


async def test_a_restart_within_grace_fires_each_missed_slot_once_and_late(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    ids = await add_posts(engine, 4)
    await Harness(engine, clock, [schedule()]).at(minute(0))
    restarted = Harness(engine, clock, [schedule()])  # down for minutes 1 to 3
    outcomes = await restarted.at(minute(3, second=10))
    assert [(o.fire_at, o.state, o.post_ids) for o in outcomes] == [
        (minute(1, second=0), "opened", (ids[1],)),
        (minute(2, second=0), "opened", (ids[2],)),
        (minute(3, second=0), "opened", (ids[3],)),
    ]
    assert [o.late.total_seconds() for o in outcomes] == [130, 70, 10]
    assert await restarted.at(minute(3, second=50)) == []
    assert "late=130.0s" in (await slot_log(engine))[1].detail


async def test_a_restart_beyond_grace_records_the_slot_as_missed_for_good(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    ids = await add_posts(engine, 2)
    hourly = schedule("hourly", "0 * * * *", grace_seconds=600)
    await Harness(engine, clock, [hourly]).at(T0)  # opens 10:00 Beijing
    restarted = Harness(engine, clock, [hourly])
    [missed] = await restarted.at(T0 + timedelta(hours=1, minutes=20))  # 11:20: 20 min late
    assert (missed.state, missed.post_ids, missed.fire_at) == (
        "missed",
        (),
        T0.replace(second=0) + timedelta(hours=1),
    )
    assert (await post(engine, ids[1])).slot_id is None
    assert await restarted.at(T0 + timedelta(hours=1, minutes=30)) == []
    [opened] = await restarted.at(T0 + timedelta(hours=2))
    assert (opened.state, opened.post_ids) == ("opened", (ids[1],))
    assert [s.state for s in await slots_of(engine, "hourly")] == ["opened", "missed", "opened"]
    assert [e.outcome for e in await slot_log(engine)] == ["ok", "missed", "ok"]


async def test_a_long_outage_records_a_bounded_number_of_missed_slots(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    harness = Harness(engine, clock, [schedule(grace_seconds=60)])
    await harness.at(minute(0))
    outcomes = await harness.at(minute(0) + timedelta(days=2))
    assert [o.state for o in outcomes].count("missed") == 100
    assert outcomes[-1].state == "empty"  # the fire time within grace still opens
    first_missed = (await slot_log(engine))[1]
    assert "missed as well" in first_missed.detail
    assert await harness.at(minute(0) + timedelta(days=2, seconds=30)) == []


async def test_a_blackout_date_records_a_skipped_slot(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    ids = await add_posts(engine, 1)
    spec = schedule("holiday", "0 10 * * *", blackout_dates=frozenset({date(2024, 5, 6)}))
    harness = Harness(engine, clock, [spec])
    [skipped] = await harness.at(T0)
    assert (skipped.state, skipped.post_ids) == ("skipped", ())
    assert (await post(engine, ids[0])).slot_id is None
    [entry] = await slot_log(engine)
    assert entry.outcome == "skipped" and "blackout" in entry.detail
    [opened] = await harness.at(T0 + timedelta(days=1))
    assert opened.post_ids == (ids[0],)


# --- pausing and listing ---------------------------------------------------------------------


async def test_a_paused_schedule_opens_nothing_and_resuming_does_not_catch_up(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    ids = await add_posts(engine, 2)
    harness = Harness(engine, clock, [schedule()])
    await harness.at(minute(0))
    await harness.scheduler.set_paused("minutely", True)
    assert await harness.at(minute(1)) == []
    assert await harness.at(minute(2)) == []
    clock.now = minute(2, second=30)
    await harness.scheduler.set_paused("minutely", False)
    assert await harness.at(minute(2, second=40)) == []  # minutes 1 and 2 are not owed
    [outcome] = await harness.at(minute(3))
    assert outcome.post_ids == (ids[1],)
    async with engine.connect() as conn:
        entries = await log_store.list_entries(conn)
    assert [e.outcome for e in entries if e.step == "schedule"] == ["paused", "resumed"]


async def test_the_database_pause_overrides_the_file(engine: AsyncEngine, clock: FakeClock) -> None:
    await add_posts(engine, 1)
    harness = Harness(engine, clock, [schedule(paused=True)])
    assert await harness.at(minute(0)) == []
    assert (await harness.scheduler.upcoming(1))[0]["paused"] is True
    await harness.scheduler.set_paused("minutely", False)
    assert len(await harness.at(minute(1))) == 1
    with pytest.raises(NotFoundError, match="no schedule named 'nope'"):
        await harness.scheduler.set_paused("nope", True)


async def test_upcoming_lists_next_fire_times_as_aware_datetimes(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    harness = Harness(engine, clock, [schedule("morning", "0 8 * * mon-fri")])
    await harness.scheduler.set_paused("morning", True)
    [item] = await harness.scheduler.upcoming(3)
    assert (item["schedule"], item["column"], item["paused"]) == ("morning", COLUMN, True)
    assert item["next"] == [
        datetime(2024, 5, 7, 0, 0, tzinfo=UTC),
        datetime(2024, 5, 8, 0, 0, tzinfo=UTC),
        datetime(2024, 5, 9, 0, 0, tzinfo=UTC),
    ]


# --- the service loop -----------------------------------------------------------------------


async def test_run_catches_up_at_start_and_stops_when_asked(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    ids = await add_posts(engine, 1)
    harness = Harness(engine, clock, [schedule("hourly", "0 * * * *")])
    clock.now = T0 + timedelta(minutes=3)  # 10:03: the 10:00 slot is 3 minutes late
    stop = asyncio.Event()
    task = asyncio.create_task(harness.scheduler.run(stop))
    for _ in range(1000):  # up to 10 s: the first pass may be slow on a loaded machine
        if await slots_of(engine, "hourly"):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    [slot] = await slots_of(engine, "hourly")
    assert (slot.state, slot.fire_at) == ("opened", T0.replace(second=0))
    assert (await post(engine, ids[0])).slot_id == slot.id
    assert harness.wakeups == 1
