"""``bot sync`` against the simulator over loopback, with the real client and real SQLite:
matching by article_id, recording what was published by hand, deletions (flagged in the list,
or gone from it), title matches, paging within the call limit, and a quota error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.client import AccountClient, RetryPolicy
from bot.account.memory import MemoryCallCounter, MemoryTokenStore
from bot.account.simulator import RunningSimulator, SimulatorConfig, start_simulator
from bot.config import Config, parse_config
from bot.domain.errors import UserError
from bot.domain.models import Article, Delivery, PostStatus
from bot.engine.reporting import Period, build_report, report_to_dict
from bot.engine.sync import DELETED_ON_PLATFORM, sync_published
from bot.store import db
from bot.store import events as event_store
from bot.store import posts as post_store
from bot.store.tables import posts, publish_log

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 200
JANUARY = Period(date(2024, 1, 1), date(2024, 1, 31), "2024-01", "month")


class Clock:
    """One clock for the simulator, the client and the sync: moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 15, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    config: Config
    engine: AsyncEngine
    sim: RunningSimulator
    client: AccountClient
    counter: MemoryCallCounter
    clock: Clock
    thumb: str = ""

    async def publish(self, *titles: str) -> str:
        """Publish one item of these articles on the platform; returns its article_id."""
        if not self.thumb:
            self.thumb = (await self.client.add_material(JPEG, "cover.jpg", type="thumb")).media_id
        articles = [
            {"title": t, "content": f"<p>{t}</p>", "thumb_media_id": self.thumb} for t in titles
        ]
        publish_id = await self.client.freepublish_submit(await self.client.draft_add(articles))
        self.sim.sim.advance(1)  # the job finishes
        result = await self.client.freepublish_get(publish_id)
        assert result.status == 0
        return result.article_id

    async def our_post(
        self, title: str, *, article_id: str = "", status: PostStatus = PostStatus.PUBLISHED
    ) -> int:
        """A post our publisher made (published, with or without the article_id)."""
        new = post_store.NewPost(
            column="学习平台",
            account="main",
            title=title,
            author="",
            digest="",
            markdown="",
            content_html="<p>x</p>",
            content_source_url="",
            cover="",
            delivery=Delivery.PUBLISH.value,
            status=PostStatus.QUEUED,
            resources=[],
        )
        now = self.clock()
        async with self.engine.begin() as conn:
            post_id = await post_store.create(conn, new, now=now)
            post = await post_store.get(conn, post_id)
            post = await post_store.transition(conn, post, PostStatus.PUBLISHING, now=now)
            if status is PostStatus.PUBLISHED:
                changes = {"published_at": now, "article_id": article_id}
                await post_store.transition(conn, post, status, now=now, changes=changes)
        return post_id

    async def rows(self, **where: Any) -> list[dict[str, Any]]:
        query = sa.select(posts).order_by(posts.c.id)
        for name, value in where.items():
            query = query.where(posts.c[name] == value)
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def log_details(self, step: str = "sync") -> list[tuple[int | None, str, str]]:
        query = sa.select(publish_log.c.post_id, publish_log.c.outcome, publish_log.c.detail)
        async with self.engine.connect() as conn:
            rows = await conn.execute(query.where(publish_log.c.step == step))
            return [(r[0], r[1], r[2]) for r in rows]

    def batchget_calls(self) -> int:
        return sum(
            n for (_, endpoint, _), n in self.counter.calls.items() if "batchget" in endpoint
        )


@pytest.fixture
async def make_rig(tmp_path: Path) -> AsyncIterator[Any]:
    clock = Clock()
    session = aiohttp.ClientSession()
    opened: list[tuple[RunningSimulator, AsyncEngine]] = []

    async def make(**sim_settings: Any) -> Rig:
        sim = await start_simulator(
            SimulatorConfig(seed=3, publish_delay_seconds=0.5, clock=clock, **sim_settings)
        )
        engine = db.open_engine(f"sqlite+aiosqlite:///{tmp_path}/t{len(opened)}.db")
        opened.append((sim, engine))
        await db.upgrade(engine)
        raw: dict[str, Any] = {
            "database": {"url": "sqlite+aiosqlite:///:memory:"},
            "accounts": [
                {
                    "name": "main",
                    "appid": "wxsim0000000000001",
                    "secret": "simulator-secret",
                    "api_base": sim.url,
                }
            ],
            "columns": [
                {"name": "学习平台", "account": "main"},
                {"name": "青年大学习", "account": "main"},
            ],
        }
        config = parse_config(raw)
        counter = MemoryCallCounter()
        client = AccountClient(
            config.account("main"),
            session,
            tokens=MemoryTokenStore(),
            counter=counter,
            clock=clock,
            retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
        )
        return Rig(config, engine, sim, client, counter, clock)

    yield make
    await session.close()
    for sim, engine in opened:
        await engine.dispose()
        await sim.stop()


