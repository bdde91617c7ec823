"""/api/catalogue: list (search, kind, paging) and import (multipart files)."""

from __future__ import annotations

from aiohttp import web

from bot.shapes import resource_json
from bot.web import queries
from bot.web.auth import identity
from bot.web.importing import import_upload
from bot.web.keys import SERVICES


async def list_catalogue(request: web.Request) -> web.Response:
    owner = identity(request).user.name
    items = await queries.catalogue(request.app[SERVICES], request.query, owner=owner)
    return web.json_response([resource_json(r) for r in items])


async def import_catalogue(request: web.Request) -> web.Response:
    """422 when any file failed (each outcome says which and why), else 200."""
    outcomes = await import_upload(request.app[SERVICES], request)
    shaped = [
        {"file": o.file, "created": o.created, "updated": o.updated, "error": o.error or None}
        for o in outcomes
    ]
    failed = any(o.error for o in outcomes)
    return web.json_response(shaped, status=422 if failed else 200)
