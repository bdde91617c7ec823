"""Staging ahead of the slot: a queued post's draft is made before its fire time and used at
the slot (only the submit remains); an edit replaces it, a cancel deletes it; slots open a
lead ahead with their posts due at the fire time."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.models import Post, PostStatus, PublishStage
from bot.engine.review import ReviewActions
from bot.engine.schedules import WhenQueueEmpty
from bot.engine.staging import Stager
from bot.store import log as log_store
from bot.store import posts as post_store
from tests.conftest import FakeClock
from tests.integration.publish_harness import Rig, publish_rig, utc_now
from tests.integration.test_scheduling import (
    T0,
    Harness,
    add_posts,
    add_resource,
    minute,
    open_db,
    post,
    schedule,
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await open_db(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def stager(rig: Rig, lead: float = 600) -> Stager:
    return Stager(
        engine=rig.engine,
        publishers=rig.worker().publishers,
        clock=utc_now,
        owner="test-stager",
        lead_seconds=lead,
        lease_seconds=30,
    )


async def queue_for_later(rig: Rig, title: str, seconds: float = 120) -> Post:
    queued = await rig.add_post(title)
    async with rig.engine.begin() as conn:
        await post_store.update_fields(
            conn, queued.id, now=utc_now(), scheduled_for=utc_now() + timedelta(seconds=seconds)
        )
    return await rig.get(queued.id)


async def make_due(rig: Rig, post_id: int) -> None:
    async with rig.engine.begin() as conn:
        await post_store.update_fields(conn, post_id, now=utc_now(), scheduled_for=utc_now())


async def edit_title(rig: Rig, post_id: int, title: str) -> None:
    current = await rig.get(post_id)
    async with rig.engine.begin() as conn:
        [head] = current.articles
        assert await post_store.replace_articles(
            conn, current, [head.replace(title=title)], now=utc_now(), statuses=[current.status]
        )


async def test_a_draft_made_ahead_is_used_at_the_slot_so_only_the_submit_remains(
    database_url: str, cover_file: Path
) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        queued = await queue_for_later(rig, "提前准备的推文")
        assert await stager(rig).run_once() == 1
        staged = await rig.get(queued.id)
        assert (staged.status, staged.stage) == (PostStatus.QUEUED, PublishStage.DRAFTED)
        assert staged.draft_media_id and staged.staged_digest
        assert await stager(rig).run_once() == 0  # nothing left to make
        before = Counter((await rig.sim_state())["call_counts"])
        assert before["draft/add"] == 1 and before["freepublish/submit"] == 0

        assert await rig.worker().run_due(max_wait=5) == []  # not due yet
        await make_due(rig, queued.id)
        [done] = await rig.worker().run_due(max_wait=20)
        assert done.status is PostStatus.PUBLISHED
        calls = Counter((await rig.sim_state())["call_counts"])
        assert calls["draft/add"] == 1 and calls["material/add_material"] == 1
        assert calls["freepublish/submit"] == 1
        async with rig.engine.connect() as conn:
            entries = await log_store.list_entries(conn, post_ids=[queued.id])
        assert any("its draft was made ahead" in e.detail for e in entries)


async def test_an_edit_after_staging_replaces_the_platform_draft(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await queue_for_later(rig, "第一稿")
        await stager(rig).run_once()
        first = (await rig.get(queued.id)).draft_media_id
        await edit_title(rig, queued.id, "第二稿")
        assert await stager(rig).run_once() == 1
        second = await rig.get(queued.id)
        assert second.draft_media_id and second.draft_media_id != first
        state = await rig.sim_state()
        assert [d["media_id"] for d in state["drafts"]] == [second.draft_media_id]

        await make_due(rig, queued.id)
        [done] = await rig.worker().run_due(max_wait=20)
        assert done.status is PostStatus.PUBLISHED
        assert [a["title"] for a in (await rig.sim_state())["published"]] == ["第二稿"]


async def test_an_edit_just_before_the_slot_makes_a_new_draft_at_the_slot(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await queue_for_later(rig, "旧标题")
        await stager(rig).run_once()
        await edit_title(rig, queued.id, "新标题")
        await make_due(rig, queued.id)  # no staging pass in between
        [done] = await rig.worker().run_due(max_wait=20)
        assert done.status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert [a["title"] for a in state["published"]] == ["新标题"]
        assert state["call_counts"]["draft/delete"] == 1  # the stale draft
        assert state["drafts"] == [] or all(d.get("title") != "旧标题" for d in state["drafts"])


async def test_a_cancelled_posts_staged_draft_is_deleted(
    database_url: str, cover_file: Path
) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        queued = await queue_for_later(rig, "将取消")
        await stager(rig).run_once()
        assert len((await rig.sim_state())["drafts"]) == 1
        await ReviewActions(rig.engine, utc_now).cancel(queued.id, actor="test")
        await stager(rig).run_once()
        await stager(rig).run_once()  # a second pass deletes nothing twice
        state = await rig.sim_state()
        assert state["drafts"] == []
        assert state["call_counts"]["draft/delete"] == 1
        cancelled = await rig.get(queued.id)
        assert cancelled.status is PostStatus.CANCELLED and not cancelled.draft_media_id


async def test_posts_in_review_or_beyond_the_lead_are_not_staged(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        await queue_for_later(rig, "太远", seconds=3600)
        in_review = await queue_for_later(rig, "待审核")
        async with rig.engine.begin() as conn:
            await post_store.update_fields(
                conn, in_review.id, now=utc_now(), status=PostStatus.REVIEW.value
            )
        assert await stager(rig, lead=600).run_once() == 0
        assert (await rig.sim_state())["call_counts"].get("draft/add", 0) == 0


async def test_a_slot_opens_a_lead_ahead_with_its_post_due_at_the_fire_time(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    late, ahead = await add_posts(engine, 2)
    harness = Harness(engine, clock, [schedule()])
    harness.scheduler.lead = timedelta(minutes=5)
    outcomes = await harness.at(minute(0))
    # The fire time just past and the five within the lead, in order; the queue's two posts
    # went to the first two.
    assert [o.fire_at for o in outcomes] == [minute(i, 0) for i in range(6)]
    assert (await post(engine, late)).scheduled_for == minute(0)  # late: due now
    assert (await post(engine, ahead)).scheduled_for == minute(1, 0)  # ahead: at its time
    await add_posts(engine, 1)
    again = await harness.at(minute(0, 30))
    assert again == []  # every fire time within the lead is open already


async def test_a_slot_opened_ahead_drafts_a_post_due_at_its_fire_time(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_resource(engine)
    spec = schedule(cron="10 * * * *", when_queue_empty=WhenQueueEmpty.DRAFT)
    harness = Harness(engine, clock, [spec])
    harness.scheduler.lead = timedelta(minutes=15)
    [outcome] = await harness.at(minute(0))  # 02:00:05; fires at 02:10
    drafted = await post(engine, outcome.post_ids[0])
    assert drafted.status is PostStatus.QUEUED
    assert drafted.scheduled_for == minute(10, 0)
    assert "ahead=" in outcome.detail


async def test_staging_stops_at_the_share_of_the_quota_people_may_use(
    sqlite_url: str, cover_file: Path
) -> None:
    """Security re-check 22, H1: each edit of a staged post made the stager add a new draft
    (and delete the old one), spent on no one's count: 1,050 edits used up the account's
    draft/add for the day in 26 s, and the next post due was parked until midnight. Staging
    stops at the share of today's quota people's requests may use; the slot makes its own
    draft with the rest."""
    from bot.engine import people_quota
    from bot.engine.quota import quota_day
    from bot.store import accounts as account_store

    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await queue_for_later(rig, "额度已用到一半")
        account = rig.config.accounts[0]
        share = int(account.quota.daily["draft/add"] * people_quota.PEOPLE_SHARE)
        async with rig.engine.begin() as conn:
            for _ in range(share):
                await account_store.count_call_in(
                    conn, account.name, "draft/add", quota_day(utc_now()), error=False
                )
        assert await stager(rig).run_once() == 0
        assert Counter((await rig.sim_state())["call_counts"])["draft/add"] == 0
        await make_due(rig, queued.id)
        [done] = await rig.worker().run_due(max_wait=20)
        assert done.status is PostStatus.PUBLISHED