async def test_sync_matches_records_and_marks_deletions(make_rig: Any) -> None:
    rig: Rig = await make_rig()
    ours = await rig.our_post("我们发布的推文", article_id=await rig.publish("我们发布的推文"))
    by_hand = await rig.publish("手工发布的推文")
    pair = await rig.publish("组图其一", "组图其二")
    await rig.client.freepublish_delete(pair, 2)  # one article of two: the item stays listed
    gone_id = await rig.publish("后来删除的推文")
    gone = await rig.our_post("后来删除的推文", article_id=gone_id)
    await rig.client.freepublish_delete(gone_id, 1)  # its only article: the item leaves the list
    no_id = await rig.our_post("没有记下编号")
    no_id_article = await rig.publish("没有记下编号")
    await rig.our_post("结果不明", status=PostStatus.PUBLISHING)
    await rig.publish("结果不明")
    rig.clock.now += timedelta(hours=1)

    result = await sync_published(rig.engine, rig.config, {"main": rig.client}, clock=rig.clock)

    (state,) = result.accounts
    assert (state.calls, state.total, state.seen, state.complete) == (1, 5, 5, True)
    assert (state.matched, state.recorded, state.adopted, state.unreconciled) == (1, 2, 1, 1)
    assert state.articles_recorded == 3  # the pair is one push of two articles
    assert state.deleted == 1 and result.deleted == 1 and result.ok
    assert rig.batchget_calls() == 1

    recorded = await rig.rows(source="platform")
    assert sorted((r["title"], r["article_id"], r["error"]) for r in recorded) == [
        ("手工发布的推文", by_hand, ""),
        ("组图其一", pair, ""),  # one of its two articles deleted: the push is still online
    ]
    pair_row = next(r for r in recorded if r["article_id"] == pair)
    async with rig.engine.connect() as conn:
        pair_post = await post_store.get(conn, pair_row["id"])
    assert [a.title for a in pair_post.articles] == ["组图其一", "组图其二"]
    assert not any(a.article_url for a in pair_post.articles)  # no event: no lasting links
    first = next(r for r in recorded if r["article_id"] == by_hand)
    assert first["status"] == "published" and first["column_name"] == "学习平台"
    # published_at is the list's update_time: when the simulator finished the job
    listed = await rig.client.freepublish_batchget(0, 20, no_content=True)
    update_time = next(i["update_time"] for i in listed["item"] if i["article_id"] == by_hand)
    assert first["published_at"] == datetime.fromtimestamp(update_time, UTC)
    # No event gave its lasting link, and the list's url is only the draft's temporary one.
    assert first["article_url"] == ""

    (gone_row,) = await rig.rows(id=gone)
    assert gone_row["error"] == DELETED_ON_PLATFORM and gone_row["status"] == "published"
    (ours_row,) = await rig.rows(id=ours)
    assert ours_row["error"] == ""
    (no_id_row,) = await rig.rows(id=no_id)
    assert no_id_row["article_id"] == no_id_article
    assert len(await rig.rows(title="结果不明")) == 1  # left to reconciliation, not recorded
    details = await rig.log_details()
    assert any(
        post_id == gone and "no longer in the published list" in d for post_id, _, d in details
    )
    summary = [d for post_id, _, d in details if post_id is None]
    assert summary == [
        "read 5 of 5 items in 1 calls: 2 recorded (3 articles), 1 matched by title, "
        "1 deleted, 1 left to reconciliation"
    ]
    assert any(
        post_id == pair_row["id"] and "article 2 deleted on the platform" in d
        for post_id, _, d in details
    )

    # A second sync changes nothing: every item is known now.
    again = await sync_published(rig.engine, rig.config, {"main": rig.client}, clock=rig.clock)
    (state,) = again.accounts
    assert (state.matched, state.recorded, state.adopted, state.deleted) == (4, 0, 0, 0)
    assert len(await rig.rows()) == 6  # 4 of ours (one still publishing), 2 recorded

    # The report counts what sync recorded, and says where it came from.
    data = report_to_dict(await build_report(rig.engine, rig.config, JANUARY))
    assert data["posts_published"] == 5  # 3 of ours, 2 recorded; deleted ones were published
    assert data["articles_published"] == 6  # the pair counts two articles
    assert data["sources"]["posts_published"] == {"bot": 3, "platform": 2}
    assert data["deleted_on_platform"] == 1


