"""Multi-article posts (多图文) in the store: a post keeps its articles in push order, the
headline on the post row; reordering and editing rewrite them in one place; a single-article
post reads exactly as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import UserError
from bot.domain.models import Article, PostStatus
from bot.store import db
from bot.store import posts as post_store

NOW = datetime(2024, 1, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.open_engine(database_url)
    await db.upgrade(engine)
    yield engine
    await engine.dispose()


def _new(more: tuple[Article, ...] = ()) -> post_store.NewPost:
    return post_store.NewPost(
        column="学习平台",
        account="main",
        title="学习强国",
        author="团区委",
        digest="第一篇",
        markdown="# 一",
        content_html="<p>一</p>",
        content_source_url="https://example.com/1",
        cover="one.jpg",
        delivery="publish",
        status=PostStatus.QUEUED,
        resources=[("p1", "platform"), ("p2", "platform"), ("e1", "exhibit")],
        more_articles=more,
    )


SECOND = Article(
    title="中国大学MOOC",
    author="团区委",
    digest="第二篇",
    markdown="# 二",
    content_html="<p>二</p>",
    content_source_url="https://example.com/2",
    cover="two.jpg",
    resource_ids=("p2",),
)
THIRD = Article(
    title="国家博物馆", content_html="<p>三</p>", cover="three.jpg", resource_ids=("e1",)
)


async def test_a_post_of_three_articles_reads_back_in_push_order(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        post_id = await post_store.create(conn, _new((SECOND, THIRD)), now=NOW)
        post = await post_store.get(conn, post_id)
        listed = await post_store.list_posts(conn)
    assert post.article_count == 3
    assert [a.title for a in post.articles] == ["学习强国", "中国大学MOOC", "国家博物馆"]
    assert [a.resource_ids for a in post.articles] == [("p1",), ("p2",), ("e1",)]
    assert [a.cover for a in post.articles] == ["one.jpg", "two.jpg", "three.jpg"]
    assert post.articles[1] == SECOND
    assert post.resource_ids == ["p1", "p2", "e1"]
    assert listed[0].articles == post.articles


async def test_a_single_article_post_is_what_it_always_was(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        post_id = await post_store.create(conn, _new(), now=NOW)
        post = await post_store.get(conn, post_id)
    assert post.article_count == 1
    assert post.more_articles == []
    (only,) = post.articles
    assert (only.title, only.content_html, only.cover) == ("学习强国", "<p>一</p>", "one.jpg")
    assert only.resource_ids == ("p1", "p2", "e1")


async def test_reordering_makes_another_article_the_headline(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        post_id = await post_store.create(conn, _new((SECOND, THIRD)), now=NOW)
        post = await post_store.get(conn, post_id)
        first, second, third = post.articles
        changed = await post_store.replace_articles(
            conn,
            post,
            [third, first, second.replace(title="改过的标题")],
            now=NOW,
            statuses=[PostStatus.QUEUED],
        )
        assert changed
        again = await post_store.get(conn, post_id)
    assert again.title == "国家博物馆"
    assert again.content_html == "<p>三</p>"
    assert [a.title for a in again.articles] == ["国家博物馆", "学习强国", "改过的标题"]
    assert [a.resource_ids for a in again.articles] == [("e1",), ("p1",), ("p2",)]


async def test_replacing_refuses_what_would_break_the_post(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        post_id = await post_store.create(conn, _new((SECOND, THIRD)), now=NOW)
        post = await post_store.get(conn, post_id)
        head = post.articles[0]
        with pytest.raises(UserError, match="1 to 8 articles"):
            await post_store.replace_articles(
                conn, post, [head] * 9, now=NOW, statuses=[PostStatus.QUEUED]
            )
        with pytest.raises(UserError, match="feature the post's resources once"):
            await post_store.replace_articles(
                conn, post, post.articles[:2], now=NOW, statuses=[PostStatus.QUEUED]
            )
        # a post that moved on is left alone
        assert not await post_store.replace_articles(
            conn, post, post.articles[::-1], now=NOW, statuses=[PostStatus.REVIEW]
        )
        assert (await post_store.get(conn, post_id)).articles == post.articles


async def test_more_than_eight_articles_are_refused(engine: AsyncEngine) -> None:
    more = tuple(Article(title=f"第{i}篇") for i in range(8))
    async with engine.begin() as conn:
        with pytest.raises(UserError, match="at most 8 articles"):
            await post_store.create(conn, _new(more), now=NOW)


async def test_results_are_recorded_per_article(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        post_id = await post_store.create(conn, _new((SECOND, THIRD)), now=NOW)
        await post_store.record_article_results(
            conn,
            post_id,
            thumb_media_ids=["m1", "m2", "m3"],
            article_urls=["u1", "u2", "u3"],
        )
        post = await post_store.get(conn, post_id)
    # the headline's results live on the post row, recorded by the caller with the stage
    assert [a.thumb_media_id for a in post.articles] == ["", "m2", "m3"]
    assert [a.article_url for a in post.articles] == ["", "u2", "u3"]


async def test_posts_made_before_the_migration_read_as_single_article_posts(
    database_url: str,
) -> None:
    """A database at revision 0001 with a post upgrades in place; the post keeps its fields
    as its one (headline) article and its resources."""
    import sqlalchemy as sa
    from alembic import command

    engine = db.open_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(db._alembic_config(c), "0001"))
            await conn.execute(
                sa.text(
                    "INSERT INTO posts (id, column_name, account, title, author, digest, "
                    "markdown, content_html, content_source_url, cover, delivery, status, "
                    "stage, priority, created_at, updated_at, article_url, article_id, "
                    "attempts, error, thumb_media_id, draft_media_id, publish_id, msg_id, "
                    "polls, review_comment, needs_attention, source) VALUES (7, '学习平台', "
                    "'main', '旧的', '', '', '', '<p>x</p>', '', 'c.jpg', 'publish', "
                    "'published', 'new', 0, :now, :now, 'https://mp/1', 'a1', 1, '', "
                    "'m', '', '', '', 0, '', false, 'bot')"
                ),
                {"now": NOW.replace(tzinfo=None)},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO post_resources (post_id, resource_id, kind, position) "
                    "VALUES (7, 'p1', 'platform', 0)"
                )
            )
        await db.upgrade(engine)
        async with engine.connect() as conn:
            post = await post_store.get(conn, 7)
        (only,) = post.articles
        assert (only.title, only.cover, only.article_url) == ("旧的", "c.jpg", "https://mp/1")
        assert only.resource_ids == ("p1",)
    finally:
        await engine.dispose()
