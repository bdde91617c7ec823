"""This installation's id: made with its database (migration 0005), kept in one row."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import installation


async def installation_id(engine: AsyncEngine, *, now: datetime) -> str:
    """The installation's id; made now if the database has none (a table made without the
    migrations). Two processes making one at once agree on the first."""
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(installation.c.id).limit(1))).scalar()
    if found:
        return str(found)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                installation.insert().values(id=secrets.token_hex(8), created_at=now)
            )
    except IntegrityError:
        pass
    async with engine.connect() as conn:
        return str((await conn.execute(sa.select(installation.c.id).limit(1))).scalar_one())
