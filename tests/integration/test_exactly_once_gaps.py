"""The exactly-once paths no other test reaches on purpose: the publish event completing a post
without a single poll, a worker that stalls (without dying) past its lease, and the crash
boundaries where an answer is lost after its effect (draft/add, a submit whose job is still
running) or where two posts carry the same title."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.account.simulator import SimulatorConfig
from bot.domain.models import PostStatus, PublishStage
from bot.store import log as log_store
from bot.store import posts as post_store
from bot.store.tables import callback_events
from tests.conftest import FakeClock
from tests.integration.clocked_rig import Clocked, clocked_rig
from tests.integration.publish_harness import FAST
from tests.integration.web_rig import (
    CALLBACK_TOKEN,
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


async def _steps(engine: Any, post_id: int) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        entries = await log_store.list_entries(conn, post_ids=[post_id])
    return [(e.step, e.outcome, e.detail) for e in sorted(entries, key=lambda e: e.id)]


# --- the publish event --------------------------------------------------------------------


async def test_the_publish_event_completes_a_post_without_any_poll(
    rig: WebRig, cover_file: Path
) -> None:
    services = rig.services
    # A first poll far away: only the event can finish the post in this test.
    publisher = services.worker.publishers["main"]
    publisher.settings = replace(FAST, poll_first_seconds=30.0, poll_max_seconds=600.0)
    async with rig.client.session.post(
        f"{rig.sim.url}/_sim/callback",
        json={"url": f"{rig.url}callback/main", "token": CALLBACK_TOKEN},
    ) as answer:
        assert answer.status == 200
    now = services.clock()
    new = post_store.NewPost(
        column="快讯",
        account="main",
        title="回调完成的文章",
        author="团区委",
        digest="摘要",
        markdown="",
        content_html="<p>回调完成的文章 的正文</p>",
        content_source_url="https://www.xuexi.cn/",
        cover=str(cover_file),
        delivery="publish",
        status=PostStatus.QUEUED,
        resources=[],
        scheduled_for=now,
    )
    async with services.engine.begin() as conn:
        post_id = await post_store.create(conn, new, now=now)

    await services.worker.run_once()
    async with services.engine.connect() as conn:
        submitted = await post_store.get(conn, post_id)
    assert submitted.stage is PublishStage.SUBMITTED and submitted.publish_id
    assert submitted.submitted_at is not None and submitted.next_attempt_at is not None
    # With a callback the first poll waits four times as long (4 × 30 s).
    first_poll = submitted.next_attempt_at - submitted.submitted_at
    assert timedelta(seconds=119) <= first_poll <= timedelta(seconds=121)

    for _ in range(200):  # the simulator's job (0.2 s) ends and it pushes the event
        async with services.engine.connect() as conn:
            stored = (await conn.execute(sa.select(callback_events.c.payload))).scalars().all()
            due = await post_store.get(conn, post_id)
        # The event is stored, then (its own transaction) the post made due: wait for both.
        if stored and due.next_attempt_at is not None and due.next_attempt_at <= services.clock():
            break
        await asyncio.sleep(0.05)
    assert [p["publish_id"] for p in stored] == [submitted.publish_id]
    assert due.next_attempt_at is not None
    assert due.next_attempt_at <= services.clock()  # the event made it due, not the 2-min poll

    await services.worker.run_once()
    async with services.engine.connect() as conn:
        done = await post_store.get(conn, post_id)
    assert done.status is PostStatus.PUBLISHED and done.article_id
    async with rig.client.session.get(f"{rig.sim.url}/_sim/state") as answer:
        state = await answer.json()
    assert state["call_counts"].get("freepublish/get", 0) == 0  # not one poll
    assert [a["title"] for a in state["published"]] == ["回调完成的文章"]
    assert ("transition", "ok", "published [event]") in await _steps(services.engine, post_id)


# --- a worker that stalls past its lease ---------------------------------------------------


class StalledClient:
    """The account client, except that draft/add takes effect and then hangs until released:
    a worker stuck in a call (a frozen VM, a stuck socket), not a dead one."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def draft_add(self, articles: Any) -> str:
        media_id: str = await self._client.draft_add(articles)
        self.entered.set()
        await self.release.wait()
        return media_id


