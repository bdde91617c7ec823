"""What the account client needs from storage: a shared token cache with a refresh lease, and
per-day call counters. The store implements them against the database (every process shares
one token and one set of counters); ``bot.account.memory`` implements them in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredToken:
    """An access token and when it stops working (aware UTC)."""

    access_token: str = field(repr=False)
    expires_at: datetime

    def remaining_seconds(self, now: datetime) -> float:
        return (self.expires_at - now).total_seconds()


class TokenStore(Protocol):
    """One access token per account, shared by every process.

    The lease makes "one refresher at a time" hold across processes: only the caller that took
    it fetches a new token. Correctness does not depend on it (normal-mode stable_token hands
    every caller the same token); it saves calls and keeps tokens from racing each other.
    """

    async def load_token(self, account: str) -> StoredToken | None:
        """The stored token, or None when there is none yet."""
        ...

    async def take_refresh_lease(
        self, account: str, owner: str, *, now: datetime, until: datetime
    ) -> bool:
        """Atomically: if nobody holds the lease, or the holder's lease ended at or before
        ``now``, or ``owner`` holds it already, record ``owner`` as holder until ``until`` and
        return True; else return False. (SQL: an upsert of the row, then a guarded UPDATE whose
        row count says whether the lease was taken.)"""
        ...

    async def save_token(self, account: str, token: StoredToken, *, owner: str) -> None:
        """Store ``token`` for every process and release ``owner``'s lease."""
        ...

    async def release_refresh_lease(self, account: str, owner: str) -> None:
        """Give up ``owner``'s lease without a new token (the fetch failed). No-op when
        ``owner`` does not hold it."""
        ...


class CallCounter(Protocol):
    """Counts every HTTP call made to the platform, so quotas are budgets, not surprises."""

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
        """Add one call of ``endpoint`` (e.g. ``"draft/add"``) on ``quota_day`` (the
        Asia/Shanghai calendar day); ``error`` says whether it failed. ``errcode`` (None: no
        answer), ``latency_ms`` and ``attempt`` (1-based) let a store log the call too."""
        ...
