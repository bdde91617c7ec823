"""In-memory ``TokenStore`` and ``CallCounter`` for tests and single-process use. Each method
runs without awaiting, so within one event loop every method is atomic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from bot.account.ports import StoredToken


@dataclass(slots=True)
class _Lease:
    owner: str
    until: datetime


class MemoryTokenStore:
    """Tokens and refresh leases in a dict. Share one instance between clients to play the
    part of a database shared by several processes."""

    def __init__(self) -> None:
        self._tokens: dict[str, StoredToken] = {}
        self._leases: dict[str, _Lease] = {}
        self.saves = 0  # how many tokens were saved: what tests count refreshes by

    async def load_token(self, account: str) -> StoredToken | None:
        return self._tokens.get(account)

    async def take_refresh_lease(
        self, account: str, owner: str, *, now: datetime, until: datetime
    ) -> bool:
        lease = self._leases.get(account)
        if lease is not None and lease.owner != owner and lease.until > now:
            return False
        self._leases[account] = _Lease(owner, until)
        return True

    async def save_token(self, account: str, token: StoredToken, *, owner: str) -> None:
        self._tokens[account] = token
        self.saves += 1
        await self.release_refresh_lease(account, owner)

    async def release_refresh_lease(self, account: str, owner: str) -> None:
        lease = self._leases.get(account)
        if lease is not None and lease.owner == owner:
            del self._leases[account]

    def lease_holder(self, account: str) -> str | None:
        lease = self._leases.get(account)
        return lease.owner if lease else None


class MemoryCallCounter:
    """Call and error counts keyed by (account, endpoint, quota day)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str, date]] = Counter()
        self.errors: Counter[tuple[str, str, date]] = Counter()

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
        self.calls[(account, endpoint, quota_day)] += 1
        if error:
            self.errors[(account, endpoint, quota_day)] += 1
