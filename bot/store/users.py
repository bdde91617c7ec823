"""Web users, their API tokens and logins (both stored as SHA-256 hashes only) and login
attempts (for the login rate limit). The only SQL behind the admin's sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.errors import ConflictError
from bot.store.tables import api_tokens, login_attempts, users, web_sessions


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str  # "editor" | "reviewer" | "admin"
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str


def _user(row: sa.Row[tuple[object, ...]]) -> User:
    m = row._mapping
    return User(id=m["id"], name=m["name"], role=m["role"], created_at=m["created_at"])


async def insert_user(
    conn: AsyncConnection, *, name: str, role: str, password_hash: str, now: datetime
) -> User:
    """Raises ConflictError when the name is taken."""
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                users.insert().values(
                    name=name, role=role, password_hash=password_hash, created_at=now
                )
            )
    except IntegrityError:
        raise ConflictError(f"a user named {name!r} already exists") from None
    return User(int(result.inserted_primary_key[0]), name, role, now)  # type: ignore[index]


async def credentials(conn: AsyncConnection, name: str) -> Credentials | None:
    row = (await conn.execute(sa.select(users).where(users.c.name == name))).first()
    return Credentials(_user(row), row._mapping["password_hash"]) if row else None


async def by_id(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()
    return _user(row) if row else None


async def by_name(conn: AsyncConnection, name: str) -> User | None:
    row = (await conn.execute(sa.select(users).where(users.c.name == name))).first()
    return _user(row) if row else None


async def list_users(conn: AsyncConnection) -> list[User]:
    return [_user(r) for r in await conn.execute(sa.select(users).order_by(users.c.name))]


async def set_password_hash(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    await conn.execute(
        users.update().where(users.c.id == user_id).values(password_hash=password_hash)
    )


async def set_role(conn: AsyncConnection, user_id: int, role: str) -> bool:
    result = await conn.execute(users.update().where(users.c.id == user_id).values(role=role))
    return result.rowcount == 1


async def delete_user(conn: AsyncConnection, user_id: int) -> bool:
    # Tokens and logins go first: SQLite only cascades with foreign keys on, which we do not
    # rely on.
    await conn.execute(api_tokens.delete().where(api_tokens.c.user_id == user_id))
    await delete_sessions(conn, user_id)
    result = await conn.execute(users.delete().where(users.c.id == user_id))
    return result.rowcount == 1


async def lock_admins(conn: AsyncConnection) -> list[int]:
    """The admins' ids, their rows locked until the transaction ends (PostgreSQL; SQLite has
    one writer at a time), so two admins cannot each remove the other's role at once."""
    query = sa.select(users.c.id).where(users.c.role == "admin").order_by(users.c.id)
    return [int(i) for i in (await conn.execute(query.with_for_update())).scalars()]


async def count_admins(conn: AsyncConnection) -> int:
    query = sa.select(sa.func.count()).select_from(users).where(users.c.role == "admin")
    return int((await conn.execute(query)).scalar_one())


# --- API tokens -------------------------------------------------------------------------------


async def insert_token(
    conn: AsyncConnection, *, user_id: int, token_hash: str, now: datetime
) -> None:
    await conn.execute(
        api_tokens.insert().values(token_hash=token_hash, user_id=user_id, created_at=now)
    )


async def user_by_token_hash(
    conn: AsyncConnection, token_hash: str
) -> tuple[User, datetime | None] | None:
    """The token's user and when the token was last used."""
    row = (
        await conn.execute(
            sa.select(users, api_tokens.c.last_used_at)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == token_hash)
        )
    ).first()
    return (_user(row), row._mapping["last_used_at"]) if row else None


async def touch_token(conn: AsyncConnection, token_hash: str, *, now: datetime) -> None:
    await conn.execute(
        api_tokens.update().where(api_tokens.c.token_hash == token_hash).values(last_used_at=now)
    )


async def token_counts(conn: AsyncConnection) -> dict[int, int]:
    rows = await conn.execute(
        sa.select(api_tokens.c.user_id, sa.func.count()).group_by(api_tokens.c.user_id)
    )
    return {user_id: int(n) for user_id, n in rows}


async def revoke_tokens(conn: AsyncConnection, user_id: int) -> int:
    result = await conn.execute(api_tokens.delete().where(api_tokens.c.user_id == user_id))
    return int(result.rowcount)


