"""Web users: creating them (argon2id password hashes), changing passwords, API tokens (shown
once, stored as a SHA-256 hash), logins kept on the server (the cookie carries a random id,
the database its hash, so a login can be ended), and checking a password or a token.

The login rate limit lives here too. It never locks a name out from everywhere (anyone could
then lock out the admin): at most ``MAX_FAILURES`` failed attempts per (user name, address)
and ``MAX_ADDRESS_FAILURES`` per address in ``WINDOW`` are refused; beyond ``MAX_FAILURES``
failures for a name from anywhere, and beyond ``GLOBAL_SLOWDOWN_AFTER`` failures in all, each
attempt waits a little longer before its password is checked, the right password included."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import NotFoundError, UserError
from bot.store import users as user_store
from bot.store.users import User
from bot.web.hashing import HashQueue, lane
from bot.web.sessions import MAX_AGE

logger = logging.getLogger(__name__)

ROLES = ("editor", "reviewer", "admin")
MIN_PASSWORD = 8
MAX_PASSWORD = 1000
MAX_FAILURES = 5
MAX_ADDRESS_FAILURES = 30
GLOBAL_SLOWDOWN_AFTER = 50
SLOWDOWN_FIRST = 0.5  # seconds; doubles with each further failure, up to SLOWDOWN_MAX
SLOWDOWN_MAX = 5.0
WINDOW = timedelta(minutes=15)
# A successful login is remembered this long: while logins are flooded, a person logging in
# from where they did within it has a queue of their own (bot.web.hashing).
KNOWN_PLACE = timedelta(days=30)
SESSION_LIFETIME = MAX_AGE  # a login lasts this long, however active
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
    check_password(password)
    password_hash = await lane.run(_hasher.hash, password)
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
    TooManyAttemptsError, before looking at the password, when this name has failed
    ``MAX_FAILURES`` times from this address within ``WINDOW`` (or the address
    ``MAX_ADDRESS_FAILURES`` times); slows the check down as failures add up (see the module
    docstring)."""
    name = name.strip()[:100]
    async with engine.connect() as conn:  # a place this person logs in from: its own queue
        known = await user_store.logged_in_from(
            conn, user_name=name, address=address, since=now - KNOWN_PLACE
        )
    # A flood is refused here, before it costs a hash or a write (see bot.web.hashing).
    with lane.admitted(known=known, name=name) as queue:
        return await _authenticate(engine, name, password, address=address, now=now, queue=queue)


async def _authenticate(
    engine: AsyncEngine,
    name: str,
    password: str,
    *,
    address: str,
    now: datetime,
    queue: HashQueue,
) -> User | None:
    # The attempt is written as a failure before the password is looked at, in the same
    # transaction as the count: concurrent guesses each see the ones before them.
    async with engine.begin() as conn:
        await user_store.serialise_logins(conn, name)
        failures = await user_store.failures_since(
            conn, user_name=name, address=address, since=now - WINDOW
        )
        if failures.pair >= MAX_FAILURES or failures.address >= MAX_ADDRESS_FAILURES:
            raise TooManyAttemptsError(
                f"too many failed logins from your address; try again in "
                f"{int(WINDOW.total_seconds() // 60)} minutes"
            )
        attempt_id = await user_store.record_attempt(
            conn, user_name=name, address=address, ok=False, now=now
        )
        found = await user_store.credentials(conn, name)
    pause = slowdown(failures)
    if pause:
        await sleep(pause)
    ok = await queue.run(_verify, found.password_hash if found else None, password)
    ok = ok and found is not None
    async with engine.begin() as conn:
        if ok:
            await user_store.mark_attempt_ok(conn, attempt_id)
        if ok and found is not None and _hasher.check_needs_rehash(found.password_hash):
            new_hash = await queue.run(_hasher.hash, password)
            await user_store.set_password_hash(conn, found.user.id, new_hash)
        await user_store.prune_attempts(
            conn, before=now - 4 * WINDOW, successes_before=now - KNOWN_PLACE
        )
    return found.user if ok and found is not None else None


