"""Drafting a post for a column: choose resources, render the column's template, re-host the
images on the platform, check the result, and store it as the exact body that will be sent."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import ColumnConfig, Config
from bot.content import selection
from bot.domain.errors import ConflictError, ContentRejectedError, UserError
from bot.domain.models import Post, PostStatus, Resource
from bot.store import accounts as account_store
from bot.store import catalogue as catalogue_store
from bot.store import log
from bot.store import posts as post_store

if TYPE_CHECKING:
    from bot.content.lint import Finding

# The rendering stack (markdown-it, nh3, Pillow, OpenCC: about 8 MB) is imported on first use,
# inside the methods below: a service that is only publishing what was drafted earlier, or
# idle, never loads it.

Clock = Callable[[], datetime]
EDITABLE = (PostStatus.DRAFT, PostStatus.REVIEW, PostStatus.QUEUED)
Uploader = Callable[[str, bytes, str], Awaitable[str]]  # (account, data, filename) -> url


@dataclass(frozen=True)
class Draft:
    post: Post
    findings: list[Finding]


class Drafting:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        config: Config,
        clock: Clock,
        upload_image: Uploader,
        load_image: Callable[[str], Awaitable[bytes]],
        has_schedule: Callable[[str], bool],
        default_cover: Path,
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        self.upload_image = upload_image
        self.load_image = load_image
        self.has_schedule = has_schedule
        self.default_cover = default_cover

    async def draft(
        self,
        column_name: str,
        *,
        resource_ids: Sequence[str] = (),
        at: datetime | None = None,
        due_now: bool = False,
        actor: str = "",
        review: bool | None = None,
    ) -> Draft:
        """Create a post for the column. Raises ContentRejectedError with the findings when
        the checks fail (nothing is stored), UserError for unknown ids or an empty catalogue."""
        column = self.config.column(column_name)
        chosen = await self._resources(column, resource_ids)
        from bot.content import render

        rendered = render.render_post(
            column.template,
            templates_dir=self.config.templates_dir,
            context=self._context(column, chosen),
        )
        cover = chosen[0].cover if chosen and chosen[0].cover else ""
        cover = cover or column.cover or str(self.default_cover)
        html, findings = await self._finish_body(
            column.account,
            rendered.html,
            what=f"the post for column {column.name!r}",
            title=rendered.title,
            author=column.author,
            digest=rendered.digest,
            source_url=rendered.content_source_url,
            markdown=rendered.markdown,
            cover=cover,
        )
        needs_review = column.require_review if review is None else review
        status = PostStatus.REVIEW if needs_review else PostStatus.QUEUED
        scheduled_for = at
        if scheduled_for is None and (due_now or not self.has_schedule(column.name)):
            scheduled_for = self.clock()
        new = post_store.NewPost(
            column=column.name,
            account=column.account,
            title=rendered.title,
            author=column.author,
            digest=rendered.digest,
            markdown=rendered.markdown,
            content_html=html,
            content_source_url=rendered.content_source_url,
            cover=cover,
            delivery=column.delivery.value,
            status=status,
            resources=[(r.id, r.kind) for r in chosen],
            scheduled_for=scheduled_for,
        )
        async with self.engine.begin() as conn:
            post_id = await post_store.create(conn, new, now=self.clock(), actor=actor)
            post = await post_store.get(conn, post_id)
        return Draft(post, findings)

    async def edit(
        self, post_id: int, *, title: str, digest: str, markdown: str, actor: str = ""
    ) -> Draft:
        """Re-render an edited post the way drafting does, re-run the checks and store the new
        body only if they pass and the post has not started publishing. An approved post of a
        column that requires review goes back to review. Raises NotFoundError, ConflictError,
        ContentRejectedError (nothing is stored)."""
        async with self.engine.connect() as conn:
            post = await post_store.get(conn, post_id)
        if post.status not in EDITABLE:
            raise ConflictError(f"post {post_id} is {post.status}; it can no longer be edited")
        title, digest = title.strip(), digest.strip()
        from bot.content import render

        html, findings = await self._finish_body(
            post.account,
            render.render_markdown(markdown),
            what=f"post {post_id}",
            title=title,
            author=post.author,
            digest=digest,
            source_url=post.content_source_url,
            markdown=markdown,
            cover=post.cover,
        )
        now = self.clock()
        async with self.engine.begin() as conn:
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
            if edited.status is PostStatus.QUEUED and self._requires_review(post.column):
                edited = await post_store.transition(
                    conn,
                    edited,
                    PostStatus.REVIEW,
                    now=now,
                    step="edit",
                    detail="edited after approval; back to review",
                )
        return Draft(edited, findings)

    def _requires_review(self, column: str) -> bool:
        try:
            return self.config.column(column).require_review
        except UserError:  # a column no longer configured: nothing to enforce
            return False

    async def _finish_body(
        self,
        account: str,
        html: str,
        *,
        what: str,
        title: str,
        author: str,
        digest: str,
        source_url: str,
        markdown: str,
        cover: str,
    ) -> tuple[str, list[Finding]]:
        """Re-host the body's images, then check everything; raises ContentRejectedError."""
        from bot.content import lint
        from bot.content.images import rehost_images

        html = await rehost_images(
            html,
            upload=lambda data, name: self._upload(account, data, name),
            load=self.load_image,
        )
        findings = lint.check_post(
            title, author, digest, html, source_url, markdown=markdown
        ) + lint.check_cover(cover)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise ContentRejectedError(
                f"{what} failed {len(errors)} check(s): "
                + "; ".join(f.message for f in errors[:3]),
                findings,
            )
        return html, findings

    async def _resources(self, column: ColumnConfig, ids: Sequence[str]) -> list[Resource]:
        async with self.engine.connect() as conn:
            if ids:
                chosen = await catalogue_store.get_many(conn, list(ids))
                for resource in chosen:
                    if column.kinds and resource.kind not in column.kinds:
                        raise UserError(
                            f"resource {resource.id!r} is of kind {resource.kind!r}, which column "
                            f"{column.name!r} does not feature ({', '.join(column.kinds)})"
                        )
                return chosen
            candidates = await catalogue_store.list_resources(conn, kinds=column.kinds)
            featured = await post_store.last_featured(conn, column.name)
        chosen = selection.choose_resources(
            candidates,
            kinds=column.kinds,
            last_featured=featured,
            now=self.clock(),
            cooldown_days=column.cooldown_days,
            count=column.resources_per_post,
        )
        if not chosen:
            raise UserError(
                f"column {column.name!r}: no catalogue resource is left to feature "
                f"(kinds: {', '.join(column.kinds) or 'all'}; cooldown {column.cooldown_days} days)"
            )
        return chosen

    def _context(self, column: ColumnConfig, chosen: list[Resource]) -> dict[str, Any]:
        return {
            "column": {"name": column.name, "author": column.author},
            "resource": chosen[0],
            "resources": chosen,
            "now": self.clock(),
        }

    async def _upload(self, account: str, data: bytes, filename: str) -> str:
        """Upload a body image once per account (by content hash)."""
        digest = hashlib.sha256(data).hexdigest()
        async with self.engine.connect() as conn:
            cached = await account_store.cached_media(conn, account, digest, "content")
        if cached:
            return cached[1]
        url = await self.upload_image(account, data, filename)
        async with self.engine.begin() as conn:
            await account_store.remember_media(
                conn, account, digest, "content", media_id="", url=url, now=self.clock()
            )
        return url
