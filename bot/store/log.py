"""The append-only publish log: every transition and every API step of every post."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.models import LogEntry
from bot.store.records import log_from_row
from bot.store.tables import posts, publish_log


async def append(
    conn: AsyncConnection,
    *,
    at: datetime,
    step: str,
    outcome: str,
    post_id: int | None = None,
    account: str = "",
    column: str = "",
    from_status: str = "",
    to_status: str = "",
    errcode: int | None = None,
    latency_ms: int | None = None,
    attempt: int = 0,
    detail: str = "",
) -> None:
    await conn.execute(
        publish_log.insert().values(
            at=at,
            post_id=post_id,
            account=account,
            column_name=column,
            step=step,
            outcome=outcome,
            from_status=from_status,
            to_status=to_status,
            errcode=errcode,
            latency_ms=latency_ms,
            attempt=attempt,
            detail=detail[:2000],
        )
    )


async def list_entries(
    conn: AsyncConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    post_ids: Sequence[int] | None = None,
    account: str | None = None,
    column: str | None = None,
    post_status: str | None = None,
    outcome: str | None = None,
    limit: int = 1000,
) -> list[LogEntry]:
    """Entries oldest first. ``post_status`` keeps the entries of posts now in that status;
    ``outcome`` the entries with that outcome (ok, error, unknown, info)."""
    query = sa.select(publish_log).order_by(publish_log.c.at, publish_log.c.id)
    if since is not None:
        query = query.where(publish_log.c.at >= since)
    if until is not None:
        query = query.where(publish_log.c.at <= until)
    if post_ids is not None:
        query = query.where(publish_log.c.post_id.in_(list(post_ids)))
    if account:
        query = query.where(publish_log.c.account == account)
    if column:
        query = query.where(publish_log.c.column_name == column)
    if outcome:
        query = query.where(publish_log.c.outcome == outcome)
    if post_status:
        query = query.where(
            publish_log.c.post_id.in_(sa.select(posts.c.id).where(posts.c.status == post_status))
        )
    # Keep the newest ``limit`` rows, still shown oldest first.
    newest = query.order_by(None).order_by(publish_log.c.id.desc()).limit(limit).subquery()
    rows = await conn.execute(sa.select(newest).order_by(newest.c.at, newest.c.id))
    return [log_from_row(row._mapping) for row in rows]


async def api_call_counts(conn: AsyncConnection) -> list[tuple[str, str, int | None, int]]:
    """(account, endpoint, errcode, calls) over the whole log: the API calls are the rows that
    carry a latency."""
    rows = await conn.execute(
        sa.select(publish_log.c.account, publish_log.c.step, publish_log.c.errcode, sa.func.count())
        .where(publish_log.c.latency_ms.is_not(None))
        .group_by(publish_log.c.account, publish_log.c.step, publish_log.c.errcode)
    )
    return [(account, step, errcode, int(n)) for account, step, errcode, n in rows]


_BY_PERSON = re.compile(r" by (?:web|api):(\S+)$")


async def editors(conn: AsyncConnection, post_id: int) -> set[str]:
    """The users who ever changed the post's content: its "edit" rows end "by web:NAME" or
    "by api:NAME" (drafting writes them so). The CLI and the scheduler are nobody."""
    rows = await conn.execute(
        sa.select(publish_log.c.detail).where(
            publish_log.c.post_id == post_id, publish_log.c.step == "edit"
        )
    )
    return {m.group(1) for (detail,) in rows if (m := _BY_PERSON.search(detail or ""))}