def slowdown(failures: user_store.Failures) -> float:
    """Seconds to wait before checking a password, given the failures in the window."""
    pause = 0.0
    if failures.user >= MAX_FAILURES:
        pause = min(SLOWDOWN_MAX, SLOWDOWN_FIRST * 2 ** (failures.user - MAX_FAILURES))
    if failures.everywhere >= GLOBAL_SLOWDOWN_AFTER:
        pause = max(pause, SLOWDOWN_FIRST * 2)
    return pause


# Replaceable in tests; the wait never blocks the loop.
sleep = asyncio.sleep


def _verify(password_hash: str | None, password: str) -> bool:
    """None: an unknown name, checked against a dummy hash so it takes as long."""
    if password_hash is None:
        _verify(_dummy_hash(), password)
        return False
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
        _touch_later(engine, digest, now)
    return user


# Touches in flight (a task nobody holds may be collected before it runs).
_touches: set[asyncio.Task[None]] = set()


def _touch_later(engine: AsyncEngine, digest: str, now: datetime) -> None:
    """Record the token's use without making the request wait: the write queues behind
    every other writer (an import's last statement, a burst's steps), and the request that
    happened to be the minute's first would wait for all of them."""
    task = asyncio.get_running_loop().create_task(_touch(engine, digest, now))
    _touches.add(task)
    task.add_done_callback(_touches.discard)


async def settle_touches() -> None:
    """Wait for the uses being recorded (before the database closes)."""
    loop = asyncio.get_running_loop()
    pending = [task for task in _touches if task.get_loop() is loop]
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


async def _touch(engine: AsyncEngine, digest: str, now: datetime) -> None:
    try:
        async with engine.begin() as conn:
            await user_store.touch_token(conn, digest, now=now)
    except Exception:  # bookkeeping: a token's last use may be a minute old, never fatal
        logger.warning("could not record an API token's use", exc_info=True)


async def user_by_id(engine: AsyncEngine, user_id: int) -> User | None:
    async with engine.connect() as conn:
        return await user_store.by_id(conn, user_id)


async def list_users(engine: AsyncEngine) -> list[tuple[User, int]]:
    """Every user with how many API tokens they hold."""
    async with engine.connect() as conn:
        found = await user_store.list_users(conn)
        counts = await user_store.token_counts(conn)
    return [(u, counts.get(u.id, 0)) for u in found]


LAST_ADMIN = "the last admin cannot lose the admin role; make another user admin first"


async def delete_user(engine: AsyncEngine, user_id: int, *, acting_user_id: int) -> None:
    """Raises UserError when deleting oneself or the last admin, NotFoundError for an unknown
    id."""
    if user_id == acting_user_id:
        raise UserError("you cannot delete your own user")
    async with engine.begin() as conn:
        admins = await user_store.lock_admins(conn)
        if admins == [user_id]:
            raise UserError(LAST_ADMIN)
        if not await user_store.delete_user(conn, user_id):
            raise NotFoundError(f"no user with id {user_id}")


async def revoke_tokens(engine: AsyncEngine, user_id: int) -> int:
    """Removes the user's API tokens and ends their logins (the admin's "revoke")."""
    async with engine.begin() as conn:
        await user_store.delete_sessions(conn, user_id)
        return await user_store.revoke_tokens(conn, user_id)


async def user_exists(engine: AsyncEngine, name: str) -> bool:
    async with engine.connect() as conn:
        return await user_store.by_name(conn, name.strip()) is not None


async def set_role(engine: AsyncEngine, user_id: int, role: str) -> None:
    """Raises UserError for an unknown role or for taking the role of the last admin,
    NotFoundError for an unknown user. Ends the user's logins: they log in again under the
    new role."""
    check_role(role)
    async with engine.begin() as conn:
        admins = await user_store.lock_admins(conn)
        if role != "admin" and admins == [user_id]:
            raise UserError(LAST_ADMIN)
        if not await user_store.set_role(conn, user_id, role):
            raise NotFoundError(f"no user with id {user_id}")
        await user_store.delete_sessions(conn, user_id)


