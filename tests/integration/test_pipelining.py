"""Backlogs are pipelined: a post waiting for its publish job never holds up the next due post
of the same account, and ``bot publish --due`` never sleeps while a post is due."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.account.simulator import SimulatorConfig
from bot.domain.models import Post, PostStatus
from bot.store import log as log_store
from bot.store import posts as post_store
from tests.integration.publish_harness import publish_rig, utc_now


async def test_one_accounts_backlog_is_submitted_while_the_first_job_still_runs(
    sqlite_url: str, cover_file: Path
) -> None:
    # Jobs of 6 s: had the pass waited for each job (its first poll) before the next post,
    # the last submit would come after the first post was published. (Long enough that five
    # submits fit well inside one job on a loaded machine.)
    sim = SimulatorConfig(publish_delay_seconds=6.0, seed=1)
    async with publish_rig(sqlite_url, cover_file, sim_config=sim) as rig:
        posts = [await rig.add_post(f"积压 {i}") for i in range(5)]
        sleeps: list[float] = []
        progress: list[int] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            await asyncio.sleep(seconds)

        def on_progress(touched: list[Post]) -> None:
            progress.append(len(touched))

        done = await rig.worker().run_due(max_wait=60, sleep=sleep, on_progress=on_progress)
        assert [p.status for p in done] == [PostStatus.PUBLISHED] * 5
        async with rig.engine.connect() as conn:
            entries = await log_store.list_entries(conn, post_ids=[p.id for p in posts])
        submits = [e.at for e in entries if e.step == "freepublish/submit"]
        first_published = min(
            e.at for e in entries if e.step == "transition" and e.to_status == "published"
        )
        assert len(submits) == 5
        assert max(submits) < first_published
        assert progress and progress[-1] == 5
        # It slept only while every touched post was waiting for the platform.
        assert len(sleeps) < len(progress)


async def test_the_service_claims_a_post_at_its_time_not_at_the_next_tick(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await rig.add_post("八点整")
        due = utc_now() + timedelta(seconds=1.5)
        async with rig.engine.begin() as conn:
            await post_store.update_fields(conn, queued.id, now=utc_now(), scheduled_for=due)
        stop = asyncio.Event()
        worker = rig.worker()
        running = asyncio.create_task(worker.run_forever(stop, tick=60))
        try:
            for _ in range(100):
                if (await rig.get(queued.id)).status is not PostStatus.QUEUED:
                    break
                await asyncio.sleep(0.1)
            started = utc_now()
        finally:
            stop.set()
            await running
        # Started at its time, though the tick (60 s) had not come round again.
        assert (await rig.get(queued.id)).status is not PostStatus.QUEUED
        assert started - due < timedelta(seconds=8)
