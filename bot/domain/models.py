"""Resources, posts, statuses and their legal transitions, slots: plain data.

Timestamps are timezone-aware and in UTC everywhere; only surfaces convert them for people.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

BUILTIN_KINDS = ("platform", "exhibit", "course", "lesson", "article")


@dataclass(frozen=True, slots=True)
class Resource:
    """One learning resource of the catalogue."""

    id: str
    kind: str
    title: str
    summary: str = ""
    url: str = ""
    cover: str = ""  # a local path or an http(s) URL
    tags: tuple[str, ...] = ()
    source: str = ""  # where it was imported from ("file.csv:12")

    def replace(self, **changes: object) -> Resource:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


class PostStatus(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    QUEUED = "queued"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The one table of legal transitions. ``publishing -> queued`` is how a post that was proven
# not published (or was deferred by a quota) goes back to wait; ``failed -> queued`` is retry.
TRANSITIONS: dict[PostStatus, frozenset[PostStatus]] = {
    PostStatus.DRAFT: frozenset({PostStatus.REVIEW, PostStatus.QUEUED, PostStatus.CANCELLED}),
    PostStatus.REVIEW: frozenset({PostStatus.QUEUED, PostStatus.DRAFT, PostStatus.CANCELLED}),
    PostStatus.QUEUED: frozenset(
        {PostStatus.PUBLISHING, PostStatus.REVIEW, PostStatus.DRAFT, PostStatus.CANCELLED}
    ),
    PostStatus.PUBLISHING: frozenset({PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.QUEUED}),
    PostStatus.PUBLISHED: frozenset(),
    PostStatus.FAILED: frozenset({PostStatus.QUEUED, PostStatus.CANCELLED}),
    PostStatus.CANCELLED: frozenset(),
}

FINAL_STATUSES = frozenset({PostStatus.PUBLISHED, PostStatus.CANCELLED})


def can_transition(current: PostStatus, target: PostStatus) -> bool:
    return target in TRANSITIONS[current]


class Delivery(StrEnum):
    PUBLISH = "publish"  # draft/add -> freepublish/submit -> freepublish/get
    MASS_SEND = "mass_send"  # draft/add -> message/mass/sendall with a clientmsgid


class PublishStage(StrEnum):
    """Where a post in ``publishing`` stands; each stage's result is committed before the next
    stage starts, so a crash resumes from the last committed stage."""

    NEW = "new"  # nothing sent yet
    COVER = "cover"  # cover uploaded (thumb_media_id known)
    DRAFTED = "drafted"  # draft/add answered (draft_media_id known)
    SUBMITTING = "submitting"  # intent recorded, submit/sendall sent, answer not yet stored
    SUBMITTED = "submitted"  # publish_id / msg_id known; waiting for the final state
    UNKNOWN = "unknown"  # an answer was lost: must be reconciled before anything is resent
    ATTENTION = "attention"  # reconciliation could not prove either way: a person decides


@dataclass(slots=True)
class Post:
    """A post of a column, from draft to its final state."""

    id: int
    column: str
    account: str
    title: str
    status: PostStatus
    author: str = ""
    digest: str = ""
    markdown: str = ""  # what an editor edits
    content_html: str = ""  # exactly what the platform receives
    content_source_url: str = ""
    cover: str = ""
    delivery: Delivery = Delivery.PUBLISH
    resource_ids: list[str] = field(default_factory=list)
    priority: int = 0
    scheduled_for: datetime | None = None  # None: waits for the column's next slot
    slot_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    published_at: datetime | None = None
    article_url: str = ""
    article_id: str = ""
    attempts: int = 0
    error: str = ""
    errcode: int | None = None
    stage: PublishStage = PublishStage.NEW
    thumb_media_id: str = ""
    draft_media_id: str = ""
    publish_id: str = ""
    msg_id: str = ""
    next_attempt_at: datetime | None = None
    submitted_at: datetime | None = None
    polls: int = 0
    review_comment: str = ""
    needs_attention: bool = False

    @property
    def clientmsgid(self) -> str:
        """Deterministic per post, so the platform refuses a repeated mass send (45065)."""
        return f"bot-post-{self.id}"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One append-only row of the publish log."""

    id: int
    at: datetime
    post_id: int | None
    account: str
    column: str
    step: str  # "transition", an endpoint such as "freepublish/submit", "slot", "reconcile"
    outcome: str  # "ok", "error", "unknown", "info"
    from_status: str = ""
    to_status: str = ""
    errcode: int | None = None
    latency_ms: int | None = None
    attempt: int = 0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Slot:
    id: int
    schedule: str
    column: str
    fire_at: datetime  # the slot's nominal time, UTC
    opened_at: datetime | None
    state: str  # "opened", "missed", "empty"
    posts: int = 0
