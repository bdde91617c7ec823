"""The publishing rig on a clock the test moves: the service (client, token store, call
counters, publisher, worker) and the simulator read the same ``FakeClock``, so a test can
cross a Beijing midnight, a month end or a lease's expiry without waiting for it.

Passes are driven by hand (``Clocked.drive``): a pass, then the clock jumps to the next time a
post asked to be looked at again, as far as a limit the test sets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.account.client import AccountClient, RetryPolicy
from bot.account.simulator import SimulatorConfig, start_simulator
from bot.config import PublisherConfig
from bot.domain.models import Delivery, Post, PostStatus
from bot.engine.publishing import PostPublisher
from bot.engine.shared_state import DatabaseCallRecorder, DatabaseTokenStore
from bot.engine.worker import Worker
from bot.store import accounts as account_store
from bot.store import db
from bot.store import posts as post_store
from tests.conftest import FakeClock
from tests.integration.publish_harness import FAST, Rig, make_config, queued_post


@dataclass
class Clocked(Rig):
    clock: FakeClock = field(default_factory=FakeClock)
    publisher_settings: PublisherConfig = FAST

    def publisher(
        self, account: str = "acc0", *, api: Any = None, callback: bool = False
    ) -> PostPublisher:
        return PostPublisher(
            engine=self.engine,
            account=self.config.account(account),
            api=api or self.clients[account],
            settings=self.publisher_settings,
            clock=self.clock,
            load_cover=self.load_cover,
            callback_configured=callback,
        )

    def worker(self, owner: str | None = None, engine: Any = None, **apis: Any) -> Worker:
        """A worker on the test's clock; ``acc0=client`` gives an account another client."""
        return Worker(
            engine=engine or self.engine,
            publishers={name: self.publisher(name, api=apis.get(name)) for name in self.clients},
            clock=self.clock,
            owner=owner or self.owner,
            concurrency=4,
            lease_seconds=self.publisher_settings.lease_seconds,
        )

    async def add_post(
        self,
        title: str,
        *,
        account: str = "acc0",
        column: str = "col0",
        delivery: Delivery = Delivery.PUBLISH,
    ) -> Post:
        new = queued_post(
            title,
            cover=self.cover,
            due=self.clock(),
            account=account,
            column=column,
            delivery=delivery,
        )
        async with self.engine.begin() as conn:
            post_id = await post_store.create(conn, new, now=self.clock())
            return await post_store.get(conn, post_id)

    async def open_posts(self) -> list[Post]:
        async with self.engine.connect() as conn:
            return await post_store.list_posts(
                conn, statuses=[PostStatus.QUEUED, PostStatus.PUBLISHING]
            )

    async def drive(self, worker: Worker, *, until: datetime, rounds: int = 50) -> None:
        """Passes of ``worker``; between them the clock jumps to the earliest time a post
        wants to be looked at again, never past ``until``. Stops when nothing is open or the
        next wake-up lies beyond ``until``."""
        for _ in range(rounds):
            await worker.run_once()
            waiting = [p for p in await self.open_posts() if not p.needs_attention]
            if not waiting:
                return
            async with self.engine.connect() as conn:
                parked = await account_store.parked_accounts(conn, self.clock())
            wake = min(
                max(p.next_attempt_at or self.clock(), *parked.get(p.account, (self.clock(),))[:1])
                for p in waiting
            )
            if wake > until:
                return
            if wake > self.clock.now:
                self.clock.now = wake
            else:
                self.clock.advance(0.01)
        raise AssertionError(f"still open after {rounds} passes: {await self.open_posts()}")


@contextlib.asynccontextmanager
async def clocked_rig(
    url: str,
    cover: Path,
    clock: FakeClock,
    *,
    sim_config: SimulatorConfig | None = None,
    accounts: int = 1,
    delivery: str = "publish",
    publisher: PublisherConfig = FAST,
    account_changes: dict[str, Any] | None = None,
) -> AsyncIterator[Clocked]:
    """A rig whose simulator and service read ``clock``. ``account_changes`` replaces fields
    of every account's configuration (``account_type``, ``quota``)."""
    sim = await start_simulator(
        replace(sim_config or SimulatorConfig(publish_delay_seconds=1.0, seed=1), clock=clock)
    )
    engine = db.open_engine(url)
    await db.upgrade(engine)
    session = aiohttp.ClientSession()
    config = make_config(url, sim.url, accounts=accounts, delivery=delivery)
    if account_changes:
        config = replace(
            config, accounts=tuple(replace(a, **account_changes) for a in config.accounts)
        )
    config = replace(config, publisher=publisher)
    clients = {
        account.name: AccountClient(
            account,
            session,
            tokens=DatabaseTokenStore(engine, clock),
            counter=DatabaseCallRecorder(engine, clock),
            clock=clock,
            retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02),
            timeout=aiohttp.ClientTimeout(total=5, connect=2),
        )
        for account in config.accounts
    }
    try:
        yield Clocked(
            config, engine, sim, session, clients, cover, clock=clock, publisher_settings=publisher
        )
    finally:
        await session.close()
        await engine.dispose()
        await sim.stop()


def beijing(text: str) -> datetime:
    """An instant written in Beijing time, e.g. ``beijing("2026-03-01 23:59")``."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def after(moment: datetime, seconds: float = 0.0) -> datetime:
    return moment + timedelta(seconds=seconds)
