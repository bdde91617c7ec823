"""The JSON shapes of the operator contract, shared by the CLI and the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.domain.models import Article, LogEntry, Post, Resource, Slot


def iso(value: datetime | None, tz: ZoneInfo | None = None) -> str | None:
    if value is None:
        return None
    return value.astimezone(tz).isoformat() if tz else value.isoformat()


def account_tz(config: Config, account: str) -> ZoneInfo:
    try:
        return config.account(account).tz
    except Exception:
        return ZoneInfo(config.report_timezone)


def post_json(post: Post, config: Config, *, with_content: bool = False) -> dict[str, Any]:
    tz = account_tz(config, post.account)
    shape: dict[str, Any] = {
        "id": post.id,
        "column": post.column,
        "account": post.account,
        "title": post.title,
        "status": post.status.value,
        "scheduled_for": iso(post.scheduled_for, tz),
        "published_at": iso(post.published_at, tz),
        "article_url": post.article_url or None,
        "attempts": post.attempts,
        "error": post.error or None,
        "errcode": post.errcode,
        "stage": post.stage.value,
        "needs_attention": post.needs_attention,
        "priority": post.priority,
        "delivery": post.delivery.value,
        "digest": post.digest,
        "author": post.author,
        "content_source_url": post.content_source_url,
        "resources": post.resource_ids,
        "created_at": iso(post.created_at, tz),
        "updated_at": iso(post.updated_at, tz),
        "review_comment": post.review_comment or None,
        "publish_id": post.publish_id or None,
        "article_id": post.article_id or None,
        "version": post.version,
        "created_by": post.created_by or None,
        "edited_by": post.edited_by or None,
    }
    shape["article_count"] = post.article_count
    shape["articles"] = [
        article_json(article, number, with_content=with_content)
        for number, article in enumerate(post.articles, start=1)
    ]
    if with_content:
        shape["markdown"] = post.markdown
        shape["content_html"] = post.content_html
    return shape


def article_json(article: Article, number: int, *, with_content: bool = False) -> dict[str, Any]:
    """One article of a post; ``number`` is its place in the push (1: the headline)."""
    shape: dict[str, Any] = {
        "number": number,
        "title": article.title,
        "author": article.author,
        "digest": article.digest,
        "content_source_url": article.content_source_url,
        "cover": article.cover,
        "resources": list(article.resource_ids),
        "article_url": article.article_url or None,
    }
    if with_content:
        shape["markdown"] = article.markdown
        shape["content_html"] = article.content_html
    return shape


def log_json(entry: LogEntry, config: Config) -> dict[str, Any]:
    tz = account_tz(config, entry.account) if entry.account else None
    return {
        "id": entry.id,
        "at": iso(entry.at, tz),
        "post_id": entry.post_id,
        "account": entry.account or None,
        "column": entry.column or None,
        "step": entry.step,
        "outcome": entry.outcome,
        "from_status": entry.from_status or None,
        "to_status": entry.to_status or None,
        "errcode": entry.errcode,
        "latency_ms": entry.latency_ms,
        "attempt": entry.attempt,
        "detail": entry.detail,
    }


def resource_json(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "kind": resource.kind,
        "title": resource.title,
        "summary": resource.summary,
        "url": resource.url,
        "cover": resource.cover,
        "tags": list(resource.tags),
        "source": resource.source,
        # Why drafting could not load its cover ("" when it could): automatic drafts pass it
        # over until an import gives it another cover.
        "cover_problem": resource.cover_problem,
    }


def slot_json(slot: Slot, tz: ZoneInfo | None = None) -> dict[str, Any]:
    lateness = (
        (slot.opened_at - slot.fire_at).total_seconds() if slot.opened_at is not None else None
    )
    return {
        "id": slot.id,
        "schedule": slot.schedule,
        "column": slot.column,
        "fire_at": iso(slot.fire_at, tz),
        "opened_at": iso(slot.opened_at, tz),
        "state": slot.state,
        "posts": slot.posts,
        "lateness_seconds": lateness,
    }
