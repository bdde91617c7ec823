"""Importing into the store: all-or-nothing per file, covers copied into the media directory,
and local images outside the allowed directories refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from bot.app import load_local_or_remote
from bot.domain.errors import ImportFileError, UserError
from bot.domain.models import BUILTIN_KINDS
from bot.engine.importing import import_file
from bot.store import catalogue as catalogue_store
from bot.store import db


def now() -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC)


async def test_a_file_is_all_or_nothing_and_covers_are_copied(
    tmp_path: Path, sqlite_url: str, cover_file: Path
) -> None:
    engine = db.open_engine(sqlite_url)
    await db.upgrade(engine)
    media = tmp_path / "media"
    good = tmp_path / "good.csv"
    good.write_text(
        "id,kind,title,cover\nzhtj,platform,智慧团建,cover.jpg\nqndxx,platform,青年大学习,cover.jpg\n",
        encoding="gbk",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("id,kind,title\nok,platform,好的\nbad,planet,坏的\n", encoding="utf-8")
    try:
        result = await import_file(engine, good, kinds=BUILTIN_KINDS, clock=now, media_dir=media)
        assert (result.created, result.updated) == (2, 0)
        with pytest.raises(ImportFileError, match=r"bad.csv:3: field 'kind'"):
            await import_file(engine, bad, kinds=BUILTIN_KINDS, clock=now, media_dir=media)
        async with engine.connect() as conn:
            items = await catalogue_store.list_resources(conn)
        assert sorted(r.id for r in items) == ["qndxx", "zhtj"]  # nothing from bad.csv
        covers = {r.cover for r in items}
        assert len(covers) == 1  # one copy, named by content hash
        copied = Path(covers.pop())
        assert copied.parent == media.resolve()
        assert copied.read_bytes() == cover_file.read_bytes()
        again = await import_file(engine, good, kinds=BUILTIN_KINDS, clock=now, media_dir=media)
        assert (again.created, again.updated) == (0, 2)
    finally:
        await engine.dispose()


async def test_local_images_outside_the_allowed_directories_are_refused(tmp_path: Path) -> None:
    allowed = tmp_path / "media"
    allowed.mkdir()
    Image.new("RGB", (8, 4)).save((allowed / "ok.jpg"), "JPEG")  # a real image: covers are read
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the platform", encoding="utf-8")
    async with aiohttp.ClientSession() as session:
        assert (
            await load_local_or_remote("media/ok.jpg", session, tmp_path, [allowed])
            == (allowed / "ok.jpg").read_bytes()
        )
        for ref in (str(secret), "media/../secret.txt", "/etc/passwd"):
            with pytest.raises(UserError, match="outside the media and templates directories"):
                await load_local_or_remote(ref, session, tmp_path, [allowed])
