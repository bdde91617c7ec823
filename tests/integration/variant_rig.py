"""A publishing rig on simulated time, for running the publisher over the simulator's variants:
one fake clock for the simulator, the client and the publisher, so jobs of minutes and
reconcile windows of hours pass without waiting. The publisher is driven directly (no worker
loop): each open post that is due is advanced, and when none is due the clock jumps to the
next one's time. Finished jobs' events are stored the way the callback receiver stores them,
when ``callback`` is on."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.callback import PublishJobFinish
from bot.account.client import AccountClient, RetryPolicy
from bot.account.simulator import RunningSimulator, SimulatorConfig, start_simulator
from bot.config import Config, PublisherConfig
from bot.domain.models import Delivery, Post, PostStatus
from bot.engine.publishing import PostPublisher
from bot.engine.shared_state import DatabaseCallRecorder, DatabaseTokenStore
from bot.store import db
from bot.store import events as event_store
from bot.store import posts as post_store
from bot.web.callback import event_record
from tests.conftest import FakeClock
from tests.integration.publish_harness import make_config, queued_post

SETTINGS = PublisherConfig(
    concurrency=1,
    lease_seconds=300,
    max_attempts=8,
    poll_first_seconds=10.0,
    poll_max_seconds=60.0,
    tick_seconds=1.0,
)
# Every variant of a submitted draft's removal (platform-fidelity.md §1 #1).
DRAFT_REMOVALS = ("submit", "job_end", "job_end_republish")
PROFILES = ("documented", "realistic")


@dataclass
class VariantRig:
    config: Config
    engine: AsyncEngine
    sim: RunningSimulator
    publisher: PostPublisher
    client: AccountClient
    clock: FakeClock
    cover: Path
    callback: bool
    delivered: int = 0
    post_ids: list[int] = field(default_factory=list)

    async def add_post(
        self, title: str, *, author: str = "团区委", delivery: Delivery = Delivery.PUBLISH
    ) -> Post:
        new = queued_post(
            title, cover=self.cover, due=self.clock(), author=author, delivery=delivery
        )
        async with self.engine.begin() as conn:
            post_id = await post_store.create(conn, new, now=self.clock())
            self.post_ids.append(post_id)
            return await post_store.get(conn, post_id)

    async def get(self, post_id: int) -> Post:
        async with self.engine.connect() as conn:
            return await post_store.get(conn, post_id)

    async def deliver_events(self) -> None:
        """The finished jobs' events, stored as the callback receiver stores them (or
        dropped, without a callback)."""
        self.sim.sim.settle()
        for event in self.sim.sim.take_outbox():
            if not self.callback or not isinstance(event, PublishJobFinish):
                continue
            name, payload = event_record(event)
            await event_store.record_event(
                self.engine,
                account="acc0",
                dedupe_key=f"publish:{event.publish_id}:{event.publish_status}",
                event=name,
                payload=payload,
                now=self.clock(),
            )
            self.delivered += 1

    async def run(self, *, max_steps: int = 5000, horizon_seconds: float = 86400.0) -> None:
        """Advance every post until none is open (queued, or publishing without needing a
        person), moving the clock to the next due time whenever nothing is due."""
        start = self.clock()
        for _ in range(max_steps):
            await self.deliver_events()
            posts = [await self.get(i) for i in self.post_ids]
            open_posts = [
                p
                for p in posts
                if p.status in (PostStatus.QUEUED, PostStatus.PUBLISHING) and not p.needs_attention
            ]
            if not open_posts:
                return
            now = self.clock()
            due = [p for p in open_posts if not p.next_attempt_at or p.next_attempt_at <= now]
            for post in due:
                await self.publisher.advance(post)
            if not due:
                wake = min(p.next_attempt_at for p in open_posts if p.next_attempt_at)
                self.clock.advance(max((wake - now).total_seconds(), 0.001))
            assert (self.clock() - start).total_seconds() < horizon_seconds, "ran out of time"
        raise AssertionError("the posts did not settle within the steps allowed")

    async def state(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.sim.url}/_sim/state") as response,
        ):
            return dict(await response.json())

    async def published_counts(self) -> Counter[str]:
        """Articles online per title (the console's articles included)."""
        return Counter(a["title"] for a in (await self.state())["published"])


@contextlib.asynccontextmanager
async def variant_rig(
    url: str,
    cover: Path,
    *,
    profile: str = "documented",
    callback: bool = True,
    settings: PublisherConfig = SETTINGS,
    delivery: str = "publish",
    **variants: Any,
) -> AsyncIterator[VariantRig]:
    clock = FakeClock()
    sim_config = SimulatorConfig.for_profile(
        profile, **{"seed": 7, "publish_delay_seconds": 15.0, "clock": clock, **variants}
    )
    sim = await start_simulator(sim_config, push=False)
    engine = db.open_engine(url)
    await db.upgrade(engine)
    session = aiohttp.ClientSession()
    config = replace(make_config(url, sim.url, delivery=delivery), publisher=settings)
    account = config.account("acc0")

    async def no_wait(seconds: float) -> None:
        clock.advance(seconds)

    client = AccountClient(
        account,
        session,
        tokens=DatabaseTokenStore(engine, clock),
        counter=DatabaseCallRecorder(engine, clock),
        clock=clock,
        retry=RetryPolicy(attempts=6, base_delay=0.5, max_delay=5.0),
        timeout=aiohttp.ClientTimeout(total=5, connect=2),
        sleep=no_wait,
    )

    async def load_cover(ref: str) -> bytes:
        return Path(ref).read_bytes()

    publisher = PostPublisher(
        engine=engine,
        account=account,
        api=client,
        settings=settings,
        clock=clock,
        load_cover=load_cover,
        callback_configured=callback,
    )
    try:
        yield VariantRig(config, engine, sim, publisher, client, clock, cover, callback)
    finally:
        await session.close()
        await engine.dispose()
        await sim.stop()
