"""The publishing engine against the simulator over loopback, on SQLite and PostgreSQL: the
happy path, every crash boundary fabricated in the store, lost answers and faults."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.account.simulator import SimulatorConfig
from bot.domain.models import Delivery, PostStatus, PublishStage
from bot.engine.quota import next_quota_day_start
from bot.store import log as log_store
from bot.store import posts as post_store
from tests.integration.publish_harness import Rig, publish_rig, utc_now


def published_counts(state: dict) -> Counter[str]:
    return Counter(a["title"] for a in state["published"])


async def publish_all(rig: Rig, *, rounds: int = 60) -> None:
    worker = rig.worker()
    for _ in range(rounds):
        await worker.run_due(max_wait=20)
        async with rig.engine.connect() as conn:
            open_posts = await post_store.list_posts(
                conn, statuses=[PostStatus.QUEUED, PostStatus.PUBLISHING]
            )
        if not open_posts:
            return
        waits = [p.next_attempt_at for p in open_posts if p.next_attempt_at]
        pause = min((w - utc_now()).total_seconds() for w in waits) if waits else 0.1
        await asyncio.sleep(min(max(pause, 0.05), 2.0))


async def test_a_queued_post_is_published_once_and_every_step_is_logged(
    database_url: str, cover_file: Path
) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        post = await rig.add_post("学习强国：随时随地学习")
        done = await rig.worker().run_due(max_wait=20)
        assert [p.status for p in done] == [PostStatus.PUBLISHED]
        published = done[0]
        assert published.article_url.startswith("https://")
        assert published.published_at is not None and published.attempts == 1
        state = await rig.sim_state()
        assert published_counts(state) == Counter({post.title: 1})
        async with rig.engine.connect() as conn:
            steps = [e.step for e in await log_store.list_entries(conn, post_ids=[post.id])]
        for endpoint in (
            "material/add_material",
            "draft/add",
            "freepublish/submit",
            "freepublish/get",
        ):
            assert endpoint in steps
        assert steps.count("transition") == 2  # queued -> publishing -> published


async def test_the_cover_is_uploaded_once_per_account(sqlite_url: str, cover_file: Path) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        for i in range(3):
            await rig.add_post(f"第{i}篇")
        await publish_all(rig)
        state = await rig.sim_state()
        assert sum(published_counts(state).values()) == 3
        calls = state["call_counts"]
        assert calls.get("material/add_material", 0) == 1


async def _draft_on_platform(rig: Rig, title: str) -> tuple[str, str]:
    """A cover and a draft made on the platform directly, as a crashed worker left them: the
    post's own articles (``rig.add_post``'s body), so reconciliation can recognise them."""
    client = rig.clients["acc0"]
    media_id, _ = await client.add_material(rig.cover.read_bytes(), "c.jpg", "image")
    article = {
        "title": title,
        "author": "团区委",
        "digest": "摘要",
        "content": f"<p>{title} 的正文</p>",
        "content_source_url": "https://www.xuexi.cn/",
        "thumb_media_id": media_id,
    }
    return media_id, await client.draft_add([article])


async def _fabricate(rig: Rig, title: str, account: str = "acc0", **fields: object) -> int:
    """A post left behind by a crashed worker: in publishing, lease expired."""
    post = await rig.add_post(title, account=account, column=f"col{account[-1]}")
    async with rig.engine.begin() as conn:
        await post_store.update_fields(
            conn,
            post.id,
            now=utc_now(),
            status=PostStatus.PUBLISHING.value,
            attempts=1,
            lease_owner="dead-worker",
            lease_expires_at=utc_now() - timedelta(seconds=1),
            **fields,
        )
    return post.id


async def test_crash_before_the_cover_resumes(database_url: str, cover_file: Path) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        post_id = await _fabricate(rig, "崩溃于封面之前", stage=PublishStage.NEW.value)
        await publish_all(rig)
        assert (await rig.get(post_id)).status is PostStatus.PUBLISHED
        assert published_counts(await rig.sim_state()) == Counter({"崩溃于封面之前": 1})


async def test_crash_after_the_draft_reuses_the_draft(database_url: str, cover_file: Path) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        media_id, draft_id = await _draft_on_platform(rig, "草稿之后崩溃")
        post_id = await _fabricate(
            rig,
            "草稿之后崩溃",
            stage=PublishStage.DRAFTED.value,
            thumb_media_id=media_id,
            draft_media_id=draft_id,
        )
        await publish_all(rig)
        post = await rig.get(post_id)
        assert post.status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert state["call_counts"].get("draft/add", 0) == 1  # ours above; the engine added none
        assert published_counts(state) == Counter({"草稿之后崩溃": 1})


async def test_crash_between_intent_and_submit_is_proven_then_resubmitted(
    database_url: str, cover_file: Path
) -> None:
    """The intent was recorded but the submit never left: the draft is still in the box and
    nothing is published, so after the reconcile window the post is submitted again."""
    async with publish_rig(database_url, cover_file) as rig:
        media_id, draft_id = await _draft_on_platform(rig, "意图之后崩溃")
        post_id = await _fabricate(
            rig,
            "意图之后崩溃",
            stage=PublishStage.SUBMITTING.value,
            thumb_media_id=media_id,
            draft_media_id=draft_id,
            submitted_at=utc_now(),
        )
        await publish_all(rig)
        assert (await rig.get(post_id)).status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert published_counts(state) == Counter({"意图之后崩溃": 1})
        async with rig.engine.connect() as conn:
            details = [e.detail for e in await log_store.list_entries(conn, post_ids=[post_id])]
        assert any("proven not published" in d for d in details)


async def test_crash_after_submit_without_its_answer_is_found_not_resent(
    database_url: str, cover_file: Path
) -> None:
    """The submit went through but its answer was never stored: reconciliation finds the
    article in freepublish/batchget and never submits again."""
    async with publish_rig(database_url, cover_file) as rig:
        client = rig.clients["acc0"]
        media_id, draft_id = await _draft_on_platform(rig, "提交之后崩溃")
        await client.freepublish_submit(draft_id)
        post_id = await _fabricate(
            rig,
            "提交之后崩溃",
            stage=PublishStage.SUBMITTING.value,
            thumb_media_id=media_id,
            draft_media_id=draft_id,
            submitted_at=utc_now(),
        )
        await asyncio.sleep(0.4)  # the simulator finishes the job
        await publish_all(rig)
        post = await rig.get(post_id)
        assert post.status is PostStatus.PUBLISHED
        assert post.article_id
        state = await rig.sim_state()
        assert state["call_counts"].get("freepublish/submit", 0) == 1
        assert published_counts(state) == Counter({"提交之后崩溃": 1})


async def test_crash_after_the_publish_id_polls_to_the_end(
    database_url: str, cover_file: Path
) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        client = rig.clients["acc0"]
        media_id, draft_id = await _draft_on_platform(rig, "等待结果时崩溃")
        publish_id = await client.freepublish_submit(draft_id)
        post_id = await _fabricate(
            rig,
            "等待结果时崩溃",
            stage=PublishStage.SUBMITTED.value,
            thumb_media_id=media_id,
            draft_media_id=draft_id,
            publish_id=publish_id,
            submitted_at=utc_now(),
        )
        await publish_all(rig)
        assert (await rig.get(post_id)).status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert state["call_counts"].get("freepublish/submit", 0) == 1


async def test_a_rejected_article_fails_with_the_platforms_reason(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("审核不通过 [sim-reject]")
        await publish_all(rig)
        failed = await rig.get(post.id)
        assert failed.status is PostStatus.FAILED
        assert "review rejected" in failed.error


async def test_an_unverified_account_fails_at_once_with_48001_explained(
    sqlite_url: str, cover_file: Path
) -> None:
    config = SimulatorConfig(publish_delay_seconds=0.2, seed=3, verified=False)
    async with publish_rig(sqlite_url, cover_file, sim_config=config) as rig:
        post = await rig.add_post("未认证账号")
        await publish_all(rig)
        failed = await rig.get(post.id)
        assert failed.status is PostStatus.FAILED
        assert failed.errcode == 48001
        assert "verified" in failed.error
        assert failed.attempts == 1


@pytest.mark.timeout(400)
async def test_thirty_posts_through_faults_and_lost_answers_each_publish_once(
    sqlite_url: str, cover_file: Path
) -> None:
    # 45011 is left out here: the platform says to wait for the next minute, which would make
    # this test take minutes; the client's tests cover it.
    config = SimulatorConfig(
        publish_delay_seconds=0.1,
        seed=11,
        fault_rate=0.15,
        lost_answer_rate=0.15,
        slow_seconds=2.5,
        fault_kinds=("busy", "http_5xx", "slow", "token_invalid"),
    )
    async with publish_rig(sqlite_url, cover_file, sim_config=config, accounts=3) as rig:
        titles = []
        for i in range(30):
            account = f"acc{i % 3}"
            title = f"故障测试第{i:02d}篇"
            titles.append(title)
            await rig.add_post(title, account=account, column=f"col{i % 3}")
        await publish_all(rig, rounds=200)
        async with rig.engine.connect() as conn:
            statuses = Counter(p.status for p in await post_store.list_posts(conn))
            steps = Counter((e.step, e.outcome) for e in await log_store.list_entries(conn))
        assert statuses == Counter({PostStatus.PUBLISHED: 30})
        state = await rig.sim_state()
        counts = published_counts(state)
        assert counts == Counter({t: 1 for t in titles})
        # The faults this test is about were injected, and their unclear paths ran: a lost
        # answer after its effect on draft/add (adopted from the draft box) and on submit
        # (reconciled), a slow answer, every kind of fault named above.
        injected = state["faults"]["injected"]
        for kind in ("busy", "http_5xx", "slow", "token_invalid", "lost_answer"):
            assert injected.get(kind, 0) >= 1, (kind, injected)
        assert steps[("draft/add", "unknown")] >= 1, steps
        assert steps[("freepublish/submit", "unknown")] >= 1, steps
        assert steps[("reconcile", "ok")] >= 1, steps


async def test_mass_send_is_sent_once_even_when_its_answer_is_lost(
    sqlite_url: str, cover_file: Path
) -> None:
    config = SimulatorConfig(publish_delay_seconds=0.1, seed=5, account_type="service")
    async with publish_rig(sqlite_url, cover_file, sim_config=config, delivery="mass_send") as rig:
        await rig.set_faults(next=[{"kind": "lost_answer", "path": "message/mass/sendall"}])
        post = await rig.add_post("群发一次", delivery=Delivery.MASS_SEND)
        await publish_all(rig)
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED
        assert done.msg_id
        state = await rig.sim_state()
        assert len(state["mass_sends"]) == 1


async def test_two_workers_never_claim_the_same_post(database_url: str, cover_file: Path) -> None:
    async with publish_rig(database_url, cover_file, accounts=3) as rig:
        for i in range(12):
            await rig.add_post(f"并发第{i}篇", account=f"acc{i % 3}", column=f"col{i % 3}")
        first, second = rig.worker("worker-a"), rig.worker("worker-b")
        for _ in range(80):
            await asyncio.gather(first.run_once(), second.run_once())
            async with rig.engine.connect() as conn:
                left = await post_store.list_posts(
                    conn, statuses=[PostStatus.QUEUED, PostStatus.PUBLISHING]
                )
            if not left:
                break
            await asyncio.sleep(0.1)
        counts = published_counts(await rig.sim_state())
        assert sum(counts.values()) == 12 and set(counts.values()) == {1}


async def test_quota_exhaustion_parks_the_account_and_defers(
    sqlite_url: str, cover_file: Path
) -> None:
    config = SimulatorConfig(publish_delay_seconds=0.1, seed=2, quotas={"draft/add": 0})
    async with publish_rig(sqlite_url, cover_file, sim_config=config) as rig:
        post = await rig.add_post("配额用尽")
        before = utc_now()
        await rig.worker().run_due(max_wait=5)
        deferred = await rig.get(post.id)
        assert deferred.status is PostStatus.PUBLISHING  # deferred, not failed
        assert deferred.errcode == 45009
        # Until the next midnight Beijing time (test_quota_days.py crosses it).
        midnights = {next_quota_day_start(before), next_quota_day_start(utc_now())}
        assert deferred.next_attempt_at in midnights
        from bot.store import accounts as account_store

        async with rig.engine.connect() as conn:
            parked = await account_store.parked_accounts(conn, utc_now())
        assert "acc0" in parked


async def test_a_subscription_account_mass_sends_once_a_day(
    sqlite_url: str, cover_file: Path
) -> None:
    config = SimulatorConfig(publish_delay_seconds=0.1, seed=6)
    async with publish_rig(sqlite_url, cover_file, sim_config=config, delivery="mass_send") as rig:
        first = await rig.add_post("今日群发", delivery=Delivery.MASS_SEND)
        second = await rig.add_post("明日再发", delivery=Delivery.MASS_SEND)
        before = utc_now()
        await rig.worker().run_due(max_wait=10)
        assert (await rig.get(first.id)).status is PostStatus.PUBLISHED
        waiting = await rig.get(second.id)
        assert waiting.status is PostStatus.PUBLISHING and not waiting.msg_id
        # Until the next Beijing day (test_quota_days.py crosses it).
        midnights = {next_quota_day_start(before), next_quota_day_start(utc_now())}
        assert waiting.next_attempt_at in midnights
        assert len((await rig.sim_state())["mass_sends"]) == 1  # the platform was not asked


async def test_a_preview_reaches_the_reviewer_before_publishing(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("预览一下")
        publisher = rig.worker().publishers["acc0"]
        msg_id = await publisher.send_preview(post, "oREVIEWER000000000000000001", actor="r")
        state = await rig.sim_state()
        assert len(state["previews"]) == 1
        assert msg_id is not None
        assert state["published"] == []
        await publish_all(rig)
        assert (await rig.get(post.id)).status is PostStatus.PUBLISHED


async def test_damaged_text_is_refused_again_right_before_publishing(
    sqlite_url: str, cover_file: Path
) -> None:
    """A body damaged after it was queued (an edit, a bug) never reaches the platform."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("团(tuán)员学习")
        await rig.worker().run_due(max_wait=5)
        refused = await rig.get(post.id)
        assert refused.status is PostStatus.FAILED
        assert "refused by the checks before publishing" in refused.error
        state = await rig.sim_state()
        assert state["call_counts"].get("draft/add", 0) == 0


