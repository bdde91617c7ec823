"""The catalogue: browse and search resources, upload an import file, download an example
file, and draft a post from one resource or several chosen ones."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot.content.catalogue_example import write_example
from bot.domain.errors import UserError
from bot.domain.models import PostStatus
from bot.web import auth, forms, queries
from bot.web.importing import import_upload
from bot.web.keys import LANG, SERVICES
from bot.web.render import flash, redirect, render, translate

EXAMPLE_NAME = "资源目录示例"
_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


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
    items = await queries.catalogue(services, values, owner=auth.identity(request).user.name)
    return render(
        request,
        "catalogue.html",
        status=status,
        items=items[: queries.PAGE_SIZE],
        more=len(items) > queries.PAGE_SIZE,
        offset=offset,
        page_size=queries.PAGE_SIZE,
        kinds=services.config.kinds,
        columns=[c.name for c in services.config.columns],
        kind_names=("、" if request.get(LANG) == "zh" else ", ").join(
            translate(request, k) for k in services.config.kinds
        ),
        kind=request.query.get("kind", ""),
        q=request.query.get("q", ""),
        search_chars=queries.SEARCH_CHARS,
        outcomes=outcomes,
    )


async def catalogue_example(request: web.Request) -> web.Response:
    """The example catalogue as a download (Chinese headers and kind names)."""
    suffix = request.match_info["format"]

    def build() -> bytes:
        with tempfile.TemporaryDirectory(prefix="bot-example-") as tmp:
            path = Path(tmp) / f"example.{suffix}"
            write_example(path)
            return path.read_bytes()

    body = await asyncio.to_thread(build)
    name = quote(f"{EXAMPLE_NAME}.{suffix}")
    return web.Response(
        body=body,
        headers={
            "Content-Type": _TYPES[suffix],
            "Content-Disposition": (
                f"attachment; filename=\"catalogue-example.{suffix}\"; filename*=UTF-8''{name}"
            ),
        },
    )


async def catalogue_draft(request: web.Request) -> web.Response:
    """Draft one post from the resource whose button was pressed (``one``), else from every
    ticked one (``pick``), for the chosen column; then show the post."""
    services = request.app[SERVICES]
    values = await forms.fields(request)
    one = forms.text(values, "one", max_len=200).strip()
    chosen = [one] if one else await forms.every(request, "pick")
    if not chosen:
        raise UserError(translate(request, "Tick at least one resource, or press Draft on a row."))
    if len(chosen) > 50:
        raise UserError(translate(request, "At most 50 resources in one post."))
    column = services.config.column(forms.text(values, "column", max_len=100))
    tz = services.config.account(column.account).tz
    draft = await services.drafting.draft(
        column.name,
        resource_ids=chosen,
        at=forms.optional_when(values, "at", tz=tz, now=services.clock()),
        actor=auth.actor(request),
        force=forms.boolean(values, "force"),
    )
    if draft.post.status == PostStatus.REVIEW:
        done = "Drafted. It waits for review: a reviewer approves it on this page."
    else:
        done = "Drafted and queued: it is published at its time."
    flash(request, translate(request, done))
    return redirect(f"/posts/{draft.post.id}")
