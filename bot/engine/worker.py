"""The loop that claims due posts and advances them: accounts in parallel (bounded), one
account's posts in order. ``bot publish --due`` and the service's publisher share it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import ConflictError
from bot.domain.models import Post, PostStatus
from bot.engine.context import current_post
from bot.engine.post_records import StepResult
from bot.engine.publishing import PostPublisher
from bot.store import accounts as account_store
from bot.store import posts as post_store

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class Worker:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        publishers: Mapping[str, PostPublisher],
        clock: Clock,
        owner: str,
        concurrency: int,
        lease_seconds: int,
    ) -> None:
        self.engine = engine
        self.publishers = publishers
        self.clock = clock
        self.owner = owner
        self.semaphore = asyncio.Semaphore(concurrency)
        self.lease = timedelta(seconds=lease_seconds)
        self.concurrency = concurrency
        self.wake = asyncio.Event()

    async def release_dead_leases(self, place: str) -> int:
        """At start-up: posts claimed by a process of this machine that has since died (a
        crash, SIGKILL) are due again now instead of when their lease would run out. Their
        stage says where to resume; nothing is sent again blindly."""
        now = self.clock()
        async with self.engine.begin() as conn:
            owners = await post_store.live_lease_owners(conn, now)
            gone = [owner for owner in owners if owner_is_gone(owner, place)]
            released = await post_store.expire_leases(conn, gone, now=now)
        if released:
            logger.warning("took over %d post(s) from %d dead process(es)", released, len(gone))
        return released

    async def run_once(self) -> list[StepResult]:
        """Claim what is due now and advance each claimed post until it must wait."""
        now = self.clock()
        async with self.engine.connect() as conn:
            parked = await account_store.parked_accounts(conn, now)
        excluded = list(parked)
        async with self.engine.begin() as conn:
            claimed = await post_store.claim_due(
                conn,
                now=now,
                owner=self.owner,
                lease=self.lease,
                accounts_excluded=excluded,
                limit=self.concurrency * 4,
            )
        if not claimed:
            return []
        results = await asyncio.gather(*(self._advance(post_id) for post_id in claimed))
        return [r for r in results if r is not None]

    async def _advance(self, post_id: int) -> StepResult | None:
        async with self.semaphore:
            # The lease was taken at claim time; waiting for the semaphore used some of it.
            async with self.engine.begin() as conn:
                held = await post_store.renew_lease(
                    conn, post_id, owner=self.owner, now=self.clock(), lease=self.lease
                )
                post = await post_store.get(conn, post_id)
            if not held:
                return None  # another worker has it now
            publisher = self.publishers.get(post.account)
            if publisher is None:
                logger.error("post %s names unknown account %s", post.id, post.account)
                await self._release(post_id)
                return None
            token = current_post.set(post)
            keeper = asyncio.create_task(self._keep_lease(post_id))
            try:
                result = await publisher.advance(post)
            except ConflictError as exc:  # someone cancelled or moved it meanwhile
                logger.info("post %s: %s", post_id, exc)
                result = None
            except Exception:
                logger.exception("post %s: unexpected error while publishing", post_id)
                result = None
            finally:
                keeper.cancel()
                current_post.reset(token)
            await self._release(post_id)
            return result

    async def _keep_lease(self, post_id: int) -> None:
        """Renew the lease while a slow step runs (retries, a token wait, reconciliation),
        so no other worker takes the post meanwhile."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            async with self.engine.begin() as conn:
                held = await post_store.renew_lease(
                    conn, post_id, owner=self.owner, now=self.clock(), lease=self.lease
                )
            if not held:
                logger.warning("post %s: lease lost to another worker", post_id)
                return

    async def _release(self, post_id: int) -> None:
        async with self.engine.begin() as conn:
            await post_store.release(conn, post_id, owner=self.owner)

    async def run_due(
        self, *, max_wait: float = 900.0, sleep: Callable[[float], Awaitable[object]] | None = None
    ) -> list[Post]:
        """One pass for ``bot publish --due``: publish every post due now and wait until each
        reaches a final state, needs a person, or has its retry scheduled."""
        sleeper = sleep or asyncio.sleep
        deadline = self.clock() + timedelta(seconds=max_wait)
        retrying: set[int] = set()
        touched: set[int] = set()
        while True:
            results = await self.run_once()
            for result in results:
                touched.add(result.post.id)
                if result.retry_scheduled:
                    retrying.add(result.post.id)
                else:
                    retrying.discard(result.post.id)
            async with self.engine.connect() as conn:
                current = [await post_store.get(conn, pid) for pid in sorted(touched)]
            now = self.clock()
            # Wait only for what will be due before the deadline: a post deferred to a later
            # day (quota, mass-send allowance) is reported as scheduled, not waited for.
            pending = [
                p
                for p in current
                if is_waiting(p)
                and p.id not in retrying
                and (p.next_attempt_at is None or p.next_attempt_at <= deadline)
            ]
            if now >= deadline:
                return current
            if not pending:
                # A pass claims one post per account: while passes still find work, more
                # posts of the same account may be due behind the ones just finished.
                if results:
                    continue
                return current
            wake_at = min(p.next_attempt_at or now for p in pending)
            pause = min((wake_at - now).total_seconds(), (deadline - now).total_seconds())
            await sleeper(max(0.05, pause))

    async def run_forever(self, stop: asyncio.Event, *, tick: float) -> None:
        """The service's publisher: a pass every ``tick`` seconds or when woken."""
        while not stop.is_set():
            # Cleared before the pass, so a wake-up that comes during it (a slot opened, an
            # event arrived) starts the next pass at once instead of being lost.
            self.wake.clear()
            try:
                worked = await self.run_once()
            except Exception:
                logger.exception("publisher pass failed; trying again next tick")
                worked = []
            if worked:
                continue  # more may have come due while this pass ran
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(stop, self.wake), timeout=tick)


def owner_is_gone(owner: str, place: str) -> bool:
    """Whether a lease owner (``place:pid:random``) was a process of this place that no longer
    runs. Owners elsewhere, or unreadable, are never judged gone: their leases just expire."""
    owner_place, _, tail = owner.partition(":")
    pid, _, _random = tail.partition(":")
    if owner_place != place or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


def is_waiting(post: Post) -> bool:
    return post.status is PostStatus.PUBLISHING and not post.needs_attention
