"""The catalogue of learning resources: upserts by id (a staged file in one transaction) and
reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.domain.errors import NotFoundError
from bot.domain.models import Resource
from bot.store import budget, db
from bot.store.records import resource_from_row
from bot.store.tables import resources

BATCH = 1000

# A staged import: the rows of one checked file, in a SQLite file of its own (see
# bot.engine.importing). ``tags`` is JSON text, as the catalogue's JSON column stores it.
STAGED_COLUMNS = ("id", "kind", "title", "summary", "url", "cover", "tags", "source")
STAGED_SCHEMA = (
    "CREATE TABLE staged (id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, "
    "summary TEXT NOT NULL, url TEXT NOT NULL, cover TEXT NOT NULL, tags TEXT NOT NULL, "
    "source TEXT NOT NULL)"
)


class CatalogueFull(Exception):
    """The staged file's new ids would take the catalogue past its limit (nothing written)."""

    def __init__(self, held: int, adding: int) -> None:
        super().__init__(f"catalogue full: {held} held, {adding} new")
        self.held, self.adding = held, adding


async def upsert_staged(
    engine: AsyncEngine, staging: Path, *, now: datetime, max_total: int
) -> tuple[int, int]:
    """Move a staged file into the catalogue in one transaction (insert new ids, update the
    others; ``created_at`` kept). Returns (created, updated). Raises CatalogueFull, writing
    nothing, when the catalogue would hold more than ``max_total`` resources.

    On SQLite the database attaches the staged file and copies it in one statement: the
    single writer is held for well under a second for 100,000 rows, and the service's
    process does no per-row work. PostgreSQL (no single writer) takes it in batches."""
    if db.is_sqlite(engine):
        return await _upsert_attached(engine, staging, now, max_total)
    created = updated = 0
    batches = _staged_batches(staging)
    async with engine.begin() as conn, _closing(batches):
        held = await count(conn)
        empty: list[Resource] = []
        while batch := await asyncio.to_thread(next, batches, empty):
            c, u = await _upsert_batch(conn, batch, now)
            created, updated = created + c, updated + u
        if held + created > max_total:
            raise CatalogueFull(held, created)  # rolls the transaction back
    return created, updated


_COPY_STAGED = (
    "INSERT INTO main.resources ({cols}, created_at, updated_at) "
    "SELECT {cols}, :now, :now FROM staging.staged WHERE true ORDER BY rowid "
    "ON CONFLICT (id) DO UPDATE SET {updates}, updated_at = excluded.updated_at, "
    # A cover that did not load is passed over until the import brings another (SET's
    # right-hand sides read the row as it was).
    "cover_problem = CASE WHEN excluded.cover = resources.cover "
    "THEN resources.cover_problem ELSE '' END, "
    "cover_retry_at = CASE WHEN excluded.cover = resources.cover "
    "THEN resources.cover_retry_at ELSE NULL END"
).format(
    cols=", ".join(STAGED_COLUMNS),
    updates=", ".join(f"{c} = excluded.{c}" for c in STAGED_COLUMNS if c != "id"),
)
_COUNT_NEW = "SELECT count(*) FROM staging.staged WHERE id NOT IN (SELECT id FROM main.resources)"


async def _upsert_attached(
    engine: AsyncEngine, staging: Path, now: datetime, max_total: int
) -> tuple[int, int]:
    # Shielded: the driver runs a statement it was given even when its caller is cancelled,
    # so a cancel between ATTACH and DETACH would hand the pool a connection with the staged
    # file still attached (every later import on it failing). The whole exchange finishes
    # once started; a cancelled caller just stops waiting for its answer.
    return await asyncio.shield(_attached_transaction(engine, staging, now, max_total))


