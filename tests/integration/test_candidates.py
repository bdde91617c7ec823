"""Drafting's choice of resources made in SQL with a limit (a large catalogue is never
loaded whole) agrees with the pure rule in bot.content.selection, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.content.selection import choose_resources
from bot.domain.models import PostStatus, Resource
from bot.store import catalogue as catalogue_store
from bot.store import db
from bot.store import posts as post_store

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _resource(i: int) -> Resource:
    kind = "exhibit" if i % 3 else "course"
    return Resource(id=f"r{i:02d}", kind=kind, title=f"Title {i}", source=f"t.csv:{i}")


async def _feature(conn: object, rid: str, kind: str, at: datetime, status: PostStatus) -> None:
    new = post_store.NewPost(
        column="c",
        account="main",
        title="t",
        author="",
        digest="",
        markdown="",
        content_html="",
        content_source_url="",
        cover="",
        delivery="publish",
        status=status,
        resources=[(rid, kind)],
        scheduled_for=at,
    )
    await post_store.create(conn, new, now=at)  # type: ignore[arg-type]


@pytest.mark.parametrize("cooldown_days", [0, 10, 30])
@pytest.mark.parametrize("kinds", [(), ("exhibit",)])
async def test_next_candidates_agree_with_the_pure_rule(
    database_url: str, cooldown_days: int, kinds: tuple[str, ...]
) -> None:
    engine = db.open_engine(database_url)
    try:
        await db.upgrade(engine)
        items = [_resource(i) for i in range(30)]
        async with engine.begin() as conn:
            await catalogue_store.upsert(conn, items, now=NOW)
            for i in range(0, 30, 2):  # every other one featured, i days ago
                status = PostStatus.CANCELLED if i % 10 == 4 else PostStatus.QUEUED
                at = NOW - timedelta(days=i + (10 if i == 20 else 0))
                await _feature(conn, items[i].id, items[i].kind, at, status)
        async with engine.connect() as conn:
            everything = await catalogue_store.list_resources(conn, kinds=list(kinds))
            featured = await post_store.last_featured(conn, "c")
            start = NOW - timedelta(days=cooldown_days) if cooldown_days else None
            for count in (1, 5, 30):
                found, found_featured = await post_store.next_candidates(
                    conn, column="c", kinds=kinds, cooldown_start=start, limit=count, now=NOW
                )
                assert len(found) <= count
                rule = dict(kinds=kinds, now=NOW, cooldown_days=cooldown_days, count=count)
                expected = choose_resources(everything, last_featured=featured, **rule)
                chosen = choose_resources(found, last_featured=found_featured, **rule)
                assert [r.id for r in chosen] == [r.id for r in expected]
    finally:
        await engine.dispose()