async def test_a_restart_takes_over_posts_of_a_dead_local_process(
    sqlite_url: str, cover_file: Path
) -> None:
    import os

    from bot.app import local_place

    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    async with publish_rig(sqlite_url, cover_file, accounts=2) as rig:
        mine = await _fabricate(rig, "死进程的文章", stage=PublishStage.NEW.value)
        other = await _fabricate(rig, "别处进程的文章", "acc1", stage=PublishStage.NEW.value)
        far = utc_now() + timedelta(hours=1)
        async with rig.engine.begin() as conn:
            await post_store.update_fields(
                conn,
                mine,
                now=utc_now(),
                lease_owner=f"{local_place()}:{dead.pid}:abc",
                lease_expires_at=far,
            )
            await post_store.update_fields(
                conn,
                other,
                now=utc_now(),
                lease_owner=f"elsewhere/1:{os.getpid()}:abc",
                lease_expires_at=far,
            )
        worker = rig.worker()
        assert await worker.release_dead_leases(local_place()) == 1
        await worker.run_due(max_wait=10)
        assert (await rig.get(mine)).status is PostStatus.PUBLISHED
        assert (await rig.get(other)).status is PostStatus.PUBLISHING  # still someone else's


async def test_a_permanent_error_after_the_submit_asks_a_person_instead_of_failing(
    sqlite_url: str, cover_file: Path
) -> None:
    """A post that may be online must never become "failed" (a retry would publish it
    twice): an error after the submit marks it as needing attention."""
    from bot.account.errors import ApiPermissionError

    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("提交后出错")
        client = rig.clients["acc0"]

        async def refused(publish_id: str) -> object:
            raise ApiPermissionError(
                "freepublish/get: errcode 48001", endpoint="freepublish/get", errcode=48001
            )

        client.freepublish_get = refused  # type: ignore[method-assign]
        await rig.worker().run_due(max_wait=5)
        stuck = await rig.get(post.id)
        assert stuck.status is PostStatus.PUBLISHING and stuck.needs_attention
        assert stuck.stage is PublishStage.ATTENTION
        assert "check the account" in stuck.error


