"""Review and queue actions a person takes on a post: approve, reject, cancel, retry,
reschedule, prioritise, resolve a post that needs attention. Each is one guarded transition
with a log row naming who did it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import ConflictError, ForbiddenError, UserError
from bot.domain.links import PLATFORM_ARTICLE_HOST, is_platform_article_url
from bot.domain.models import Post, PostStatus, PublishStage
from bot.store import log
from bot.store import posts as post_store

Clock = Callable[[], datetime]


class ReviewActions:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        allow_self_approval: bool = False,
        quotas: Callable[[str], Mapping[str, int]] = lambda account: {},
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.allow_self_approval = allow_self_approval
        self.quotas = quotas  # an account's daily platform quotas, by its name

    async def approve(
        self, post_id: int, *, actor: str = "", comment: str = "", version: str | None = None
    ) -> Post:
        """review → queued. A rejected post (draft) goes back through review first: an
        approval is always of the text a reviewer last saw submitted. ``version`` is the
        post's version as the reviewer read it (``Post.version``; None only for the
        operator's CLI): approval applies to exactly that content. Four eyes: a reviewer may
        not approve a post they drafted or last edited, unless ``allow_self_approval``.
        Raises ConflictError (not in review, or changed since it was read), ForbiddenError
        (their own post), UserError (no version)."""
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            if post.status is not PostStatus.REVIEW:
                raise ConflictError(
                    f"post {post_id} is {post.status}; only a post in review can be approved "
                    "(submit a draft for review first)"
                )
            if version == "":
                raise UserError(
                    "version: missing; approving names the version of the post you read "
                    "(the post's 'version' field)"
                )
            if version is not None and version != post.version:
                who = f" by {post.edited_by}" if post.edited_by else ""
                raise ConflictError(
                    f"post {post_id} was changed{who} after you read it; read it again "
                    "before approving"
                )
            reviewer = post_store.person(actor)
            # Everyone who ever changed the content, not only the last: a later typo fix by
            # someone else must not launder a reviewer's own rewrite.
            if (
                reviewer
                and not self.allow_self_approval
                and (
                    reviewer in (post.created_by, post.edited_by)
                    or reviewer in await log.editors(conn, post_id)
                )
            ):
                raise ForbiddenError(
                    f"post {post_id} was drafted or last edited by you; another reviewer "
                    "must approve it"
                )
            return await post_store.transition(
                conn,
                post,
                PostStatus.QUEUED,
                now=self.clock(),
                step="approve",
                detail=_by(actor, comment),
                changes={"review_comment": comment},
                # An edit committed after the read above (PostgreSQL lets one in) fails
                # the move: only the version checked here is ever approved.
                unchanged=True,
            )

    async def reject(self, post_id: int, *, actor: str = "", comment: str = "") -> Post:
        """review → draft, with the reviewer's comment for the editor."""
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            if post.status is not PostStatus.REVIEW:
                raise ConflictError(
                    f"post {post_id} is {post.status}; only a post in review can be rejected"
                )
            return await post_store.transition(
                conn,
                post,
                PostStatus.DRAFT,
                now=self.clock(),
                step="reject",
                detail=_by(actor, comment),
                changes={"review_comment": comment},
            )

    async def submit_for_review(self, post_id: int, *, actor: str = "") -> Post:
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            return await post_store.transition(
                conn,
                post,
                PostStatus.REVIEW,
                now=self.clock(),
                step="submit-review",
                detail=_by(actor, ""),
            )

    async def cancel(self, post_id: int, *, actor: str = "") -> Post:
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            if post.status in (PostStatus.PUBLISHING, PostStatus.PUBLISHED):
                raise ConflictError(
                    f"post {post_id} is {post.status}; a post cannot be cancelled once "
                    "publishing has started"
                )
            return await post_store.transition(
                conn,
                post,
                PostStatus.CANCELLED,
                now=self.clock(),
                step="cancel",
                detail=_by(actor, ""),
            )

    async def retry(self, post_id: int, *, actor: str = "") -> Post:
        """failed → queued, due at once. A post that needs attention is retried only through
        ``resolve`` (a person has checked the account). Raises QuotaShareError (429) past the
        person's daily count of retries or people's share of the account's submits."""
        await self._spend_a_submit(post_id, actor, PostStatus.FAILED)
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            if post.status is not PostStatus.FAILED:
                raise ConflictError(
                    f"post {post_id} is {post.status}; only a failed post can be retried"
                )
            now = self.clock()
            return await post_store.transition(
                conn,
                post,
                PostStatus.QUEUED,
                now=now,
                step="retry",
                detail=_by(actor, ""),
                changes={
                    "scheduled_for": post.scheduled_for or now,
                    "next_attempt_at": None,
                    "error": "",
                    "errcode": None,
                    "attempts": 0,
                },
            )

    async def resolve(
        self, post_id: int, *, published: bool, actor: str = "", article_url: str = ""
    ) -> Post:
        """A person checked the account for a post that needs attention: it was published
        (record it) or it was not (submit again). Raises UserError for an ``article_url``
        that is not an article on mp.weixin.qq.com."""
        if article_url and not is_platform_article_url(article_url):
            raise UserError(
                f"article_url: {article_url[:80]!r} is not a link to an article on "
                f"{PLATFORM_ARTICLE_HOST} (https://{PLATFORM_ARTICLE_HOST}/s/…)"
            )
        if not published:
            await self._spend_a_submit(post_id, actor, None)
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            if not post.needs_attention:
                raise ConflictError(f"post {post_id} does not need attention")
            now = self.clock()
            if published:
                return await post_store.transition(
                    conn,
                    post,
                    PostStatus.PUBLISHED,
                    now=now,
                    step="resolve",
                    detail=_by(actor, "confirmed published by a person"),
                    changes={
                        "needs_attention": False,
                        "published_at": now,
                        "article_url": article_url,
                        "error": "",
                    },
                )
            await post_store.update_fields(
                conn,
                post_id,
                now=now,
                needs_attention=False,
                stage=PublishStage.DRAFTED.value,
                next_attempt_at=None,
                error="",
            )
            await log.append(
                conn,
                at=now,
                step="resolve",
                outcome="ok",
                post_id=post_id,
                account=post.account,
                column=post.column,
                detail=_by(actor, "confirmed not published; submitting again"),
            )
            return await post_store.get(conn, post_id)

    async def _spend_a_submit(self, post_id: int, actor: str, status: PostStatus | None) -> None:
        """A retry (or a "submit again") on a person's request makes the publisher add a draft
        and submit it anew, on no one's count: one editor's retries of a post the platform
        keeps refusing used up the account's 100 submits of the day (security re-check 24,
        M1). Counted as theirs, within people's share; a post not in ``status`` is left to
        the caller's refusal."""
        from bot.engine import people_quota

        async with self.engine.connect() as conn:
            post = await post_store.get(conn, post_id)
        if status is not None and post.status is not status:
            return
        await people_quota.spend(
            self.engine,
            post.account,
            self.quotas(post.account),
            post_store.person(actor),
            "freepublish/submit",
            self.clock(),
            also=("draft/add",),
        )

    async def reschedule(
        self, post_id: int, *, at: datetime | None, priority: int | None = None, actor: str = ""
    ) -> Post:
        async with self.engine.begin() as conn:
            post = await post_store.get(conn, post_id)
            if post.status not in (PostStatus.DRAFT, PostStatus.REVIEW, PostStatus.QUEUED):
                raise ConflictError(
                    f"post {post_id} is {post.status}; it can no longer be rescheduled"
                )
            values: dict[str, object] = {"scheduled_for": at, "slot_id": None}
            if priority is not None:
                values["priority"] = priority
            ok = await post_store.update_if_status(
                conn, post_id, [post.status], now=self.clock(), **values
            )
            if not ok:
                raise ConflictError(f"post {post_id} changed while you looked at it")
            await log.append(
                conn,
                at=self.clock(),
                step="reschedule",
                outcome="ok",
                post_id=post_id,
                account=post.account,
                column=post.column,
                detail=_by(actor, f"due {at.isoformat() if at else 'next slot'}"),
            )
            return await post_store.get(conn, post_id)


def _by(actor: str, comment: str) -> str:
    parts = [f"by {actor}" if actor else "", comment]
    return "; ".join(p for p in parts if p)
