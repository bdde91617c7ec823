"""A publishing post's recorded state: every change of stage, wait, failure and success is
committed (with its log row) before the next step starts. The publisher builds on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import BotError, ConflictError, describe_errcode
from bot.domain.models import Post, PostStatus, PublishStage
from bot.store import accounts as account_store
from bot.store import log
from bot.store import posts as post_store
from bot.store.records import post_with

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class StepResult:
    """What one call of ``advance`` did: ``waiting_until`` is when the post wants attention
    again (a poll, a retry), ``None`` when it reached a final state or needs a person."""

    post: Post
    waiting_until: datetime | None
    retry_scheduled: bool = False
    # The step's last write also gave up the worker's lease (so the worker need not).
    released: bool = False


class PostRecords:
    """Commits a post's progress; ``engine`` and ``clock`` are set by the subclass."""

    engine: AsyncEngine
    clock: Clock

    async def _published(
        self,
        post: Post,
        *,
        article_id: str,
        article_url: str,
        source: str,
        note: str = "",
        article_urls: Sequence[str] = (),
    ) -> Post:
        """``article_urls``: every article's link in push order, when the platform gave them."""
        now = self.clock()
        async with self.engine.begin() as conn:
            await post_store.record_article_results(conn, post.id, article_urls=article_urls)
            return await post_store.transition(
                conn,
                post,
                PostStatus.PUBLISHED,
                now=now,
                detail=f"published [{source}]" + (f"; {note}" if note else ""),
                changes={
                    "published_at": now,
                    "article_id": article_id,
                    "article_url": article_url,
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "next_attempt_at": None,
                    "error": note,
                },
            )

    async def _current(self, post_id: int) -> Post:
        async with self.engine.connect() as conn:
            return await post_store.get(conn, post_id)

    async def _needs_attention(self, post: Post, reason: str) -> StepResult:
        """Neither provably published nor provably not: stop, loudly, for a person."""
        now = self.clock()
        await self._log(post, "attention", "error", detail=reason)
        async with self.engine.begin() as conn:
            await post_store.update_fields(
                conn,
                post.id,
                now=now,
                stage=PublishStage.ATTENTION.value,
                needs_attention=True,
                error=reason,
                lease_owner=None,
                lease_expires_at=None,
            )
            await account_store.note_error(conn, post.account, error=reason, now=now)
            return StepResult(await post_store.get(conn, post.id), None, released=True)

    async def _wait(self, post: Post, until: datetime) -> StepResult:
        """Leave the post where it stands until ``until`` (a poll, a recheck)."""
        return await self._defer(post, until)

    async def _defer(
        self,
        post: Post,
        until: datetime,
        *,
        retry: bool = False,
        step: str = "",
        exc: BotError | None = None,
        detail: str = "",
        **values: Any,
    ) -> StepResult:
        """Release the post until ``until``; with ``step``, log why (a retry, a quota)."""
        now = self.clock()
        if exc is not None:
            values.update(error=detail or str(exc), errcode=errcode_of(exc))
        async with self.engine.begin() as conn:
            await post_store.update_fields(
                conn,
                post.id,
                now=now,
                next_attempt_at=until,
                lease_owner=None,
                lease_expires_at=None,
                **values,
            )
            if step:
                await log.append(
                    conn,
                    at=now,
                    step=step,
                    outcome="error",
                    post_id=post.id,
                    account=post.account,
                    column=post.column,
                    errcode=errcode_of(exc) if exc else None,
                    attempt=int(values.get("attempts", 0)),
                    detail=detail,
                )
            return StepResult(
                await post_store.get(conn, post.id), until, retry_scheduled=retry, released=True
            )

    async def _fail(self, post: Post, exc: BotError) -> StepResult:
        errcode = errcode_of(exc)
        explanation = describe_errcode(errcode)
        reason = f"{exc}" + (
            f" — {explanation}" if explanation and explanation not in str(exc) else ""
        )
        now = self.clock()
        async with self.engine.begin() as conn:
            current = await post_store.get(conn, post.id)
            if current.status is not PostStatus.PUBLISHING:
                return StepResult(current, None)
            failed = await post_store.transition(
                conn,
                current,
                PostStatus.FAILED,
                now=now,
                outcome="error",
                errcode=errcode,
                detail=reason,
                changes={
                    "error": reason,
                    "errcode": errcode,
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "next_attempt_at": None,
                },
            )
            await account_store.note_error(conn, post.account, error=reason, now=now)
        return StepResult(failed, None, released=True)

    async def _record(
        self,
        post: Post,
        *,
        stage: PublishStage | None = None,
        article_thumbs: Sequence[str] = (),
        **values: Any,
    ) -> Post:
        """Commit progress before the next step starts (``article_thumbs``: every article's
        cover media id, in push order)."""
        if stage is not None:
            values["stage"] = stage.value
        async with self.engine.begin() as conn:
            # A compare-and-set on the stage too: a holder whose lease ran out while it was
            # slow must not overwrite progress another worker made meanwhile.
            ok = await post_store.update_if_stage(
                conn, post.id, post.stage, now=self.clock(), **values
            )
            if not ok:
                raise ConflictError(f"post {post.id} moved on while being published")
            if article_thumbs:
                await post_store.record_article_results(
                    conn, post.id, thumb_media_ids=article_thumbs
                )
            if stage is not None:
                await log.append(
                    conn,
                    at=self.clock(),
                    step="stage",
                    outcome="ok",
                    post_id=post.id,
                    account=post.account,
                    column=post.column,
                    detail=f"stage {stage.value}",
                )
            if article_thumbs:
                return await post_store.get(conn, post.id)
        # What was just written, without reading the post back (three queries per step).
        return post_with(post, values)

    async def _log(self, post: Post, step: str, outcome: str, *, detail: str = "") -> None:
        async with self.engine.begin() as conn:
            await log.append(
                conn,
                at=self.clock(),
                step=step,
                outcome=outcome,
                post_id=post.id,
                account=post.account,
                column=post.column,
                detail=detail,
            )


def errcode_of(exc: BotError) -> int | None:
    code = exc.fields.get("errcode")
    return int(code) if isinstance(code, int) else None
