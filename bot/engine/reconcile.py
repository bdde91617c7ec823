"""What the platform can tell about a post whose answer was lost: is its draft in the draft
box, is its article in the published list. Matching is by title, author and source link, the
fields the platform keeps as sent, for every article of the push."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.account.client import AccountClient
from bot.domain.errors import PermanentError
from bot.domain.models import Article, Post

INVALID_MEDIA_ID = 40007
# How far before our submit a published item may be dated (clock skew between us and it).
CLOCK_SLACK = timedelta(minutes=5)
PAGE = 20  # the most freepublish/batchget and draft/batchget return per call


def same_article(news_item: dict[str, Any], article: Post | Article) -> bool:
    """Title, author, source link and digest as sent (the digest only where the listing
    gives it; a post with an empty digest gets one made by the platform)."""
    digest = news_item.get("digest")
    return (
        str(news_item.get("title", "")) == article.title
        and str(news_item.get("author", "")) == article.author
        and str(news_item.get("content_source_url", "")) == article.content_source_url
        and (digest is None or not article.digest or str(digest) == article.digest)
    )


def same_push(item: dict[str, Any], post: Post) -> bool:
    """A listed draft or published item holds exactly the post's articles, in order."""
    news = (item.get("content") or {}).get("news_item") or []
    articles = post.articles
    return len(news) == len(articles) and all(
        isinstance(n, dict) and same_article(n, a) for n, a in zip(news, articles, strict=True)
    )


async def find_draft(api: AccountClient, post: Post) -> str:
    """The media_id of a draft in the newest 20 that matches the post, or ""."""
    listing = await api.draft_batchget(0, 20, no_content=True)
    for item in listing.get("item") or []:
        if same_push(item, post):
            return str(item.get("media_id", ""))
    return ""


async def find_published(
    api: AccountClient, post: Post, *, now: datetime, max_pages: int = 3
) -> tuple[str, list[str]] | None:
    """(article_id, every article's url) of a published item that matches the post and is not
    older than its submit, or None. Pages back (20 items a call, at most ``max_pages`` calls of the 100 a
    day) until the list reaches items older than the submit."""
    since = ((post.submitted_at or now) - CLOCK_SLACK).timestamp()
    for page in range(max_pages):
        listing = await api.freepublish_batchget(page * PAGE, PAGE, no_content=True)
        items = listing.get("item") or []
        for item in items:
            updated = int(item.get("update_time") or 0)
            if (not updated or updated >= since) and same_push(item, post):
                news = (item.get("content") or {}).get("news_item") or []
                return str(item.get("article_id", "")), [str(n.get("url", "")) for n in news]
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
