"""Report figures from a real SQLite database: the period's edges in Beijing time, distinct
resources, what does not count, failures, zero periods, every format agreeing, the per-week
chart data, and the hand-written SQL agreeing with the service's query."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config, parse_config
from bot.domain.errors import UserError
from bot.domain.models import Article, PostStatus
from bot.engine.reporting import (
    Period,
    build_report,
    format_report,
    posts_per_week,
    report_to_dict,
    resolve_period,
)
from bot.store import db
from bot.store import posts as post_store
from bot.store import reports as report_store
from tests.integration.pg import fresh_pg_database

BEIJING = ZoneInfo("Asia/Shanghai")
JANUARY = Period(date(2024, 1, 1), date(2024, 1, 31), "2024-01", "month")
NOWHERE = Path("/nonexistent-templates")


class Clock:
    """The injected clock: what "now" is when a post is created, published or fails."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, tzinfo=UTC)

    def set(self, local: datetime) -> None:
        self.now = local.replace(tzinfo=BEIJING).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def config() -> Config:
    raw: dict[str, Any] = {
        "database": {"url": "sqlite+aiosqlite:///:memory:"},
        "accounts": [{"name": "main", "appid": "wx1", "secret": "s"}],
        "columns": [
            {"name": "学习平台", "account": "main", "kinds": ["platform", "exhibit"]},
            {"name": "青年大学习", "account": "main"},
        ],
        "campaigns": [{"name": "主题教育", "start": date(2023, 9, 1), "end": date(2024, 1, 31)}],
    }
    return parse_config(raw)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
        else:
            url = await stack.enter_async_context(fresh_pg_database())
        engine = db.open_engine(url)
        await db.upgrade(engine)
        yield engine
        await engine.dispose()


