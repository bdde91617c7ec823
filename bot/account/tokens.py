"""The access token of one account: read from the shared ``TokenStore``, refreshed before it
expires by one caller at a time (an ``asyncio.Lock`` within the process, the store's lease
across processes), and replaced after the platform rejects it only if nobody replaced it yet.

The fetch itself (``POST /cgi-bin/stable_token`` in normal mode) is the client's; this module
knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.account.errors import TOKEN_ENDPOINT, ApiTransientError
from bot.account.ports import StoredToken, TokenStore

# (access_token, expires_in seconds)
FetchToken = Callable[[], Awaitable[tuple[str, float]]]


class TokenProvider:
    """Hands out the account's access token.

    ``refresh_before``: seconds of validity under which a token is refreshed (stable_token
    rotates in a token's last 5 minutes, so refreshing earlier only returns the same token).
    ``lease_seconds``: how long another process may hold the refresh lease before this one
    takes over. ``wait_step``: seconds between looks at the store while another process
    refreshes.
    """

    def __init__(
        self,
        account: str,
        store: TokenStore,
        fetch: FetchToken,
        *,
        owner: str,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        refresh_before: float = 300.0,
        lease_seconds: float = 60.0,
        wait_step: float = 0.2,
    ) -> None:
        self._account = account
        self._store = store
        self._fetch = fetch
        self._owner = owner
        self._clock = clock
        self._sleep = sleep
        self._refresh_before = refresh_before
        self._lease = timedelta(seconds=lease_seconds)
        self._wait_step = wait_step
        self._max_waits = max(1, int(lease_seconds / wait_step) + 1)
        self._lock = asyncio.Lock()

    async def current(self) -> str:
        """A usable token, refreshing it first when it is missing or about to expire.

        Raises what the fetch raises (``ApiSetupError`` for a wrong secret, transient errors),
        or ``ApiTransientError`` when another process held the lease and never saved a token.
        """
        stored = await self._store.load_token(self._account)
        if self._fresh(stored):
            assert stored is not None
            return stored.access_token
        async with self._lock:  # one refresh per process; the others wait and reuse it
            return await self._obtain(rejected=None)

    async def replace(self, rejected: str) -> str:
        """A token other than ``rejected``, which the platform just refused (40001/40014/
        42001). Fetches one only if ``rejected`` is still the stored token; when another
        caller already replaced it, returns the newer one without a call."""
        async with self._lock:
            return await self._obtain(rejected=rejected)

    def _fresh(self, stored: StoredToken | None) -> bool:
        return stored is not None and stored.remaining_seconds(self._clock()) > self._refresh_before

    def _usable(self, stored: StoredToken | None, rejected: str | None) -> bool:
        return (
            stored is not None
            and stored.access_token != rejected
            and stored.remaining_seconds(self._clock()) > 0
        )

    async def _obtain(self, rejected: str | None) -> str:
        for _ in range(self._max_waits):
            stored = await self._store.load_token(self._account)
            usable = self._usable(stored, rejected)
            if usable and self._fresh(stored):
                assert stored is not None
                return stored.access_token
            now = self._clock()
            taken = await self._store.take_refresh_lease(
                self._account, self._owner, now=now, until=now + self._lease
            )
            if taken:
                # Another process may have saved a successor between the read above (perhaps
                # from a cache) and the lease, which its save set free: read again before
                # fetching a third token.
                latest = await self._store.load_token(self._account)
                if self._usable(latest, rejected) and self._fresh(latest):
                    assert latest is not None
                    await self._store.release_refresh_lease(self._account, self._owner)
                    return latest.access_token
                return await self._fetch_and_save()
            if usable:
                # Still valid for a while; whoever holds the lease is fetching its successor.
                assert stored is not None
                return stored.access_token
            await self._sleep(self._wait_step)
        raise ApiTransientError(
            f"{TOKEN_ENDPOINT}: another process holds the token refresh lease of account "
            f"{self._account!r} and saved no token in time",
            endpoint=TOKEN_ENDPOINT,
        )

    async def _fetch_and_save(self) -> str:
        try:
            access_token, expires_in = await self._fetch()
        except BaseException:
            await self._store.release_refresh_lease(self._account, self._owner)
            raise
        stored = StoredToken(access_token, self._clock() + timedelta(seconds=expires_in))
        await self._store.save_token(self._account, stored, owner=self._owner)
        return access_token
