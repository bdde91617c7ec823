"""Per-account shared state: the access token every process uses, call counters per endpoint
and quota day, parking after 45009, and the media already uploaded (by content hash)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.tables import account_state, account_tokens, api_calls, media_cache

# --- tokens ---------------------------------------------------------------------------------


async def load_token(engine: AsyncEngine, account: str) -> tuple[str, datetime | None]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(account_tokens.c.access_token, account_tokens.c.expires_at).where(
                    account_tokens.c.account == account
                )
            )
        ).first()
    return (row[0], row[1]) if row else ("", None)


async def save_token(
    engine: AsyncEngine, account: str, token: str, expires_at: datetime, *, owner: str
) -> None:
    async with engine.begin() as conn:
        await _ensure_token_row(conn, account)
        await conn.execute(
            account_tokens.update()
            .where(account_tokens.c.account == account)
            .values(
                access_token=token, expires_at=expires_at, refresh_owner=None, refresh_until=None
            )
        )


async def try_refresh_lease(
    engine: AsyncEngine, account: str, *, owner: str, now: datetime, until: datetime
) -> bool:
    """Take the right to refresh the token for ``ttl``; one caller at a time across processes."""
    async with engine.begin() as conn:
        await _ensure_token_row(conn, account)
        result = await conn.execute(
            account_tokens.update()
            .where(
                account_tokens.c.account == account,
                sa.or_(
                    account_tokens.c.refresh_until.is_(None),
                    account_tokens.c.refresh_until <= now,
                    account_tokens.c.refresh_owner == owner,
                ),
            )
            .values(refresh_owner=owner, refresh_until=until)
        )
        return result.rowcount == 1


async def _ensure_token_row(conn: AsyncConnection, account: str) -> None:
    exists = (
        await conn.execute(
            sa.select(account_tokens.c.account).where(account_tokens.c.account == account)
        )
    ).first()
    if exists is None:
        stmt = _insert_ignore(conn, account_tokens, {"account": account, "access_token": ""})
        await conn.execute(stmt)


def _insert_ignore(conn: AsyncConnection, table: sa.Table, values: dict[str, object]) -> sa.Insert:
    """INSERT that does nothing when the key exists (both engines)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).values(**values).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).values(**values).on_conflict_do_nothing()


# --- call counters --------------------------------------------------------------------------


async def count_call(
    engine: AsyncEngine, account: str, endpoint: str, quota_day: date, *, error: bool
) -> None:
    async with engine.begin() as conn:
        await count_call_in(conn, account, endpoint, quota_day, error=error)


async def count_call_in(
    conn: AsyncConnection, account: str, endpoint: str, quota_day: date, *, error: bool
) -> None:
    """Add one call to the day's counter, in the caller's transaction."""
    await conn.execute(
        _insert_ignore(
            conn,
            api_calls,
            {
                "account": account,
                "endpoint": endpoint,
                "quota_day": quota_day,
                "calls": 0,
                "errors": 0,
            },
        )
    )
    await conn.execute(
        api_calls.update()
        .where(
            api_calls.c.account == account,
            api_calls.c.endpoint == endpoint,
            api_calls.c.quota_day == quota_day,
        )
        .values(calls=api_calls.c.calls + 1, errors=api_calls.c.errors + (1 if error else 0))
    )


async def calls_on(conn: AsyncConnection, account: str, quota_day: date) -> dict[str, int]:
    rows = await conn.execute(
        sa.select(api_calls.c.endpoint, api_calls.c.calls).where(
            api_calls.c.account == account, api_calls.c.quota_day == quota_day
        )
    )
    return {endpoint: calls for endpoint, calls in rows}


async def calls_total(
    conn: AsyncConnection, *, endpoints: list[str] | None = None
) -> dict[str, int]:
    """Calls per endpoint over all accounts and days (for benchmarks and metrics)."""
    query = sa.select(api_calls.c.endpoint, sa.func.sum(api_calls.c.calls)).group_by(
        api_calls.c.endpoint
    )
    if endpoints:
        query = query.where(api_calls.c.endpoint.in_(endpoints))
    return {endpoint: int(total) for endpoint, total in await conn.execute(query)}


# --- parking --------------------------------------------------------------------------------


async def park(
    conn: AsyncConnection, account: str, *, until: datetime, reason: str, now: datetime
) -> None:
    await conn.execute(_insert_ignore(conn, account_state, {"account": account}))
    await conn.execute(
        account_state.update()
        .where(account_state.c.account == account)
        .values(parked_until=until, park_reason=reason, last_error=reason, last_error_at=now)
    )


async def note_error(conn: AsyncConnection, account: str, *, error: str, now: datetime) -> None:
    await conn.execute(_insert_ignore(conn, account_state, {"account": account}))
    await conn.execute(
        account_state.update()
        .where(account_state.c.account == account)
        .values(last_error=error[:500], last_error_at=now)
    )


async def parked_accounts(conn: AsyncConnection, now: datetime) -> dict[str, tuple[datetime, str]]:
    rows = await conn.execute(
        sa.select(
            account_state.c.account, account_state.c.parked_until, account_state.c.park_reason
        ).where(account_state.c.parked_until > now)
    )
    return {account: (until, reason) for account, until, reason in rows}


async def account_states(conn: AsyncConnection) -> dict[str, dict[str, object]]:
    rows = await conn.execute(sa.select(account_state))
    return {row.account: dict(row._mapping) for row in rows}


# --- media cache ----------------------------------------------------------------------------


async def cached_media(
    conn: AsyncConnection, account: str, sha256: str, purpose: str
) -> tuple[str, str] | None:
    row = (
        await conn.execute(
            sa.select(media_cache.c.media_id, media_cache.c.url).where(
                media_cache.c.account == account,
                media_cache.c.sha256 == sha256,
                media_cache.c.purpose == purpose,
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def remember_media(
    conn: AsyncConnection,
    account: str,
    sha256: str,
    purpose: str,
    *,
    media_id: str,
    url: str,
    now: datetime,
) -> None:
    await conn.execute(
        _insert_ignore(
            conn,
            media_cache,
            {
                "account": account,
                "sha256": sha256,
                "purpose": purpose,
                "media_id": media_id,
                "url": url,
                "created_at": now,
            },
        )
    )


async def forget_media(conn: AsyncConnection, account: str, media_ids: Sequence[str]) -> int:
    """Drop cached uploads the platform no longer knows (40007); returns how many rows."""
    if not media_ids:
        return 0
    result = await conn.execute(
        media_cache.delete().where(
            media_cache.c.account == account, media_cache.c.media_id.in_(list(media_ids))
        )
    )
    return int(result.rowcount or 0)


async def release_refresh_lease(engine: AsyncEngine, account: str, *, owner: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            account_tokens.update()
            .where(account_tokens.c.account == account, account_tokens.c.refresh_owner == owner)
            .values(refresh_owner=None, refresh_until=None)
        )
