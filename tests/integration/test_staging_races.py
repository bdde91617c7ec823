"""Staging and the publisher's start against edits, reorders, failures and a stalled stager
(the engine review's F1, F7, F11 and F12, reproduced there and kept here)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.errors import ConflictError
from bot.domain.models import PostStatus, PublishStage
from bot.store import accounts as account_store
from bot.store import posts as post_store
from tests.integration.publish_harness import Rig, publish_rig, utc_now
from tests.integration.test_staging import edit_title, make_due, queue_for_later, stager


async def settle(rig: Rig, post_id: int, seconds: float = 20):  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.2)):
        await rig.worker().run_once()
        current = await rig.get(post_id)
        if current.status in (PostStatus.PUBLISHED, PostStatus.FAILED) or current.needs_attention:
            return current
        await asyncio.sleep(0.2)
    return await rig.get(post_id)


class _Proxy:
    def __init__(self, inner: Any, **overrides: Any) -> None:
        self._inner = inner
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_edit_between_claim_and_start_does_not_publish_the_stale_staged_draft(
    sqlite_url: str, cover_file: Path
) -> None:
    """The worker reads the post, an editor changes it (still queued), then _start runs:
    staged-ness is judged from the stale copy, so the OLD draft is submitted."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await queue_for_later(rig, "旧稿")
        assert await stager(rig).run_once() == 1
        await make_due(rig, queued.id)
        stale = await rig.get(queued.id)  # what Worker._advance read
        await edit_title(rig, queued.id, "新稿")  # the edit lands just after
        publisher = rig.worker().publishers["acc0"]
        # The start refuses the copy read before the edit; the worker releases the post
        # and its next claim reads it again.
        with contextlib.suppress(ConflictError):
            await publisher.advance(stale)
        done = await settle(rig, queued.id)
        state = await rig.sim_state()
        published = [a["title"] for a in state["published"]]
        assert done.status is PostStatus.PUBLISHED
        assert done.title == "新稿"
        assert published == ["新稿"], f"platform published {published}, record says 新稿"


async def test_edit_between_claim_and_start_is_published_not_the_claimed_copy(
    sqlite_url: str, cover_file: Path
) -> None:
    """Since a8af038 `_start` no longer reads the post back (reread=False): the claimed copy's
    articles go into draft/add even when an edit landed after the claim (not staged at all)."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await rig.add_post("认领时的标题")
        worker = rig.worker()
        [claimed] = await worker._claim(1)
        await edit_title(rig, queued.id, "认领后改的标题")
        await worker._advance(claimed)
        done = await settle(rig, queued.id)
        published = [a["title"] for a in (await rig.sim_state())["published"]]
        assert done.status is PostStatus.PUBLISHED
        assert published == [done.title], (
            f"platform published {published}, record says {done.title}"
        )


async def test_a_reorder_during_staging_does_not_swap_the_covers(
    sqlite_url: str, cover_file: Path
) -> None:
    """The stager reads [A, B] and uploads their covers; an editor reorders to [B, A]; the
    stager records its thumbs by position (update_staged compares status/stage/owner only), so
    B gets A's cover id. At the slot the post is not staged (digest differs), restarts at
    stage COVER and keeps those swapped thumbs for the new draft."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await rig.add_post("甲篇", more_titles=["乙篇"])
        async with rig.engine.begin() as conn:
            await post_store.update_fields(
                conn, queued.id, now=utc_now(), scheduled_for=utc_now() + timedelta(seconds=120)
            )
            assert await post_store.claim_for_staging(
                conn, queued.id, owner="s", now=utc_now(), lease=timedelta(seconds=30)
            )
        stale = await rig.get(queued.id)
        async with rig.engine.begin() as conn:
            a, b = stale.articles
            assert await post_store.replace_articles(
                conn, stale, [b, a], now=utc_now(), statuses=[PostStatus.QUEUED]
            )
        publisher = rig.worker().publishers["acc0"]
        # Refused to record covers of the order it read (the reorder came after).
        assert not await publisher.stage_ahead(stale, owner="s")
        async with rig.engine.begin() as conn:
            await post_store.release(conn, queued.id, owner="s")
        await make_due(rig, queued.id)
        final = await settle(rig, queued.id)
        assert final.status is PostStatus.PUBLISHED
        async with rig.engine.connect() as conn:
            wrong = []
            for article in final.articles:
                digest = hashlib.sha256(Path(article.cover).read_bytes()).hexdigest()
                cached = await account_store.cached_media(conn, "acc0", digest, "cover")
                assert cached
                if cached[0] != article.thumb_media_id:
                    wrong.append(article.title)
        assert not wrong, f"articles published with another article's cover: {wrong}"


