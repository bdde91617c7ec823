"""The catalogue: browse and search resources, upload an import file."""

from __future__ import annotations

from aiohttp import web

from bot.web import forms, queries
from bot.web.importing import import_upload
from bot.web.keys import SERVICES
from bot.web.render import render


async def catalogue_page(request: web.Request) -> web.Response:
    return await _page(request)


async def catalogue_import(request: web.Request) -> web.Response:
    outcomes = await import_upload(request.app[SERVICES], request)
    failed = any(o.error for o in outcomes)
    return await _page(request, outcomes=outcomes, status=422 if failed else 200)


async def _page(
    request: web.Request, *, outcomes: object = None, status: int = 200
) -> web.Response:
    services = request.app[SERVICES]
    values = dict(request.query)
    offset = forms.integer(values, "offset", default=0, low=0, high=10_000_000) or 0
    values["offset"] = str(offset)
    values["limit"] = str(queries.PAGE_SIZE + 1)  # one more tells whether a next page exists
    items = await queries.catalogue(services, values)
    return render(
        request,
        "catalogue.html",
        status=status,
        items=items[: queries.PAGE_SIZE],
        more=len(items) > queries.PAGE_SIZE,
        offset=offset,
        page_size=queries.PAGE_SIZE,
        kinds=services.config.kinds,
        kind=request.query.get("kind", ""),
        q=request.query.get("q", ""),
        outcomes=outcomes,
    )
