"""The staged catalogue import (``importing.stage_file`` then ``catalogue_store.upsert_staged``),
tested by someone who did not write it: a refused file, a failure inside the final
transaction, a cancelled import, concurrent writers and readers, and re-imports leave the
catalogue either untouched or fully updated, and the pooled connection that ATTACHed the
staging file clean."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import ImportFileError
from bot.domain.models import BUILTIN_KINDS, PostStatus, Resource
from bot.engine import importing, offload
from bot.engine.importing import import_file
from bot.engine.offload import Offload
from bot.store import catalogue as catalogue_store
from bot.store import db
from bot.store import posts as post_store
from tests.integration.publish_harness import queued_post

T0 = datetime(2024, 1, 1, tzinfo=UTC)
# A clock that is not in UTC: both paths must store it as the same naive UTC text.
T1 = datetime(2024, 3, 1, 20, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
TAGS = ("青年", "团建", 'quote"and\\slash', "emoji 🎉")


@pytest.fixture
def threads() -> Iterator[None]:
    """Staging in threads of this process, so a test can patch MAX_ROWS (a spawned worker
    would not see the patch) and run fast."""
    previous = offload.use(Offload(mode="thread"))
    yield
    offload.use(previous)


@contextlib.asynccontextmanager
async def opened(url: str, *, pool_size: int = 10) -> AsyncIterator[AsyncEngine]:
    engine = db.open_engine(url, pool_size=pool_size)
    try:
        await db.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


def csv_file(path: Path, rows: Sequence[str]) -> Path:
    path.write_text("id,kind,title,summary,tags,cover\n" + "".join(rows), encoding="utf-8")
    return path


def row(rid: str, title: str = "", *, tags: str = "", cover: str = "") -> str:
    return f'{rid},platform,{title or "标题 " + rid},简介 {rid},"{tags}",{cover}\n'


async def snapshot(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    """Every catalogue row exactly as stored (tags and times as the database's own text)."""
    query = (
        "SELECT id, kind, title, summary, url, cover, CAST(tags AS TEXT), source, "
        "CAST(created_at AS TEXT), CAST(updated_at AS TEXT) FROM resources ORDER BY id"
    )
    async with engine.connect() as conn:
        return [tuple(r) for r in await conn.exec_driver_sql(query)]


async def run_import(
    engine: AsyncEngine, path: Path, media: Path, *, clock: datetime = T1, dirs: Any = None
) -> importing.ImportResult:
    return await import_file(
        engine,
        path,
        kinds=BUILTIN_KINDS,
        clock=lambda: clock,
        media_dir=media,
        cover_dirs=dirs,
    )


def image(path: Path, colour: tuple[int, int, int]) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


# --- 1. a refused file leaves the catalogue exactly as it was (SQLite and PostgreSQL) ---------

REFUSALS = ["bad-last-row", "cover-not-an-image", "more-than-max-rows", "catalogue-full"]


@pytest.mark.parametrize("refusal", REFUSALS)
async def test_a_refused_file_leaves_the_catalogue_exactly_as_it_was(
    database_url: str,
    tmp_path: Path,
    threads: None,
    monkeypatch: pytest.MonkeyPatch,
    refusal: str,
) -> None:
    # Small batches, so a few hundred rows span several of them (staging and PostgreSQL's).
    monkeypatch.setattr(importing, "STAGE_BATCH", 100)
    monkeypatch.setattr(catalogue_store, "BATCH", 100)
    media = tmp_path / "media"
    folder = tmp_path / "files"
    folder.mkdir()
    good_cover = image(folder / "good.png", (10, 200, 30))
    (folder / "fake.png").write_text("not an image", encoding="utf-8")
    async with opened(database_url) as engine:
        seed = csv_file(folder / "seed.csv", [row(f"old{i:04}", tags="旧") for i in range(40)])
        assert (await run_import(engine, seed, media, clock=T0)).created == 40
        before = await snapshot(engine)
        # More rows than one staging batch and one PostgreSQL batch, updating every existing
        # id (so a partial write would show as a changed title) and adding new ones.
        rows = [row(f"old{i:04}", "改过的标题", tags="新,标签") for i in range(40)]
        rows += [row(f"new{i:05}", cover=good_cover.name) for i in range(301)]
        if refusal == "bad-last-row":
            rows.append("zzz,planet,坏的一行,,,\n")
        elif refusal == "cover-not-an-image":
            rows.append(row("zzz", cover="fake.png"))
        elif refusal == "more-than-max-rows":
            monkeypatch.setattr(importing, "MAX_ROWS", len(rows) - 1)
        else:
            monkeypatch.setattr(importing, "MAX_CATALOGUE", 40 + 301 - 1)
        bad = csv_file(folder / "bad.csv", rows)
        with pytest.raises(ImportFileError) as refused:
            await run_import(engine, bad, media, dirs=[folder])
        assert "bad.csv" in refused.value.message
        assert await snapshot(engine) == before
        # The same rows without the fault go in whole afterwards (nothing stuck, no lock).
        monkeypatch.setattr(importing, "MAX_ROWS", 200_000)
        monkeypatch.setattr(importing, "MAX_CATALOGUE", 1_000_000)
        fixed = csv_file(folder / "fixed.csv", rows[:50])
        result = await run_import(engine, fixed, media, dirs=[folder])
        assert (result.created, result.updated) == (10, 40)
        assert len(await snapshot(engine)) == 50


async def test_catalogue_full_counts_exactly_the_new_ids(
    database_url: str, tmp_path: Path, threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the limit exactly an import goes in; one new id more is refused, and a file of
    only existing ids is never refused (it adds nothing)."""
    media = tmp_path / "media"
    async with opened(database_url) as engine:
        await run_import(
            engine, csv_file(tmp_path / "a.csv", [row(f"a{i}") for i in range(10)]), media
        )
        monkeypatch.setattr(importing, "MAX_CATALOGUE", 15)
        exact = [row(f"a{i}") for i in range(10)] + [row(f"b{i}") for i in range(5)]
        result = await run_import(engine, csv_file(tmp_path / "b.csv", exact), media)
        assert (result.created, result.updated) == (5, 10)
        before = await snapshot(engine)
        with pytest.raises(ImportFileError, match="it has 15 and this file adds 1 new"):
            await run_import(engine, csv_file(tmp_path / "c.csv", [*exact, row("c0")]), media)
        assert await snapshot(engine) == before
        same = await run_import(engine, csv_file(tmp_path / "d.csv", exact), media)
        assert (same.created, same.updated) == (0, 15)


# --- 3. re-import updates in place, as the old upsert stored rows ------------------------------


async def test_reimport_updates_in_place_and_stores_what_the_old_upsert_stored(
    database_url: str, tmp_path: Path, threads: None
) -> None:
    media = tmp_path / "media"
    folder = tmp_path / "files"
    folder.mkdir()
    cover = image(folder / "Cover.PNG", (200, 10, 10))
    async with opened(database_url) as engine:
        # Rows written by the old path (catalogue_store.upsert), at T0.
        old = [
            Resource("kept", "platform", "旧标题", "旧简介", "", "", TAGS, "old.csv:2"),
            Resource("also", "platform", "另一个", "", "", "", (), "old.csv:3"),
        ]
        async with engine.begin() as conn:
            assert await catalogue_store.upsert(conn, old, now=T0) == (2, 0)
        # A mixed file, not in id order: one existing id updated, two new ids.
        tags = ";".join(TAGS).replace('"', '""')
        path = csv_file(
            folder / "mixed.csv",
            [
                row("zeta", "新的", tags=tags, cover=cover.name),
                row("kept", "新标题", tags=tags, cover=cover.name),
                row("alpha", "也是新的"),
            ],
        )
        result = await run_import(engine, path, media, dirs=[folder])
        assert (result.created, result.updated) == (2, 1)
        # A row written by the old path at T1 with exactly the values staged for "zeta".
        async with engine.connect() as conn:
            (zeta,) = await catalogue_store.get_many(conn, ["zeta"])
        async with engine.begin() as conn:
            reference = dataclasses.replace(zeta, id="ref")
            await catalogue_store.upsert(conn, [reference], now=T1)
        rows = {r[0]: r for r in await snapshot(engine)}
        assert rows["zeta"][1:] == rows["ref"][1:]  # byte for byte: tags, cover, both times
        assert zeta.tags == TAGS
        copied = Path(zeta.cover)
        assert copied.parent == media.resolve() and copied.suffix == ".png"
        assert copied.read_bytes() == cover.read_bytes()
        async with engine.connect() as conn:
            kept, alpha = await catalogue_store.get_many(conn, ["kept", "alpha"])
        assert kept.title == "新标题" and kept.tags == TAGS and kept.cover == zeta.cover
        assert kept.source == "mixed.csv:3"
        created_at, updated_at = await _times(engine, "kept")
        assert (created_at, updated_at) == (T0, T1)  # created_at kept, updated_at moved
        assert await _times(engine, "also") == (T0, T0)  # not in the file: untouched
        assert await _times(engine, "alpha") == (T1, T1)
        assert alpha.tags == () and alpha.cover == ""
        # The same rows in another order: the same catalogue, all updated, none created.
        reordered = csv_file(
            folder / "reordered.csv",
            list(reversed(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:])),
        )
        later = T1 + timedelta(days=1)
        again = await run_import(engine, reordered, media, clock=later, dirs=[folder])
        assert (again.created, again.updated) == (0, 3)
        async with engine.connect() as conn:
            (kept_again,) = await catalogue_store.get_many(conn, ["kept"])
        assert kept_again.title == kept.title and kept_again.tags == kept.tags
        assert kept_again.source == "reordered.csv:3"
        assert await _times(engine, "kept") == (T0, later)


async def _times(engine: AsyncEngine, rid: str) -> tuple[datetime, datetime]:
    from bot.store.tables import resources

    query = sa.select(resources.c.created_at, resources.c.updated_at).where(resources.c.id == rid)
    async with engine.connect() as conn:
        created, updated = (await conn.execute(query)).one()
    return created, updated


# --- 4. the final SQLite statement beside other readers, writers and imports -------------------


class Spy:
    """The driver connection ``upsert_staged`` uses, seeing each statement it sends: ``on``
    runs before the statement whose text starts with ``prefix`` is sent."""

    def __init__(self, driver: Any, prefix: str, on: Any) -> None:
        self.driver, self.prefix, self.on = driver, prefix, on

    @property
    def in_transaction(self) -> bool:
        return bool(self.driver.in_transaction)

    async def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith(self.prefix):
            await self.on()
        return await self.driver.execute(sql, *args)


def spy_on(monkeypatch: pytest.MonkeyPatch, prefix: str, on: Any) -> None:
    real = db.writing_connection

    @contextlib.asynccontextmanager
    async def spied(engine: AsyncEngine) -> AsyncIterator[Any]:
        async with real(engine) as driver:
            yield Spy(driver, prefix, on)

    monkeypatch.setattr(db, "writing_connection", spied)


async def test_readers_are_not_blocked_and_writers_succeed_while_the_final_statement_holds(
    sqlite_url: str,
    tmp_path: Path,
    cover_file: Path,
    threads: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    media = tmp_path / "media"
    async with opened(sqlite_url) as engine:
        await run_import(
            engine, csv_file(tmp_path / "seed.csv", [row(f"s{i}") for i in range(100)]), media
        )
        async with engine.begin() as conn:
            post_id = await post_store.create(
                conn, queued_post("帖子", cover=cover_file, due=T0), now=T0
            )
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold_before_commit() -> None:  # the big INSERT done, not yet committed
            holding.set()
            await release.wait()

        spy_on(monkeypatch, "COMMIT", hold_before_commit)
        big = csv_file(
            tmp_path / "big.csv",
            [row(f"s{i}", "改") for i in range(100)] + [row(f"n{i:05}") for i in range(2_000)],
        )
        importing_task = asyncio.create_task(run_import(engine, big, media))
        await asyncio.wait_for(holding.wait(), 10)

        async def read() -> tuple[int, set[str]]:
            async with db.reading(engine) as conn:
                titles = {r.title for r in await catalogue_store.list_resources(conn)}
                return await catalogue_store.count(conn), titles

        held, titles = await asyncio.wait_for(read(), 2)  # not queued behind the import
        assert held == 100 and "改" not in titles  # the catalogue as it was, nothing partial

        async def move() -> None:
            async with engine.begin() as conn:
                post = await post_store.get(conn, post_id)
                await post_store.transition(conn, post, PostStatus.CANCELLED, now=T1)

        writer = asyncio.create_task(move())
        await asyncio.sleep(0.2)
        assert not writer.done()  # one writer at a time: it waits its turn, it does not fail
        release.set()
        result = await asyncio.wait_for(importing_task, 10)
        await asyncio.wait_for(writer, 10)
        assert (result.created, result.updated) == (2_000, 100)
        async with engine.connect() as conn:
            assert (await post_store.get(conn, post_id)).status == PostStatus.CANCELLED
            assert await catalogue_store.count(conn) == 2_100


async def test_concurrent_imports_in_one_process_are_each_all_or_nothing(
    sqlite_url: str, tmp_path: Path, threads: None
) -> None:
    media = tmp_path / "media"
    shared = [row(f"shared{i}") for i in range(100)]
    a = csv_file(tmp_path / "a.csv", [row(f"a{i:05}") for i in range(300)] + shared)
    b = csv_file(tmp_path / "b.csv", shared + [row(f"b{i:05}") for i in range(300)])
    bad = csv_file(tmp_path / "c.csv", [row(f"c{i:05}") for i in range(300)] + ["x,planet,坏,,,\n"])
    async with opened(sqlite_url) as engine:
        ra, rb, rc = await asyncio.gather(
            run_import(engine, a, media),
            run_import(engine, bad, media),
            run_import(engine, b, media),
            return_exceptions=True,
        )
        assert isinstance(ra, importing.ImportResult) and isinstance(rb, ImportFileError)
        assert isinstance(rc, importing.ImportResult)
        # Whichever went first created the shared ids; the other updated them.
        assert ra.created + rc.created == 700 and ra.updated + rc.updated == 100
        assert {ra.rows, rc.rows} == {400}
        ids = [r[0] for r in await snapshot(engine)]
        assert len(ids) == 700 and not [i for i in ids if i.startswith("c")]
        await _assert_pool_clean(engine)


# --- 5. the pooled connection that ATTACHed is clean afterwards --------------------------------


async def _assert_pool_clean(engine: AsyncEngine, connections: int = 4) -> None:
    """Hold ``connections`` at once (every pooled one and then some): none has the staging
    file attached or a transaction left open, and each reads."""
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(connections):
            conn = await stack.enter_async_context(db.reading(engine))
            # On a connection left inside a transaction, BEGIN DEFERRED would fail here.
            names = (await conn.exec_driver_sql("PRAGMA database_list")).scalars(1).all()
            assert set(names) <= {"main", "temp"}, names
            await catalogue_store.count(conn)


async def test_the_attaching_connection_is_clean_after_success_and_after_failure(
    tmp_path: Path, threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = tmp_path / "media"
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    async with opened(url, pool_size=2) as engine:  # 2 kept, 2 more at a peak
        first = csv_file(tmp_path / "a.csv", [row(f"a{i}") for i in range(50)])
        for _ in range(3):  # back to back: the second and third re-ATTACH as "staging"
            await run_import(engine, first, media)
        await _assert_pool_clean(engine)
        before = await snapshot(engine)
        # Failing inside the transaction: the catalogue is full ...
        monkeypatch.setattr(importing, "MAX_CATALOGUE", 50)
        with pytest.raises(ImportFileError, match="at most 50"):
            await run_import(engine, csv_file(tmp_path / "b.csv", [row("b0")]), media)
        monkeypatch.setattr(importing, "MAX_CATALOGUE", 1_000_000)
        # ... and the one INSERT ... SELECT failing half way through its rows.
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON resources WHEN NEW.id = 'z-boom' "
                "BEGIN SELECT RAISE(ABORT, 'boom'); END"
            )
        rows = [row(f"a{i}", "改") for i in range(50)] + [row(f"y{i:04}") for i in range(400)]
        with pytest.raises(Exception, match="boom"):
            await run_import(engine, csv_file(tmp_path / "c.csv", [*rows, row("z-boom")]), media)
        assert await snapshot(engine) == before
        await _assert_pool_clean(engine)
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP TRIGGER boom")
        for name in ("d", "e", "f"):  # every pooled connection in turn takes an import
            result = await run_import(engine, csv_file(tmp_path / f"{name}.csv", rows), media)
            assert result.rows == 450
        await _assert_pool_clean(engine)


@pytest.mark.parametrize(
    "prefix",
    [
        "ATTACH",
        "BEGIN IMMEDIATE",
        "SELECT count(*) FROM staging",
        "INSERT INTO main.resources",
        "COMMIT",
    ],
)
async def test_an_import_cancelled_at_any_statement_leaves_all_or_nothing_and_a_clean_pool(
    tmp_path: Path, threads: None, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    """A cancelled task (a shutdown, a caller's timeout) stops awaiting, but aiosqlite still
    runs the statement already sent: whatever happens next must leave the connection it
    returns to the pool as it was lent."""
    media = tmp_path / "media"
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    async with opened(url, pool_size=1) as engine:  # one kept connection: the next import gets it
        path = csv_file(tmp_path / "a.csv", [row(f"a{i:04}") for i in range(300)])

        task: asyncio.Task[Any] | None = None

        async def cancel_me() -> None:
            # Delivered to the importing task at the await of the statement, once aiosqlite
            # has queued it: exactly where a shutdown or a caller's timeout would land while it
            # runs. (Found by this test before the exchange was shielded: a cancel at ATTACH or
            # BEGIN left the pooled connection attached; one at COMMIT answered an error for an
            # import that had committed.)
            assert task is not None
            task.cancel()

        spy_on(monkeypatch, prefix, cancel_me)
        task = asyncio.create_task(run_import(engine, path, media))
        outcome = (await asyncio.gather(task, return_exceptions=True))[0]
        monkeypatch.undo()
        offload.use(Offload(mode="thread"))
        assert len(await snapshot(engine)) in (0, 300)  # never part of the file
        result = await run_import(engine, path, media)
        assert result.rows == 300
        await _assert_pool_clean(engine, connections=2)
        assert isinstance(outcome, asyncio.CancelledError), repr(outcome)
