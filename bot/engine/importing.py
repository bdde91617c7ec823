"""Importing catalogue files: every row is validated first (streaming, off the event loop),
then written in batches (one transaction on PostgreSQL; on SQLite, whose single writer would
otherwise be held for the whole file, one short transaction per batch), so a bad row imports
nothing, memory stays bounded and the service keeps answering meanwhile. Local cover images are copied into the
media directory by content hash, so posts never read images from arbitrary places on disk;
where a cover may come from is the caller's to say (``cover_dirs``): the catalogue's own
folder, media and templates for the CLI, nowhere for a file uploaded to the service."""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.catalogue import iter_catalogue
from bot.domain.errors import ImportFileError
from bot.domain.models import Resource
from bot.engine import offload
from bot.store import catalogue as catalogue_store
from bot.store import db

MAX_ROWS = 200_000  # per file: a larger catalogue is split into several files
MAX_CATALOGUE = 1_000_000  # resources in all: uploads with new ids cannot grow it for ever
WRITE_BATCH = 1000  # rows read off the loop, then written, at a time


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
    """Raises ImportFileError (naming file, line and field) before anything is written, also
    for a file of more than ``MAX_ROWS`` rows or one that could take the catalogue past
    ``MAX_CATALOGUE`` resources (counted as if every row were new). ``cover_dirs``: see ``iter_catalogue``."""
    dirs = tuple(cover_dirs) if cover_dirs is not None else None
    rows = await offload.run_bulk(validate_file, path, tuple(kinds), dirs, on_progress)
    async with db.reading(engine) as conn:
        held = await catalogue_store.count(conn)
    if held + rows > MAX_CATALOGUE:
        raise ImportFileError(
            f"{path.name}: the catalogue holds at most {MAX_CATALOGUE} resources; it has {held} "
            f"and this file has {rows} rows (remove resources no longer featured first)",
            path=str(path),
        )
    items = _with_copied_covers(iter_catalogue(path, kinds=kinds, cover_dirs=dirs), media_dir)
    created = updated = 0
    if db.is_sqlite(engine):
        # SQLite has one writer, and every transaction here takes the write lock: one
        # transaction for a 100,000-row file would hold every page, callback and publisher
        # step for its whole length. The file is already validated whole, so a bad row has
        # imported nothing; short transactions only leave a prefix if the process dies, and
        # importing the file again completes it (rows are upserted by id).
        while batch := await asyncio.to_thread(_take, items, WRITE_BATCH):
            async with engine.begin() as conn:
                c, u = await catalogue_store.upsert(conn, batch, now=clock())
            created, updated = created + c, updated + u
    else:
        async with engine.begin() as conn:
            while batch := await asyncio.to_thread(_take, items, WRITE_BATCH):
                c, u = await catalogue_store.upsert(conn, batch, now=clock())
                created, updated = created + c, updated + u
    return ImportResult(str(path), created, updated)


def validate_file(
    path: Path,
    kinds: tuple[str, ...],
    cover_dirs: tuple[Path, ...] | None,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Reads the whole file as the import will; returns its number of rows. Raises
    ImportFileError (pure; runs in an offload worker)."""
    rows = 0
    for _ in iter_catalogue(path, kinds=kinds, on_progress=on_progress, cover_dirs=cover_dirs):
        rows += 1
        if rows > MAX_ROWS:
            raise ImportFileError(
                f"{path.name}: more than {MAX_ROWS} rows; split the catalogue into several files",
                path=str(path),
            )
    return rows


def _take(items: Iterator[Resource], n: int) -> list[Resource]:
    return list(itertools.islice(items, n))


def _with_copied_covers(items: Iterator[Resource], media_dir: Path) -> Iterator[Resource]:
    copied: dict[str, str] = {}
    for item in items:
        if item.cover and not item.cover.startswith(("http://", "https://")):
            if item.cover not in copied:
                copied[item.cover] = str(copy_into_media(Path(item.cover), media_dir, item))
            item = item.replace(cover=copied[item.cover])
        yield item


def copy_into_media(source: Path, media_dir: Path, item: Resource) -> Path:
    """Copy an image into ``media_dir`` named by its SHA-256 (idempotent). Raises
    ImportFileError when it cannot be read or is not an image."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            f"{item.source}: field 'cover': cannot read {source.name} ({exc.strerror})"
        ) from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImportFileError(
            f"{item.source}: field 'cover': {source.name} is not a readable image"
        ) from None
    target = media_dir / f"{hashlib.sha256(data).hexdigest()}{source.suffix.lower()}"
    if not target.exists():
        media_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return target.resolve()
