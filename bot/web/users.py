"""Web users: creating them (argon2id password hashes), API tokens (shown once, stored as a
SHA-256 hash), and checking a password or a token. The login rate limit lives here too: at
most ``MAX_FAILURES`` failed attempts per user name and per address in ``WINDOW``."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import NotFoundError, UserError
from bot.store import users as user_store
from bot.store.users import User

ROLES = ("editor", "reviewer", "admin")
MIN_PASSWORD = 8
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
TOKEN_PREFIX = "bot_"
# Token use is recorded at most this often, so API traffic does not turn into a write per call.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)

_hasher = PasswordHasher()  # the library's defaults are the recommended (RFC 9106) cost
# Verified when the user does not exist, so a wrong name costs the same time as a wrong password.


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown names, so they take as long as known ones;
    made on first use rather than at import (it costs an argon2 run)."""
    return _hasher.hash(secrets.token_hex(16))


class TooManyAttemptsError(UserError):
    """Too many failed logins for this user name or from this address; try again later."""

    http_status = 429


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise UserError("user name: 1 to 100 characters, no spaces")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    return role


async def create_user(
    engine: AsyncEngine, name: str, role: str, password: str, *, now: datetime
) -> User:
    """Raises UserError for a bad name, role or a password shorter than 8 characters,
    ConflictError when the name is taken."""
    name = _check_name(name)
    check_role(role)
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    async with engine.begin() as conn:
        return await user_store.insert_user(
            conn, name=name, role=role, password_hash=password_hash, now=now
        )


async def create_api_token(engine: AsyncEngine, name: str, *, now: datetime) -> str:
    """A new token for user ``name``; only its hash is stored, so this is the one time it can
    be seen. Raises NotFoundError when there is no such user."""
    async with engine.begin() as conn:
        user = await user_store.by_name(conn, name)
        if user is None:
            raise NotFoundError(f"no user named {name!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        await user_store.insert_token(conn, user_id=user.id, token_hash=hash_token(token), now=now)
    return token


async def authenticate_password(
    engine: AsyncEngine, name: str, password: str, *, address: str, now: datetime
) -> User | None:
    """The user when the password is right, else None. Every attempt is recorded. Raises
    TooManyAttemptsError, before looking at the password, when the user name or the address
    has failed ``MAX_FAILURES`` times within ``WINDOW``."""
    name = name.strip()[:100]
    # The attempt is written as a failure before the password is looked at, in the same
    # transaction as the count: concurrent guesses each see the ones before them.
    async with engine.begin() as conn:
        await user_store.serialise_logins(conn, name)
        by_user, by_address = await user_store.failures_since(
            conn, user_name=name, address=address, since=now - WINDOW
        )
        if by_user >= MAX_FAILURES or by_address >= MAX_FAILURES:
            raise TooManyAttemptsError(
                f"too many failed logins; try again in {int(WINDOW.total_seconds() // 60)} minutes"
            )
        attempt_id = await user_store.record_attempt(
            conn, user_name=name, address=address, ok=False, now=now
        )
        found = await user_store.credentials(conn, name)
    ok = await asyncio.to_thread(_verify, found.password_hash if found else _dummy_hash(), password)
    ok = ok and found is not None
    async with engine.begin() as conn:
        if ok:
            await user_store.mark_attempt_ok(conn, attempt_id)
        if ok and found is not None and _hasher.check_needs_rehash(found.password_hash):
            new_hash = await asyncio.to_thread(_hasher.hash, password)
            await user_store.set_password_hash(conn, found.user.id, new_hash)
        await user_store.prune_attempts(conn, before=now - 4 * WINDOW)
    return found.user if ok and found is not None else None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def user_for_token(engine: AsyncEngine, token: str, *, now: datetime) -> User | None:
    """The user holding ``token``, or None for an unknown token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    async with engine.connect() as conn:
        found = await user_store.user_by_token_hash(conn, digest)
    if found is None:
        return None
    user, last_used = found
    if last_used is None or now - last_used >= TOKEN_TOUCH_EVERY:
        async with engine.begin() as conn:
            await user_store.touch_token(conn, digest, now=now)
    return user


async def user_by_id(engine: AsyncEngine, user_id: int) -> User | None:
    async with engine.connect() as conn:
        return await user_store.by_id(conn, user_id)


async def list_users(engine: AsyncEngine) -> list[tuple[User, int]]:
    """Every user with how many API tokens they hold."""
    async with engine.connect() as conn:
        found = await user_store.list_users(conn)
        counts = await user_store.token_counts(conn)
    return [(u, counts.get(u.id, 0)) for u in found]


async def delete_user(engine: AsyncEngine, user_id: int, *, acting_user_id: int) -> None:
    """Raises UserError when deleting oneself, NotFoundError for an unknown id."""
    if user_id == acting_user_id:
        raise UserError("you cannot delete your own user")
    async with engine.begin() as conn:
        if not await user_store.delete_user(conn, user_id):
            raise NotFoundError(f"no user with id {user_id}")


async def revoke_tokens(engine: AsyncEngine, user_id: int) -> int:
    async with engine.begin() as conn:
        return await user_store.revoke_tokens(conn, user_id)


async def user_exists(engine: AsyncEngine, name: str) -> bool:
    async with engine.connect() as conn:
        return await user_store.by_name(conn, name.strip()) is not None


async def set_role(engine: AsyncEngine, user_id: int, role: str) -> None:
    """Raises UserError for an unknown role, NotFoundError for an unknown user."""
    check_role(role)
    async with engine.begin() as conn:
        if not await user_store.set_role(conn, user_id, role):
            raise NotFoundError(f"no user with id {user_id}")
