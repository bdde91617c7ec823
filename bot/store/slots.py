"""Scheduled slots: a row unique on (schedule, fire time), so a slot opens once however many
processes or restarts try; plus each schedule's paused flag."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.models import Slot
from bot.store.records import slot_from_row
from bot.store.tables import UTCDateTime, schedule_state, slots


async def open_slot(
    conn: AsyncConnection,
    *,
    schedule: str,
    column: str,
    fire_at: datetime,
    now: datetime,
    state: str = "opened",
) -> int | None:
    """Insert the slot row in the caller's transaction; returns its id, or None when another
    process already opened it (the unique (schedule, fire_at) decides, without an error that
    would abort the transaction)."""
    values = {
        "schedule": schedule,
        "column_name": column,
        "fire_at": fire_at,
        "opened_at": now,
        "state": state,
        "posts": 0,
    }
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = (
        insert(slots)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["schedule", "fire_at"])
        .returning(slots.c.id)
    )
    row = (await conn.execute(statement)).first()
    return int(row[0]) if row else None


async def set_slot_result(conn: AsyncConnection, slot_id: int, *, state: str, posts: int) -> None:
    await conn.execute(slots.update().where(slots.c.id == slot_id).values(state=state, posts=posts))


async def last_fire(conn: AsyncConnection, schedule: str) -> datetime | None:
    value = (
        await conn.execute(
            sa.select(sa.func.max(slots.c.fire_at)).where(slots.c.schedule == schedule)
        )
    ).scalar_one_or_none()
    if value is None:
        return None
    return UTCDateTime().process_result_value(value, conn.dialect)


async def list_slots(
    conn: AsyncConnection,
    *,
    schedule: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[Slot]:
    query = sa.select(slots).order_by(slots.c.fire_at.desc()).limit(limit)
    if schedule:
        query = query.where(slots.c.schedule == schedule)
    if since:
        query = query.where(slots.c.fire_at >= since)
    return [slot_from_row(r._mapping) for r in await conn.execute(query)]


async def paused_schedules(conn: AsyncConnection) -> set[str]:
    rows = await conn.execute(
        sa.select(schedule_state.c.schedule).where(schedule_state.c.paused.is_(True))
    )
    return {r[0] for r in rows}


async def set_paused(conn: AsyncConnection, schedule: str, paused: bool, *, now: datetime) -> None:
    exists = (
        await conn.execute(
            sa.select(schedule_state.c.schedule).where(schedule_state.c.schedule == schedule)
        )
    ).first()
    if exists:
        await conn.execute(
            schedule_state.update()
            .where(schedule_state.c.schedule == schedule)
            .values(paused=paused, updated_at=now)
        )
    else:
        await conn.execute(
            schedule_state.insert().values(schedule=schedule, paused=paused, updated_at=now)
        )


async def schedule_states(conn: AsyncConnection) -> dict[str, tuple[bool, datetime]]:
    """Each schedule's run-time paused flag (as ``set_paused`` stored it) and when it was set;
    schedules never paused or resumed at run time are absent."""
    rows = await conn.execute(
        sa.select(schedule_state.c.schedule, schedule_state.c.paused, schedule_state.c.updated_at)
    )
    return {r.schedule: (bool(r.paused), r.updated_at) for r in rows}


async def abandon_stale_opening(conn: AsyncConnection, *, before: datetime) -> list[Slot]:
    """Slots left "opening" by a process that died while drafting for them, opened before
    ``before``: recorded as empty (their fire time is owed nothing more; a post the drafting
    did create is queued and goes out on its own)."""
    stale = [
        slot_from_row(r._mapping)
        for r in await conn.execute(
            sa.select(slots).where(slots.c.state == "opening", slots.c.opened_at < before)
        )
    ]
    if stale:
        await conn.execute(
            slots.update()
            .where(slots.c.id.in_([s.id for s in stale]), slots.c.state == "opening")
            .values(state="empty")
        )
    return stale