async def test_a_worker_stalled_past_its_lease_is_fenced_off(
    database_url: str, cover_file: Path
) -> None:
    clock = FakeClock()
    settings = replace(FAST, lease_seconds=30)
    sim = SimulatorConfig(publish_delay_seconds=1.0, seed=21)
    async with clocked_rig(
        database_url, cover_file, clock, sim_config=sim, publisher=settings
    ) as rig:
        post = await rig.add_post("租约过期的工作者")
        stalled = StalledClient(rig.clients["acc0"])
        slow = rig.worker("worker-slow", acc0=stalled)
        other = rig.worker("worker-other")
        slow_pass = asyncio.create_task(slow.run_once())
        await asyncio.wait_for(stalled.entered.wait(), 10)

        # Within the lease nobody else may take the post.
        assert await other.run_once() == []
        held = await rig.get(post.id)
        assert held.stage is PublishStage.COVER and not held.draft_media_id

        clock.advance(31)  # the lease runs out while the slow worker is still stuck
        # The other worker takes over and gets as far as the submit; its job is running.
        await other.run_once()
        taken_over = await rig.get(post.id)
        assert taken_over.status is PostStatus.PUBLISHING
        assert taken_over.stage is PublishStage.SUBMITTED and taken_over.publish_id
        steps_before = await _steps(rig.engine, post.id)

        # The stuck call returns now: its worker must write nothing (the stage moved on under
        # it) and above all not submit its own draft.
        stalled.release.set()
        assert await asyncio.wait_for(slow_pass, 10) == []
        assert await rig.get(post.id) == taken_over
        assert await _steps(rig.engine, post.id) == steps_before

        await rig.drive(other, until=clock() + timedelta(minutes=5))
        assert (await rig.get(post.id)).status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert Counter(a["title"] for a in state["published"]) == {post.title: 1}
        assert state["call_counts"]["freepublish/submit"] == 1
        assert state["call_counts"]["draft/add"] == 2  # the stuck worker's draft stays a draft


# --- lost answers after their effect ---------------------------------------------------------


async def test_a_draft_add_that_took_effect_with_its_answer_lost_is_adopted(
    sqlite_url: str, cover_file: Path
) -> None:
    clock = FakeClock()
    async with clocked_rig(sqlite_url, cover_file, clock) as rig:
        await rig.set_faults(next=[{"kind": "lost_answer", "path": "draft/add", "mode": "drop"}])
        post = await rig.add_post("草稿应答丢失")
        await rig.drive(rig.worker(), until=clock() + timedelta(minutes=5))
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert state["faults"]["injected"] == {"lost_answer": 1}
        # One draft was made, found in the draft box and published: none was added twice.
        assert state["call_counts"]["draft/add"] == 1
        assert state["call_counts"]["draft/batchget"] == 1
        assert state["call_counts"]["freepublish/submit"] == 1
        steps = await _steps(rig.engine, post.id)
        assert ("draft/add", "unknown", "answer lost; looking for it") in steps


