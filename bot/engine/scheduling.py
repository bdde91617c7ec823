"""The Scheduler: opens each schedule's slots and fills them with the column's waiting posts.

The slots table is the truth. A slot is a row unique on (schedule, fire time), so it opens once
however many processes, restarts or clock jumps try. APScheduler (3.x, default in-memory job
store, never shared) is only an alarm clock that wakes this process at fire times; a start-up
pass and a safety tick every 30 s catch whatever it could not see (a restart, a sleeping host).

Slot states: ``opening`` (won, being filled; left so only if the process died right there),
``opened`` (took or drafted posts), ``empty`` (nothing to take, or the draft failed),
``missed`` (found later than the grace period allows; never fired afterwards) and
``skipped`` (a blackout date). Every final state is written to the publish log as step
``slot`` with the schedule, fire time and lateness in its detail.

With a lead (``[publisher] stage_ahead_seconds``) a slot opens that long before its fire
time and its posts are due at the fire time, so their drafts can be made ahead; a post queued
inside the lead waits for the next slot.

Pausing at run time is stored in the database and overrides the file's ``paused``; fire times
that pass while a schedule is paused are neither fired nor recorded, and resuming does not
catch them up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Config
from bot.domain.errors import NotFoundError
from bot.domain.models import PostStatus
from bot.engine.schedules import (
    ScheduleSpec,
    WhenQueueEmpty,
    fire_times_between,
    is_blackout,
    job_trigger,
    next_fire_times,
)
from bot.store import log as log_store
from bot.store import posts as post_store
from bot.store import slots as slot_store

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]

SAFETY_TICK_SECONDS = 30.0
# After a long outage only this much of the past is examined for missed fire times, and at
# most this many of them get a row each; the log row of the first says the older ones were
# missed as well.
SCHEDULES_IN_PARALLEL = 16
# A slot still "opening" this long after it opened was left by a process that died.
INTERRUPTED_AFTER = timedelta(minutes=10)
MISSED_HORIZON = timedelta(days=7)
MAX_MISSED_ROWS = 100

OPENING, OPENED, EMPTY, MISSED, SKIPPED = "opening", "opened", "empty", "missed", "skipped"


class DraftsPosts(Protocol):
    """What the Scheduler needs of ``bot.engine.drafting.Drafting``."""

    async def draft(
        self,
        column_name: str,
        *,
        at: datetime | None = ...,
        due_now: bool = ...,
        actor: str = ...,
    ) -> Any: ...


@dataclass(frozen=True)
class SlotOutcome:
    """What one pass did with one fire time (fire times another process got are absent)."""

    schedule: str
    column: str
    fire_at: datetime
    state: str
    slot_id: int | None
    post_ids: tuple[int, ...] = ()
    late: timedelta = timedelta(0)
    detail: str = ""


class Scheduler:
    def __init__(
        self,
        engine: AsyncEngine,
        config: Config,
        specs: Sequence[ScheduleSpec],
        clock: Clock,
        drafting: DraftsPosts,
        on_slot_opened: Callable[[], None],
        *,
        lead: timedelta = timedelta(0),
    ) -> None:
        self.engine = engine
        self.config = config
        self.specs = list(specs)
        self.clock = clock
        self.drafting = drafting
        self.on_slot_opened = on_slot_opened
        # Slots open this long before their fire time, their posts due at the fire time, so
        # the posts' drafts can be made ahead (bot.engine.staging).
        self.lead = lead
        self._pass_lock = asyncio.Lock()  # one pass at a time in this process
        self._wake = asyncio.Event()

    def spec(self, name: str) -> ScheduleSpec:
        for spec in self.specs:
            if spec.name == name:
                return spec
        raise NotFoundError(f"no schedule named {name!r}")

    # --- one pass -------------------------------------------------------------------------

    async def open_due_slots(self, now: datetime) -> list[SlotOutcome]:
        """Open every slot of every running schedule that is due at ``now`` (aware UTC): since
        the schedule's last slot (or ``now`` - grace for a new one), late within grace,
        recorded as missed beyond it. Wakes the publisher when a slot took posts."""
        async with self._pass_lock:
            await self._abandon_interrupted(now)
            async with self.engine.connect() as conn:
                states = await slot_store.schedule_states(conn)
            # Schedules open side by side (each one's own slots in order): with many accounts
            # firing in the same minute, drafting one after another would make the last
            # account late by the sum of everyone's drafting.
            limit = asyncio.Semaphore(SCHEDULES_IN_PARALLEL)

            async def open_one(spec: ScheduleSpec) -> list[SlotOutcome]:
                paused, changed_at = states.get(spec.name, (spec.paused, None))
                if paused:
                    return []
                async with limit:
                    return await self._open_schedule(spec, now, resumed_at=changed_at)

            results = await asyncio.gather(*(open_one(spec) for spec in self.specs))
        return [outcome for result in results for outcome in result]

    async def _abandon_interrupted(self, now: datetime) -> None:
        async with self.engine.begin() as conn:
            stale = await slot_store.abandon_stale_opening(conn, before=now - INTERRUPTED_AFTER)
            for slot in stale:
                await log_store.append(
                    conn,
                    at=now,
                    step="slot",
                    outcome="error",
                    column=slot.column,
                    detail=f"schedule={slot.schedule} fire_at={slot.fire_at.isoformat()}: "
                    "interrupted while drafting (the process stopped); recorded as empty",
                )

    async def _open_schedule(
        self, spec: ScheduleSpec, now: datetime, *, resumed_at: datetime | None
    ) -> list[SlotOutcome]:
        grace = timedelta(seconds=spec.grace_seconds)
        async with self.engine.connect() as conn:
            last = await slot_store.last_fire(conn, spec.name)
        start = last if last is not None else now - grace
        if resumed_at is not None and resumed_at > start:
            start = resumed_at  # fire times while it was paused are not owed
        scan_from = max(start, now - grace - MISSED_HORIZON)
        times = fire_times_between(spec, scan_from, now + self.lead, include_blackout=True)
        late = sum(1 for t in times if now - t > grace)
        times = times[max(0, late - MAX_MISSED_ROWS) :]
        if not times:
            return []
        if last is None:
            # A schedule that never fired owes nothing from before it ran: only its newest
            # fire time within grace opens (else a new every-minute schedule opens ten), and
            # those within the lead.
            past = [t for t in times if t <= now]
            times, prior = past[-1:] + [t for t in times if t > now], ""
        else:
            prior = _unrecorded_note(spec, start, times[0])
        outcomes: list[SlotOutcome] = []
        for fire_at in times:
            if is_blackout(spec, fire_at):
                outcome = await self._record(spec, fire_at, now, SKIPPED, "blackout date", prior)
            elif now - fire_at > grace:
                outcome = await self._record(spec, fire_at, now, MISSED, f"grace {grace}", prior)
            else:
                outcome = await self._open(spec, fire_at, now, prior)
            prior = ""
            if outcome is not None:
                outcomes.append(outcome)
                if outcome.post_ids:
                    self.on_slot_opened()  # the publisher starts at once, not after the pass
        return outcomes

    async def _open(
        self, spec: ScheduleSpec, fire_at: datetime, now: datetime, prior: str
    ) -> SlotOutcome | None:
        # Opening the slot and taking its posts is one transaction: a crash cannot leave a
        # slot that took nothing while posts waited.
        async with self.engine.begin() as conn:
            slot_id = await slot_store.open_slot(
                conn,
                schedule=spec.name,
                column=spec.column,
                fire_at=fire_at,
                now=now,
                state=OPENING,
            )
            if slot_id is None:
                return None  # another process (or an earlier pass) has this fire time
            waiting = await post_store.waiting_for_slot(conn, spec.column, spec.posts_per_slot)
            # A slot opened ahead makes its posts due at the fire time; a late one, now.
            due = max(fire_at, now)
            taken = [
                post.id
                for post in waiting
                if await post_store.assign_to_slot(conn, post, slot_id=slot_id, due=due, now=now)
            ]
            if taken or spec.when_queue_empty is WhenQueueEmpty.SKIP:
                state = OPENED if taken else EMPTY
                note = _join("queue empty" if not taken else "", prior)
                return await self._finish(conn, spec, slot_id, fire_at, now, state, taken, note)
        drafted, note = await self._draft(spec, fire_at if fire_at > now else None)
        async with self.engine.begin() as conn:
            state = OPENED if drafted else EMPTY
            note = _join(note, prior)
            return await self._finish(
                conn, spec, slot_id, fire_at, now, state, drafted, note, failed=not drafted
            )

    async def _draft(self, spec: ScheduleSpec, due: datetime | None) -> tuple[list[int], str]:
        """Draft one post for an empty queue, due at ``due`` (None: now); a failure leaves the
        slot empty, never opening."""
        try:
            result = await self.drafting.draft(
                spec.column, at=due, due_now=True, actor=f"schedule:{spec.name}"
            )
        except Exception as exc:  # the slot must still reach a final state and be logged
            logger.warning("schedule %s: drafting for %s failed: %s", spec.name, spec.column, exc)
            return [], f"queue empty; drafting failed: {exc}"
        post = result.post
        waits = " (waits for review)" if post.status == PostStatus.REVIEW else ""
        return [post.id], f"queue empty; drafted post {post.id}{waits}"

    async def _finish(
        self,
        conn: AsyncConnection,
        spec: ScheduleSpec,
        slot_id: int,
        fire_at: datetime,
        now: datetime,
        state: str,
        post_ids: list[int],
        note: str,
        *,
        failed: bool = False,
    ) -> SlotOutcome:
        """Record what the slot took; a failed draft is logged as an error, the slot as empty."""
        await slot_store.set_slot_result(conn, slot_id, state=state, posts=len(post_ids))
        detail = _detail(spec, fire_at, now, post_ids, note)
        await log_store.append(
            conn,
            at=now,
            step="slot",
            outcome="error" if failed else ("ok" if state == OPENED else state),
            account=self._account(spec),
            column=spec.column,
            detail=detail,
        )
        return SlotOutcome(
            spec.name, spec.column, fire_at, state, slot_id, tuple(post_ids), now - fire_at, detail
        )

    async def _record(
        self,
        spec: ScheduleSpec,
        fire_at: datetime,
        now: datetime,
        state: str,
        note: str,
        prior: str,
    ) -> SlotOutcome | None:
        """A fire time that opens no slot (missed or blackout): its row keeps it from firing
        later, its log row says why."""
        detail = _detail(spec, fire_at, now, [], _join(note, prior))
        async with self.engine.begin() as conn:
            slot_id = await slot_store.open_slot(
                conn,
                schedule=spec.name,
                column=spec.column,
                fire_at=fire_at,
                now=now,
                state=state,
            )
            if slot_id is None:
                return None
            await log_store.append(
                conn,
                at=now,
                step="slot",
                outcome=state,
                account=self._account(spec),
                column=spec.column,
                detail=detail,
            )
        logger.info("schedule %s: slot at %s %s", spec.name, fire_at.isoformat(), state)
        return SlotOutcome(
            spec.name, spec.column, fire_at, state, slot_id, (), now - fire_at, detail
        )

    def _account(self, spec: ScheduleSpec) -> str:
        return self.config.column(spec.column).account

    # --- pause, listing -------------------------------------------------------------------

    async def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume a schedule (stored, so every process sees it). Raises
        NotFoundError for an unknown name. Setting the state it already has changes nothing."""
        spec = self.spec(name)
        now = self.clock()
        async with self.engine.begin() as conn:
            states = await slot_store.schedule_states(conn)
            if states.get(name, (spec.paused, None))[0] == paused:
                return
            await slot_store.set_paused(conn, name, paused, now=now)
            await log_store.append(
                conn,
                at=now,
                step="schedule",
                outcome="paused" if paused else "resumed",
                account=self._account(spec),
                column=spec.column,
                detail=f"schedule={name}",
            )
        self._wake.set()

    async def upcoming(self, n: int = 5) -> list[dict[str, Any]]:
        """Each schedule with its next ``n`` fire times (aware UTC, blackout dates left out)."""
        now = self.clock()
        async with self.engine.connect() as conn:
            states = await slot_store.schedule_states(conn)
        return [
            {
                "schedule": spec.name,
                "column": spec.column,
                "timezone": spec.timezone,
                "when": spec.describe(),
                "posts_per_slot": spec.posts_per_slot,
                "when_queue_empty": spec.when_queue_empty.value,
                "paused": states.get(spec.name, (spec.paused, None))[0],
                "next": next_fire_times(spec, now, n),
            }
            for spec in self.specs
        ]

    # --- the service loop -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Open slots until ``stop`` is set: once at start-up (catch-up after a restart), at
        every fire time, and every SAFETY_TICK_SECONDS."""
        alarms = AsyncIOScheduler(timezone=UTC)  # default memory job store: never shared
        for spec in self.specs:
            alarms.add_job(
                self._alarm,
                trigger=job_trigger(spec),
                id=f"schedule:{spec.name}",
                # Late or bunched alarms are harmless: the pass itself decides what is due.
                misfire_grace_time=None,
                coalesce=True,
                max_instances=1,
            )
        alarms.start()
        try:
            await self._tick()
            while not stop.is_set():
                await self._sleep(stop)
                if not stop.is_set():
                    await self._tick()
        finally:
            alarms.shutdown(wait=False)
            await asyncio.sleep(0)  # its shutdown runs on the loop's next turn

    async def _alarm(self) -> None:
        self._wake.set()

    async def _sleep(self, stop: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(
                waits, timeout=SAFETY_TICK_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for wait in waits:
                wait.cancel()
            for wait in waits:
                with contextlib.suppress(asyncio.CancelledError):
                    await wait
        self._wake.clear()

    async def _tick(self) -> None:
        try:
            await self.open_due_slots(self.clock())
        except Exception:  # a database hiccup must not end the service; the next tick retries
            logger.exception("opening due slots failed")


def _detail(
    spec: ScheduleSpec, fire_at: datetime, now: datetime, post_ids: list[int], note: str
) -> str:
    local = fire_at.astimezone(spec.tz).isoformat()
    posts = ",".join(str(i) for i in post_ids) or "-"
    late = (now - fire_at).total_seconds()
    when = f"late={late:.1f}s" if late >= 0 else f"ahead={-late:.1f}s"
    text = f"schedule={spec.name} fire_at={fire_at.isoformat()} local={local} {when} posts={posts}"
    return f"{text} ({note})" if note else text


def _unrecorded_note(spec: ScheduleSpec, start: datetime, first_recorded: datetime) -> str:
    """Fire times cut off by the horizon or the row cap were missed too: said once, on the
    first row recorded after them."""
    earliest = next_fire_times(spec, start, 1, include_blackout=True)
    if not earliest or earliest[0] >= first_recorded:
        return ""
    return (
        f"fire times after {start.isoformat()} before this one were missed as well "
        "(too many or too old to record one by one)"
    )


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)
