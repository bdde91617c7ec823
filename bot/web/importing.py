"""Catalogue files uploaded through the admin or the API: each part is written to a private
temporary directory under its own (cleaned) name, so the importer picks the format by suffix
and its messages name the file the user sent, then imported all-or-nothing per file."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from bot.app import Services
from bot.domain.errors import ImportFileError, UserError
from bot.engine import offload
from bot.engine.importing import import_file
from bot.store.posts import person
from bot.web import forms
from bot.web.auth import actor, wants_json
from bot.web.keys import LANG

# What a file name may not hold here: path separators, control characters and what Windows
# refuses. Anything else (全角括号 and all) is kept, so messages name the file as the user did.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class Outcome:
    file: str
    created: int = 0
    updated: int = 0
    error: str = ""


def clean_name(filename: str) -> str:
    # Some clients (aiohttp, curl --form-string) percent-encode a name that is not ASCII.
    base = Path(unquote(filename).replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip("._") or "upload"
    return base[:120]


async def import_upload(services: Services, request: web.Request) -> list[Outcome]:
    """Every file field of the multipart body, imported in order. A bad file is reported in
    its Outcome (and nothing of it imported); the others still import. Raises UserError when
    the body holds no file."""
    if request.content_type != "multipart/form-data":
        raise UserError("send the catalogue files as multipart/form-data")
    # request.post() is cached: the CSRF check may already have read the body this way.
    form = await forms.form(request)
    uploads = [v for v in form.values() if isinstance(v, web.FileField) and v.filename]
    if not uploads:
        raise UserError("no file was sent (a multipart field with a filename)")
    outcomes: list[Outcome] = []
    # One file of a person's in the import lane at a time (bot.engine.offload.run_bulk).
    # The person's, whether through the admin or with a token (re-check 21, L1).
    owner = person(actor(request))
    with offload.owned_by(owner), tempfile.TemporaryDirectory(prefix="bot-import-") as tmp:
        for i, upload in enumerate(uploads):
            name = clean_name(upload.filename)
            path = Path(tmp) / str(i) / name  # two uploads may share a name
            path.parent.mkdir()
            await asyncio.to_thread(_save, upload, path)
            lang = "en" if wants_json(request) else request.get(LANG, "zh")
            outcomes.append(await _import_one(services, path, name, tmp, lang))
    return outcomes


def _save(upload: web.FileField, path: Path) -> None:
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out)


async def _import_one(services: Services, path: Path, name: str, tmp: str, lang: str) -> Outcome:
    try:
        result = await import_file(
            services.engine,
            path,
            kinds=services.config.kinds,
            clock=services.clock,
            media_dir=services.config.media_dir,
            cover_dirs=(),  # an uploaded file names no path on this server
        )
    except ImportFileError as exc:
        # The importer names the temporary path; the user knows the file by its own name.
        message = exc.in_language(lang)
        return Outcome(name, error=message.replace(str(path), name).replace(tmp + "/", ""))
    return Outcome(name, result.created, result.updated)
