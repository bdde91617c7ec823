"""The report queries: what was published in a window, which resources it featured, what
failed; plus the lookups ``bot sync`` matches the platform's published list with.

Every window is half-open, ``[start, end)``, in aware UTC: the engine turns a local calendar
period into it. A post counts once it is ``published`` with ``published_at`` in the window;
whether it came from our own publisher or from the platform's list (``posts.source``) is kept
apart so a report can say where each figure comes from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.models import PostStatus
from bot.store.tables import UTCDateTime, post_articles, post_resources, posts, publish_log

# The main aggregate written by hand, for the benchmark that compares it with the service's
# query. Rows: (column_name, account, kind, n); ``kind`` NULL rows count posts, the others
# count distinct resources of that kind. Binds :start and :end (naive UTC, as stored).
REPORT_SQL = """\
SELECT p.column_name AS column_name, p.account AS account, NULL AS kind, COUNT(*) AS n
FROM posts AS p
WHERE p.status = 'published' AND p.published_at >= :start AND p.published_at < :end
GROUP BY p.column_name, p.account
UNION ALL
SELECT p.column_name AS column_name, p.account AS account, r.kind AS kind,
       COUNT(DISTINCT r.resource_id) AS n
FROM posts AS p JOIN post_resources AS r ON r.post_id = p.id
WHERE p.status = 'published' AND p.published_at >= :start AND p.published_at < :end
GROUP BY p.column_name, p.account, r.kind
"""


def raw_sql_report_query() -> str:
    """The hand-written SQL of the main aggregate (see ``REPORT_SQL``)."""
    return REPORT_SQL


def raw_sql_statement() -> sa.TextClause:
    """``REPORT_SQL`` with typed binds, so aware UTC datetimes can be passed on any engine."""
    return sa.text(REPORT_SQL).bindparams(
        sa.bindparam("start", type_=UTCDateTime()), sa.bindparam("end", type_=UTCDateTime())
    )


class AggregateRow(NamedTuple):
    column: str
    account: str
    kind: str | None  # None: ``n`` is the number of posts published
    n: int


class SourceRow(NamedTuple):
    column: str
    account: str
    source: str  # "bot" (our publisher) or "platform" (recorded by bot sync)
    posts: int
    removed: int  # of those, published posts that carry an error: deleted or banned since


class FailureRow(NamedTuple):
    post_id: int
    column: str
    account: str
    title: str
    error: str
    errcode: int | None
    at: datetime  # when it last became failed


class SyncPost(NamedTuple):
    id: int
    column: str
    title: str
    status: str
    article_id: str
    error: str
    article_url: str = ""


def _published_in(start: datetime, end: datetime, column: str | None) -> sa.ColumnElement[bool]:
    conditions = [
        posts.c.status == PostStatus.PUBLISHED.value,
        posts.c.published_at >= start,
        posts.c.published_at < end,
    ]
    if column is not None:
        conditions.append(posts.c.column_name == column)
    return sa.and_(*conditions)


def article_count() -> sa.ColumnElement[int]:
    """A post's number of articles: its headline plus its rows in ``post_articles``."""
    more = (
        sa.select(sa.func.count())
        .where(post_articles.c.post_id == posts.c.id)
        .correlate(posts)
        .scalar_subquery()
    )
    return 1 + more


class ArticleRow(NamedTuple):
    column: str
    account: str
    articles: int  # the articles of the posts published (a post of three counts three)


async def articles_published(
    conn: AsyncConnection, start: datetime, end: datetime, column: str | None = None
) -> list[ArticleRow]:
    """Per column and account, the articles of the posts published in the window."""
    rows = await conn.execute(
        sa.select(posts.c.column_name, posts.c.account, sa.func.sum(article_count()))
        .where(_published_in(start, end, column))
        .group_by(posts.c.column_name, posts.c.account)
    )
    return [ArticleRow(c, a, int(n or 0)) for c, a, n in rows]


