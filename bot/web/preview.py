"""The article page as a reader's phone shows it, for the admin's sandboxed preview frame:
375 px wide, WeChat's default font, the title and the author line above the body, and the
cover (which the list view shows) read from our own media as a data URI, since the frame
may load nothing and the platform's copy is not ours to show."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from bot.domain.errors import BotError
from bot.domain.models import Post
from bot.engine import offload
from bot.store.posts import person

if TYPE_CHECKING:
    from bot.app import Services

PHONE_WIDTH = 375
COVER_SIZE = (750, 320)  # 2.35:1 at twice the phone's width
WECHAT_FONT = (
    "-apple-system,BlinkMacSystemFont,'Helvetica Neue','PingFang SC','Hiragino Sans GB',"
    "'Microsoft YaHei UI','Microsoft YaHei',Arial,sans-serif"
)
_COVER_CAPTION = {"zh": "封面（在消息列表中显示）", "en": "Cover (shown in the chat list)"}


async def article_page(services: Services, post: Post, index: int, *, lang: str, owner: str) -> str:
    article = post.articles[index]
    cover = await _cover(services, post.id, article.cover, owner)
    cover_html = ""
    if cover:
        cover_html = (
            f'<figure style="margin:0 0 18px;"><img src="{cover}" alt="" '
            'style="display:block;width:100%;aspect-ratio:2.35/1;object-fit:cover;'
            'border-radius:4px;">'
            '<figcaption style="font-size:12px;color:#b2b2b2;margin-top:4px;">'
            f"{escape(_COVER_CAPTION.get(lang, _COVER_CAPTION['en']))}</figcaption></figure>"
        )
    author = escape(article.author or "")
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
        f'<body style="margin:0;background:#fff;font-family:{WECHAT_FONT};">'
        f'<main style="max-width:{PHONE_WIDTH}px;margin:0 auto;padding:20px 16px 32px;'
        'box-sizing:border-box;">'
        f"{cover_html}"
        '<h1 style="font-size:22px;line-height:1.4;font-weight:500;color:#222;margin:0 0 14px;">'
        f"{escape(article.title)}</h1>"
        '<div style="font-size:15px;line-height:1.5;margin:0 0 22px;">'
        f'<span style="color:rgba(0,0,0,.3);margin-right:8px;">{author}</span>'
        f'<span style="color:#576b95;">{escape(post.account)}</span></div>'
        f"{article.content_html}</main></body></html>"
    )


async def _cover(services: Services, post_id: int, cover: str, owner: str) -> str:
    """The cover as a data URI, or "" when it cannot be read: an http(s) one from the copy
    kept with the post, never fetched (security re-check 12, M1); a local one read within
    ``owner``'s turns at loading images (re-check 8, M2)."""
    from bot.content.covers import thumbnail_data_uri

    if not cover:
        return ""
    try:
        data = await services.drafting.post_loader(post_id, owner)(cover)
        # In an image lane, the viewer's one at a time, within its time limit (see offload).
        with offload.owned_by(person(owner)):
            return await offload.run_image(thumbnail_data_uri, data, COVER_SIZE)
    except (BotError, ValueError):
        return ""
