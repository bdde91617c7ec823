"""A publishing rig for integration tests: a real database (SQLite or PostgreSQL), the
simulator over loopback, the real client, the real publisher and worker."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.client import AccountClient, RetryPolicy
from bot.account.simulator import RunningSimulator, SimulatorConfig, start_simulator
from bot.config import Config, PublisherConfig, parse_config
from bot.domain.models import Article, Delivery, Post, PostStatus
from bot.engine.publishing import PostPublisher
from bot.engine.shared_state import DatabaseCallRecorder, DatabaseTokenStore
from bot.engine.worker import Worker
from bot.store import db
from bot.store import posts as post_store

FAST = PublisherConfig(
    concurrency=4,
    lease_seconds=30,
    max_attempts=8,
    poll_first_seconds=0.2,
    poll_max_seconds=1.0,
    reconcile_window_seconds=1.0,
    tick_seconds=0.2,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_config(url: str, sim_url: str, *, accounts: int = 1, delivery: str = "publish") -> Config:
    raw: dict[str, Any] = {
        "database": {"url": url},
        "accounts": [
            {
                "name": f"acc{i}",
                "appid": "wxsim0000000000001",
                "secret": "simulator-secret",
                "api_base": sim_url,
            }
            for i in range(accounts)
        ],
        "columns": [
            {"name": f"col{i}", "account": f"acc{i}", "author": "团区委", "delivery": delivery}
            for i in range(accounts)
        ],
    }
    return replace(parse_config(raw), publisher=FAST)


@dataclass
class Rig:
    config: Config
    engine: AsyncEngine
    sim: RunningSimulator
    session: aiohttp.ClientSession
    clients: dict[str, AccountClient]
    cover: Path
    owner: str = "test-worker"

    def worker(self, owner: str | None = None, engine: AsyncEngine | None = None) -> Worker:
        engine = engine or self.engine
        publishers = {
            name: PostPublisher(
                engine=engine,
                account=self.config.account(name),
                api=client,
                settings=self.config.publisher,
                clock=utc_now,
                load_cover=self.load_cover,
            )
            for name, client in self.clients.items()
        }
        return Worker(
            engine=engine,
            publishers=publishers,
            clock=utc_now,
            owner=owner or self.owner,
            concurrency=4,
            lease_seconds=30,
        )

    async def load_cover(self, ref: str) -> bytes:
        return Path(ref).read_bytes()

    async def add_post(
        self,
        title: str,
        *,
        account: str = "acc0",
        column: str = "col0",
        delivery: Delivery = Delivery.PUBLISH,
        more_titles: Sequence[str] = (),
    ) -> Post:
        """A queued post, due now; ``more_titles`` make it a post of several articles, each
        with its own body, source link and cover (a different image each)."""
        more = [
            Article(
                title=more_title,
                author="团区委",
                digest=f"第{i}篇摘要",
                content_html=f"<p>{more_title} 的正文</p>",
                content_source_url=f"https://www.xuexi.cn/{i}",
                cover=str(self.extra_cover(i)),
            )
            for i, more_title in enumerate(more_titles, start=2)
        ]
        new = queued_post(
            title,
            cover=self.cover,
            due=utc_now(),
            account=account,
            column=column,
            delivery=delivery,
            more_articles=more,
        )
        async with self.engine.begin() as conn:
            post_id = await post_store.create(conn, new, now=utc_now())
            return await post_store.get(conn, post_id)

    def extra_cover(self, number: int) -> Path:
        """A cover of its own for article ``number`` (a JPEG of another colour)."""
        path = self.cover.with_name(f"cover-{number}.jpg")
        if not path.exists():
            buffer = io.BytesIO()
            Image.new("RGB", (470, 200), (20 * number, 90, 160)).save(buffer, "JPEG")
            path.write_bytes(buffer.getvalue())
        return path

    async def get(self, post_id: int) -> Post:
        async with self.engine.connect() as conn:
            return await post_store.get(conn, post_id)

    async def sim_state(self) -> dict[str, Any]:
        async with self.session.get(f"{self.sim.url}/_sim/state") as response:
            return await response.json()

    async def set_faults(self, **faults: Any) -> None:
        async with self.session.post(f"{self.sim.url}/_sim/faults", json=faults) as response:
            assert response.status == 200, await response.text()


@contextlib.asynccontextmanager
async def publish_rig(
    url: str,
    cover: Path,
    *,
    sim_config: SimulatorConfig | None = None,
    accounts: int = 1,
    delivery: str = "publish",
) -> AsyncIterator[Rig]:
    sim = await start_simulator(sim_config or SimulatorConfig(publish_delay_seconds=0.2, seed=1))
    engine = db.open_engine(url)
    await db.upgrade(engine)
    session = aiohttp.ClientSession()
    config = make_config(url, sim.url, accounts=accounts, delivery=delivery)
    clients = {
        account.name: AccountClient(
            account,
            session,
            tokens=DatabaseTokenStore(engine, utc_now),
            counter=DatabaseCallRecorder(engine, utc_now),
            clock=utc_now,
            retry=RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.05),
            timeout=aiohttp.ClientTimeout(total=2, connect=1),
        )
        for account in config.accounts
    }
    try:
        yield Rig(config, engine, sim, session, clients, cover)
    finally:
        await session.close()
        await engine.dispose()
        await sim.stop()


def queued_post(
    title: str,
    *,
    cover: Path,
    due: datetime,
    account: str = "acc0",
    column: str = "col0",
    author: str = "团区委",
    delivery: Delivery = Delivery.PUBLISH,
    more_articles: Sequence[Article] = (),
) -> post_store.NewPost:
    """The test rigs' queued post, due at ``due``: its body names its title, so that
    reconciliation (which compares bodies) can tell two posts apart."""
    return post_store.NewPost(
        column=column,
        account=account,
        title=title,
        author=author,
        digest="摘要",
        markdown="",
        content_html=f"<p>{title} 的正文</p>",
        content_source_url="https://www.xuexi.cn/",
        cover=str(cover),
        delivery=delivery.value,
        status=PostStatus.QUEUED,
        resources=[],
        scheduled_for=due,
        more_articles=list(more_articles),
    )
