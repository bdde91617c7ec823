"""The account client's storage ports (token cache, call counters) backed by the database, so
every process shares one token and one set of counters per account."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.ports import StoredToken
from bot.store import accounts as account_store


class DatabaseTokenStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load_token(self, account: str) -> StoredToken | None:
        token, expires_at = await account_store.load_token(self.engine, account)
        if not token or expires_at is None:
            return None
        return StoredToken(token, expires_at)

    async def take_refresh_lease(
        self, account: str, owner: str, *, now: datetime, until: datetime
    ) -> bool:
        return await account_store.try_refresh_lease(
            self.engine, account, owner=owner, now=now, until=until
        )

    async def save_token(self, account: str, token: StoredToken, *, owner: str) -> None:
        await account_store.save_token(
            self.engine, account, token.access_token, token.expires_at, owner=owner
        )

    async def release_refresh_lease(self, account: str, owner: str) -> None:
        await account_store.release_refresh_lease(self.engine, account, owner=owner)


class DatabaseCallCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def count_call(
        self, account: str, endpoint: str, quota_day: date, *, error: bool
    ) -> None:
        await account_store.count_call(self.engine, account, endpoint, quota_day, error=error)
