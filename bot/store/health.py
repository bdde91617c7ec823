"""What ``/healthz`` reports, read through a connection of its own.

A health check is worth something only while the service is busy, so it is built to cost
one turn of the event loop. Through the async driver every statement is several round trips
to a helper thread, each waiting for the loop's next turn; under a burst those turns are
slow, and a three-query probe took sixteen of them. On SQLite the probe therefore runs whole
on one thread of its own with the standard library's driver (one hand-over, whatever the
loop is doing); on PostgreSQL it uses a one-connection pool of its own, so a burst holding
every pooled connection cannot make the service look dead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.domain.models import PostStatus
from bot.store import db
from bot.store.tables import account_state, posts


@dataclass(frozen=True)
class Health:
    failed: int  # posts that failed
    attention: bool  # some post waits for a person
    parked: dict[str, datetime]  # accounts parked, until when


def _statements(now: datetime) -> tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]:
    failed = sa.select(sa.func.count()).where(posts.c.status == PostStatus.FAILED.value)
    attention = sa.select(posts.c.id).where(posts.c.needs_attention.is_(True)).limit(1)
    parked = sa.select(account_state.c.account, account_state.c.parked_until).where(
        account_state.c.parked_until > now
    )
    return failed, attention, parked


def _read(conn: Connection, now: datetime) -> Health:
    failed, attention, parked = _statements(now)
    return Health(
        failed=int(conn.execute(failed).scalar_one()),
        attention=conn.execute(attention).first() is not None,
        parked={account: until for account, until in conn.execute(parked)},
    )


async def _read_async(conn: AsyncConnection, now: datetime) -> Health:
    failed, attention, parked = _statements(now)
    return Health(
        failed=int((await conn.execute(failed)).scalar_one()),
        attention=(await conn.execute(attention)).first() is not None,
        parked={account: until for account, until in await conn.execute(parked)},
    )


class HealthProbe:
    """``await probe.read(now)`` -> Health; raises SQLAlchemyError or OSError when the
    database does not answer. ``await probe.close()`` when done."""

    def __init__(self, url: str, fallback: AsyncEngine) -> None:
        parsed = make_url(url)
        database = parsed.database or ""
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None
        self._fallback = fallback
        if parsed.get_backend_name() == "sqlite":
            if database and database != ":memory:":  # memory: only the service's engine sees it
                self._sync = sa.create_engine(
                    parsed.set(drivername="sqlite"),
                    pool_size=1,
                    max_overflow=0,
                    connect_args={"timeout": 5},
                )
        else:
            self._async = db.open_engine(url, pool_size=1)
        # One thread, so the SQLite connection never changes hands (and a stuck probe
        # cannot take more than one thread).
        self._in_flight: dict[asyncio.AbstractEventLoop, asyncio.Task[Health]] = {}
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="health")

    async def read(self, now: datetime) -> Health:
        """Probes that arrive while one is being read share its answer: 2,000 at once queued
        one behind the other on the probe's thread (3.8 s for the last; security re-check 4,
        F5), while one read answers them all."""
        loop = asyncio.get_running_loop()
        shared = self._in_flight.get(loop)
        if shared is None or shared.done():
            shared = self._in_flight[loop] = loop.create_task(self._read(now))
        return await asyncio.shield(shared)

    async def _read(self, now: datetime) -> Health:
        if self._sync is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self._read_sqlite, now)
        async with db.reading(self._async or self._fallback) as conn:
            return await _read_async(conn, now)

    def _read_sqlite(self, now: datetime) -> Health:
        assert self._sync is not None
        with self._sync.connect() as conn:
            return _read(conn, now)

    async def close(self) -> None:
        if self._sync is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._sync.dispose)
        if self._async is not None:
            await self._async.dispose()
        self._thread.shutdown(wait=False)
