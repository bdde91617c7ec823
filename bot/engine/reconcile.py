"""What the platform can tell about a post whose submit answer was lost, and what that proves.

Matching is by title, author, source link and digest, the fields the platform keeps as sent,
and by the body's visible text (the platform rewrites markup, strips scripts and escapes
differently, so tags, entities and white space are left out of the comparison), for every
article of the push. A draft or article with another body is another push: an older preview
draft, a stale draft made ahead, or a same-titled sibling post's article (a weekly series).

What holds under every way the platform may behave (platform-fidelity.md §1 #1):

- the article in the published list (``freepublish/batchget``) proves it was published;
- a draft still in the draft box proves nothing while the job may still run: the platform may
  take the draft out only when the job ends, and a second submit may then publish it again.
  Only once the submit is older than ``reconcile_window_seconds`` (set longer than the
  platform's longest publish job) does "draft still there, article not listed" prove the
  submit never became an article;
- a draft gone from the box (40007) with no article listed proves nothing either way (a job
  that failed, a draft deleted by hand, a list that lags): a person decides, shown the
  evidence.

A list item's ``url`` is the draft's temporary link; the lasting link comes from
``freepublish/get`` or the PUBLISHJOBFINISH event (looked up by article_id here).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.client import AccountClient
from bot.account.limits import clean_line
from bot.domain.errors import PermanentError
from bot.domain.models import Article, Post
from bot.store import events as event_store

INVALID_MEDIA_ID = 40007
# How far before our submit a published item may be dated (clock skew between us and it).
CLOCK_SLACK = timedelta(minutes=5)
PAGE = 20  # the most freepublish/batchget and draft/batchget return per call
# Rechecks of an unclear submit grow with its age (each costs batchget calls of ~100 a day).
MAX_RECHECK_SECONDS = 1800.0

PUBLISHED = "published"
RESUBMIT = "resubmit"
WAIT = "wait"
ATTENTION = "attention"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one look at the platform found for an unclear submit."""

    age_seconds: float  # since the first submit
    window_seconds: float  # reconcile_window_seconds
    article_id: str = ""  # found in the published list
    listed_items: int = 0  # published-list items read
    draft: str = "not checked"  # "present", "gone" or "not checked"
    # A listed article that matches this post and also another post still in flight (its
    # article not yet recorded): it may be either's, so it proves nothing for this one.
    contested: str = ""

    def verdict(self) -> str:
        if self.article_id:
            return PUBLISHED
        if self.age_seconds < self.window_seconds:
            return WAIT
        if self.contested:
            return ATTENTION
        return RESUBMIT if self.draft == "present" else ATTENTION

    def describe(self) -> str:
        """The evidence in one line, for the log and for the person who decides."""
        listed = (
            f"article {self.article_id} in the published list"
            if self.article_id
            else f"not among the {self.listed_items} newest published items"
        )
        if self.contested:
            listed = (
                f"article {self.contested} in the published list matches it and another post "
                "still in flight with the same articles"
            )
        return (
            f"submit {self.age_seconds:.0f}s ago (window {self.window_seconds:.0f}s); "
            f"{listed}; draft {self.draft}"
        )


def recheck_seconds(age: float, window: float) -> float:
    """When to look again: soon after the submit, then less often, never past the window's
    end (when the draft box may speak)."""
    floor = max(1.0, min(60.0, window / 4))
    delay = min(max(floor, age / 2), MAX_RECHECK_SECONDS)
    until_window = window - age
    return min(delay, until_window) if until_window > 0 else floor


_UNSEEN = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
# White space, control characters (the platform drops them) and zero-width characters.
_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b\u200c\u200d\u2060\ufeff]+")


def body_text(content: str) -> str:
    """A body's visible text, as comparable between what we sent and what the platform
    returns: scripts, styles, comments and tags taken out, entities decoded, no white space
    or control characters."""
    text = _TAG.sub("", _UNSEEN.sub("", content))
    return _SPACE.sub("", html.unescape(text))