class Posts:
    """Makes posts the way the service does: created queued, then moved by transitions with
    the injected clock, so published_at and the log rows carry the clock's time."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def make(
        self,
        title: str,
        *,
        column: str = "学习平台",
        resources: Sequence[tuple[str, str]] = (),
        end: PostStatus = PostStatus.PUBLISHED,
        error: str = "",
        errcode: int | None = None,
        more_titles: Sequence[str] = (),
    ) -> int:
        new = post_store.NewPost(
            column=column,
            account="main",
            title=title,
            author="",
            digest="",
            markdown="",
            content_html="<p>x</p>",
            content_source_url="",
            cover="",
            delivery="publish",
            status=PostStatus.QUEUED,
            resources=list(resources),
            more_articles=[Article(title=t) for t in more_titles],
        )
        now = self.clock()
        async with self.engine.begin() as conn:
            post_id = await post_store.create(conn, new, now=now)
            post = await post_store.get(conn, post_id)
            if end is PostStatus.CANCELLED:
                await post_store.transition(conn, post, end, now=now)
                return post_id
            post = await post_store.transition(conn, post, PostStatus.PUBLISHING, now=now)
            changes: dict[str, Any] = {"error": error, "errcode": errcode}
            if end is PostStatus.PUBLISHED:
                changes["published_at"] = now
            await post_store.transition(conn, post, end, now=now, changes=changes)
        return post_id

    async def retry_and_publish(self, post_id: int) -> None:
        now = self.clock()
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            post = await post_store.transition(conn, post, PostStatus.QUEUED, now=now)
            post = await post_store.transition(conn, post, PostStatus.PUBLISHING, now=now)
            await post_store.transition(
                conn, post, PostStatus.PUBLISHED, now=now, changes={"published_at": now}
            )

    async def set_fields(self, post_id: int, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await post_store.update_fields(conn, post_id, now=self.clock(), **values)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def posts(engine: AsyncEngine, clock: Clock) -> Posts:
    return Posts(engine, clock)


def figures(report_json: dict[str, Any], column: str) -> dict[str, Any]:
    return next(c for c in report_json["columns"] if c["column"] == column)


async def test_period_edges_in_beijing_time(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2023, 12, 31, 23, 59, 59))
    await posts.make("before the first day")
    clock.set(datetime(2024, 1, 1, 0, 0))
    await posts.make("first day 00:00")
    clock.set(datetime(2024, 1, 31, 23, 59))
    await posts.make("last day 23:59")
    clock.set(datetime(2024, 2, 1, 0, 0))
    await posts.make("next day 00:00")
    clock.set(datetime(2024, 2, 1, 7, 59))  # 2024-01-31 23:59 UTC
    await posts.make("next day 07:59")

    report = await build_report(engine, config, JANUARY)
    assert report.posts_published == 2
    assert report.timezone == "Asia/Shanghai"

    in_utc = await build_report(engine, config, JANUARY, timezone="UTC")
    # In UTC, 01-01 00:00 Beijing falls in December, and both 02-01 posts fall in January.
    assert in_utc.posts_published == 3
    assert in_utc.timezone == "UTC"


async def test_resources_are_counted_once_however_often_featured(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 10, 8, 0))
    await posts.make("a", resources=[("xuexi", "platform"), ("base-1", "exhibit")])
    await posts.make("b", resources=[("xuexi", "platform"), ("base-2", "exhibit")])
    await posts.make("c", resources=[("base-1", "exhibit")])
    await posts.make("d", column="青年大学习", resources=[("xuexi", "platform"), ("l1", "lesson")])

    data = report_to_dict(await build_report(engine, config, JANUARY))
    study = figures(data, "学习平台")
    assert study["posts_published"] == 3
    assert study["resources_featured"] == {"platform": 1, "exhibit": 2}
    youth = figures(data, "青年大学习")
    # a column without configured kinds shows every kind
    assert youth["resources_featured"] == {
        "platform": 1,
        "exhibit": 0,
        "course": 0,
        "lesson": 1,
        "article": 0,
    }
    assert data["posts_published"] == 4
    # the same platform featured by two columns is one platform in the total
    assert data["resources_featured"]["platform"] == 1
    assert data["resources_featured"]["exhibit"] == 2


async def test_cancelled_and_failed_posts_do_not_count_and_failures_are_listed(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 5, 9, 0))
    await posts.make("published", resources=[("xuexi", "platform")])
    await posts.make("cancelled", resources=[("other", "platform")], end=PostStatus.CANCELLED)
    failed = await posts.make(
        "too long",
        resources=[("base-9", "exhibit")],
        end=PostStatus.FAILED,
        error="the content is too long for the platform",
        errcode=45002,
    )
    recovered = await posts.make("failed once", end=PostStatus.FAILED, error="busy")
    clock.set(datetime(2024, 1, 6, 9, 0))
    await posts.retry_and_publish(recovered)
    clock.set(datetime(2024, 2, 3, 9, 0))
    await posts.make("fails next month", end=PostStatus.FAILED, error="x")

    data = report_to_dict(await build_report(engine, config, JANUARY))
    study = figures(data, "学习平台")
    assert study["posts_published"] == 2
    assert study["resources_featured"] == {"platform": 1, "exhibit": 0}
    assert study["failures"] == 1
    assert data["failures"]["count"] == 1
    assert data["failures"]["posts"] == [
        {
            "post_id": failed,
            "column": "学习平台",
            "title": "too long",
            "error": "the content is too long for the platform",
            "errcode": 45002,
            "at": "2024-01-05T09:00:00+08:00",
        }
    ]


async def test_a_period_with_nothing_published_gives_zeros(
    engine: AsyncEngine, config: Config
) -> None:
    report = await build_report(engine, config, JANUARY)
    data = report_to_dict(report)
    assert data["posts_published"] == 0
    assert [(c["column"], c["posts_published"]) for c in data["columns"]] == [
        ("学习平台", 0),
        ("青年大学习", 0),
    ]
    assert figures(data, "学习平台")["resources_featured"] == {"platform": 0, "exhibit": 0}
    assert data["failures"] == {"count": 0, "posts": []}
    text = format_report(report, "text", templates_dir=NOWHERE)
    assert "2024年1月，团属微信公众号“学习平台”专栏未发布推文。" in text
    csv_rows = list(
        csv.DictReader(io.StringIO(format_report(report, "csv", templates_dir=NOWHERE)))
    )
    assert csv_rows[-1]["column"] == "total" and csv_rows[-1]["posts_published"] == "0"


async def test_columns_no_longer_configured_still_appear(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 20, 12, 0))
    await posts.make("old", column="旧栏目", resources=[("c1", "course")])
    data = report_to_dict(await build_report(engine, config, JANUARY))
    assert [c["column"] for c in data["columns"]] == ["学习平台", "青年大学习", "旧栏目"]
    old = figures(data, "旧栏目")
    assert old["configured"] is False and old["posts_published"] == 1
    assert old["resources_featured"]["course"] == 1


async def test_one_column_and_unknown_columns(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 20, 12, 0))
    await posts.make("a", column="学习平台", resources=[("xuexi", "platform")])
    await posts.make("b", column="青年大学习", resources=[("other", "platform")])
    await posts.make("c", column="旧栏目")

    only = report_to_dict(await build_report(engine, config, JANUARY, column="学习平台"))
    assert [c["column"] for c in only["columns"]] == ["学习平台"]
    assert only["posts_published"] == 1 and only["resources_featured"]["platform"] == 1
    old = report_to_dict(await build_report(engine, config, JANUARY, column="旧栏目"))
    assert [c["column"] for c in old["columns"]] == ["旧栏目"] and old["posts_published"] == 1
    with pytest.raises(UserError, match="no column named '没有'"):
        await build_report(engine, config, JANUARY, column="没有")
    with pytest.raises(UserError, match="unknown timezone 'Mars/Base'"):
        await build_report(engine, config, JANUARY, timezone="Mars/Base")


async def test_sources_and_posts_deleted_on_the_platform(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 8, 10, 0))
    await posts.make("ours")
    deleted = await posts.make("ours, deleted later")
    by_hand = await posts.make("published by hand")
    await posts.set_fields(deleted, error="deleted on the platform")
    await posts.set_fields(by_hand, source="platform")

    data = report_to_dict(await build_report(engine, config, JANUARY))
    assert data["posts_published"] == 3  # a deleted article was published: it counts
    assert data["deleted_on_platform"] == 1
    assert data["sources"]["posts_published"] == {"bot": 2, "platform": 1}
    study = figures(data, "学习平台")
    assert study["posts_from_platform"] == 1 and study["deleted_on_platform"] == 1


async def test_campaign_period(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    for day in (date(2023, 8, 31), date(2023, 9, 1), date(2023, 11, 11), date(2024, 2, 1)):
        clock.set(datetime.combine(day, datetime.min.time()).replace(hour=8))
        await posts.make(f"post of {day}")
    period = resolve_period(config, period="主题教育")
    report = await build_report(engine, config, period)
    assert report.posts_published == 2
    assert format_report(report, "text", templates_dir=NOWHERE).startswith(
        "主题教育期间（2023年9月1日至2024年1月31日），在团属微信公众号“学习平台”专栏发布学习资源相关推文2篇"
    )


async def test_json_csv_md_and_text_agree(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 2, 9, 0))
    for i in range(5):
        await posts.make(
            f"study {i}",
            resources=[(f"p{i % 4}", "platform"), (f"e{i}", "exhibit"), (f"e{i + 1}", "exhibit")],
        )
    await posts.make("youth", column="青年大学习", resources=[("l1", "lesson")])
    await posts.make("bad", end=PostStatus.FAILED, error="busy", errcode=-1)
    report = await build_report(engine, config, JANUARY)

    data = json.loads(format_report(report, "json", templates_dir=NOWHERE))
    rows = {
        r["column"]: r
        for r in csv.DictReader(io.StringIO(format_report(report, "csv", templates_dir=NOWHERE)))
    }
    md = format_report(report, "md", templates_dir=NOWHERE)
    text = format_report(report, "text", templates_dir=NOWHERE)
    md_rows = {
        cells[0]: cells
        for line in md.splitlines()
        if line.startswith("| ") and "---" not in line
        for cells in [[c.strip().strip("*") for c in line.strip("|").split(" | ")]]
    }
    header = md_rows.pop("column")

    assert data["posts_published"] == 6
    study = figures(data, "学习平台")
    assert (study["posts_published"], study["resources_featured"]) == (
        5,
        {"platform": 4, "exhibit": 6},
    )
    for column in data["columns"]:
        name = column["column"]
        assert int(rows[name]["posts_published"]) == column["posts_published"]
        md_cells = dict(zip(header, md_rows[name], strict=True))
        assert int(md_cells["posts_published"]) == column["posts_published"]
        for kind, n in column["resources_featured"].items():
            assert int(rows[name][kind]) == n
            assert int(md_cells[kind]) == n
    assert int(rows["total"]["posts_published"]) == data["posts_published"]
    assert int(rows["total"]["failures"]) == data["failures"]["count"] == 1
    assert "推文5篇，推荐学习平台4个，推荐6个爱国主义教育基地数字化学习体验。" in text
    assert "“青年大学习”专栏发布学习资源相关推文1篇，推荐网上主题团课1期。" in text
    assert (
        "合计发布推文6篇，推荐学习平台4个，推荐6个爱国主义教育基地数字化学习体验，推荐网上主题团课1期。"
        in text
    )
    assert "另有1篇推文发布失败" in text
    assert re.findall(r"\d+", text.split("另有")[1])[0] == str(data["failures"]["count"])


async def test_posts_per_week_in_local_weeks_with_zeros(
    engine: AsyncEngine, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 29, 0, 30))  # Monday of 2024-W05 in Beijing, Sunday in UTC
    await posts.make("w5 a")
    clock.set(datetime(2024, 1, 31, 23, 0))
    await posts.make("w5 b", column="青年大学习")
    await posts.make("w5 c", column="青年大学习")
    clock.set(datetime(2024, 1, 8, 9, 0))
    await posts.make("w2")

    weeks = await posts_per_week(engine, JANUARY, "Asia/Shanghai")
    assert {w["week"] for w in weeks} == {f"2024-W0{n}" for n in range(1, 6)}
    as_dict = {(w["week"], w["column"]): w["count"] for w in weeks}
    assert as_dict[("2024-W05", "学习平台")] == 1
    assert as_dict[("2024-W05", "青年大学习")] == 2
    assert as_dict[("2024-W02", "学习平台")] == 1
    assert as_dict[("2024-W03", "学习平台")] == 0
    assert len(weeks) == 10  # five weeks, two columns
    assert weeks == sorted(weeks, key=lambda w: (w["week"], w["column"]))

    in_utc = {
        (w["week"], w["column"]): w["count"] for w in await posts_per_week(engine, JANUARY, "UTC")
    }
    assert in_utc[("2024-W04", "学习平台")] == 1  # 00:30 Monday Beijing is Sunday in UTC


async def test_articles_are_counted_beside_posts_in_every_format(
    engine: AsyncEngine, config: Config, clock: Clock, posts: Posts
) -> None:
    """A push of three articles counts 1 post and 3 articles; the text cites articles."""
    clock.set(datetime(2024, 1, 9, 8, 0))
    await posts.make(
        "学习强国",
        resources=[("p1", "platform"), ("p2", "platform"), ("e1", "exhibit")],
        more_titles=["中国大学MOOC", "国家博物馆"],
    )
    clock.set(datetime(2024, 1, 10, 8, 0))
    await posts.make("青年大学习第5期", column="青年大学习")
    await posts.make("没发出去", more_titles=["第二篇"], end=PostStatus.FAILED, error="x")
    report = await build_report(engine, config, JANUARY)

    data = report_to_dict(report)
    study, youth = figures(data, "学习平台"), figures(data, "青年大学习")
    assert (study["posts_published"], study["articles_published"]) == (1, 3)
    assert (youth["posts_published"], youth["articles_published"]) == (1, 1)
    assert (data["posts_published"], data["articles_published"]) == (2, 4)
    rows = {
        r["column"]: r
        for r in csv.DictReader(io.StringIO(format_report(report, "csv", templates_dir=NOWHERE)))
    }
    assert (rows["学习平台"]["posts_published"], rows["学习平台"]["articles_published"]) == (
        "1",
        "3",
    )
    assert rows["total"]["articles_published"] == "4"
    md = format_report(report, "md", templates_dir=NOWHERE)
    header = next(line for line in md.splitlines() if line.startswith("| column"))
    assert "| posts_published | articles_published |" in header
    assert "| 学习平台 | main | 1 | 3 |" in md
    text = format_report(report, "text", templates_dir=NOWHERE)
    assert "“学习平台”专栏发布学习资源相关推文3篇（推送1次），推荐学习平台2个" in text
    assert "“青年大学习”专栏发布学习资源相关推文1篇。" in text  # one article a push: as before
    assert "合计发布推文4篇（推送2次）" in text
    english = format_report(
        report, "text", templates_dir=NOWHERE, template="reports/default.en.txt.j2"
    )
    assert "published 3 articles on learning resources in 1 push," in english

    weeks = await posts_per_week(engine, JANUARY, "Asia/Shanghai")
    week2 = {w["column"]: w for w in weeks if w["week"] == "2024-W02"}
    assert (week2["学习平台"]["count"], week2["学习平台"]["articles"]) == (1, 3)
    assert (week2["青年大学习"]["count"], week2["青年大学习"]["articles"]) == (1, 1)


async def test_hand_written_sql_agrees_with_the_service_query(
    engine: AsyncEngine, clock: Clock, posts: Posts
) -> None:
    clock.set(datetime(2024, 1, 3, 9, 0))
    await posts.make("a", resources=[("p1", "platform"), ("e1", "exhibit")])
    await posts.make("b", resources=[("p1", "platform"), ("e2", "exhibit")])
    await posts.make("c", column="青年大学习", resources=[("l1", "lesson")])
    await posts.make("d", end=PostStatus.FAILED, resources=[("p9", "platform")])
    clock.set(datetime(2024, 3, 3, 9, 0))
    await posts.make("outside", resources=[("p2", "platform")])
    start, end = JANUARY.window(BEIJING)

    async with engine.connect() as conn:
        service = await report_store.column_aggregate(conn, start, end)
        raw = await conn.execute(report_store.raw_sql_statement(), {"start": start, "end": end})
        by_hand = [report_store.AggregateRow(r[0], r[1], r[2], int(r[3])) for r in raw]

    def key(row: report_store.AggregateRow) -> tuple[str, str, str]:
        return (row.column, row.account, row.kind or "")

    assert sorted(service, key=key) == sorted(by_hand, key=key)
    assert [(r.column, r.account, r.kind or "", r.n) for r in sorted(service, key=key)] == [
        ("学习平台", "main", "", 2),
        ("学习平台", "main", "exhibit", 2),
        ("学习平台", "main", "platform", 1),
        ("青年大学习", "main", "", 1),
        ("青年大学习", "main", "lesson", 1),
    ]
    assert report_store.raw_sql_report_query() == report_store.REPORT_SQL
