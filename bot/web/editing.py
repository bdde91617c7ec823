"""Editing a post's title, digest and Markdown from the admin: re-render the Markdown the way
drafting does (theme inlined, sanitised, images re-hosted), re-run the checks, and store the
new body only if they pass and the post has not started publishing. An approved post of a
column that requires review goes back to review."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Services
from bot.domain.errors import ConflictError, ContentRejectedError
from bot.domain.models import Post, PostStatus
from bot.store import log
from bot.store import posts as post_store

EDITABLE = (PostStatus.DRAFT, PostStatus.REVIEW, PostStatus.QUEUED)


@dataclass(frozen=True)
class Edited:
    post: Post
    findings: list[object]


async def edit_post(
    services: Services, post_id: int, *, title: str, digest: str, markdown: str, actor: str
) -> Edited:
    """Raises NotFoundError, ConflictError (the post is no longer editable or changed
    meanwhile), ContentRejectedError with the findings (nothing is stored)."""
    from bot.content import lint, render
    from bot.content.images import rehost_images

    async with services.engine.connect() as conn:
        post = await post_store.get(conn, post_id)
    if post.status not in EDITABLE:
        raise ConflictError(f"post {post_id} is {post.status}; it can no longer be edited")
    title, digest = title.strip(), digest.strip()
    html = render.render_markdown(markdown)
    drafting = services.drafting
    html = await rehost_images(
        html,
        upload=lambda data, name: drafting._upload(post.account, data, name),
        load=drafting.load_image,
    )
    findings: list[object] = [
        *lint.check_post(
            title, post.author, digest, html, post.content_source_url, markdown=markdown
        ),
        *lint.check_cover(post.cover),
    ]
    errors = [f for f in findings if getattr(f, "severity", "") == "error"]
    if errors:
        raise ContentRejectedError(
            f"post {post_id} failed {len(errors)} check(s): "
            + "; ".join(str(getattr(f, "message", f)) for f in errors[:3]),
            findings,
        )
    now = services.clock()
    async with services.engine.begin() as conn:
        changed = await post_store.update_if_status(
            conn,
            post_id,
            [post.status],
            now=now,
            title=title,
            digest=digest,
            markdown=markdown,
            content_html=html,
        )
        if not changed:
            raise ConflictError(f"post {post_id} changed while you edited it; reload and retry")
        await log.append(
            conn,
            at=now,
            step="edit",
            outcome="ok",
            post_id=post_id,
            account=post.account,
            column=post.column,
            detail=f"edited by {actor}" if actor else "edited",
        )
        edited = await post_store.get(conn, post_id)
        if edited.status is PostStatus.QUEUED and _requires_review(services, post.column):
            edited = await post_store.transition(
                conn,
                edited,
                PostStatus.REVIEW,
                now=now,
                step="edit",
                detail="edited after approval; back to review",
            )
    return Edited(edited, findings)


def _requires_review(services: Services, column: str) -> bool:
    try:
        return services.config.column(column).require_review
    except Exception:  # a column no longer configured: nothing to enforce
        return False
