"""One trip to SQLite's thread per statement.

aiosqlite runs each SQLite connection on a thread of its own, and SQLAlchemy's adapter asks
that thread four times per statement (open a cursor, execute, fetch, close); every answer
waits for a turn of the event loop. Under a burst a turn is slow, and a page of ten statements
paid forty of them. ``OneTripCursor`` sends a whole statement — execute, fetch every row,
close — as one call, so a statement costs one turn of the loop (server-side cursors, used for
streamed results, are left as they are).

It leans on two names outside the libraries' documented API, each stable for years:
aiosqlite's ``Connection._execute(fn, *args)``, through which every aiosqlite method reaches
its thread, and SQLAlchemy's ``_cursor_cls``, the cursor class its adapted connection makes.
``tests/integration/test_sqlite_trips.py`` fails if either changes.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util import EMPTY_DICT


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no trip: the cursor opens per statement
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(
                _execute, self._connection._conn, operation, parameters
            )
        self._take(*outcome)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(
                _executemany, self._connection._conn, operation, seq_of_parameters
            )
        self._take(*outcome)

    def _take(
        self, description: Any, rows: list[Any] | None, rowcount: int, lastrowid: int | None
    ) -> None:
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows or ())

    async def _async_soft_close(self) -> None:
        return  # nothing open on the thread: each statement closed its cursor there

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


def use_one_trip_cursors(dbapi_connection: Any) -> None:
    """Make an aiosqlite connection SQLAlchemy just opened use ``OneTripCursor`` (called from
    the engine's "connect" event)."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneTripConnection


# On SQLite's thread -------------------------------------------------------------------------


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> tuple[Any, ...]:
    cursor = conn.execute(operation) if parameters is None else conn.execute(operation, parameters)
    return _finish(cursor)


def _executemany(
    conn: sqlite3.Connection, operation: str, seq_of_parameters: Sequence[Any]
) -> tuple[Any, ...]:
    return _finish(conn.executemany(operation, seq_of_parameters))


def _finish(cursor: sqlite3.Cursor) -> tuple[Any, ...]:
    try:
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
