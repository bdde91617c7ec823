"""What the platform can tell about a post whose answer was lost: is its draft in the draft
box, is its article in the published list. Matching is by title, author and source link, the
fields the platform keeps as sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.account.client import AccountClient
from bot.domain.errors import PermanentError
from bot.domain.models import Post

INVALID_MEDIA_ID = 40007
# How far before our submit a published item may be dated (clock skew between us and it).
CLOCK_SLACK = timedelta(minutes=5)
PAGE = 20  # the most freepublish/batchget and draft/batchget return per call


def same_article(news_item: dict[str, Any], post: Post) -> bool:
    """Title, author, source link and digest as sent (the digest only where the listing
    gives it; a post with an empty digest gets one made by the platform)."""
    digest = news_item.get("digest")
    return (
        str(news_item.get("title", "")) == post.title
        and str(news_item.get("author", "")) == post.author
        and str(news_item.get("content_source_url", "")) == post.content_source_url
        and (digest is None or not post.digest or str(digest) == post.digest)
    )


def _first_news_item(item: dict[str, Any]) -> dict[str, Any] | None:
    news = (item.get("content") or {}).get("news_item") or []
    return news[0] if news else None


async def find_draft(api: AccountClient, post: Post) -> str:
    """The media_id of a draft in the newest 20 that matches the post, or ""."""
    listing = await api.draft_batchget(0, 20, no_content=True)
    for item in listing.get("item") or []:
        news = _first_news_item(item)
        if news and same_article(news, post):
            return str(item.get("media_id", ""))
    return ""


async def find_published(
    api: AccountClient, post: Post, *, now: datetime, max_pages: int = 3
) -> tuple[str, str] | None:
    """(article_id, url) of a published article that matches the post and is not older than
    its submit, or None. Pages back (20 items a call, at most ``max_pages`` calls of the 100 a
    day) until the list reaches items older than the submit."""
    since = ((post.submitted_at or now) - CLOCK_SLACK).timestamp()
    for page in range(max_pages):
        listing = await api.freepublish_batchget(page * PAGE, PAGE, no_content=True)
        items = listing.get("item") or []
        for item in items:
            updated = int(item.get("update_time") or 0)
            news = _first_news_item(item)
            if (not updated or updated >= since) and news and same_article(news, post):
                return str(item.get("article_id", "")), str(news.get("url", ""))
        # The list is not promised newest first, so stop only when a whole page is older.
        older = [int(i.get("update_time") or 0) < since for i in items]
        if len(items) < PAGE or (older and all(older)):
            return None
    return None


async def draft_present(api: AccountClient, media_id: str) -> bool:
    """Whether the draft is still in the draft box (40007 says it is not)."""
    if not media_id:
        return False
    try:
        await api.draft_get(media_id)
    except PermanentError as exc:
        if exc.fields.get("errcode") == INVALID_MEDIA_ID:
            return False
        raise
    return True
