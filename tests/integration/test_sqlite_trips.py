"""One trip to SQLite's thread per statement (bot.store.sqlite_trips): the counts, and that
everything SQLAlchemy reads from a cursor still comes back right (rows, row counts, inserted
ids, RETURNING, executemany, errors), so a change in aiosqlite's or SQLAlchemy's internals it
leans on fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiosqlite.core
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import db
from bot.store.sqlite_trips import OneTripConnection

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(20), nullable=False, unique=True),
)


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.open_engine(sqlite_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to an aiosqlite connection's thread."""
    seen: list[str] = []
    real = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return seen


async def test_a_read_costs_one_trip_per_statement(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as conn:  # open the pooled connection first
        await conn.execute(sa.select(1))
    trips.clear()
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(items))).scalar() == 0
    # BEGIN DEFERRED, the SELECT, and the rollback when the connection goes back to the pool
    # (the adapter's own cursor took four trips for each statement: eight in all).
    assert len(trips) == 3, trips


async def test_rows_counts_ids_returning_and_executemany_come_back(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneTripConnection)
    async with engine.begin() as conn:
        first = await conn.execute(items.insert().values(name="一"))
        assert first.inserted_primary_key == (1,)
        many = await conn.execute(items.insert(), [{"name": f"n{i}"} for i in range(5)])
        assert many.rowcount == 5
        returned = await conn.execute(items.insert().values(name="r").returning(items.c.id))
        assert returned.scalar_one() == 7
        updated = await conn.execute(
            items.update().where(items.c.id > 3).values(name=items.c.name + "!")
        )
        assert updated.rowcount == 4
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(items).order_by(items.c.id))).all()
        assert [tuple(r) for r in rows[:2]] == [(1, "一"), (2, "n0")]
        assert len(rows) == 7
        assert (await conn.execute(sa.select(items).where(items.c.id == 99))).first() is None
        streamed = await conn.stream(sa.select(items.c.id).order_by(items.c.id))
        assert [row[0] async for row in streamed] == list(range(1, 8))  # server-side untouched


async def test_errors_are_sqlalchemys_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(items.insert().values(name="same"))
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(items.insert().values(name="same"))
    with pytest.raises(sa.exc.OperationalError):
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT * FROM no_such_table"))
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(items))).scalar() == 1
