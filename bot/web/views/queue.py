"""The queue: posts by status, drafting a post for a column, one post's page (edit, checks,
phone-width preview, review actions, a preview sent to WeChat, history) and the sandboxed
preview itself."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.domain.errors import ContentRejectedError, UserError
from bot.domain.models import PostStatus
from bot.shapes import account_tz
from bot.store import log as log_store
from bot.web import auth, forms, queries
from bot.web.actions import POST_ACTIONS, PREVIEW_ROLE, load_post, run_action, send_preview
from bot.web.articles import article_index, list_view_page, moved, parse_order
from bot.web.editing import EDITABLE, edit_post, reorder_articles
from bot.web.keys import LANG, SERVICES
from bot.web.render import flash, redirect, render, translate
from bot.web.security import PREVIEW_CSP


def _post_id(request: web.Request) -> int:
    value = forms.integer(request.match_info, "id", low=1, high=2**31)
    assert value is not None  # the route only matches digits
    return value


async def queue_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    items = await queries.posts(services, request.query)
    return render(
        request,
        "queue.html",
        items=items,
        status_filter=request.query.get("status", ""),
        column=request.query.get("column", ""),
        statuses=[s.value for s in PostStatus],
        columns=[c.name for c in services.config.columns],
    )


async def draft_post(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    values = await forms.fields(request)
    column = services.config.column(forms.text(values, "column", max_len=100))
    tz = services.config.account(column.account).tz
    draft = await services.drafting.draft(
        column.name,
        resource_ids=forms.strings(values, "resources"),
        at=forms.optional_when(values, "at", tz=tz, now=services.clock()),
        actor=auth.actor(request),
        force=forms.boolean(values, "force"),
    )
    flash(request, translate(request, "Saved."))
    return redirect(f"/posts/{draft.post.id}")


async def post_page(
    request: web.Request,
    *,
    findings: object = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> web.Response:
    services = request.app[SERVICES]
    post = await load_post(services, _post_id(request))
    async with services.engine.connect() as conn:
        history = await log_store.list_entries(conn, post_ids=[post.id], limit=200)
    ident = auth.identity(request)
    index = article_index(form or request.query, post)
    chosen = post.articles[index]
    return render(
        request,
        "post.html",
        status=status,
        post=post,
        history=history,
        findings=findings,
        article=index,
        moved=moved,
        form=form
        or {
            "title": chosen.title,
            "digest": chosen.digest,
            "markdown": chosen.markdown,
            "cover": chosen.cover,
        },
        editable=post.status in EDITABLE,
        may={
            **{action: ident.may(role) for action, role in POST_ACTIONS.items()},
            "preview": ident.may(PREVIEW_ROLE),
        },
        preview_openid_set=bool(services.config.account(post.account).preview_openid),
        tz_name=account_tz(services.config, post.account).key,
    )


async def post_edit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    values = await forms.fields(request)
    post = await load_post(services, _post_id(request))
    index = article_index(values, post)
    form = {
        "title": forms.text(values, "title", max_len=200),
        "digest": forms.text(values, "digest", max_len=1000),
        "markdown": forms.text(values, "markdown"),
    }
    cover = forms.text(values, "cover", max_len=2000) if "cover" in values else None
    try:
        edited = await edit_post(
            services, post.id, actor=auth.actor(request), article=index, cover=cover, **form
        )
    except (ContentRejectedError, UserError) as exc:
        # Show the findings beside the text the user wrote, so nothing typed is lost.
        form["article"] = str(index + 1)
        form["cover"] = cover if cover is not None else post.articles[index].cover
        found = (
            exc.findings
            if isinstance(exc, ContentRejectedError)
            else [exc.in_language(request.get(LANG, "zh"))]
        )
        return await post_page(request, findings=found, status=422, form=form)
    flash(request, translate(request, "Saved."))
    return redirect(f"/posts/{edited.post.id}" + (f"?article={index + 1}" if index else ""))


async def post_reorder(request: web.Request) -> web.Response:
    """A new order for a push's articles (the form's ``order``: article numbers)."""
    services = request.app[SERVICES]
    values = await forms.fields(request)
    post = await reorder_articles(
        services, _post_id(request), parse_order(values), actor=auth.actor(request)
    )
    flash(request, translate(request, "Saved."))
    return redirect(f"/posts/{post.id}")


async def post_list_preview(request: web.Request) -> web.Response:
    """The push as a phone's chat list shows it, for the page's second sandboxed frame."""
    services = request.app[SERVICES]
    post = await load_post(services, _post_id(request))
    page = await list_view_page(
        services, post, lang=request.get(LANG, "zh"), owner=auth.actor(request)
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": PREVIEW_CSP, "X-Frame-Options": "SAMEORIGIN"},
    )


def post_action(action: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        values = await forms.fields(request)
        post = await run_action(
            request.app[SERVICES], action, _post_id(request), values, actor=auth.actor(request)
        )
        flash(request, translate(request, "Done."))
        return redirect(f"/posts/{post.id}")

    handler.__name__ = f"post_{action}"
    return handler


async def post_send_preview(request: web.Request) -> web.Response:
    """Send the post to a reviewer's WeChat (message/mass/preview), then back to its page."""
    post_id = _post_id(request)
    values = await forms.fields(request)
    await send_preview(request.app[SERVICES], post_id, values, actor=auth.actor(request))
    flash(request, translate(request, "Preview sent to WeChat."))
    return redirect(f"/posts/{post_id}")


async def post_preview(request: web.Request) -> web.Response:
    """The article page as readers see it (title, author, cover from our media, the HTML as
    the platform receives it, 375 px), for the page's iframe. The CSP makes it a sandbox (no
    scripts, an opaque origin) even if opened directly."""
    from bot.web.preview import article_page

    services = request.app[SERVICES]
    post = await load_post(services, _post_id(request))
    index = article_index(request.query, post)
    page = await article_page(
        services, post, index, lang=request.get(LANG, "zh"), owner=auth.actor(request)
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": PREVIEW_CSP, "X-Frame-Options": "SAMEORIGIN"},
    )
