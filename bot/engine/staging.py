"""Staging ahead of the slot: a queued post due within the lead gets its checks, covers and
platform draft (``draft/add``) before its fire time, so at the slot only the submit (or the
mass send) remains. A draft made from articles edited since is replaced; a cancelled post's
draft is deleted.

Nothing here publishes: the post stays ``queued`` and the publisher claims it at its time as
it would any other, so the exactly-once rules and the review rules are the publisher's as
before. Each draft made is recorded (with the digest of the articles it holds) before
anything else happens to it; a draft whose answer was lost in a crash is a stray draft in
the draft box, which is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import BotError
from bot.domain.models import Post
from bot.engine.publishing import PostPublisher, holds_staged_draft
from bot.store import log
from bot.store import posts as post_store

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
FIRST_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 600.0


def stager_owner(owner: str) -> str:
    """The stager's holder name beside the publisher's ``owner`` of the same process: its
    own, so a stager's release can never free the publisher's claim."""
    return f"{owner}:stage"


class Stager:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        publishers: Mapping[str, PostPublisher],
        clock: Clock,
        owner: str,
        lead_seconds: float,
        lease_seconds: int,
    ) -> None:
        self.engine = engine
        self.publishers = publishers
        self.clock = clock
        self.owner = owner
        self.lead = timedelta(seconds=lead_seconds)
        self.lease = timedelta(seconds=lease_seconds)
        self.wake = asyncio.Event()
        # Posts whose staging failed: (their updated_at then, failures, next try). An edit
        # since makes them eligible at once; otherwise each failure doubles the wait, so a
        # refusing platform is not asked every tick (quota).
        self._failed: dict[int, tuple[datetime | None, int, datetime]] = {}

    async def run_once(self) -> int:
        """Make the drafts of every post due within the lead that has none of its current
        articles, every account at once (one post at a time per account, in due order), and
        delete cancelled posts' drafts. Returns how many drafts were made."""
        await self.delete_abandoned()
        if self.lead <= timedelta(0):
            return 0
        now = self.clock()
        async with self.engine.connect() as conn:
            candidates = await post_store.to_stage(conn, now=now, until=now + self.lead)
        by_account: dict[str, list[Post]] = {}
        for post in candidates:
            wanted = post.account in self.publishers and not holds_staged_draft(post)
            if wanted and not self._backing_off(post, now):
                by_account.setdefault(post.account, []).append(post)
        made = await asyncio.gather(*(self._stage_all(posts) for posts in by_account.values()))
        return sum(made)

    async def _stage_all(self, posts: list[Post]) -> int:
        made = 0
        for post in posts:
            made += await self._stage(post)
        return made

    def _backing_off(self, post: Post, now: datetime) -> bool:
        failed = self._failed.get(post.id)
        if failed is None:
            return False
        edited_at, _failures, next_try = failed
        if post.updated_at != edited_at:
            del self._failed[post.id]  # edited since: try the new text at once
            return False
        return now < next_try

    def _note(self, post: Post, made: bool) -> None:
        if made:
            self._failed.pop(post.id, None)
            return
        _, failures, _ = self._failed.get(post.id, (None, 0, self.clock()))
        wait = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2**failures)
        self._failed[post.id] = (
            post.updated_at,
            failures + 1,
            self.clock() + timedelta(seconds=wait),
        )

    async def _stage(self, post: Post) -> bool:
        async with self.engine.begin() as conn:
            held = await post_store.claim_for_staging(
                conn, post.id, owner=self.owner, now=self.clock(), lease=self.lease
            )
            if held:
                post = await post_store.get(conn, post.id)  # as it is now that we hold it
        if not held:
            return False
        made = False
        try:
            # Bounded well inside the lease (which is not renewed): a staging that outlives
            # its lease must not go on writing as if it still held the post.
            async with asyncio.timeout(self.lease.total_seconds() * 0.8):
                made = await self.publishers[post.account].stage_ahead(post, owner=self.owner)
        except Exception:  # one post's surprise must not stop the others' staging
            logger.exception("post %s: staging ahead failed; the slot will make its draft", post.id)
        finally:
            async with self.engine.begin() as conn:
                await post_store.release(conn, post.id, owner=self.owner)
        self._note(post, made)
        return made

    async def delete_abandoned(self) -> None:
        """Delete the drafts cancelled posts had made ahead (each forgotten in the store
        first, so one process deletes it; a failure leaves a harmless stray draft)."""
        async with self.engine.begin() as conn:
            taken = await post_store.take_abandoned_drafts(conn)
            posts = await post_store.get_many(conn, [post_id for post_id, _ in taken])
        by_id = {p.id: p for p in posts}
        for post_id, media_id in taken:
            post = by_id[post_id]
            publisher = self.publishers.get(post.account)
            if publisher is None:
                continue
            try:
                await publisher.api.draft_delete(media_id)
                outcome, detail = "ok", f"draft {media_id} deleted: the post was cancelled"
            except BotError as exc:
                outcome, detail = "error", f"draft {media_id}: {exc}"
            async with self.engine.begin() as conn:
                await log.append(
                    conn,
                    at=self.clock(),
                    step="draft/delete",
                    outcome=outcome,
                    post_id=post.id,
                    account=post.account,
                    column=post.column,
                    detail=detail,
                )

    async def run_forever(self, stop: asyncio.Event, *, tick: float) -> None:
        """Stage when woken (a slot opened ahead, a post was queued) and every ``tick``."""
        while not stop.is_set():
            self.wake.clear()
            try:
                await self.run_once()
            except Exception:
                logger.exception("staging pass failed; trying again next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(stop, self.wake), timeout=tick)


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
