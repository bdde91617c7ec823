"""Importing catalogue files, all or nothing per file.

A worker process (``offload.run_bulk``) reads and checks every row, copies the file's local
covers into the media directory by content hash once every row is good, and writes the
resources to a private staging file (SQLite, beside nothing of the service's). Only then does
the service touch its database: one transaction moves the staged rows into the catalogue
(``catalogue_store.upsert_staged``). So a bad row, a crash or a lost process at any point
leaves the catalogue as it was, and the service's own process never parses a row: a
100,000-row file costs its event loop one statement, not minutes of competing for the
interpreter with every page, callback and publisher step.

Where a local cover may come from is the caller's to say (``cover_dirs``): the catalogue's
own folder, media and templates for the CLI, nowhere for a file uploaded to the service."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.catalogue import iter_catalogue
from bot.domain.errors import ContentRejectedError, ImportFileError
from bot.engine import offload
from bot.store import catalogue as catalogue_store

MAX_ROWS = 200_000  # per file: a larger catalogue is split into several files
MAX_CATALOGUE = 1_000_000  # resources in all: uploads with new ids cannot grow it for ever
STAGE_BATCH = 1000  # rows written to the staging file at a time


@dataclass(frozen=True)
class ImportResult:
    file: str
    created: int
    updated: int

    @property
    def rows(self) -> int:
        return self.created + self.updated


async def import_file(
    engine: AsyncEngine,
    path: Path,
    *,
    kinds: Sequence[str],
    clock: Callable[[], datetime],
    media_dir: Path,
    on_progress: Callable[[int], None] | None = None,
    cover_dirs: Sequence[Path] | None = None,
) -> ImportResult:
    """Raises ImportFileError (naming file, line and field) with nothing written, also for a
    file of more than ``MAX_ROWS`` rows or one whose new ids would take the catalogue past
    ``MAX_CATALOGUE`` resources. ``cover_dirs``: see ``iter_catalogue``."""
    dirs = tuple(cover_dirs) if cover_dirs is not None else None
    with tempfile.TemporaryDirectory(prefix="bot-import-") as tmp:
        staging = Path(tmp) / "staged.sqlite"
        await offload.run_bulk(
            stage_file, path, tuple(kinds), dirs, media_dir, staging, on_progress
        )
        try:
            created, updated = await catalogue_store.upsert_staged(
                engine, staging, now=clock(), max_total=MAX_CATALOGUE
            )
        except catalogue_store.CatalogueFull as full:
            raise ImportFileError(
                f"{path.name}: the catalogue holds at most {MAX_CATALOGUE} resources; it has "
                f"{full.held} and this file adds {full.adding} new ones (remove resources no "
                "longer featured first)",
                path=str(path),
            ) from None
    return ImportResult(str(path), created, updated)


def stage_file(
    path: Path,
    kinds: tuple[str, ...],
    cover_dirs: tuple[Path, ...] | None,
    media_dir: Path,
    staging: Path,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Read and check the whole file, then copy its local covers into ``media_dir`` and write
    its resources to the new SQLite file ``staging`` (``catalogue_store.STAGED_COLUMNS``).
    Returns the number of rows. Raises ImportFileError. Pure with respect to the service's
    database (runs in an offload worker)."""
    con = sqlite3.connect(staging, isolation_level=None)
    try:
        # A private scratch file: durability would only slow it down.
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute(catalogue_store.STAGED_SCHEMA)
        con.execute("BEGIN")
        covers = _stage_rows(con, path, kinds, cover_dirs, on_progress)
        for cover, where in covers.items():
            copied = copy_into_media(Path(cover), media_dir, where)
            con.execute("UPDATE staged SET cover = ? WHERE cover = ?", (str(copied), cover))
        con.execute("COMMIT")
        (rows,) = con.execute("SELECT count(*) FROM staged").fetchone()
    finally:
        con.close()
    return int(rows)


def _stage_rows(
    con: sqlite3.Connection,
    path: Path,
    kinds: tuple[str, ...],
    cover_dirs: tuple[Path, ...] | None,
    on_progress: Callable[[int], None] | None,
) -> dict[str, str]:
    """Stage every row; returns each local cover with the first row that names it."""
    covers: dict[str, str] = {}
    batch: list[tuple[str, ...]] = []
    insert = f"INSERT INTO staged VALUES ({', '.join('?' * len(catalogue_store.STAGED_COLUMNS))})"
    items = iter_catalogue(path, kinds=kinds, on_progress=on_progress, cover_dirs=cover_dirs)
    for rows, item in enumerate(items, start=1):
        if rows > MAX_ROWS:
            raise ImportFileError(
                f"{path.name}: more than {MAX_ROWS} rows; split the catalogue into several files",
                path=str(path),
            )
        if item.cover and not item.cover.startswith(("http://", "https://")):
            covers.setdefault(item.cover, item.source)
        tags = json.dumps(list(item.tags))  # as the JSON column stores them
        batch.append(
            (item.id, item.kind, item.title, item.summary, item.url, item.cover, tags, item.source)
        )
        if len(batch) >= STAGE_BATCH:
            con.executemany(insert, batch)
            batch.clear()
    con.executemany(insert, batch)
    return covers


def copy_into_media(source: Path, media_dir: Path, where: str) -> Path:
    """Copy an image into ``media_dir`` named by its SHA-256 (idempotent). Raises
    ImportFileError, naming ``where`` ("file.csv:12"), when it cannot be read or is not an
    image."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            f"{where}: field 'cover': cannot read {source.name} ({exc.strerror})"
        ) from None
    from bot.content.images import open_image

    # Every check of an image the service reads, from its header (formats, codecs, pixels,
    # scans), then the file's own integrity, without decoding its pixels.
    try:
        open_image(data, decode=False).verify()
    except ContentRejectedError as exc:
        raise ImportFileError(f"{where}: field 'cover': {source.name}: {exc}") from None
    except (OSError, SyntaxError, ValueError):
        raise ImportFileError(
            f"{where}: field 'cover': {source.name} is not a readable image"
        ) from None
    target = media_dir / f"{hashlib.sha256(data).hexdigest()}{source.suffix.lower()}"
    if not target.exists():
        media_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return target.resolve()
