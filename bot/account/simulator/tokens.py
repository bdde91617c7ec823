"""Access tokens as the platform issues and checks them (wechat-api.md §1).

Classic ``/cgi-bin/token``: every call issues a new token and cuts the earlier ones to five more
minutes. ``/cgi-bin/stable_token``: normal mode hands out the same token while it has more than
five minutes left, then rotates (the old one lives to its natural end); ``force_refresh``
invalidates the previous token at once, at most once per 30 s. The two families are isolated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.account.simulator.errors import ApiFault
from bot.account.simulator.ids import IdMaker

GRACE_SECONDS = 300  # old and new token overlap this long (§1.1, §1.2)
FORCE_SPACING_SECONDS = 30


@dataclass(slots=True)
class _Token:
    value: str
    kind: str  # "classic" or "stable"
    expires_at: float  # natural end, epoch seconds
    cut_at: float | None = None  # when it stops because a newer token replaced it


class TokenBook:
    def __init__(self, appid: str, secret: str, ttl_seconds: int, ids: IdMaker) -> None:
        self._appid = appid
        self._secret = secret
        self._ttl = ttl_seconds
        self._ids = ids
        self._tokens: dict[str, _Token] = {}
        self._stable: _Token | None = None
        self._last_force: float | None = None

    def check_credentials(self, params: Mapping[str, object]) -> None:
        """Raises ApiFault for a wrong grant_type, app id or secret."""
        if params.get("grant_type") != "client_credential":
            raise ApiFault(40002)
        if not params.get("appid"):
            raise ApiFault(41002)
        if not params.get("secret"):
            raise ApiFault(41004)
        if params["appid"] != self._appid:
            raise ApiFault(40013)
        if params["secret"] != self._secret:
            # From the token endpoint 40001 means the AppSecret is wrong (§1.3).
            raise ApiFault(40001, "AppSecret error or AppSecret is not belong to this appid")

    def _issue(self, kind: str, now: float) -> _Token:
        token = _Token(f"{int(now) % 100}_{self._ids.urlsafe(96)}", kind, now + self._ttl)
        self._tokens[token.value] = token
        return token

    @staticmethod
    def _answer(token: _Token, now: float) -> dict[str, object]:
        return {"access_token": token.value, "expires_in": int(token.expires_at - now)}

    def classic(self, now: float) -> dict[str, object]:
        for token in self._tokens.values():
            if token.kind == "classic" and self._alive(token, now):
                token.cut_at = min(token.cut_at or token.expires_at, now + GRACE_SECONDS)
        return self._answer(self._issue("classic", now), now)

    def stable(self, now: float, *, force: bool) -> dict[str, object]:
        """``force`` must already have been admitted by the force_refresh quota."""
        current = self._stable
        if force and self.force_allowed(now):
            self._last_force = now
            if current is not None:
                current.cut_at = now  # a forced refresh invalidates the previous token at once
        elif (
            current is not None
            and self._alive(current, now)
            and current.expires_at - now > GRACE_SECONDS
        ):
            return self._answer(current, now)
        # None, dead, forced, or in its last five minutes: rotate. In the last case the old
        # token keeps its natural end, so both work during the overlap.
        self._stable = self._issue("stable", now)
        return self._answer(self._stable, now)

    def force_allowed(self, now: float) -> bool:
        # A faster call "does not refresh" (§1.2): it is answered like a normal one.
        return self._last_force is None or now - self._last_force >= FORCE_SPACING_SECONDS

    @staticmethod
    def _alive(token: _Token, now: float) -> bool:
        return now < token.expires_at and (token.cut_at is None or now < token.cut_at)

    def check(self, value: str | None, now: float) -> None:
        """Raises ApiFault 41001 (missing), 42001 (expired) or 40001 (unknown, invalidated, or
        no longer the latest) unless ``value`` is a live token."""
        if not value:
            raise ApiFault(41001)
        token = self._tokens.get(value)
        if token is None:
            raise ApiFault(40001)
        if now >= token.expires_at:
            raise ApiFault(42001)
        if token.cut_at is not None and now >= token.cut_at:
            raise ApiFault(40001)

    def invalidate_all(self, now: float) -> None:
        """Every token stops working now (a fault the service must recover from by fetching a
        new token)."""
        for token in self._tokens.values():
            token.cut_at = now
        self._stable = None

    def live_count(self, now: float) -> int:
        return sum(1 for token in self._tokens.values() if self._alive(token, now))
