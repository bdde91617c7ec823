"""Each account's health as the admin, the API and /metrics show it: the access token and
its expiry, calls used and left today per endpoint (the platform's quota day), whether the
account is parked (45009) and its last error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.app import Services
from bot.engine.quota import quota_day
from bot.store import accounts as account_store


async def account_health(services: Services) -> list[dict[str, Any]]:
    """One dict per configured account; datetimes are aware UTC (shapes convert them)."""
    now = services.clock()
    today = quota_day(now)
    found: list[dict[str, Any]] = []
    async with services.engine.connect() as conn:
        parked = await account_store.parked_accounts(conn, now)
        states = await account_store.account_states(conn)
        used_by_account = {
            a.name: await account_store.calls_on(conn, a.name, today)
            for a in services.config.accounts
        }
    for account in services.config.accounts:
        token, expires_at = await account_store.load_token(services.engine, account.name)
        used = used_by_account[account.name]
        endpoints = sorted(set(account.quota.daily) | set(used))
        quota = [
            {
                "endpoint": endpoint,
                "used": used.get(endpoint, 0),
                "limit": account.quota.daily.get(endpoint),
                "left": (
                    max(0, account.quota.daily[endpoint] - used.get(endpoint, 0))
                    if endpoint in account.quota.daily
                    else None
                ),
            }
            for endpoint in endpoints
        ]
        state = states.get(account.name, {})
        until, reason = parked.get(account.name, (None, ""))
        found.append(
            {
                "account": account.name,
                "token_present": bool(token),
                "token_expires_at": expires_at,
                "token_valid": bool(token) and expires_at is not None and expires_at > now,
                "parked_until": until,
                "park_reason": reason,
                "last_error": state.get("last_error") or "",
                "last_error_at": state.get("last_error_at"),
                "quota_day": today.isoformat(),
                "quota": quota,
            }
        )
    return found


def health_json(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with its datetimes as ISO 8601 strings."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in item.items()}
