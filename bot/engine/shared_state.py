"""The account client's storage ports backed by the database, so every process shares one
token and one set of call counters per account; each call is also written to the publish
log, attributed to the post being published, in the same transaction as its count."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.ports import StoredToken
from bot.engine.context import current_post
from bot.store import accounts as account_store
from bot.store import log as log_store

logger = logging.getLogger(__name__)

# How long a process trusts the token it read. stable_token hands every caller the same token
# and keeps a replaced one valid for five minutes, so a minute-old copy is always usable; a
# 40001 makes the client ask the store again (and at worst fetch the same token once more).
TOKEN_CACHE = timedelta(seconds=60)


class DatabaseTokenStore:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock
        self._cache: dict[str, tuple[StoredToken, datetime]] = {}

    async def load_token(self, account: str) -> StoredToken | None:
        cached = self._cache.get(account)
        if cached is not None and self.clock() - cached[1] < TOKEN_CACHE:
            return cached[0]
        token, expires_at = await account_store.load_token(self.engine, account)
        if not token or expires_at is None:
            return None
        stored = StoredToken(token, expires_at)
        self._cache[account] = (stored, self.clock())
        return stored

    async def take_refresh_lease(
        self, account: str, owner: str, *, now: datetime, until: datetime
    ) -> bool:
        self._cache.pop(account, None)  # whoever refreshes, read the result from the store
        return await account_store.try_refresh_lease(
            self.engine, account, owner=owner, now=now, until=until
        )

    async def save_token(self, account: str, token: StoredToken, *, owner: str) -> None:
        await account_store.save_token(
            self.engine, account, token.access_token, token.expires_at, owner=owner
        )
        self._cache[account] = (token, self.clock())

    async def release_refresh_lease(self, account: str, owner: str) -> None:
        await account_store.release_refresh_lease(self.engine, account, owner=owner)


class DatabaseCallRecorder:
    """Counts every call per account, endpoint and quota day, and logs it: one transaction."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    async def count_call(
        self,
        account: str,
        endpoint: str,
        quota_day: date,
        *,
        error: bool,
        errcode: int | None = 0,
        latency_ms: int | None = None,
        attempt: int = 1,
    ) -> None:
        post = current_post.get()
        outcome = "ok" if errcode == 0 else ("unknown" if errcode is None else "error")
        async with self.engine.begin() as conn:
            await account_store.count_call_in(conn, account, endpoint, quota_day, error=error)
            await log_store.append(
                conn,
                at=self.clock(),
                step=endpoint,
                outcome=outcome,
                post_id=post.id if post else None,
                account=account,
                column=post.column if post else "",
                errcode=errcode,
                latency_ms=latency_ms,
                attempt=attempt,
            )