# --- passwords ----------------------------------------------------------------------------


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"password: at most {MAX_PASSWORD} characters")
    return password


async def set_password(engine: AsyncEngine, name: str, password: str) -> int:
    """Sets user ``name``'s password (``bot user passwd``) and ends every login of theirs;
    returns how many were ended. Raises UserError, NotFoundError."""
    check_password(password)
    password_hash = await lane.run(_hasher.hash, password)
    async with engine.begin() as conn:
        user = await user_store.by_name(conn, name.strip())
        if user is None:
            raise NotFoundError(f"no user named {name!r}")
        await user_store.set_password_hash(conn, user.id, password_hash)
        return await user_store.delete_sessions(conn, user.id)


async def change_password(
    engine: AsyncEngine,
    user: User,
    current: str,
    new: str,
    *,
    confirm: str,
    address: str = "",
    now: datetime | None = None,
) -> None:
    """A user changing their own password: ``current`` must be right and ``confirm`` equal
    to ``new``. Ends every login of the user (the caller starts a fresh one for the browser
    that asked). A wrong ``current`` counts as a failed login of the user from ``address``,
    so a copied cookie cannot be used to guess the password. Raises UserError,
    TooManyAttemptsError."""
    if new != confirm:
        raise UserError("the new password and its repetition differ")
    check_password(new)
    when = now or datetime.now(UTC)
    async with engine.begin() as conn:
        await user_store.serialise_logins(conn, user.name)
        failures = await user_store.failures_since(
            conn, user_name=user.name, address=address, since=when - WINDOW
        )
        if failures.pair >= MAX_FAILURES:
            raise TooManyAttemptsError(
                f"too many wrong passwords; try again in {int(WINDOW.total_seconds() // 60)} "
                "minutes"
            )
        found = await user_store.credentials(conn, user.name)
    if found is None or found.user.id != user.id:
        raise NotFoundError("this user no longer exists")
    if not await lane.run(_verify, found.password_hash, current[:MAX_PASSWORD]):
        async with engine.begin() as conn:
            await user_store.record_attempt(
                conn, user_name=user.name, address=address, ok=False, now=when
            )
        raise UserError("the current password is wrong")
    password_hash = await lane.run(_hasher.hash, new)
    async with engine.begin() as conn:
        await user_store.set_password_hash(conn, user.id, password_hash)
        await user_store.delete_sessions(conn, user.id)


# --- logins (server-side sessions) --------------------------------------------------------


async def start_session(engine: AsyncEngine, user: User, *, now: datetime) -> str:
    """A new login for ``user``: returns the random id the cookie carries (only its hash is
    stored). Expired logins are cleared on the way."""
    session_id = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await user_store.prune_sessions(conn, now=now)
        await user_store.insert_session(
            conn,
            id_hash=hash_token(session_id),
            user_id=user.id,
            now=now,
            expires_at=now + SESSION_LIFETIME,
        )
    return session_id


async def user_for_session(engine: AsyncEngine, session_id: str, *, now: datetime) -> User | None:
    """The user of a login that still exists, or None (ended, expired or never made)."""
    if not session_id or len(session_id) > 100:
        return None
    async with engine.connect() as conn:
        return await user_store.user_by_session_hash(conn, hash_token(session_id), now=now)


async def end_session(engine: AsyncEngine, session_id: str) -> None:
    if session_id:
        async with engine.begin() as conn:
            await user_store.delete_session(conn, hash_token(session_id))


async def end_sessions(engine: AsyncEngine, user_id: int) -> int:
    async with engine.begin() as conn:
        return await user_store.delete_sessions(conn, user_id)