async def test_a_failing_stage_ahead_backs_off(sqlite_url: str, cover_file: Path) -> None:
    """stage_ahead's failure sets no next_attempt_at: every stager tick (5 s) repeats the
    uploads and draft/add, spending the account's daily draft/add quota."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        await rig.add_post("先发一篇")
        [first] = await rig.worker().run_due(max_wait=20)
        await settle(rig, first.id)
        rig.sim.sim.materials.clear()  # the cached cover is gone: draft/add answers 40007
        await queue_for_later(rig, "提前准备失败", seconds=300)
        before = Counter((await rig.sim_state())["call_counts"])["draft/add"]
        staging = stager(rig)  # the service's one stager, pass after pass
        for _ in range(5):
            await staging.run_once()
        after = Counter((await rig.sim_state())["call_counts"])["draft/add"]
        assert after - before <= 2, f"{after - before} draft/add calls in 5 staging passes"


async def test_a_stalled_stagers_release_never_frees_the_slots_claim(
    sqlite_url: str, cover_file: Path
) -> None:
    """In one process the stager and the publisher hold leases under the SAME owner string
    (bot/app.py). A stager whose (unrenewed) lease ran out while draft/add was slow finishes
    after the publisher claimed the post at its slot, and its ``finally: release(owner)``
    clears the publisher's live lease mid-submit: another process can then claim the post."""
    from bot.engine.staging import Stager, stager_owner

    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await queue_for_later(rig, "共用租约")
        same = "host/1:123:abcd"
        worker = rig.worker(same)
        stager_gate, submit_gate = asyncio.Event(), asyncio.Event()
        s_pub = rig.worker(same).publishers["acc0"]
        real_add = s_pub.api.draft_add

        async def slow_add(articles: Any) -> str:
            await stager_gate.wait()
            return await real_add(articles)

        s_pub.api = _Proxy(s_pub.api, draft_add=slow_add)  # type: ignore[assignment]
        st = Stager(
            engine=rig.engine,
            publishers={"acc0": s_pub},
            clock=utc_now,
            owner=stager_owner(same),  # as bot.app names it beside the publisher
            lead_seconds=600,
            lease_seconds=30,
        )
        staging = asyncio.create_task(st._stage(await rig.get(queued.id)))
        await asyncio.sleep(0.5)
        async with rig.engine.begin() as conn:  # the staging lease runs out; the slot comes
            await post_store.update_fields(
                conn,
                queued.id,
                now=utc_now(),
                lease_expires_at=utc_now() - timedelta(seconds=1),
                scheduled_for=utc_now() - timedelta(seconds=1),
            )
        w_pub = worker.publishers["acc0"]
        real_submit = w_pub.api.freepublish_submit

        async def slow_submit(media_id: str) -> Any:
            await submit_gate.wait()
            return await real_submit(media_id)

        w_pub.api = _Proxy(w_pub.api, freepublish_submit=slow_submit)  # type: ignore[assignment]
        [claimed] = await worker._claim(1)
        publishing = asyncio.create_task(worker._advance(claimed))
        for _ in range(200):
            if (await rig.get(queued.id)).stage is PublishStage.SUBMITTING:
                break
            await asyncio.sleep(0.05)
        stager_gate.set()
        await asyncio.wait_for(staging, 10)  # the stager gives up and releases "its" lease
        other = await rig.worker("elsewhere")._claim(1)
        submit_gate.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(publishing, 10)
        assert other == [], "another process claimed a post whose submit was in flight"


@pytest.mark.parametrize("removal", ["submit", "job_end_republish"])
async def test_a_stalled_holder_whose_lease_ran_out_does_not_submit_again(
    sqlite_url: str, cover_file: Path, removal: str
) -> None:
    """(F4) W1 records the intent (staged post: start+intent in one write) and stalls before its
    HTTP submit; its lease runs out; W2 takes over, reconciles (draft present after the
    window, nothing listed) and resubmits; W1 resumes and submits too."""
    from bot.account.simulator import SimulatorConfig

    sim = SimulatorConfig(publish_delay_seconds=3.0, seed=1, draft_removal=removal)
    async with publish_rig(sqlite_url, cover_file, sim_config=sim) as rig:
        queued = await queue_for_later(rig, "僵住的工人")
        assert await stager(rig).run_once() == 1
        await make_due(rig, queued.id)
        w1 = rig.worker("w1")
        publisher1 = w1.publishers["acc0"]
        gate = asyncio.Event()
        real_submit = publisher1.api.freepublish_submit

        async def stalled_submit(media_id: str) -> Any:
            await gate.wait()  # the process is stopped (GC pause, SIGSTOP, VM suspend)
            return await real_submit(media_id)

        publisher1.api = _Proxy(publisher1.api, freepublish_submit=stalled_submit)  # type: ignore[assignment]
        [claimed] = await w1._claim(1)
        stale = claimed
        task = asyncio.create_task(publisher1.advance(stale))  # no keeper: it is stalled too
        for _ in range(200):
            if (await rig.get(queued.id)).stage is PublishStage.SUBMITTING:
                break
            await asyncio.sleep(0.02)
        async with rig.engine.begin() as conn:  # the stalled holder's lease runs out
            await post_store.update_fields(
                conn, queued.id, now=utc_now(), lease_expires_at=utc_now() - timedelta(seconds=1)
            )
        w2 = rig.worker("w2")
        for _ in range(100):
            await w2.run_once()
            if (await rig.get(queued.id)).stage is PublishStage.SUBMITTED:
                break
            await asyncio.sleep(0.1)
        gate.set()  # W1 resumes while W2's job runs
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        final = await settle(rig, queued.id)
        await asyncio.sleep(3.5)
        state = await rig.sim_state()
        calls = Counter(state["call_counts"])
        published = [a["title"] for a in state["published"]]
        assert calls["freepublish/submit"] == 1 and published.count("僵住的工人") <= 1, (
            f"submits={calls['freepublish/submit']}, published={published}, post={final.status}"
        )
