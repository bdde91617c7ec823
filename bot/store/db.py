"""Opening the database and migrating its schema.

SQLite (the default) runs in WAL mode. Every ``engine.begin()`` transaction is ``BEGIN
IMMEDIATE``: one writer at a time, so a read-then-write transaction never fails half way on a
lock upgrade. ``engine.connect()`` blocks never commit, so they only read: they begin
``DEFERRED`` and never wait for the writer or for each other (they once took the write lock
too, and a burst's hundred reads queued behind each other in SQLite's busy handler).
PostgreSQL is the shared engine for several processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.domain.errors import ConfigError, TransientError
from bot.store.sqlite_trips import use_one_trip_cursors

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Alembic is imported only when the schema must change: a service that starts on a current
# database never loads it (it is a sizeable share of an idle process's memory).
_UPGRADE_LOCK = 0x626F7401  # the advisory lock key schema upgrades take on PostgreSQL


READ_ONLY = "bot_read_only"
_WRITER = "bot_writer"  # set by SQLiteEngine.begin: this transaction writes


@contextlib.asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads only: on SQLite its transaction does not take the write lock,
    so a health check or a report never queues behind a long write. Writing through it is
    a mistake (it could fail half way on a lock upgrade)."""
    async with engine.connect() as conn:
        yield await conn.execution_options(**{READ_ONLY: True})


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def open_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Create the engine; for SQLite also the directory of the file. Raises ConfigError.

    The pool keeps ``pool_size`` connections and opens as many again at a peak: at a slot
    every account's post is in flight at once, each needing a connection for a moment
    between its calls; two processes at twice that (and the health check's one each) stay
    well inside PostgreSQL's default of 100 connections."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise ConfigError(f"database.url: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        pooling: dict[str, Any] = {}
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Connections are kept, not opened per use: each is a thread and a file opened
            # with its pragmas, and a burst closing and reopening its overflow at every step
            # kept the loop's process busy doing just that.
            pooling = {"pool_size": pool_size, "max_overflow": pool_size}
        sync_engine = create_async_engine(url, connect_args={"timeout": 30}, **pooling).sync_engine
        engine = SQLiteEngine(sync_engine)
        _make_sqlite_serial(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class SQLiteEngine(AsyncEngine):
    """SQLite takes one writer at a time. Writers of this process queue here, on the event
    loop, instead of at SQLite's lock, whose busy handler sleeps for up to 100 ms between
    tries: with a hundred posts at a slot, those sleeps made the burst several times slower.
    Readers are not held up (WAL lets them read while one writes); other processes still
    meet at SQLite's lock. A ``begin`` inside a ``begin`` would wait for itself, exactly as
    it would wait for SQLite's lock without this."""

    def __init__(self, sync_engine: Any) -> None:
        super().__init__(sync_engine)
        # One lock per event loop (an engine outliving a loop, as in tests, gets a new one).
        self._writers: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self.writer_turn(), self.connect() as conn:
            await conn.execution_options(**{_WRITER: True})
            async with conn.begin():
                yield conn

    def writer_turn(self) -> asyncio.Lock:
        """This process's turn to write (held by ``begin``)."""
        loop = asyncio.get_running_loop()
        writer = self._writers.get(loop)
        if writer is None:
            self._writers = {k: v for k, v in self._writers.items() if not k.is_closed()}
            writer = self._writers[loop] = asyncio.Lock()
        return writer


# aiosqlite's connection: ``await execute(sql, params)`` returns a cursor; no SQLAlchemy.
DriverConnection = Any


@contextlib.asynccontextmanager
async def writing_connection(engine: AsyncEngine) -> AsyncIterator[DriverConnection]:
    """SQLite only: the driver's own connection in its autocommit state, in this process's
    turn to write, for statements SQLAlchemy's transactions cannot hold (ATTACH and DETACH
    must run outside one). The caller begins and ends its own transaction."""
    if not isinstance(engine, SQLiteEngine):
        raise TypeError("writing_connection is for SQLite engines")
    async with engine.writer_turn(), engine.connect() as conn:
        raw = await conn.get_raw_connection()
        yield raw.driver_connection


def _make_sqlite_serial(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        use_one_trip_cursors(dbapi_connection)
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITER):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # A read in WAL mode sees a snapshot and never waits for the writer (nor for
            # other readers). ``connect()`` blocks never commit, so they only ever read.
            conn.exec_driver_sql("BEGIN DEFERRED")


def _alembic_config(connection: Connection) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Create or migrate the schema to the newest revision (idempotent)."""

    def run(connection: Connection) -> None:
        from alembic import command

        if connection.dialect.name == "postgresql":
            # Several processes may start at once on a fresh database: the first creates the
            # schema, the others wait here and then find it at head (SQLite's BEGIN IMMEDIATE
            # already serialises them). Released when this transaction ends.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK})")
        command.upgrade(_alembic_config(connection), "head")

    try:
        if await _stamped_revision(engine) == HEAD_REVISION:
            return
        async with engine.begin() as conn:
            await conn.run_sync(run)
    except OSError as exc:
        raise TransientError(f"database unreachable: {exc}") from exc


async def _stamped_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database, read without Alembic; None when unstamped."""
    try:
        async with engine.connect() as conn:
            row = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).first()
    except SQLAlchemyError:
        return None  # no table yet: a new database
    return str(row[0]) if row else None


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


# The newest migration; a test checks it against Alembic's own idea of the head.
HEAD_REVISION = "0009"


def head_revision() -> str | None:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()