async def _attached_transaction(
    engine: AsyncEngine, staging: Path, now: datetime, max_total: int
) -> tuple[int, int]:
    stamp = resources.c.updated_at.type.bind_processor(engine.dialect)
    stored_now = stamp(now) if stamp else now
    async with db.writing_connection(engine) as driver:
        await driver.execute("ATTACH DATABASE ? AS staging", (str(staging),))
        try:
            await driver.execute("BEGIN IMMEDIATE")
            try:
                held = await _scalar(driver, "SELECT count(*) FROM main.resources")
                created = await _scalar(driver, _COUNT_NEW)
                if held + created > max_total:
                    raise CatalogueFull(held, created)
                staged = await _scalar(driver, "SELECT count(*) FROM staging.staged")
                await driver.execute(_COPY_STAGED, {"now": stored_now})
                await driver.execute("COMMIT")
            finally:
                if driver.in_transaction:  # refused or failed before COMMIT took
                    await driver.execute("ROLLBACK")
        finally:
            await driver.execute("DETACH DATABASE staging")
    return created, staged - created


async def _scalar(driver: db.DriverConnection, sql: str) -> int:
    cursor = await driver.execute(sql)
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0])


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
            resources.update()
            .where(resources.c.id == sa.bindparam("rid"))
            .values(
                cover_problem=_kept_unless_cover_changes(resources.c.cover_problem, ""),
                cover_retry_at=_kept_unless_cover_changes(resources.c.cover_retry_at, None),
            ),
            [{"rid": r.id, "new_cover": r.cover, **_values(r, now)} for r in stale],
        )
    return len(fresh), len(stale)


def _kept_unless_cover_changes(column: sa.Column[Any], cleared: object) -> sa.Case[Any]:
    """A cover that did not load stays marked unless an import gives the resource another one
    (SET's right-hand sides read the row as it was, so ``cover`` here is the old cover)."""
    return sa.case((resources.c.cover == sa.bindparam("new_cover"), column), else_=cleared)


async def note_cover_problem(
    conn: AsyncConnection, resource_id: str, cover: str, problem: str, *, retry_at: datetime
) -> None:
    """Record why ``resource_id``'s cover did not load and when drafting may try it again,
    unless its cover changed meanwhile."""
    await conn.execute(
        resources.update()
        .where(resources.c.id == resource_id, resources.c.cover == cover)
        .values(cover_problem=problem[:MAX_PROBLEM_CHARS], cover_retry_at=retry_at)
    )


async def clear_cover_problem(conn: AsyncConnection, resource_id: str, cover: str) -> None:
    """``resource_id``'s cover loads again (unless it changed meanwhile): no longer marked."""
    await conn.execute(
        resources.update()
        .where(resources.c.id == resource_id, resources.c.cover == cover)
        .values(cover_problem="", cover_retry_at=None)
    )


MAX_PROBLEM_CHARS = 500


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


async def search_resources(
    engine: AsyncEngine,
    *,
    seconds: float,
    kinds: Sequence[str] = (),
    search: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> list[Resource]:
    """``list_resources`` on a connection of its own, stopped after ``seconds`` (see
    bot.store.budget). Raises budget.OverBudgetError then."""
    async with budget.budgeted(engine, seconds) as conn:
        return await list_resources(conn, kinds=kinds, search=search, limit=limit, offset=offset)


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


@contextlib.asynccontextmanager
async def _closing(batches: Generator[list[Resource]]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await asyncio.to_thread(batches.close)  # closes the staged file


def _staged_batches(staging: Path) -> Generator[list[Resource]]:
    """The staged rows as Resources, a batch at a time (PostgreSQL's upsert)."""
    con = sqlite3.connect(staging, check_same_thread=False)  # read by to_thread's workers
    try:
        cursor = con.execute(f"SELECT {', '.join(STAGED_COLUMNS)} FROM staged ORDER BY rowid")
        while rows := cursor.fetchmany(BATCH):
            yield [
                Resource(rid, kind, title, summary, url, cover, tuple(json.loads(tags)), source)
                for rid, kind, title, summary, url, cover, tags, source in rows
            ]
    finally:
        con.close()