async def test_paging_stops_at_the_call_limit_and_infers_nothing_from_a_partial_read(
    make_rig: Any,
) -> None:
    rig: Rig = await make_rig()
    for i in range(45):
        await rig.publish(f"第{i}篇")
    ghost = await rig.our_post("早已删除", article_id="not-on-the-platform")
    rig.clock.now += timedelta(hours=1)

    partial = await sync_published(
        rig.engine, rig.config, {"main": rig.client}, clock=rig.clock, max_calls=2
    )
    (state,) = partial.accounts
    assert (state.calls, state.seen, state.total, state.complete) == (2, 40, 45, False)
    assert state.recorded == 40 and state.deleted == 0
    assert rig.batchget_calls() == 2
    assert (await rig.rows(id=ghost))[0]["error"] == ""

    full = await sync_published(
        rig.engine,
        rig.config,
        {"main": rig.client},
        clock=rig.clock,
        columns={"main": "青年大学习"},
    )
    (state,) = full.accounts
    assert (state.calls, state.seen, state.complete) == (3, 45, True)
    assert (state.matched, state.recorded, state.deleted) == (40, 5, 1)
    assert (await rig.rows(id=ghost))[0]["error"] == DELETED_ON_PLATFORM
    assert len(await rig.rows(source="platform", column_name="青年大学习")) == 5


async def test_a_quota_error_stops_the_account_and_is_logged(make_rig: Any) -> None:
    rig: Rig = await make_rig(quotas={"freepublish/batchget": 1})
    for i in range(25):
        await rig.publish(f"第{i}篇")
    ghost = await rig.our_post("早已删除", article_id="not-on-the-platform")
    rig.clock.now += timedelta(hours=1)

    result = await sync_published(rig.engine, rig.config, {"main": rig.client}, clock=rig.clock)
    (state,) = result.accounts
    assert not result.ok and "45009" in state.error
    assert (state.calls, state.seen, state.recorded, state.complete) == (2, 20, 20, False)
    assert (await rig.rows(id=ghost))[0]["error"] == ""  # an incomplete read proves nothing
    summary = [(outcome, d) for post_id, outcome, d in await rig.log_details() if post_id is None]
    assert summary[0][0] == "error" and "incomplete" in summary[0][1]


async def test_unknown_accounts_and_columns_are_user_errors(make_rig: Any) -> None:
    rig: Rig = await make_rig()
    with pytest.raises(UserError, match="no account named 'other'"):
        await sync_published(rig.engine, rig.config, {"other": rig.client}, clock=rig.clock)
    with pytest.raises(UserError, match="no column named '旧栏目'"):
        await sync_published(
            rig.engine,
            rig.config,
            {"main": rig.client},
            clock=rig.clock,
            columns={"main": "旧栏目"},
        )
    with pytest.raises(UserError, match="max_calls"):
        await sync_published(
            rig.engine, rig.config, {"main": rig.client}, clock=rig.clock, max_calls=0
        )


