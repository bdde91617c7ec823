"""The catalogue of learning resources: upserts by id (in one transaction per file) and reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.errors import NotFoundError
from bot.domain.models import Resource
from bot.store.records import resource_from_row
from bot.store.tables import resources

BATCH = 1000


async def upsert(
    conn: AsyncConnection, items: Iterable[Resource], *, now: datetime
) -> tuple[int, int]:
    """Insert or update resources by id, in batches so memory stays bounded. The caller's
    transaction makes a file all-or-nothing. Returns (created, updated)."""
    created = updated = 0
    batch: list[Resource] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            c, u = await _upsert_batch(conn, batch, now)
            created, updated, batch = created + c, updated + u, []
    if batch:
        c, u = await _upsert_batch(conn, batch, now)
        created, updated = created + c, updated + u
    return created, updated


async def _upsert_batch(
    conn: AsyncConnection, batch: Sequence[Resource], now: datetime
) -> tuple[int, int]:
    ids = [r.id for r in batch]
    existing = {
        row[0]
        for row in await conn.execute(sa.select(resources.c.id).where(resources.c.id.in_(ids)))
    }
    fresh = [r for r in batch if r.id not in existing]
    if fresh:
        await conn.execute(
            resources.insert(), [_values(r, now) | {"created_at": now} for r in fresh]
        )
    stale = [r for r in batch if r.id in existing]
    if stale:
        await conn.execute(
            resources.update().where(resources.c.id == sa.bindparam("rid")),
            [{"rid": r.id, **_values(r, now)} for r in stale],
        )
    return len(fresh), len(stale)


def _values(r: Resource, now: datetime) -> dict[str, object]:
    return {
        "id": r.id,
        "kind": r.kind,
        "title": r.title,
        "summary": r.summary,
        "url": r.url,
        "cover": r.cover,
        "tags": list(r.tags),
        "source": r.source,
        "updated_at": now,
    }


async def list_resources(
    conn: AsyncConnection,
    *,
    kinds: Sequence[str] = (),
    search: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> list[Resource]:
    query = sa.select(resources).order_by(resources.c.kind, resources.c.id).offset(offset)
    if kinds:
        query = query.where(resources.c.kind.in_(list(kinds)))
    if search:
        # The search is words, not a pattern: % and _ match themselves.
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            sa.or_(
                resources.c.title.like(like, escape="\\"),
                resources.c.summary.like(like, escape="\\"),
                resources.c.id.like(like, escape="\\"),
            )
        )
    if limit is not None:
        query = query.limit(limit)
    return [resource_from_row(r._mapping) for r in await conn.execute(query)]


async def get_many(conn: AsyncConnection, ids: Sequence[str]) -> list[Resource]:
    """The resources in the order asked. Raises NotFoundError naming the first unknown id."""
    rows = await conn.execute(sa.select(resources).where(resources.c.id.in_(list(ids))))
    found = {r.id: r for r in (resource_from_row(row._mapping) for row in rows)}
    for rid in ids:
        if rid not in found:
            raise NotFoundError(f"no catalogue resource with id {rid!r}")
    return [found[rid] for rid in ids]


async def count(conn: AsyncConnection) -> int:
    return int((await conn.execute(sa.select(sa.func.count()).select_from(resources))).scalar_one())
