"""The covers posts take from http(s) URLs, kept with the post when it is stored.

Publishing used to fetch each cover from the editor's URL at publish time, inside the account's
one publishing lane, so a host that had since stopped answering held every post of the account
behind it (security re-check 8, M3). Drafting and edits now keep the bytes they loaded and
checked, in the same transaction that stores the post; publishing uploads those. A post's copies
are exactly its current URL covers', and go when it is published or cancelled."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.errors import UserError
from bot.domain.models import FINAL_STATUSES
from bot.store.tables import cover_copies, post_articles, posts

# What one person's copies (of posts not yet published or cancelled) may take together; past
# this their draft, edit or retry that would keep another is refused, and no one else's.
# Copies kept for schedules and the CLI (owner "") are the operator's and have no limit. Each
# copy is at most bot.content.images.KEPT_COVER_BYTES, so this is 64 covers at the least.
PERSON_KEPT_BYTES = 64 * 1024 * 1024


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def is_url(cover: str) -> bool:
    """Whether a cover is fetched (and so kept) rather than read from a local file."""
    return cover.startswith(("http://", "https://"))


async def kept_urls(conn: AsyncConnection, post_id: int) -> set[str]:
    rows = await conn.execute(
        sa.select(cover_copies.c.url).where(cover_copies.c.post_id == post_id)
    )
    return set(rows.scalars())


async def copy_of(conn: AsyncConnection, post_id: int, url: str) -> bytes | None:
    """The bytes kept for ``post_id``'s cover at ``url``, or None when none were kept."""
    row = await conn.execute(
        sa.select(cover_copies.c.data).where(
            cover_copies.c.post_id == post_id, cover_copies.c.url_sha256 == _key(url)
        )
    )
    return row.scalar_one_or_none()


async def keep(
    conn: AsyncConnection,
    post_id: int,
    covers: Iterable[str],
    new: Mapping[str, bytes],
    *,
    now: datetime,
    owner: str = "",
) -> None:
    """Make ``post_id``'s copies those of its ``covers`` (every article's, as stored now):
    copies of covers it no longer has go, ``new`` ones (url -> bytes, kept for ``owner``) are
    added. Copies of posts already published or cancelled are dropped on the way. Raises
    UserError when the new ones would take ``owner``'s copies past PERSON_KEPT_BYTES (the
    caller's transaction, which stores the post, is then rolled back)."""
    wanted = {c for c in covers if is_url(c)}
    await conn.execute(
        cover_copies.delete().where(
            cover_copies.c.post_id == post_id,
            cover_copies.c.url_sha256.not_in([_key(url) for url in wanted]),
        )
    )
    await conn.execute(
        cover_copies.delete().where(
            cover_copies.c.post_id.in_(
                sa.select(posts.c.id).where(posts.c.status.in_([s.value for s in FINAL_STATUSES]))
            )
        )
    )
    added = {url: data for url, data in new.items() if url in wanted}
    if added:
        await _add(conn, post_id, added, now=now, owner=owner)
    await _note_digest(conn, post_id)


async def _add(
    conn: AsyncConnection, post_id: int, added: Mapping[str, bytes], *, now: datetime, owner: str
) -> None:
    if owner:
        await _refuse_past_share(conn, owner, sum(len(d) for d in added.values()))
    await conn.execute(
        cover_copies.delete().where(
            cover_copies.c.post_id == post_id,
            cover_copies.c.url_sha256.in_([_key(url) for url in added]),
        )
    )
    await conn.execute(
        cover_copies.insert(),
        [
            {
                "post_id": post_id,
                "url_sha256": _key(url),
                "url": url,
                "data_sha256": hashlib.sha256(data).hexdigest(),
                "data": data,
                "size": len(data),
                "owner": owner,
                "kept_at": now,
            }
            for url, data in added.items()
        ],
    )


async def _note_digest(conn: AsyncConnection, post_id: int) -> None:
    """The post's ``covers_digest``: which image is kept for which address, as one digest
    ("" for none), so that its version changes when a kept picture does, even at the same
    address (security re-check 11, M1)."""
    rows = await conn.execute(
        sa.select(cover_copies.c.url_sha256, cover_copies.c.data_sha256)
        .where(cover_copies.c.post_id == post_id)
        .order_by(cover_copies.c.url_sha256)
    )
    pairs = [f"{url}:{data}" for url, data in rows]
    digest = hashlib.sha256("\n".join(pairs).encode()).hexdigest() if pairs else ""
    await conn.execute(posts.update().where(posts.c.id == post_id).values(covers_digest=digest))


async def _refuse_past_share(conn: AsyncConnection, owner: str, adding: int) -> None:
    kept = await conn.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(cover_copies.c.size), 0)).where(
            cover_copies.c.owner == owner
        )
    )
    if int(kept or 0) + adding > PERSON_KEPT_BYTES:
        limit = PERSON_KEPT_BYTES // (1024 * 1024)
        raise UserError(
            f"the covers kept for your unpublished posts would pass {limit} MB; publish or "
            "cancel some of your posts, or use smaller covers"
        )


async def release(conn: AsyncConnection, post_id: int) -> None:
    """A post published or cancelled no longer needs its copies."""
    await conn.execute(cover_copies.delete().where(cover_copies.c.post_id == post_id))


async def posts_missing_copies(conn: AsyncConnection) -> list[int]:
    """Unpublished posts with an http(s) cover of which no copy is kept: those stored before
    copies were (migration 0009). Oldest first."""
    unfinished = posts.c.status.not_in([s.value for s in FINAL_STATUSES])
    kept = sa.select(cover_copies.c.post_id, cover_copies.c.url)
    headline = sa.select(posts.c.id, posts.c.cover).where(unfinished)
    more = (
        sa.select(post_articles.c.post_id, post_articles.c.cover)
        .join(posts, posts.c.id == post_articles.c.post_id)
        .where(unfinished)
    )
    have = {(post_id, url) for post_id, url in await conn.execute(kept)}
    missing = {
        post_id
        for query in (headline, more)
        for post_id, cover in await conn.execute(query)
        if is_url(cover) and (post_id, cover) not in have
    }
    return sorted(missing)