def report_aggregate(
    start: datetime, end: datetime, column: str | None = None
) -> sa.CompoundSelect[Any]:
    """The service's form of ``REPORT_SQL`` (same rows), optionally for one column."""
    where = _published_in(start, end, column)
    counted = (
        sa.select(
            posts.c.column_name,
            posts.c.account,
            sa.cast(sa.null(), sa.String(40)).label("kind"),
            sa.func.count().label("n"),
        )
        .where(where)
        .group_by(posts.c.column_name, posts.c.account)
    )
    featured = (
        sa.select(
            posts.c.column_name,
            posts.c.account,
            post_resources.c.kind,
            sa.func.count(sa.distinct(post_resources.c.resource_id)).label("n"),
        )
        .select_from(posts.join(post_resources, post_resources.c.post_id == posts.c.id))
        .where(where)
        .group_by(posts.c.column_name, posts.c.account, post_resources.c.kind)
    )
    return sa.union_all(counted, featured)


async def column_aggregate(
    conn: AsyncConnection, start: datetime, end: datetime, column: str | None = None
) -> list[AggregateRow]:
    rows = await conn.execute(report_aggregate(start, end, column))
    return [AggregateRow(r[0], r[1], r[2], int(r[3])) for r in rows]


async def featured_totals(
    conn: AsyncConnection, start: datetime, end: datetime, column: str | None = None
) -> dict[str, int]:
    """Distinct resources per kind over every column: one featured in two columns counts once."""
    rows = await conn.execute(
        sa.select(post_resources.c.kind, sa.func.count(sa.distinct(post_resources.c.resource_id)))
        .select_from(posts.join(post_resources, post_resources.c.post_id == posts.c.id))
        .where(_published_in(start, end, column))
        .group_by(post_resources.c.kind)
    )
    return {kind: int(n) for kind, n in rows}


async def source_breakdown(
    conn: AsyncConnection, start: datetime, end: datetime, column: str | None = None
) -> list[SourceRow]:
    removed = sa.func.sum(sa.case((posts.c.error != "", 1), else_=0))
    rows = await conn.execute(
        sa.select(posts.c.column_name, posts.c.account, posts.c.source, sa.func.count(), removed)
        .where(_published_in(start, end, column))
        .group_by(posts.c.column_name, posts.c.account, posts.c.source)
    )
    return [SourceRow(c, a, s, int(n), int(r or 0)) for c, a, s, n, r in rows]


async def failures(
    conn: AsyncConnection, start: datetime, end: datetime, column: str | None = None
) -> list[FailureRow]:
    """Posts that are failed now and became failed inside the window, oldest first. A post
    that failed and was published after a retry is not a failure of the period."""
    failed_at = sa.func.max(publish_log.c.at).label("failed_at")
    query = (
        sa.select(
            posts.c.id,
            posts.c.column_name,
            posts.c.account,
            posts.c.title,
            posts.c.error,
            posts.c.errcode,
            failed_at,
        )
        .select_from(posts.join(publish_log, publish_log.c.post_id == posts.c.id))
        .where(
            posts.c.status == PostStatus.FAILED.value,
            publish_log.c.to_status == PostStatus.FAILED.value,
            publish_log.c.at >= start,
            publish_log.c.at < end,
        )
        .group_by(
            posts.c.id,
            posts.c.column_name,
            posts.c.account,
            posts.c.title,
            posts.c.error,
            posts.c.errcode,
        )
        .order_by(failed_at, posts.c.id)
    )
    if column is not None:
        query = query.where(posts.c.column_name == column)
    decode = UTCDateTime().process_result_value
    result = []
    for post_id, col, account, title, error, errcode, at in await conn.execute(query):
        when = decode(at, conn.dialect) if not isinstance(at, datetime) else at
        assert when is not None
        result.append(FailureRow(post_id, col, account, title, error, errcode, when))
    return result


async def published_times(
    conn: AsyncConnection, start: datetime, end: datetime, column: str | None = None
) -> list[tuple[str, datetime, int]]:
    """(column, published_at, articles) of every post published in the window, for per-week
    charts."""
    query = (
        sa.select(posts.c.column_name, posts.c.published_at, article_count())
        .where(_published_in(start, end, column))
        .order_by(posts.c.published_at)
    )
    return [(c, at, int(n)) async for c, at, n in _in_slices(conn, query)]