def same_article(news_item: dict[str, Any], article: Post | Article) -> bool:
    """Title, author, source link and digest as sent, control characters taken out (the
    digest only where the listing gives it; a post with an empty digest gets one made by the
    platform), and the body's visible text (``body_text``). A listing without the body
    proves nothing."""
    digest = news_item.get("digest")
    mine = clean_line(article.digest)
    content = news_item.get("content")
    return (
        str(news_item.get("title", "")) == clean_line(article.title)
        and str(news_item.get("author", "")) == clean_line(article.author)
        and str(news_item.get("content_source_url", "")) == clean_line(article.content_source_url)
        and (digest is None or not mine or str(digest) == mine)
        and isinstance(content, str)
        and body_text(content) == body_text(article.content_html)
    )


def same_push(item: dict[str, Any], post: Post) -> bool:
    """A listed draft or published item holds exactly the post's articles, in order."""
    content = item.get("content")
    news = content.get("news_item") if isinstance(content, dict) else None
    news = news if isinstance(news, list) else []
    articles = post.articles
    return len(news) == len(articles) and all(
        isinstance(n, dict) and same_article(n, a) for n, a in zip(news, articles, strict=True)
    )


async def find_draft(api: AccountClient, post: Post) -> str:
    """The media_id of a draft in the newest 20 that matches the post, bodies included, or
    "" (a draft with another body, such as a preview of a text the reviewer refused, is
    never taken)."""
    listing = await api.draft_batchget(0, 20, no_content=False)
    for item in listing.get("item") or []:
        if isinstance(item, dict) and same_push(item, post):
            return str(item.get("media_id", ""))
    return ""


def update_time(item: dict[str, Any]) -> int | None:
    """A published-list item's time: on the item (the docs) or only inside ``content`` (as
    recorded); None when neither is readable."""
    content = item.get("content")
    for value in (item.get("update_time"), (content or {}).get("update_time")):
        if isinstance(value, dict | list | bool) or value in (None, ""):
            continue
        try:
            return int(value)
        except (TypeError, ValueError):
            continue
    return None


async def search_published(
    api: AccountClient,
    post: Post,
    *,
    now: datetime,
    max_pages: int = 3,
    others: Collection[str] = (),
    rivals: Sequence[Post] = (),
) -> tuple[str, int, str]:
    """(article_id or "", items read, contested article_id or ""): a published article that
    matches the post, bodies included, and is not older than its submit. Pages back (20 items
    a call, at most ``max_pages`` calls of the 100 a day) until a whole page is older than the
    submit; an item without a readable time may be new, so it never ends the search early.
    Articles in ``others`` belong to other posts with the same title and are never taken for
    this one. ``rivals`` are other posts in flight whose article is not recorded yet: an
    article that matches one of them as well may be theirs, so it is returned as contested,
    never as this post's."""
    since = ((post.submitted_at or now) - CLOCK_SLACK).timestamp()
    read = 0
    contested = ""
    for page in range(max_pages):
        listing = await api.freepublish_batchget(page * PAGE, PAGE, no_content=False)
        items = [i for i in listing.get("item") or [] if isinstance(i, dict)]
        read += len(items)
        times = [update_time(i) for i in items]
        for item, updated in zip(items, times, strict=True):
            article_id = str(item.get("article_id") or "").strip()
            if article_id in others:
                continue
            if (updated is None or updated >= since) and same_push(item, post):
                if any(same_push(item, rival) for rival in rivals):
                    contested = contested or article_id
                    continue
                return article_id, read, ""
        # The list is not promised newest first, so stop only when a whole page is older.
        older = [t is not None and t < since for t in times]
        if len(items) < PAGE or (older and all(older)):
            break
    return "", read, contested


async def find_published(
    api: AccountClient, post: Post, *, now: datetime, max_pages: int = 3
) -> str | None:
    """The article_id of a published article that matches the post, or None."""
    article_id, _, _ = await search_published(api, post, now=now, max_pages=max_pages)
    return article_id or None


async def lasting_links(engine: AsyncEngine, account: str, article_id: str) -> list[str]:
    """Every article's lasting link, in push order, from the PUBLISHJOBFINISH event of
    ``article_id``; [] when none arrived."""
    async with engine.connect() as conn:
        event = await event_store.publish_event_for_article(conn, account, article_id)
    detail = (event or {}).get("article_detail")
    items = detail.get("item") if isinstance(detail, dict) else None
    if isinstance(items, dict):  # one <item> read from XML
        items = [items]
    links = [i for i in items or [] if isinstance(i, dict)]
    links.sort(key=lambda i: _whole(i.get("idx")))
    return [str(i.get("article_url") or "") for i in links]


def _whole(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


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
