"""The migrations create exactly the schema the tables describe, on SQLite and PostgreSQL,
and upgrading twice is harmless."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.store import db
from bot.store.tables import metadata


async def test_migrations_match_the_tables(database_url: str) -> None:
    engine = db.open_engine(database_url)
    try:
        await db.upgrade(engine)
        await db.upgrade(engine)  # idempotent
        assert await db.current_revision(engine) == db.head_revision() == db.HEAD_REVISION

        def diff(connection):  # type: ignore[no-untyped-def]
            return compare_metadata(MigrationContext.configure(connection), metadata)

        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
        assert differences == []
    finally:
        await engine.dispose()
