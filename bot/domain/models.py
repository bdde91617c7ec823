"""Resources, posts, statuses and their legal transitions, slots: plain data.

Timestamps are timezone-aware and in UTC everywhere; only surfaces convert them for people.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

BUILTIN_KINDS = ("platform", "exhibit", "course", "lesson", "article")
# One push (draft/add, freepublish/submit, mass send) carries 1 to 8 articles (wechat-api.md §3.1).
MAX_ARTICLES = 8


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
    cover_problem: str = ""  # why drafting could not load the cover; "" when it could

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


@dataclass(frozen=True, slots=True)
class Article:
    """One article of a post. A post of N articles (多图文) is one draft of N articles, sent
    and published together; the first is the headline (the big card of the list view)."""

    title: str
    author: str = ""
    digest: str = ""
    markdown: str = ""  # what an editor edits
    content_html: str = ""  # exactly what the platform receives
    content_source_url: str = ""
    cover: str = ""
    resource_ids: tuple[str, ...] = ()  # the catalogue resources this article features
    thumb_media_id: str = ""  # the cover as permanent material, once uploaded
    article_url: str = ""  # its permanent link, once published

    def replace(self, **changes: object) -> Article:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(slots=True)
class Post:
    """A post of a column, from draft to its final state.

    The post's own title, author, digest, body, source link and cover are its headline
    article (article 1); ``more_articles`` holds the articles after it (2..8), so a
    single-article post is exactly what it always was.
    """

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
    # A queued post's draft made ahead of its slot: the digest of the articles it holds.
    staged_digest: str = ""
    # A mass send's clientmsgid, chosen at its first send and kept: a repeat of it within 24 h
    # is refused with 45065 and the first send's msg_id (bot.engine.publishing).
    clientmsgid: str = ""
    publish_id: str = ""
    msg_id: str = ""
    next_attempt_at: datetime | None = None
    submitted_at: datetime | None = None
    polls: int = 0
    review_comment: str = ""
    needs_attention: bool = False
    more_articles: list[Article] = field(default_factory=list)
    created_by: str = ""  # the user who drafted it ("" for the CLI and the scheduler)
    edited_by: str = ""  # the user who last changed its content
    # A digest of the images kept for its http(s) covers (bot.store.cover_copies): the same
    # address can serve another picture at the next edit, and a reviewer approves pictures.
    covers_digest: str = ""

    @property
    def articles(self) -> list[Article]:
        """Every article of the post in push order, the headline first."""
        elsewhere = {rid for a in self.more_articles for rid in a.resource_ids}
        headline = Article(
            title=self.title,
            author=self.author,
            digest=self.digest,
            markdown=self.markdown,
            content_html=self.content_html,
            content_source_url=self.content_source_url,
            cover=self.cover,
            resource_ids=tuple(r for r in self.resource_ids if r not in elsewhere),
            thumb_media_id=self.thumb_media_id,
            article_url=self.article_url,
        )
        return [headline, *self.more_articles]

    @property
    def version(self) -> str:
        """A digest of everything a reviewer reads (each article's text, links and cover,
        in order, the images kept for its covers, and how it is delivered): an approval names
        the version it approves, so an edit made meanwhile is never approved unseen."""
        content = [
            [a.title, a.author, a.digest, a.markdown, a.content_html, a.content_source_url, a.cover]
            for a in self.articles
        ]
        parts: list[object] = [self.delivery.value, content]
        if self.covers_digest:  # (a post without kept covers keeps the version it had)
            parts.append(self.covers_digest)
        data = json.dumps(parts, ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]

    @property
    def article_count(self) -> int:
        return 1 + len(self.more_articles)


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
