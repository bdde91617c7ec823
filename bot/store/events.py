"""Callback events received from the platform, deduplicated by a key per account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.tables import callback_events, callback_signatures


async def record_event(
    engine: AsyncEngine,
    *,
    account: str,
    dedupe_key: str,
    event: str,
    payload: dict[str, Any],
    now: datetime,
) -> int | None:
    """Store the event; returns its id, or None if this key was seen before (a duplicate)."""
    try:
        async with engine.begin() as conn:
            result = await conn.execute(
                callback_events.insert().values(
                    account=account,
                    dedupe_key=dedupe_key,
                    event=event,
                    payload=payload,
                    received_at=now,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]
    except IntegrityError:
        return None


async def unhandled(conn: AsyncConnection, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(callback_events)
        .where(callback_events.c.handled_at.is_(None))
        .order_by(callback_events.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


async def mark_handled(conn: AsyncConnection, event_id: int, *, now: datetime) -> None:
    await conn.execute(
        callback_events.update().where(callback_events.c.id == event_id).values(handled_at=now)
    )


async def publish_event_for(
    conn: AsyncConnection, account: str, publish_id: str
) -> dict[str, Any] | None:
    """The final PUBLISHJOBFINISH payload received for a publish_id, if any."""
    rows = await conn.execute(
        sa.select(callback_events.c.payload)
        .where(callback_events.c.account == account, callback_events.c.event == "publish")
        .order_by(callback_events.c.id.desc())
    )
    for (payload,) in rows:
        if str(payload.get("publish_id")) == publish_id:
            return dict(payload)
    return None


async def record_push(
    engine: AsyncEngine,
    *,
    account: str,
    signature: str,
    body_sha256: str,
    now: datetime,
    forget_before: datetime,
    dedupe_key: str,
    event: str,
    payload: dict[str, Any],
) -> tuple[str, int | None]:
    """Note that a push with ``signature`` and this body arrived and, if it is new, store its
    event, in one transaction (a crash cannot keep the one without the other). Returns
    ("new", the event's id or None when its dedupe key was seen before), ("retry", None)
    when the signature came before with the same body (the platform sending it again), or
    ("replay", None) when it came before with another body. Signatures older than
    ``forget_before`` are forgotten: the caller refuses their timestamps anyway."""
    async with engine.begin() as conn:
        await conn.execute(
            callback_signatures.delete().where(callback_signatures.c.seen_at < forget_before)
        )
        seen = await _seen_body(conn, account, signature)
        if seen is None:
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        callback_signatures.insert().values(
                            account=account,
                            signature=signature,
                            body_sha256=body_sha256,
                            seen_at=now,
                        )
                    )
            except IntegrityError:  # the same push, at the same instant, on another worker
                seen = await _seen_body(conn, account, signature)
        if seen is not None:
            return ("retry" if seen == body_sha256 else "replay"), None
        try:
            async with conn.begin_nested():
                result = await conn.execute(
                    callback_events.insert().values(
                        account=account,
                        dedupe_key=dedupe_key,
                        event=event,
                        payload=payload,
                        received_at=now,
                    )
                )
        except IntegrityError:  # the same event in another push (the dedupe key)
            return "new", None
        return "new", int(result.inserted_primary_key[0])  # type: ignore[index]


async def _seen_body(conn: AsyncConnection, account: str, signature: str) -> str | None:
    row = await conn.execute(
        sa.select(callback_signatures.c.body_sha256).where(
            callback_signatures.c.account == account,
            callback_signatures.c.signature == signature,
        )
    )
    found = row.scalar_one_or_none()
    return str(found) if found is not None else None


async def publish_event_for_article(
    conn: AsyncConnection, account: str, article_id: str
) -> dict[str, Any] | None:
    """The newest PUBLISHJOBFINISH payload that names ``article_id``, if any."""
    rows = await conn.execute(
        sa.select(callback_events.c.payload)
        .where(callback_events.c.account == account, callback_events.c.event == "publish")
        .order_by(callback_events.c.id.desc())
    )
    for (payload,) in rows:
        if article_id and str(payload.get("article_id") or "").strip() == article_id:
            return dict(payload)
    return None
