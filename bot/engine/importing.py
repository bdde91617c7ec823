"""Importing catalogue files: every row is validated first (streaming), then written in
batches inside one transaction, so a file is all-or-nothing with bounded memory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.catalogue import iter_catalogue
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
            conn, iter_catalogue(path, kinds=kinds), now=clock()
        )
    return ImportResult(str(path), created, updated)