class PublishesWhileListed:
    """The real client, with an article published on the platform right after the first page
    is read: the newest-first list shifts under the paging."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.pages = 0

    async def freepublish_batchget(
        self, offset: int = 0, count: int = 20, no_content: bool = False
    ) -> dict[str, Any]:
        page = await self.rig.client.freepublish_batchget(offset, count, no_content)
        self.pages += 1
        if self.pages == 1:
            await self.rig.publish("读取期间发布")
        return page


async def test_a_list_that_moves_while_paged_proves_no_deletion(make_rig: Any) -> None:
    rig: Rig = await make_rig()
    for i in range(25):
        await rig.publish(f"第{i}篇")
    ghost = await rig.our_post("早已删除", article_id="not-on-the-platform")
    rig.clock.now += timedelta(hours=1)

    moving = PublishesWhileListed(rig)
    result = await sync_published(rig.engine, rig.config, {"main": moving}, clock=rig.clock)
    (state,) = result.accounts
    assert state.calls == 2 and state.total == 26 and not state.complete
    assert "changed while it was read" in state.error
    assert (await rig.rows(id=ghost))[0]["error"] == ""

    again = await sync_published(rig.engine, rig.config, {"main": rig.client}, clock=rig.clock)
    (state,) = again.accounts
    assert state.complete and state.recorded == 1 and state.deleted == 1
    assert (await rig.rows(id=ghost))[0]["error"] == DELETED_ON_PLATFORM


async def test_a_push_of_ours_is_matched_whole_and_counted_by_its_articles(
    make_rig: Any,
) -> None:
    """Our three-article post published without its article_id is found by its headline and
    article count; an item with the same headline but another count is not it."""
    rig: Rig = await make_rig()
    ours = await rig.our_post("三篇推送的头条")
    async with rig.engine.begin() as conn:
        post = await post_store.get(conn, ours)
        await post_store.replace_articles(
            conn,
            post,
            [post.articles[0], Article(title="第二篇"), Article(title="第三篇")],
            now=rig.clock(),
            statuses=[PostStatus.PUBLISHED],
        )
    other = await rig.publish("三篇推送的头条", "只有两篇")
    mine = await rig.publish("三篇推送的头条", "第二篇", "第三篇")
    rig.clock.now += timedelta(hours=1)

    result = await sync_published(rig.engine, rig.config, {"main": rig.client}, clock=rig.clock)

    (state,) = result.accounts
    assert (state.adopted, state.recorded, state.articles_recorded) == (1, 1, 2)
    async with rig.engine.connect() as conn:
        adopted = await post_store.get(conn, ours)
    assert adopted.article_id == mine
    # No event brought the lasting links; the list's temporary ones are never stored.
    assert not any(a.article_url for a in adopted.articles)
    (recorded,) = await rig.rows(source="platform")
    assert recorded["article_id"] == other
    data = report_to_dict(await build_report(rig.engine, rig.config, JANUARY))
    assert (data["posts_published"], data["articles_published"]) == (2, 5)


@pytest.mark.parametrize("profile", ["documented", "realistic"])
async def test_sync_reads_a_list_holding_a_console_article_with_a_raw_control_character(
    make_rig: Any, profile: str
) -> None:
    """A person's article from the MP console: a raw backspace in its title and a byte that is
    not UTF-8 in its digest, sent raw under the realistic profile (time inside content)."""
    variants = SimulatorConfig.for_profile(profile).variants()
    variants.pop("author_max")
    rig: Rig = await make_rig(**variants, console_articles=1)
    await rig.publish("我们的推文")
    rig.clock.now += timedelta(hours=1)

    result = await sync_published(rig.engine, rig.config, {"main": rig.client}, clock=rig.clock)

    (state,) = result.accounts
    assert result.ok and state.complete and state.recorded == 2, state.error
    console = next(r for r in await rig.rows(source="platform") if "控制台" in r["title"])
    assert console["title"] == "控制台发表\x08第1篇"
    assert console["digest"].startswith("手工") and console["digest"].endswith("摘要")
    assert console["published_at"] < rig.clock()  # from update_time, wherever it sits


async def test_sync_replaces_a_stored_temporary_link_with_the_lasting_one(make_rig: Any) -> None:
    """Rows an earlier version stored with the list's temporary url are corrected: to the
    lasting link when the publish event brought one, else cleared."""
    rig: Rig = await make_rig()
    with_event = await rig.publish("有事件的推文")
    without_event = await rig.publish("没有事件的推文")
    listed = await rig.client.freepublish_batchget(0, 20, no_content=True)
    temporary = {i["article_id"]: i["content"]["news_item"][0]["url"] for i in listed["item"]}
    ids = {}
    for title, article_id in (("有事件的推文", with_event), ("没有事件的推文", without_event)):
        ids[article_id] = await rig.our_post(title, article_id=article_id)
        async with rig.engine.begin() as conn:
            await post_store.update_fields(
                conn, ids[article_id], now=rig.clock(), article_url=temporary[article_id]
            )
    lasting = rig.sim.sim.jobs.by_article(with_event).urls[0]
    await event_store.record_event(
        rig.engine,
        account="main",
        dedupe_key="publish:test",
        event="publish",
        payload={
            "publish_id": "1",
            "publish_status": 0,
            "article_id": with_event,
            "article_detail": {"count": 1, "item": [{"idx": 1, "article_url": lasting}]},
        },
        now=rig.clock(),
    )

    result = await sync_published(rig.engine, rig.config, {"main": rig.client}, clock=rig.clock)

    assert result.accounts[0].corrected == 2
    (fixed,) = await rig.rows(id=ids[with_event])
    (cleared,) = await rig.rows(id=ids[without_event])
    assert fixed["article_url"] == lasting != temporary[with_event]
    assert cleared["article_url"] == ""
    assert any("temporary" in d for _, _, d in await rig.log_details())
