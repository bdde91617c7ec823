"""Upgrading a database that already holds data, on SQLite and PostgreSQL: a database made at
the first revision and filled (every table, two rows each) is upgraded one revision at a time
to the newest; after each step no row is lost and no value a step did not mean to touch has
changed; at the end the store reads the old rows (a post, its resources, the users).

Downgrades are not covered: there is no command for them, and on SQLite a downgrade that
rebuilds ``posts`` (0003's) drops it with foreign keys on, which deletes every row of
``post_resources`` and ``post_articles`` by cascade. An upgrade that rebuilt ``posts`` would
do the same; this test would catch it.

The rows are made from the tables as the first revision created them, so a new migration is
covered without changing this test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.store import db
from bot.store import posts as post_store
from bot.store import users as user_store
from bot.store.db import _alembic_config

FIRST = "0001"
WHEN = datetime(2025, 6, 1, 8, 30)  # naive UTC, as the store keeps it
# Values the store parses (enums, roles); any other column gets a value made from its type.
MEANINGFUL: dict[str, dict[str, Any]] = {
    "posts": {
        "status": "published",
        "stage": "new",
        "delivery": "publish",
        "source": "bot",
        "column_name": "学习平台",
        "account": "main",
        "needs_attention": False,
        "slot_id": None,
        "errcode": None,
        "lease_owner": None,
    },
    "users": {"role": "admin"},
    "post_resources": {"position": 0},
}


def _revisions() -> list[str]:
    """Every revision from the first to the newest, in order."""
    script = ScriptDirectory.from_config(_alembic_config(None))  # type: ignore[arg-type]
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _migrate(connection: Connection, target: str) -> None:
    command.upgrade(_alembic_config(connection), target)


def _value(table: str, column: sa.Column[Any], row: int, references: dict[str, Any]) -> Any:
    if column.name in MEANINGFUL.get(table, {}):
        return MEANINGFUL[table][column.name]
    if column.name in references:
        return references[column.name]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return row % 2 == 0
    if isinstance(kind, sa.Integer):
        return row
    if isinstance(kind, sa.DateTime):
        return WHEN.replace(minute=row)
    if isinstance(kind, sa.Date):
        return date(2025, 6, row)
    if isinstance(kind, sa.Float | sa.Numeric):
        return row + 0.5
    if isinstance(kind, sa.JSON):
        return {"row": row}
    text = f"{table}.{column.name}.{row}"
    length = getattr(kind, "length", None)
    return text[-length:] if length else text  # the end keeps rows apart


def _fill(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Two rows in every table of the first revision; returns what was written."""
    meta = sa.MetaData()
    meta.reflect(connection)
    written: dict[str, list[dict[str, Any]]] = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        rows = []
        for row in (1, 2):
            # A foreign key points at the row of the same number in the referred table.
            references = {
                fk.parent.name: next(
                    r[fk.column.name] for r in written[fk.column.table.name] if r["_n"] == row
                )
                for fk in table.foreign_keys
            }
            values = {c.name: _value(table.name, c, row, references) for c in table.columns}
            connection.execute(table.insert().values(values))
            rows.append({**values, "_n": row})
        written[table.name] = rows
    return written


def _read(connection: Connection, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    meta = sa.MetaData()
    meta.reflect(connection, only=tables)
    out = {}
    for name in tables:
        table = meta.tables[name]
        order = list(table.primary_key.columns) or list(table.columns)
        out[name] = [
            dict(r._mapping) for r in connection.execute(sa.select(table).order_by(*order))
        ]
    return out


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """A row kept its values, in every column it had before."""

    def norm(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        return value

    return all(norm(before[k]) == norm(after[k]) for k in before if k in after)


async def test_upgrading_a_database_with_data_keeps_every_row(database_url: str) -> None:
    revisions = _revisions()
    assert revisions[0] == FIRST and revisions[-1] == db.HEAD_REVISION
    assert len(revisions) >= 2, "there is no upgrade to test yet"
    engine = db.open_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_migrate, FIRST)
            written = await conn.run_sync(_fill)
        tables = sorted(written)
        async with engine.connect() as conn:
            original = await conn.run_sync(_read, tables)
        assert all(len(original[t]) == 2 for t in tables)

        for revision in revisions[1:]:
            async with engine.begin() as conn:
                await conn.run_sync(_migrate, revision)
            async with engine.connect() as conn:
                now = await conn.run_sync(_read, tables)
            for table in tables:
                assert len(now[table]) == 2, (revision, table)
                for old, new in zip(original[table], now[table], strict=True):
                    assert _same(old, new), (revision, table, old, new)
        assert await db.current_revision(engine) == db.HEAD_REVISION

        # The store reads the old rows as today's objects.
        async with engine.connect() as conn:
            post = await post_store.get(conn, 1)
            admin = await user_store.by_name(conn, "users.name.1")
        assert post.title == "posts.title.1" and post.status.value == "published"
        assert post.published_at == WHEN.replace(minute=1, tzinfo=UTC)
        assert post.resource_ids == ["post_resources.resource_id.1"]
        assert admin is not None and admin.role == "admin"

    finally:
        await engine.dispose()