# --- logins (web sessions) --------------------------------------------------------------------


async def insert_session(
    conn: AsyncConnection, *, id_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        web_sessions.insert().values(
            id_hash=id_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


async def user_by_session_hash(
    conn: AsyncConnection, id_hash: str, *, now: datetime
) -> User | None:
    """The user of a login that exists and has not expired."""
    row = (
        await conn.execute(
            sa.select(users)
            .join(web_sessions, web_sessions.c.user_id == users.c.id)
            .where(web_sessions.c.id_hash == id_hash, web_sessions.c.expires_at > now)
        )
    ).first()
    return _user(row) if row else None


async def delete_session(conn: AsyncConnection, id_hash: str) -> None:
    await conn.execute(web_sessions.delete().where(web_sessions.c.id_hash == id_hash))


async def delete_sessions(conn: AsyncConnection, user_id: int) -> int:
    """Ends every login of the user; returns how many there were."""
    result = await conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))
    return int(result.rowcount)


async def prune_sessions(conn: AsyncConnection, *, now: datetime) -> int:
    result = await conn.execute(web_sessions.delete().where(web_sessions.c.expires_at <= now))
    return int(result.rowcount)


async def session_counts(conn: AsyncConnection, *, now: datetime) -> dict[int, int]:
    rows = await conn.execute(
        sa.select(web_sessions.c.user_id, sa.func.count())
        .where(web_sessions.c.expires_at > now)
        .group_by(web_sessions.c.user_id)
    )
    return {user_id: int(n) for user_id, n in rows}


# --- login attempts ---------------------------------------------------------------------------


async def record_attempt(
    conn: AsyncConnection, *, user_name: str, address: str, ok: bool, now: datetime
) -> int:
    result = await conn.execute(
        login_attempts.insert().values(
            user_name=user_name[:100], address=address[:100], at=now, ok=ok
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def mark_attempt_ok(conn: AsyncConnection, attempt_id: int) -> None:
    await conn.execute(
        login_attempts.update().where(login_attempts.c.id == attempt_id).values(ok=True)
    )


async def serialise_logins(conn: AsyncConnection, user_name: str) -> None:
    """PostgreSQL: attempts for one name take turns for the rest of the transaction, so each
    counts the failures before it (SQLite's single writer already does this)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("bot-login:" + user_name)))
        )


@dataclass(frozen=True, slots=True)
class Failures:
    """Failed login attempts within a window, counted four ways."""

    pair: int  # this user name from this address
    user: int  # this user name from any address
    address: int  # any user name from this address
    everywhere: int  # all of them


async def failures_since(
    conn: AsyncConnection, *, user_name: str, address: str, since: datetime
) -> Failures:
    """Failed attempts since ``since``."""
    failed = sa.and_(login_attempts.c.ok.is_(False), login_attempts.c.at >= since)
    by_name = login_attempts.c.user_name == user_name
    by_address = login_attempts.c.address == address
    row = (
        await conn.execute(
            sa.select(
                sa.func.count().filter(sa.and_(by_name, by_address)),
                sa.func.count().filter(by_name),
                sa.func.count().filter(by_address),
                sa.func.count(),
            )
            .select_from(login_attempts)
            .where(failed)
        )
    ).one()
    return Failures(*(int(n or 0) for n in row))


async def prune_attempts(
    conn: AsyncConnection, *, before: datetime, successes_before: datetime | None = None
) -> int:
    """Forget attempts older than ``before``; successful ones are kept until
    ``successes_before`` (they say where a person logs in from, see ``logged_in_from``)."""
    old = login_attempts.c.at < before
    if successes_before is not None:
        old = sa.and_(
            old, sa.or_(login_attempts.c.ok.is_(False), login_attempts.c.at < successes_before)
        )
    result = await conn.execute(login_attempts.delete().where(old))
    return int(result.rowcount)


async def logged_in_from(
    conn: AsyncConnection, *, user_name: str, address: str, since: datetime
) -> bool:
    """Whether ``user_name`` logged in successfully from ``address`` since ``since``."""
    query = (
        sa.select(login_attempts.c.id)
        .where(
            login_attempts.c.user_name == user_name,
            login_attempts.c.address == address,
            login_attempts.c.ok.is_(True),
            login_attempts.c.at >= since,
        )
        .limit(1)
    )
    return (await conn.execute(query)).first() is not None
