"""The loop that claims due posts and advances them: one post in flight per account (so an
account's posts go in order), every account at once. ``bot publish --due`` and the service's
publisher share it.

How many accounts run at once needs no tuning: a post spends nearly all its time waiting for
the platform, so the bound is the HTTP client's connection pool and the database's, not the
CPU. ``[publisher] concurrency`` can still cap it (0, the default, means every account)."""

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
# Reaching these clears the lease in the same write (``_published``, ``_finish``, ``_fail``).
FINAL = frozenset({PostStatus.PUBLISHED, PostStatus.FAILED})
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
        self.lease = timedelta(seconds=lease_seconds)
        # Posts in flight at most: one per account, capped by ``concurrency`` when set.
        self.capacity = max(1, concurrency or len(publishers))
        self.wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[StepResult | None]] = set()

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
        claimed = await self._claim(self.capacity)
        if not claimed:
            return []
        results = await asyncio.gather(*(self._advance(post) for post in claimed))
        return [r for r in results if r is not None]

    async def _claim(self, limit: int) -> list[Post]:
        """Claim up to ``limit`` due posts; returns them as they are now that we hold them."""
        now = self.clock()
        async with self.engine.connect() as conn:
            parked = await account_store.parked_accounts(conn, now)
        async with self.engine.begin() as conn:
            claimed = await post_store.claim_due(
                conn,
                now=now,
                owner=self.owner,
                lease=self.lease,
                accounts_excluded=list(parked),
                limit=limit,
            )
            return await post_store.get_many(conn, claimed)

    async def _advance(self, post: Post) -> StepResult | None:
        # The lease was taken a moment ago, in the claim: no renewal before the first step.
        post_id = post.id
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
        # A post that reached a wait or a final state gave up its lease in that same write;
        # only the other ends (an error, a person's turn) still hold it.
        if result is None or not (result.released or result.post.status in FINAL):
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
        self,
        *,
        max_wait: float = 900.0,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        on_progress: Callable[[list[Post]], None] | None = None,
    ) -> list[Post]:
        """One pass for ``bot publish --due``: publish every post due now and wait until each
        reaches a final state, needs a person, or has its retry scheduled.

        A pass that did work is followed at once by another: a post waiting for its publish
        job is not due, so the next due post of the same account goes ahead meanwhile. Only
        when nothing is due does it sleep, until the earliest wait ends. ``on_progress`` is
        called with the posts touched so far after every pass."""
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
                current = await post_store.get_many(conn, sorted(touched))
            if on_progress is not None:
                on_progress(current)
            now = self.clock()
            if now >= deadline:
                return current
            if results:
                continue  # more may be due: never sleep while a post is due
            # Wait only for what will be due before the deadline: a post deferred to a later
            # day (quota, mass-send allowance) is reported as scheduled, not waited for.
            pending = [
                p
                for p in current
                if is_waiting(p)
                and p.id not in retrying
                and (p.next_attempt_at is None or p.next_attempt_at <= deadline)
            ]
            if not pending:
                return current
            wake_at = min(p.next_attempt_at or now for p in pending)
            pause = min((wake_at - now).total_seconds(), (deadline - now).total_seconds())
            await sleeper(max(0.05, pause))

    async def run_forever(self, stop: asyncio.Event, *, tick: float) -> None:
        """The service's publisher: claims whenever woken (a slot opened, an event arrived, a
        post finished its step) or every ``tick`` seconds, and starts each claimed post at
        once. A slow post never holds up other accounts: claiming does not wait for the
        posts already in flight, it only leaves their accounts alone."""
        try:
            while not stop.is_set():
                # Cleared before claiming, so a wake-up that comes meanwhile starts the next
                # claim at once instead of being lost.
                self.wake.clear()
                free = self.capacity - len(self._in_flight)
                claimed: list[Post] = []
                if free > 0:
                    try:
                        claimed = await self._claim(free)
                    except Exception:
                        logger.exception("publisher claim failed; trying again next tick")
                for post in claimed:
                    task = asyncio.create_task(self._advance(post))
                    self._in_flight.add(task)
                    task.add_done_callback(self._finished)
                if len(claimed) == free and free > 0:
                    continue  # there may be more due than there was room for
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self.wake), timeout=await self._pause(tick))
        except asyncio.CancelledError:
            for task in self._in_flight:
                task.cancel()
            raise
        finally:
            # Stopped: posts in flight finish their step (and give up their leases) first.
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _pause(self, tick: float) -> float:
        """Seconds until the next post comes due (a slot's fire time, a poll), at most
        ``tick``: a post staged for 08:00 is claimed at 08:00, not at the next tick."""
        try:
            async with self.engine.connect() as conn:
                next_due = await post_store.next_due_at(conn, self.clock())
        except Exception:
            logger.exception("publisher: cannot read the next due time")
            return tick
        if next_due is None:
            return tick
        return max(0.0, min(tick, (next_due - self.clock()).total_seconds() + 0.001))

    def _finished(self, task: asyncio.Task[StepResult | None]) -> None:
        self._in_flight.discard(task)
        self.wake.set()  # the account may have its next post due


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
