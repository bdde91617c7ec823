"""Fixtures shared by every kind of test."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

# CI's BOT_TEST_REQUIRE_PG / BOT_TEST_REQUIRE_BROWSER turn a needed service's skip into a failure.
from tests.require import pytest_collection_modifyitems, pytest_runtest_makereport

__all__ = ["pytest_collection_modifyitems", "pytest_runtest_makereport"]

# The command line prints Chinese unless told otherwise; the suite reads its English (and the
# tests of the Chinese ask for it with --lang zh). Subprocesses inherit this.
os.environ.setdefault("BOT_LANG", "en")


class FakeClock:
    """A clock tests move by hand; aware UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 1, 15, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cover_file(tmp_path: Path) -> Path:
    """A small JPEG, as a column's cover."""
    buffer = io.BytesIO()
    Image.new("RGB", (470, 200), (200, 30, 40)).save(buffer, "JPEG", quality=80)
    path = tmp_path / "cover.jpg"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using it runs on real SQLite and on real PostgreSQL (when reachable)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    from tests.integration.pg import fresh_pg_database

    async with fresh_pg_database() as url:
        yield url
