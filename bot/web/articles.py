"""The articles of a push (多图文) in the admin: which article a page or request is about, a new
order for them, and the list view a push shows on a phone (the headline as a large card with
its title over its cover, each further article a smaller row with a square thumbnail)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from html import escape
from typing import Any

from bot.app import Services
from bot.domain.errors import BotError, UserError
from bot.domain.models import MAX_ARTICLES, Post
from bot.engine import offload
from bot.store.posts import person

HEADLINE_COVER = (750, 320)  # the headline card: about 2.35:1, at twice a phone's 375 px
ROW_COVER = (128, 128)  # a further article's square thumbnail


def article_index(values: Mapping[str, Any], post: Post) -> int:
    """The 0-based index of the article named by ``article`` (1-based, as people count; the
    headline when absent). Raises UserError for an article the post does not have."""
    raw = values.get("article")
    if raw is None or raw == "":
        return 0
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise UserError(f"article: must be a whole number, not {raw!r}") from None
    if not 1 <= number <= post.article_count:
        raise UserError(
            f"article: post {post.id} has articles 1 to {post.article_count}, not {number}"
        )
    return number - 1


def parse_order(values: Mapping[str, Any]) -> list[int]:
    """``order``: every article's number (1-based) once, in the new order, as a JSON array or
    a form field ("3 1 2", "3,1,2"); returned 0-based. Raises UserError when it is not a list
    of numbers (whether it names each article once is the drafting service's check)."""
    raw = values.get("order")
    if isinstance(raw, str):
        parts: list[Any] = raw.replace(",", " ").split()
    elif isinstance(raw, list):
        parts = raw
    else:
        raise UserError("order: give every article's number once, in the new order")
    numbers = []
    for part in parts[: MAX_ARTICLES + 1]:
        if isinstance(part, bool) or not isinstance(part, int | str):
            raise UserError("order: must be article numbers")
        try:
            numbers.append(int(part) - 1)
        except ValueError:
            raise UserError(f"order: {part!r} is not an article number") from None
    return numbers


def moved(count: int, index: int, step: int) -> str:
    """The ``order`` field that moves article ``index`` (0-based) one place up (-1) or down."""
    order = list(range(1, count + 1))
    other = index + step
    order[index], order[other] = order[other], order[index]
    return " ".join(str(n) for n in order)


async def list_view_page(services: Services, post: Post, *, lang: str, owner: str) -> str:
    """The push as a follower's chat list shows it, as a standalone HTML page for the
    sandboxed preview frame (covers inlined as data URIs: the frame may load nothing)."""
    articles = post.articles
    # An http(s) cover from its copy kept with the post, never fetched (re-check 12, M1); a
    # local one within the person's turns at loading images (re-check 8, M2).
    load = services.drafting.post_loader(post.id, owner)
    covers = []
    # Read in an image lane, the viewer's one at a time, within its time limit (see offload).
    with offload.owned_by(person(owner)):
        for index, article in enumerate(articles):
            size = HEADLINE_COVER if index == 0 else ROW_COVER
            covers.append(await _thumbnail(services, article.cover, size, load))
    head = articles[0]
    card = (
        '<div style="position:relative;background:#d9d9d9;aspect-ratio:2.35/1;">'
        + (_img(covers[0], "width:100%;height:100%;object-fit:cover;display:block;"))
        + '<div style="position:absolute;left:0;right:0;bottom:0;padding:24px 14px 10px;'
        "color:#fff;font-size:17px;line-height:1.4;"
        'background:linear-gradient(rgba(0,0,0,0),rgba(0,0,0,.55));">'
        f"{escape(head.title)}</div></div>"
    )
    if len(articles) == 1 and head.digest:
        # Only a push of one article shows its digest under the card.
        card += (
            '<div style="padding:8px 14px 12px;color:#888;font-size:14px;line-height:1.5;">'
            f"{escape(head.digest)}</div>"
        )
    rows = "".join(
        '<div style="display:flex;align-items:center;gap:12px;padding:12px 14px;'
        'border-top:1px solid #eee;">'
        '<div style="flex:1;font-size:16px;line-height:1.4;color:#222;">'
        f"{escape(article.title)}</div>"
        + _img(cover, "width:56px;height:56px;object-fit:cover;flex:none;background:#d9d9d9;")
        + "</div>"
        for article, cover in zip(articles[1:], covers[1:], strict=True)
    )
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
        '<body style="margin:0;padding:16px 12px;background:#ededed;font-family:'
        "-apple-system,BlinkMacSystemFont,'PingFang SC','Hiragino Sans GB',"
        "'Microsoft YaHei',sans-serif;\">"
        f'<div style="text-align:center;color:#999;font-size:12px;margin-bottom:10px;">'
        f"{escape(post.account)}</div>"
        '<div style="background:#fff;border-radius:8px;overflow:hidden;">'
        f"{card}{rows}</div></body></html>"
    )


async def _thumbnail(
    services: Services, cover: str, size: tuple[int, int], load: Callable[[str], Awaitable[bytes]]
) -> str:
    """The cover as a data URI, or "" when it cannot be read (the frame shows a grey box:
    the checks before publishing say what is wrong with it)."""
    from bot.content.covers import thumbnail_data_uri

    if not cover:
        return ""
    try:
        data = await load(cover)
        return await offload.run_image(thumbnail_data_uri, data, size)
    except (BotError, ValueError):
        return ""


def _img(src: str, style: str) -> str:
    if not src:
        return f'<div style="{style}"></div>'
    return f'<img alt="" src="{escape(src)}" style="{style}">'