async def published_per_week(
    conn: AsyncConnection, start: datetime, end: datetime, offset_minutes: int
) -> list[tuple[str, str, int, int]]:
    """(column, a local day of the week "YYYY-MM-DD", posts, articles) for every ISO week of
    the window with posts, the local time being UTC plus ``offset_minutes`` (a zone without
    daylight saving in the period): counted by the database, so a year of a hundred columns
    is 5,300 rows (it was 36,500 when counted per day, each converted on the event loop)."""
    if conn.dialect.name == "sqlite":
        # The Thursday of the local day's Monday-to-Sunday week: three days back, then the
        # next Thursday on or after (ISO weeks are named by their Thursday's year).
        day = sa.func.date(
            posts.c.published_at, f"{offset_minutes:+d} minutes", "-3 days", "weekday 4"
        )
    else:
        shift: sa.ColumnElement[Any] = sa.literal_column(
            f"interval '{int(offset_minutes)} minutes'"
        )
        day = sa.func.date(sa.func.date_trunc("week", posts.c.published_at + shift))  # Monday
    inner = (
        sa.select(posts.c.column_name.label("col"), day.label("day"), article_count().label("n"))
        .where(_published_in(start, end, None))
        .subquery()
    )
    query = sa.select(inner.c.col, inner.c.day, sa.func.count(), sa.func.sum(inner.c.n)).group_by(
        inner.c.col, inner.c.day
    )
    return [(c, str(d)[:10], int(n), int(a or 0)) async for c, d, n, a in _in_slices(conn, query)]


SLICE = 2000  # rows turned into Python objects per turn of the event loop


async def _in_slices(conn: AsyncConnection, query: sa.Select[Any]) -> AsyncIterator[Any]:
    """The rows of ``query``, fetched ``SLICE`` at a time: a year of a hundred columns is tens
    of thousands of rows, and converting them in one go held the loop for a fifth of a second
    while every other request waited."""
    result = await conn.stream(query)
    async for part in result.partitions(SLICE):
        for row in part:
            yield row


async def column_has_posts(conn: AsyncConnection, column: str) -> bool:
    row = await conn.execute(sa.select(posts.c.id).where(posts.c.column_name == column).limit(1))
    return row.first() is not None


# --- lookups for bot sync ---------------------------------------------------------------------


_SYNC_COLUMNS = (
    posts.c.id,
    posts.c.column_name,
    posts.c.title,
    posts.c.status,
    posts.c.article_id,
    posts.c.error,
    posts.c.article_url,
)


async def posts_with_article(
    conn: AsyncConnection, account: str, article_id: str
) -> list[SyncPost]:
    """The account's posts carrying ``article_id``, in the order they were made (for an item
    of several articles, the n-th post is the n-th article)."""
    rows = await conn.execute(
        sa.select(*_SYNC_COLUMNS)
        .where(posts.c.account == account, posts.c.article_id == article_id)
        .order_by(posts.c.id)
    )
    return [SyncPost(*row) for row in rows]


async def unmatched_with_title(conn: AsyncConnection, account: str, title: str) -> list[SyncPost]:
    """Our posts of the account with this title that the platform may hold without our knowing
    its article_id: still ``publishing`` (an unclear submit), or published with no article_id."""
    rows = await conn.execute(
        sa.select(*_SYNC_COLUMNS)
        .where(
            posts.c.account == account,
            posts.c.title == title,
            posts.c.source == "bot",
            posts.c.delivery == "publish",  # mass-sent articles never appear in the list
            sa.or_(
                posts.c.status == PostStatus.PUBLISHING.value,
                sa.and_(
                    posts.c.status == PostStatus.PUBLISHED.value,
                    posts.c.article_id == "",
                ),
            ),
        )
        .order_by(posts.c.id)
    )
    return [SyncPost(*row) for row in rows]


async def listed_posts(conn: AsyncConnection, account: str, before: datetime) -> list[SyncPost]:
    """The account's posts that the platform's published list should still show: published
    through freepublish before ``before``, with an article_id, not yet known to be removed."""
    rows = await conn.execute(
        sa.select(*_SYNC_COLUMNS)
        .where(
            posts.c.account == account,
            posts.c.status == PostStatus.PUBLISHED.value,
            posts.c.delivery == "publish",
            posts.c.article_id != "",
            posts.c.error == "",
            posts.c.published_at < before,
        )
        .order_by(posts.c.id)
    )
    return [SyncPost(*row) for row in rows]
