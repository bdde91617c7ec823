"""The health check's own reading: the right figures on SQLite and PostgreSQL, an answer while
the service's pool is exhausted, and an error (not a hang) when the database is gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.store import accounts as account_store
from bot.store import db
from bot.store.health import HealthProbe
from bot.store.tables import posts

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _post(status: str, *, attention: bool = False) -> dict[str, object]:
    return {
        "column_name": "学习平台",
        "account": "main",
        "title": "标题",
        "status": status,
        "delivery": "publish",
        "stage": "new",
        "created_at": NOW,
        "updated_at": NOW,
        "needs_attention": attention,
    }


async def test_the_probe_reads_failed_posts_attention_and_parked_accounts(
    database_url: str,
) -> None:
    engine = db.open_engine(database_url)
    await db.upgrade(engine)
    probe = HealthProbe(database_url, fallback=engine)
    try:
        quiet = await probe.read(NOW)
        assert (quiet.failed, quiet.attention, quiet.parked) == (0, False, {})
        until = NOW + timedelta(hours=2)
        async with engine.begin() as conn:
            await conn.execute(posts.insert(), [_post("failed"), _post("failed"), _post("queued")])
            await conn.execute(posts.insert(), [_post("publishing", attention=True)])
            await account_store.park(conn, "main", until=until, reason="45009", now=NOW)
            await account_store.park(
                conn, "other", until=NOW - timedelta(minutes=1), reason="45009", now=NOW
            )
        busy = await probe.read(NOW)
        assert busy.failed == 2
        assert busy.attention is True
        assert busy.parked == {"main": until}  # an aware UTC time; the lapsed park not listed
        assert busy.parked["main"].tzinfo is not None
    finally:
        await probe.close()
        await engine.dispose()


async def test_the_probe_answers_while_every_pooled_connection_is_taken(
    sqlite_url: str,
) -> None:
    engine = db.open_engine(sqlite_url, pool_size=1)
    await db.upgrade(engine)
    probe = HealthProbe(sqlite_url, fallback=engine)
    held = [await engine.connect() for _ in range(2)]  # the pool's one and its one overflow
    try:
        for conn in held:  # reads in flight (a read takes no write lock)
            await (await conn.execution_options(**{db.READ_ONLY: True})).execute(
                sa.text("SELECT 1")
            )
        with pytest.raises(TimeoutError):  # the service's own pool has nothing left ...
            async with asyncio.timeout(0.5), engine.connect():
                pass
        health = await asyncio.wait_for(probe.read(NOW), 5)  # ... the probe still answers
        assert health.failed == 0
    finally:
        for conn in held:
            await conn.close()
        await probe.close()
        await engine.dispose()


async def test_a_database_that_cannot_be_read_is_an_error_not_a_hang(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database file" * 100)
    url = f"sqlite+aiosqlite:///{broken}"
    engine = db.open_engine(url)
    probe = HealthProbe(url, fallback=engine)
    try:
        with pytest.raises(sa.exc.SQLAlchemyError):
            await asyncio.wait_for(probe.read(NOW), 10)
    finally:
        await probe.close()
        await engine.dispose()


async def test_reads_through_connect_do_not_wait_for_the_writer(sqlite_url: str) -> None:
    """On SQLite a plain ``connect()`` read begins DEFERRED: it reads its snapshot while a
    writer holds the lock, instead of queueing behind it (BEGIN IMMEDIATE) for as long as
    the write lasts."""
    engine = db.open_engine(sqlite_url)
    await db.upgrade(engine)
    try:
        async with engine.begin() as writer:
            await writer.execute(posts.insert(), [_post("queued")])
            async with asyncio.timeout(2), engine.connect() as reader:
                seen = (
                    await reader.execute(sa.select(sa.func.count()).select_from(posts))
                ).scalar()
            assert seen == 0  # the snapshot before the writer's uncommitted row
        async with engine.connect() as reader:
            assert (
                await reader.execute(sa.select(sa.func.count()).select_from(posts))
            ).scalar() == 1
    finally:
        await engine.dispose()


async def test_probes_arriving_together_share_one_read(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.open_engine(sqlite_url)
    await db.upgrade(engine)
    probe = HealthProbe(sqlite_url, fallback=engine)
    reads = 0
    real = probe._read_sqlite

    def counted(now: datetime) -> Any:
        nonlocal reads
        reads += 1
        return real(now)

    monkeypatch.setattr(probe, "_read_sqlite", counted)
    try:
        answers = await asyncio.gather(*(probe.read(NOW) for _ in range(200)))
        assert len(answers) == 200 and all(a.failed == 0 for a in answers)
        assert reads == 1  # one read answered them all
        await probe.read(NOW)
        assert reads == 2  # a later probe reads afresh
    finally:
        await probe.close()
        await engine.dispose()
