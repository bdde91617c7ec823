"""Rows to domain objects and back."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import RowMapping

from bot.domain.models import (
    Article,
    Delivery,
    LogEntry,
    Post,
    PostStatus,
    PublishStage,
    Resource,
    Slot,
)

POST_FIELDS = frozenset(f.name for f in dataclasses.fields(Post))


def post_with(post: Post, values: dict[str, Any]) -> Post:
    """``post`` with column values just written to its row (those that are Post fields), so a
    writer need not read the row back."""
    changes = {k: v for k, v in values.items() if k in POST_FIELDS}
    if "stage" in changes:
        changes["stage"] = PublishStage(changes["stage"])
    if "status" in changes:
        changes["status"] = PostStatus(changes["status"])
    return dataclasses.replace(post, **changes)


def post_from_row(
    row: RowMapping | dict[str, Any],
    resource_ids: list[str] | None = None,
    more_articles: list[Article] | None = None,
) -> Post:
    return Post(
        id=row["id"],
        column=row["column_name"],
        account=row["account"],
        title=row["title"],
        status=PostStatus(row["status"]),
        author=row["author"],
        digest=row["digest"],
        markdown=row["markdown"],
        content_html=row["content_html"],
        content_source_url=row["content_source_url"],
        cover=row["cover"],
        delivery=Delivery(row["delivery"]),
        resource_ids=list(resource_ids or []),
        priority=row["priority"],
        scheduled_for=row["scheduled_for"],
        slot_id=row["slot_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        published_at=row["published_at"],
        article_url=row["article_url"],
        article_id=row["article_id"],
        attempts=row["attempts"],
        error=row["error"],
        errcode=row["errcode"],
        stage=PublishStage(row["stage"]),
        thumb_media_id=row["thumb_media_id"],
        draft_media_id=row["draft_media_id"],
        staged_digest=row["staged_digest"],
        clientmsgid=row.get("clientmsgid", "") or "",
        publish_id=row["publish_id"],
        msg_id=row["msg_id"],
        next_attempt_at=row["next_attempt_at"],
        submitted_at=row["submitted_at"],
        polls=row["polls"],
        review_comment=row["review_comment"],
        needs_attention=row["needs_attention"],
        more_articles=list(more_articles or []),
        created_by=row.get("created_by", "") or "",
        edited_by=row.get("edited_by", "") or "",
        covers_digest=row.get("covers_digest", "") or "",
    )


def article_from_row(row: RowMapping | dict[str, Any], resource_ids: tuple[str, ...]) -> Article:
    return Article(
        title=row["title"],
        author=row["author"],
        digest=row["digest"],
        markdown=row["markdown"],
        content_html=row["content_html"],
        content_source_url=row["content_source_url"],
        cover=row["cover"],
        resource_ids=resource_ids,
        thumb_media_id=row["thumb_media_id"],
        article_url=row["article_url"],
    )


def resource_from_row(row: RowMapping | dict[str, Any]) -> Resource:
    return Resource(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        summary=row["summary"],
        url=row["url"],
        cover=row["cover"],
        tags=tuple(row["tags"] or ()),
        source=row["source"],
        cover_problem=row.get("cover_problem") or "",
    )


def log_from_row(row: RowMapping | dict[str, Any]) -> LogEntry:
    return LogEntry(
        id=row["id"],
        at=row["at"],
        post_id=row["post_id"],
        account=row["account"],
        column=row["column_name"],
        step=row["step"],
        outcome=row["outcome"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        errcode=row["errcode"],
        latency_ms=row["latency_ms"],
        attempt=row["attempt"],
        detail=row["detail"],
    )


def slot_from_row(row: RowMapping | dict[str, Any]) -> Slot:
    return Slot(
        id=row["id"],
        schedule=row["schedule"],
        column=row["column_name"],
        fire_at=row["fire_at"],
        opened_at=row["opened_at"],
        state=row["state"],
        posts=row["posts"],
    )
