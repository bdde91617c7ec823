"""/api/posts: list, get, draft, edit, the review actions and a preview on WeChat."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.shapes import post_json
from bot.web import auth, forms, queries
from bot.web.actions import load_post, run_action, send_preview
from bot.web.articles import article_index, parse_order
from bot.web.editing import edit_post, reorder_articles
from bot.web.keys import LANG, SERVICES


def _post_id(request: web.Request) -> int:
    value = forms.integer(request.match_info, "id", low=1, high=2**31)
    assert value is not None
    return value


async def list_posts(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    items = await queries.posts(services, request.query)
    return web.json_response([post_json(p, services.config) for p in items])


async def get_post(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    post = await load_post(services, _post_id(request))
    return web.json_response(post_json(post, services.config, with_content=True))


async def draft_post(request: web.Request) -> web.Response:
    """Body ``{"column": NAME, "resources": [ID…], "at": "now" | ISO 8601 | null, "force":
    false}``; ``force`` drafts a resource the column featured within its cooldown (409
    without it)."""
    services = request.app[SERVICES]
    body = await forms.json_body(request)
    column = services.config.column(forms.text(body, "column", max_len=100))
    tz = services.config.account(column.account).tz
    draft = await services.drafting.draft(
        column.name,
        resource_ids=forms.strings(body, "resources"),
        at=forms.optional_when(body, "at", tz=tz, now=services.clock()),
        actor=auth.actor(request),
        force=forms.boolean(body, "force"),
    )
    shape = post_json(draft.post, services.config, with_content=True)
    shape["findings"] = _findings(request, draft.findings)
    return web.json_response(shape, status=201)


async def edit(request: web.Request) -> web.Response:
    """Body with any of ``title``, ``digest``, ``markdown`` of the ``article`` (1-based, the
    headline by default); the others keep their value."""
    services = request.app[SERVICES]
    body = await forms.json_body(request)
    post = await load_post(services, _post_id(request))
    index = article_index(body, post)
    article = post.articles[index]
    edited = await edit_post(
        services,
        post.id,
        title=forms.text(body, "title", default=article.title, max_len=200),
        digest=forms.text(body, "digest", default=article.digest, max_len=1000),
        markdown=forms.text(body, "markdown", default=article.markdown),
        cover=forms.text(body, "cover", max_len=2000) if "cover" in body else None,
        article=index,
        actor=auth.actor(request),
    )
    shape = post_json(edited.post, services.config, with_content=True)
    shape["findings"] = _findings(request, edited.findings)
    return web.json_response(shape)


async def reorder(request: web.Request) -> web.Response:
    """Body ``{"order": [3, 1, 2]}``: every article's number once, the new headline first."""
    services = request.app[SERVICES]
    body = await forms.json_body(request)
    post = await reorder_articles(
        services, _post_id(request), parse_order(body), actor=auth.actor(request)
    )
    return web.json_response(post_json(post, services.config, with_content=True))


def action(name: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        body = await forms.json_body(request)
        post = await run_action(services, name, _post_id(request), body, actor=auth.actor(request))
        return web.json_response(post_json(post, services.config))

    handler.__name__ = f"api_post_{name}"
    return handler


async def preview(request: web.Request) -> web.Response:
    """Body ``{"openid": "…"}`` (optional: the account's ``preview_openid`` by default)."""
    post_id = _post_id(request)
    body = await forms.json_body(request)
    msg_id = await send_preview(request.app[SERVICES], post_id, body, actor=auth.actor(request))
    return web.json_response({"id": post_id, "msg_id": msg_id})


def _findings(request: web.Request, findings: Sequence[object]) -> list[dict[str, object]]:
    """Findings as JSON objects, messages in the request's language."""
    from bot.content.checks.findings import finding_dict

    return [finding_dict(f, request.get(LANG, "zh")) for f in findings]
