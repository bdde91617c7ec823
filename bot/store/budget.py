"""Time budgets for reads whose cost a person's input sets (a catalogue search): past its
budget the database stops the statement, and the connection goes back to the pool as it came,
with nothing left behind that could stop a later statement on it.

SQLite has no statement timeout: a timer on the event loop calls the connection's
``interrupt()`` (thread-safe; the statement runs on aiosqlite's thread). PostgreSQL takes
``SET LOCAL statement_timeout`` in the read's own transaction, which ends with it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store import db

# PostgreSQL's SQLSTATE for a statement cancelled, here by statement_timeout.
_QUERY_CANCELED = "57014"
# After the budget, SQLite is interrupted again this often until the block ends: an interrupt
# that comes while no statement runs (the one budgeted has not reached SQLite's thread yet)
# does nothing, so one alone could be lost.
_AGAIN_SECONDS = 0.1


class OverBudgetError(Exception):
    """A budgeted read ran past its time and was stopped (nothing was returned)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"stopped after {seconds:g} s")
        self.seconds = seconds


@contextlib.asynccontextmanager
async def budgeted(engine: AsyncEngine, seconds: float) -> AsyncIterator[AsyncConnection]:
    """A read-only connection for one read that must end within ``seconds`` (from now on
    SQLite, per statement on PostgreSQL: meant for a block of one statement). Raises
    OverBudgetError, from the block's statement, when the database stopped it."""
    async with db.reading(engine) as conn:
        if db.is_sqlite(engine):
            async with _interrupting(conn, seconds):
                yield conn
        else:
            # Whole milliseconds, at least 1: statement_timeout = 0 means no limit at all.
            await conn.execute(
                sa.text(f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}")
            )
            try:
                yield conn
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) == _QUERY_CANCELED:
                    raise OverBudgetError(seconds) from exc
                raise
            # The transaction (and the setting with it) is rolled back as the block ends.


@contextlib.asynccontextmanager
async def _interrupting(conn: AsyncConnection, seconds: float) -> AsyncIterator[None]:
    driver: db.DriverConnection = (await conn.get_raw_connection()).driver_connection
    # aiosqlite's ``_conn`` is the sqlite3 connection itself: its async ``interrupt()`` would
    # be a coroutine, and a timer's callback must act at once, before the block can end.
    timer = _Interrupter(driver._conn, seconds)
    try:
        yield
    except DBAPIError as exc:
        # SQLite says "interrupted" (an OperationalError); the timer says it was ours.
        if timer.fired and isinstance(exc.orig, sqlite3.OperationalError):
            raise OverBudgetError(seconds) from exc
        raise
    except BaseException:
        # Cancelled while the statement may still run on SQLite's thread: stop it now, not
        # at the end of its scan. Harmless when nothing runs (see _Interrupter).
        timer.interrupt()
        raise
    finally:
        # Before the connection goes back to the pool: from here on nothing interrupts it.
        timer.cancel()


class _Interrupter:
    """Interrupts a SQLite connection ``seconds`` from now, and again every
    ``_AGAIN_SECONDS`` until cancelled. Runs on the event loop only, so once ``cancel()``
    returns no interrupt can follow. An interrupt while no statement runs does nothing to the
    next one (SQLite clears the flag when a statement starts with none running), so the only
    statements it can stop are those that run before ``cancel()``: the block's own."""

    def __init__(self, connection: sqlite3.Connection, seconds: float) -> None:
        self.connection = connection
        self.fired = False
        self._handle: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            seconds, self._fire
        )

    def _fire(self) -> None:
        self.fired = True
        self.interrupt()
        self._handle = asyncio.get_running_loop().call_later(_AGAIN_SECONDS, self._fire)

    def interrupt(self) -> None:
        self.connection.interrupt()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
