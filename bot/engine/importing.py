"""Importing catalogue files: every row is validated first (streaming), then written in
batches inside one transaction, so a file is all-or-nothing with bounded memory. Local cover
images are copied into the media directory by content hash, so posts never read images from
arbitrary places on disk."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.catalogue import iter_catalogue
from bot.domain.errors import ImportFileError
from bot.domain.models import Resource
from bot.store import catalogue as catalogue_store


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
) -> ImportResult:
    """Raises ImportFileError (naming file, line and field) before anything is written."""

    def validate() -> int:
        rows = 0
        for _ in iter_catalogue(path, kinds=kinds, on_progress=on_progress):
            rows += 1
        return rows

    await asyncio.to_thread(validate)
    async with engine.begin() as conn:
        created, updated = await catalogue_store.upsert(
            conn, _with_copied_covers(iter_catalogue(path, kinds=kinds), media_dir), now=clock()
        )
    return ImportResult(str(path), created, updated)


def _with_copied_covers(items: Iterator[Resource], media_dir: Path) -> Iterator[Resource]:
    copied: dict[str, str] = {}
    for item in items:
        if item.cover and not item.cover.startswith(("http://", "https://")):
            if item.cover not in copied:
                copied[item.cover] = str(copy_into_media(Path(item.cover), media_dir, item))
            item = item.replace(cover=copied[item.cover])
        yield item


def copy_into_media(source: Path, media_dir: Path, item: Resource) -> Path:
    """Copy an image into ``media_dir`` named by its SHA-256 (idempotent)."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            f"{item.source}: field 'cover': cannot read {source} ({exc.strerror})"
        ) from None
    target = media_dir / f"{hashlib.sha256(data).hexdigest()}{source.suffix.lower()}"
    if not target.exists():
        media_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return target.resolve()
