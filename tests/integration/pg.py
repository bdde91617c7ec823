"""A fresh PostgreSQL database per test, from $BOT_TEST_PG_URL; skipped with a clear reason
when none is reachable (CI sets BOT_TEST_REQUIRE_PG=1, which turns the skip into a failure)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine.url import make_url

SKIP_REASON = "PostgreSQL not reachable at BOT_TEST_PG_URL"


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """Create a database with a random name, yield its SQLAlchemy URL, drop it afterwards."""
    import asyncpg

    base = os.environ.get("BOT_TEST_PG_URL", "")
    if not base:
        _unavailable(f"{SKIP_REASON} (BOT_TEST_PG_URL is not set)")
    try:
        admin = await asyncpg.connect(_admin_dsn(base), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable(f"{SKIP_REASON} ({exc.__class__.__name__})")
    name = f"bot_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("BOT_TEST_REQUIRE_PG"):
        pytest.fail(f"{reason}; CI requires PostgreSQL")
    pytest.skip(reason)