async def test_a_submit_answer_lost_while_its_job_runs_is_reconciled_once_the_job_ends(
    sqlite_url: str, cover_file: Path
) -> None:
    clock = FakeClock()
    # Rechecks every 60 s (a quarter of the window, at most a minute); the job takes 90 s.
    settings = replace(FAST, reconcile_window_seconds=300.0)
    sim = SimulatorConfig(publish_delay_seconds=90.0, seed=22)
    async with clocked_rig(
        sqlite_url, cover_file, clock, sim_config=sim, publisher=settings
    ) as rig:
        await rig.set_faults(next=[{"kind": "lost_answer", "path": "freepublish/submit"}])
        post = await rig.add_post("提交应答丢失")
        worker = rig.worker()
        start = clock()
        # While the job runs, nothing proves either way: the post waits and never resubmits.
        await rig.drive(worker, until=start + timedelta(seconds=89))
        waiting = await rig.get(post.id)
        assert waiting.status is PostStatus.PUBLISHING
        assert waiting.stage is PublishStage.UNKNOWN
        assert (await rig.sim_state())["published"] == []

        await rig.drive(worker, until=start + timedelta(minutes=5))
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED and done.article_id
        state = await rig.sim_state()
        assert state["faults"]["injected"] == {"lost_answer": 1}
        assert state["call_counts"]["freepublish/submit"] == 1
        assert Counter(a["title"] for a in state["published"]) == {post.title: 1}
        details = [d for step, _, d in await _steps(rig.engine, post.id) if step == "reconcile"]
        # First looked at while the job ran (not listed yet), then found once it ended.
        assert "not among the" in details[0] and "published items" in details[0], details
        assert f"article {done.article_id} in the published list" in details[-1], details


# --- two posts with the same title -----------------------------------------------------------


async def _unknown_with_draft_in_box(rig: Clocked, title: str) -> int:
    """A post whose submit may or may not have happened (stage ``unknown``), its draft on the
    platform and still in the draft box: in truth it was never submitted."""
    post = await rig.add_post(title)
    client = rig.clients["acc0"]
    cover = await client.add_material(rig.cover.read_bytes(), "cover.jpg", "image")
    draft = await client.draft_add(
        [
            {
                "title": post.title,
                "author": post.author,
                "digest": post.digest,
                "content": post.content_html,
                "content_source_url": post.content_source_url,
                "thumb_media_id": cover[0],
            }
        ]
    )
    async with rig.engine.begin() as conn:
        await post_store.update_fields(
            conn,
            post.id,
            now=rig.clock(),
            status=PostStatus.PUBLISHING.value,
            stage=PublishStage.UNKNOWN.value,
            thumb_media_id=cover[0],
            draft_media_id=draft,
            submitted_at=rig.clock(),
            next_attempt_at=rig.clock(),
            attempts=1,
        )
    return post.id


async def test_a_same_titled_article_published_minutes_earlier_is_not_taken_for_this_post(
    sqlite_url: str, cover_file: Path
) -> None:
    """Two posts of one column with the same title (the default template gives every
    multi-resource post one), published minutes apart. The second one's submit answer is
    unclear and it was in truth never submitted: reconciliation must not take the first
    one's article as proof, or the second post is never published."""
    clock = FakeClock()
    settings = replace(FAST, reconcile_window_seconds=10.0)
    sim = SimulatorConfig(publish_delay_seconds=1.0, seed=23)
    async with clocked_rig(
        sqlite_url, cover_file, clock, sim_config=sim, publisher=settings
    ) as rig:
        title = "学习平台｜本期推荐2项学习资源"
        first = await rig.add_post(title)
        worker = rig.worker()
        await rig.drive(worker, until=clock() + timedelta(minutes=1))
        assert (await rig.get(first.id)).status is PostStatus.PUBLISHED

        clock.advance(120)  # two minutes later, within reconciliation's clock slack
        second = await _unknown_with_draft_in_box(rig, title)
        await rig.drive(worker, until=clock() + timedelta(minutes=5))
        done = await rig.get(second)
        state = await rig.sim_state()
        # Not "published" on the strength of the first post's article: its draft was still
        # in the box after the window, so it was proven unpublished and submitted.
        assert done.status is PostStatus.PUBLISHED
        assert Counter(a["title"] for a in state["published"]) == {title: 2}
        assert done.article_id and done.article_id != (await rig.get(first.id)).article_id
        assert state["call_counts"]["freepublish/submit"] == 2