async def test_a_lost_draft_answer_backs_off_instead_of_looping(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        await rig.set_faults(next=[{"kind": "http_5xx", "path": "draft/add"}] * 5)
        post = await rig.add_post("草稿接口故障")
        await rig.worker().run_once()
        state = await rig.sim_state()
        assert state["call_counts"].get("draft/add", 0) == 1
        assert state["faults"]["injected"] == {"http_5xx": 1}
        # The unclear answer made it look in the draft box before backing off.
        assert state["call_counts"].get("draft/batchget", 0) == 1
        waiting = await rig.get(post.id)
        assert waiting.next_attempt_at is not None and waiting.next_attempt_at > utc_now()


async def test_a_busy_submit_counts_toward_the_attempt_cap(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        await rig.set_faults(next=[{"kind": "busy", "path": "freepublish/submit"}] * 30)
        post = await rig.add_post("提交繁忙")
        worker = rig.worker()
        for _ in range(40):
            await worker.run_once()
            current = await rig.get(post.id)
            if current.status is PostStatus.FAILED:
                break
            async with rig.engine.begin() as conn:  # skip the backoff wait
                await post_store.update_fields(
                    conn, post.id, now=utc_now(), next_attempt_at=utc_now()
                )
        assert current.status is PostStatus.FAILED
        assert current.attempts == rig.config.publisher.max_attempts
        state = await rig.sim_state()
        # One submit per attempt, each refused as busy: none went through.
        assert state["call_counts"]["freepublish/submit"] == rig.config.publisher.max_attempts
        assert state["faults"]["injected"] == {"busy": rig.config.publisher.max_attempts}
        assert (await rig.sim_state())["call_counts"].get("freepublish/batchget", 0) == 0


async def test_an_unprovable_submit_waits_for_a_person(sqlite_url: str, cover_file: Path) -> None:
    """The submit went through (the draft left the box) but the article never appears in the
    published list (here: the platform rejected it): neither provably published nor provably
    not, so the post is never resubmitted; it needs attention."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        title = "被拒的文章 [sim-reject]"
        media_id, draft_id = await _draft_on_platform(rig, title)
        await rig.clients["acc0"].freepublish_submit(draft_id)
        post_id = await _fabricate(
            rig,
            title,
            stage=PublishStage.SUBMITTING.value,
            thumb_media_id=media_id,
            draft_media_id=draft_id,
            submitted_at=utc_now(),
        )
        await publish_all(rig)
        post = await rig.get(post_id)
        assert post.needs_attention and post.stage is PublishStage.ATTENTION
        assert post.status is PostStatus.PUBLISHING
        assert (await rig.sim_state())["call_counts"].get("freepublish/submit", 0) == 1
