"""Posts: creation, reads, status transitions (compare-and-set plus a log row in the same
transaction), claims with leases, and the publishing progress a lease holder records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.errors import ConflictError, NotFoundError, UserError
from bot.domain.models import (
    FINAL_STATUSES,
    MAX_ARTICLES,
    Article,
    Post,
    PostStatus,
    PublishStage,
    Resource,
    can_transition,
)
from bot.store import cover_copies, log
from bot.store.records import article_from_row, post_from_row, post_with, resource_from_row
from bot.store.tables import UTCDateTime, post_articles, post_resources, posts, resources


@dataclass(frozen=True)
class NewPost:
    column: str
    account: str
    title: str
    author: str
    digest: str
    markdown: str
    content_html: str
    content_source_url: str
    cover: str
    delivery: str
    status: PostStatus
    resources: Sequence[tuple[str, str]]  # (resource id, kind)
    scheduled_for: datetime | None = None
    priority: int = 0
    # Articles 2..8 of a multi-article post; the fields above are its headline (article 1).
    # Each names the resources it features (which must be among ``resources``).
    more_articles: Sequence[Article] = ()


def person(actor: str) -> str:
    """The user name in an actor ("web:alice", "api:alice"); "" for the CLI, the scheduler
    and anything else that is not a person logged in to the admin or the API."""
    kind, _, name = actor.partition(":")
    return name if kind in ("web", "api") else ""


async def create(conn: AsyncConnection, new: NewPost, *, now: datetime, actor: str = "") -> int:
    if 1 + len(new.more_articles) > MAX_ARTICLES:
        raise UserError(f"a post holds at most {MAX_ARTICLES} articles")
    result = await conn.execute(
        posts.insert().values(
            column_name=new.column,
            account=new.account,
            title=new.title,
            author=new.author,
            digest=new.digest,
            markdown=new.markdown,
            content_html=new.content_html,
            content_source_url=new.content_source_url,
            cover=new.cover,
            delivery=new.delivery,
            status=new.status.value,
            stage=PublishStage.NEW.value,
            priority=new.priority,
            scheduled_for=new.scheduled_for,
            created_at=now,
            updated_at=now,
            created_by=person(actor),
            edited_by=person(actor),
        )
    )
    post_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    article_of = _article_of_resource(new.more_articles)
    if new.resources:
        await conn.execute(
            post_resources.insert(),
            [
                {
                    "post_id": post_id,
                    "resource_id": rid,
                    "kind": kind,
                    "position": i,
                    "article": article_of.get(rid, 0),
                }
                for i, (rid, kind) in enumerate(new.resources)
            ],
        )
    await _insert_more_articles(conn, post_id, new.more_articles)
    await log.append(
        conn,
        at=now,
        step="create",
        outcome="ok",
        post_id=post_id,
        account=new.account,
        column=new.column,
        to_status=new.status.value,
        detail=f"created by {actor}" if actor else "created",
    )
    return post_id


def _article_of_resource(more_articles: Sequence[Article]) -> dict[str, int]:
    return {rid: i for i, a in enumerate(more_articles, start=1) for rid in a.resource_ids}


async def _insert_more_articles(
    conn: AsyncConnection, post_id: int, more_articles: Sequence[Article]
) -> None:
    if not more_articles:
        return
    await conn.execute(
        post_articles.insert(),
        [
            {
                "post_id": post_id,
                "position": i,
                "title": a.title,
                "author": a.author,
                "digest": a.digest,
                "markdown": a.markdown,
                "content_html": a.content_html,
                "content_source_url": a.content_source_url,
                "cover": a.cover,
                "thumb_media_id": a.thumb_media_id,
                "article_url": a.article_url,
            }
            for i, a in enumerate(more_articles, start=1)
        ],
    )


async def _details(
    conn: AsyncConnection, post_ids: Iterable[int]
) -> tuple[dict[int, list[str]], dict[int, list[Article]]]:
    """Each post's resource ids (in featured order) and its articles after the headline."""
    ids = list(post_ids)
    resources: dict[int, list[str]] = {i: [] for i in ids}
    more: dict[int, list[Article]] = {i: [] for i in ids}
    if not ids:
        return resources, more
    by_article: dict[tuple[int, int], list[str]] = {}
    rows = await conn.execute(
        sa.select(post_resources.c.post_id, post_resources.c.resource_id, post_resources.c.article)
        .where(post_resources.c.post_id.in_(ids))
        .order_by(post_resources.c.post_id, post_resources.c.position)
    )
    for post_id, resource_id, article in rows:
        resources[post_id].append(resource_id)
        by_article.setdefault((post_id, article), []).append(resource_id)
    article_rows = await conn.execute(
        sa.select(post_articles)
        .where(post_articles.c.post_id.in_(ids))
        .order_by(post_articles.c.post_id, post_articles.c.position)
    )
    for row in article_rows:
        m = row._mapping
        featured = tuple(by_article.get((m["post_id"], m["position"]), ()))
        more[m["post_id"]].append(article_from_row(m, featured))
    return resources, more


async def get(conn: AsyncConnection, post_id: int) -> Post:
    row = (await conn.execute(sa.select(posts).where(posts.c.id == post_id))).first()
    if row is None:
        raise NotFoundError(f"no post with id {post_id}")
    resources, more = await _details(conn, [post_id])
    return post_from_row(row._mapping, resources[post_id], more[post_id])


async def get_many(conn: AsyncConnection, post_ids: Sequence[int]) -> list[Post]:
    """The posts with these ids, in the order given (unknown ids are left out)."""
    if not post_ids:
        return []
    rows = {
        row.id: row._mapping
        for row in await conn.execute(sa.select(posts).where(posts.c.id.in_(list(post_ids))))
    }
    resources, more = await _details(conn, list(rows))
    return [post_from_row(rows[pid], resources[pid], more[pid]) for pid in post_ids if pid in rows]


async def list_posts(
    conn: AsyncConnection,
    *,
    statuses: Sequence[PostStatus] | None = None,
    column: str | None = None,
    account: str | None = None,
    needs_attention: bool | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[Post]:
    query = sa.select(posts).order_by(posts.c.id.desc()).limit(limit).offset(offset)
    if statuses:
        query = query.where(posts.c.status.in_([s.value for s in statuses]))
    if column:
        query = query.where(posts.c.column_name == column)
    if account:
        query = query.where(posts.c.account == account)
    if needs_attention is not None:
        query = query.where(posts.c.needs_attention == needs_attention)
    rows = [r._mapping for r in await conn.execute(query)]
    resources, more = await _details(conn, [r["id"] for r in rows])
    return [post_from_row(r, resources[r["id"]], more[r["id"]]) for r in rows]


async def transition(
    conn: AsyncConnection,
    post: Post,
    target: PostStatus,
    *,
    now: datetime,
    detail: str = "",
    step: str = "transition",
    changes: dict[str, Any] | None = None,
    outcome: str = "ok",
    errcode: int | None = None,
    reread: bool = True,
    unchanged: bool = False,
) -> Post:
    """Move ``post`` to ``target`` if it is still in the status the caller saw (and, with
    ``unchanged``, nothing of it changed since: its ``updated_at`` is the one read, so an edit
    committed meanwhile makes the move fail). Raises ConflictError when the move is illegal or
    someone else moved or changed the post first. With ``reread=False`` the post returned is
    ``post`` with the changes applied, not read back (for a caller that holds the post and
    knows nobody else changes it meanwhile)."""
    if not can_transition(post.status, target):
        raise ConflictError(f"post {post.id} is {post.status}; it cannot become {target}")
    values: dict[str, Any] = {"status": target.value, "updated_at": now, **(changes or {})}
    guard = [posts.c.id == post.id, posts.c.status == post.status.value]
    if unchanged:
        guard.append(posts.c.updated_at == post.updated_at)
    result = await conn.execute(posts.update().where(*guard).values(**values))
    if result.rowcount != 1:
        raise ConflictError(f"post {post.id} changed while you looked at it; reload and retry")
    if target in FINAL_STATUSES:
        await cover_copies.release(conn, post.id)
    await log.append(
        conn,
        at=now,
        step=step,
        outcome=outcome,
        post_id=post.id,
        account=post.account,
        column=post.column,
        from_status=post.status.value,
        to_status=target.value,
        errcode=errcode,
        detail=detail,
    )
    if not reread:
        return post_with(post, values)
    return await get(conn, post.id)


async def update_fields(
    conn: AsyncConnection, post_id: int, *, now: datetime, **values: Any
) -> None:
    """Record progress on a post the caller holds (lease) or edits; no status change."""
    await conn.execute(posts.update().where(posts.c.id == post_id).values(updated_at=now, **values))


async def update_if_status(
    conn: AsyncConnection,
    post_id: int,
    statuses: Sequence[PostStatus],
    *,
    now: datetime,
    **values: Any,
) -> bool:
    result = await conn.execute(
        posts.update()
        .where(posts.c.id == post_id, posts.c.status.in_([s.value for s in statuses]))
        .values(updated_at=now, **values)
    )
    return result.rowcount == 1


async def replace_articles(
    conn: AsyncConnection,
    post: Post,
    articles: Sequence[Article],
    *,
    now: datetime,
    statuses: Sequence[PostStatus],
    actor: str = "",
) -> bool:
    """Store ``articles`` as the post's articles in this order (the first becomes the
    headline, on the post row), if the post is still in one of ``statuses``; ``actor`` is
    recorded as the post's last editor. Every resource
    of the post must be featured by exactly one article. Returns False when the post moved
    on; raises UserError for a count outside 1..8 or resources that do not match the post's.
    """
    if not 1 <= len(articles) <= MAX_ARTICLES:
        raise UserError(f"a post holds 1 to {MAX_ARTICLES} articles, not {len(articles)}")
    featured = [rid for a in articles for rid in a.resource_ids]
    if sorted(featured) != sorted(post.resource_ids):
        raise UserError(f"post {post.id}: the articles must feature the post's resources once")
    head, *more = articles
    changed = await update_if_status(
        conn,
        post.id,
        statuses,
        now=now,
        title=head.title,
        author=head.author,
        digest=head.digest,
        markdown=head.markdown,
        content_html=head.content_html,
        content_source_url=head.content_source_url,
        cover=head.cover,
        **({"edited_by": person(actor)} if actor else {}),
        thumb_media_id=head.thumb_media_id,
        article_url=head.article_url,
    )
    if not changed:
        return False
    await conn.execute(post_articles.delete().where(post_articles.c.post_id == post.id))
    await _insert_more_articles(conn, post.id, more)
    for i, article in enumerate(articles):
        if article.resource_ids:
            await conn.execute(
                post_resources.update()
                .where(
                    post_resources.c.post_id == post.id,
                    post_resources.c.resource_id.in_(list(article.resource_ids)),
                )
                .values(article=i)
            )
    return True


async def record_article_results(
    conn: AsyncConnection,
    post_id: int,
    *,
    thumb_media_ids: Sequence[str] | None = None,
    article_urls: Sequence[str] | None = None,
) -> None:
    """Record per-article publishing results of the articles after the headline (index 0 of
    each sequence is the headline's, which the caller records on the post row)."""
    for values_name, values in (("thumb_media_id", thumb_media_ids), ("article_url", article_urls)):
        for position, value in enumerate(values or [], start=0):
            if position == 0:
                continue
            await conn.execute(
                post_articles.update()
                .where(post_articles.c.post_id == post_id, post_articles.c.position == position)
                .values(**{values_name: value})
            )


# --- claims ---------------------------------------------------------------------------------


def _due_condition(now: datetime) -> sa.ColumnElement[bool]:
    # A live lease excludes a post whatever its status: a queued post just claimed by another
    # process is still ``queued`` until its holder moves it to ``publishing``, and claiming it
    # again then would let both processes publish it.
    unleased = sa.or_(posts.c.lease_expires_at.is_(None), posts.c.lease_expires_at <= now)
    queued_due = sa.and_(
        posts.c.status == PostStatus.QUEUED.value,
        posts.c.scheduled_for.is_not(None),
        posts.c.scheduled_for <= now,
        unleased,
        sa.or_(posts.c.next_attempt_at.is_(None), posts.c.next_attempt_at <= now),
    )
    # A post in ``publishing`` is worked on again when its lease has expired (a crashed
    # holder) or when it is waiting for a later step (poll, reconcile) that has come due.
    publishing_due = sa.and_(
        posts.c.status == PostStatus.PUBLISHING.value,
        posts.c.needs_attention.is_(False),
        unleased,
        sa.or_(posts.c.next_attempt_at.is_(None), posts.c.next_attempt_at <= now),
    )
    return sa.or_(queued_due, publishing_due)


async def claim_due(
    conn: AsyncConnection,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    accounts_excluded: Sequence[str] = (),
    limit: int = 10,
) -> list[int]:
    """Claim due posts for ``owner``: at most one per account (an account's posts go in order:
    priority, then scheduled time, then id). Returns the claimed ids."""
    candidates = (
        sa.select(posts.c.id, posts.c.account)
        .where(_due_condition(now))
        .order_by(posts.c.priority.desc(), posts.c.scheduled_for, posts.c.id)
        .limit(limit * 20)
    )
    if accounts_excluded:
        candidates = candidates.where(posts.c.account.not_in(list(accounts_excluded)))
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=posts)
    rows = (await conn.execute(candidates)).all()
    busy = await _accounts_with_live_lease(conn, now)
    # Each free account's first due post, in claim order.
    firsts: dict[str, int] = {}
    for post_id, account in rows:
        if account not in firsts and account not in busy:
            firsts[account] = post_id
    if conn.dialect.name == "postgresql":
        taken = await _take_accounts(conn, list(firsts), now)
        firsts = {account: post_id for account, post_id in firsts.items() if account in taken}
    chosen = list(firsts.values())[:limit]
    if not chosen:
        return []
    # One statement for every claim (a hundred accounts at a slot are one write, not 100);
    # the due condition again, so a post that stopped being due meanwhile is not taken.
    result = await conn.execute(
        posts.update()
        .where(posts.c.id.in_(chosen), _due_condition(now))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .returning(posts.c.id)
    )
    claimed = {int(row[0]) for row in result}
    return [post_id for post_id in chosen if post_id in claimed]


async def next_due_at(conn: AsyncConnection, now: datetime) -> datetime | None:
    """When the next post not yet due becomes due (a queued post's time, a wait's end)."""
    queued = sa.select(sa.func.min(posts.c.scheduled_for)).where(
        posts.c.status == PostStatus.QUEUED.value, posts.c.scheduled_for > now
    )
    waiting = sa.select(sa.func.min(posts.c.next_attempt_at)).where(
        posts.c.status.in_([PostStatus.QUEUED.value, PostStatus.PUBLISHING.value]),
        posts.c.needs_attention.is_(False),
        posts.c.next_attempt_at > now,
    )
    times = [(await conn.execute(q)).scalar_one_or_none() for q in (queued, waiting)]
    found = [t for t in times if t is not None]
    return min(found) if found else None


# --- staging ahead of the slot ----------------------------------------------------------------


async def to_stage(
    conn: AsyncConnection, *, now: datetime, until: datetime, limit: int = 500
) -> list[Post]:
    """Queued posts due after ``now`` and by ``until`` that nobody holds: the ones whose draft
    may be made ahead of their slot (the caller decides which still need it)."""
    rows = await conn.execute(
        sa.select(posts.c.id)
        .where(
            posts.c.status == PostStatus.QUEUED.value,
            posts.c.needs_attention.is_(False),
            posts.c.scheduled_for > now,
            posts.c.scheduled_for <= until,
            sa.or_(posts.c.lease_expires_at.is_(None), posts.c.lease_expires_at <= now),
            sa.or_(posts.c.next_attempt_at.is_(None), posts.c.next_attempt_at <= now),
        )
        .order_by(posts.c.scheduled_for, posts.c.id)
        .limit(limit)
    )
    return await get_many(conn, [r[0] for r in rows])


async def claim_for_staging(
    conn: AsyncConnection, post_id: int, *, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Hold a queued post while its draft is made ahead (a compare-and-set: False when it
    moved on or someone holds it)."""
    result = await conn.execute(
        posts.update()
        .where(
            posts.c.id == post_id,
            posts.c.status == PostStatus.QUEUED.value,
            sa.or_(posts.c.lease_expires_at.is_(None), posts.c.lease_expires_at <= now),
        )
        .values(lease_owner=owner, lease_expires_at=now + lease)
    )
    return result.rowcount == 1


async def update_staged(
    conn: AsyncConnection,
    post_id: int,
    expected: PublishStage,
    *,
    owner: str,
    now: datetime,
    unchanged_since: datetime | None,
    **values: Any,
) -> bool:
    """Record a staging step if the post is still queued at stage ``expected``, held by
    ``owner`` and not edited since ``unchanged_since`` (its ``updated_at`` when read): an edit
    or a reorder made meanwhile keeps its place, a cancel or a slot's claim wins."""
    result = await conn.execute(
        posts.update()
        .where(
            posts.c.id == post_id,
            posts.c.status == PostStatus.QUEUED.value,
            posts.c.stage == expected.value,
            posts.c.lease_owner == owner,
            posts.c.updated_at == unchanged_since,
        )
        .values(updated_at=now, **values)
    )
    return result.rowcount == 1


async def take_abandoned_drafts(conn: AsyncConnection, *, limit: int = 50) -> list[tuple[int, str]]:
    """Cancelled posts still holding a draft made ahead: forget each draft here (so only one
    process deletes it) and return (post id, draft media id) for the caller to delete."""
    rows = (
        await conn.execute(
            sa.select(posts.c.id, posts.c.draft_media_id)
            .where(
                posts.c.status == PostStatus.CANCELLED.value,
                posts.c.staged_digest != "",
                posts.c.draft_media_id != "",
            )
            .limit(limit)
        )
    ).all()
    taken: list[tuple[int, str]] = []
    for post_id, media_id in rows:
        result = await conn.execute(
            posts.update()
            .where(posts.c.id == post_id, posts.c.draft_media_id == media_id)
            .values(draft_media_id="", staged_digest="", stage=PublishStage.NEW.value)
        )
        if result.rowcount == 1:
            taken.append((int(post_id), str(media_id)))
    return taken


async def _take_accounts(conn: AsyncConnection, accounts: list[str], now: datetime) -> set[str]:
    """PostgreSQL: hold these accounts for this transaction (those another process holds are
    skipped), then look again for live leases (a claim another process committed after our
    first look), so two processes never work on two posts of one account at once. SQLite's
    single writer needs none of this. Two statements whatever the number of accounts."""
    if not accounts:
        return set()
    locked = await conn.execute(
        sa.text(
            "SELECT a FROM unnest(CAST(:accounts AS text[])) AS a "
            "WHERE pg_try_advisory_xact_lock(hashtext('bot-account:' || a))"
        ),
        {"accounts": accounts},
    )
    held = {str(row[0]) for row in locked}
    if not held:
        return held
    live = await conn.execute(
        sa.select(posts.c.account)
        .where(posts.c.account.in_(list(held)), posts.c.lease_expires_at > now)
        .distinct()
    )
    return held - {str(row[0]) for row in live}


async def _accounts_with_live_lease(conn: AsyncConnection, now: datetime) -> set[str]:
    rows = await conn.execute(
        sa.select(posts.c.account)
        .where(posts.c.lease_expires_at.is_not(None), posts.c.lease_expires_at > now)
        .distinct()
    )
    return {r[0] for r in rows}


async def renew_lease(
    conn: AsyncConnection, post_id: int, *, owner: str, now: datetime, lease: timedelta
) -> bool:
    result = await conn.execute(
        posts.update()
        .where(posts.c.id == post_id, posts.c.lease_owner == owner)
        .values(lease_expires_at=now + lease)
    )
    return result.rowcount == 1


async def release(conn: AsyncConnection, post_id: int, *, owner: str) -> None:
    await conn.execute(
        posts.update()
        .where(posts.c.id == post_id, posts.c.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )


async def holds_lease(conn: AsyncConnection, post_id: int, *, owner: str, now: datetime) -> bool:
    row = (
        await conn.execute(
            sa.select(posts.c.lease_owner, posts.c.lease_expires_at).where(posts.c.id == post_id)
        )
    ).first()
    return bool(row and row[0] == owner and row[1] is not None and row[1] > now)


# --- slots take posts ------------------------------------------------------------------------


async def waiting_for_slot(conn: AsyncConnection, column: str, limit: int) -> list[Post]:
    """The next queued posts of a column that wait for a slot: priority, then queue order."""
    rows = await conn.execute(
        sa.select(posts)
        .where(
            posts.c.column_name == column,
            posts.c.status == PostStatus.QUEUED.value,
            posts.c.scheduled_for.is_(None),
        )
        .order_by(posts.c.priority.desc(), posts.c.id)
        .limit(limit)
    )
    found = [r._mapping for r in rows]
    resources, more = await _details(conn, [r["id"] for r in found])
    return [post_from_row(r, resources[r["id"]], more[r["id"]]) for r in found]


async def assign_to_slot(
    conn: AsyncConnection, post: Post, *, slot_id: int, due: datetime, now: datetime
) -> bool:
    result = await conn.execute(
        posts.update()
        .where(
            posts.c.id == post.id,
            posts.c.status == PostStatus.QUEUED.value,
            posts.c.scheduled_for.is_(None),
        )
        .values(slot_id=slot_id, scheduled_for=due, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    await log.append(
        conn,
        at=now,
        step="slot",
        outcome="ok",
        post_id=post.id,
        account=post.account,
        column=post.column,
        detail=f"taken by slot {slot_id}, due {due.isoformat()}",
    )
    return True


async def last_featured(conn: AsyncConnection, column: str | None = None) -> dict[str, datetime]:
    """When each resource was last featured by a post that is not cancelled or failed."""
    when = sa.func.coalesce(posts.c.published_at, posts.c.scheduled_for, posts.c.created_at)
    query = (
        sa.select(post_resources.c.resource_id, sa.func.max(when))
        .join(posts, posts.c.id == post_resources.c.post_id)
        .where(posts.c.status.not_in([PostStatus.CANCELLED.value, PostStatus.FAILED.value]))
        .group_by(post_resources.c.resource_id)
    )
    if column:
        query = query.where(posts.c.column_name == column)
    result: dict[str, datetime] = {}
    decode = UTCDateTime().process_result_value
    for resource_id, at in await conn.execute(query):
        value = decode(at, conn.dialect)
        if value is not None:
            result[resource_id] = value
    return result


async def next_candidates(
    conn: AsyncConnection,
    *,
    column: str,
    kinds: Sequence[str],
    cooldown_start: datetime | None,
    limit: int,
    now: datetime,
) -> tuple[list[Resource], dict[str, datetime]]:
    """The ``limit`` catalogue resources the column would feature next, chosen in SQL so a
    large catalogue is never loaded whole: never featured first, then least recently
    featured, ties by id; one featured after ``cooldown_start`` (None: no cooldown) is left
    out, and so is one whose cover did not load (``cover_problem``) before its
    ``cover_retry_at`` (an import with another cover clears both); after it, such a one comes
    last. Returns them with when each
    was last featured (``last_featured``'s rule)."""
    when = sa.func.coalesce(posts.c.published_at, posts.c.scheduled_for, posts.c.created_at)
    last = (
        sa.select(post_resources.c.resource_id.label("rid"), sa.func.max(when).label("at"))
        .join(posts, posts.c.id == post_resources.c.post_id)
        .where(
            posts.c.status.not_in([PostStatus.CANCELLED.value, PostStatus.FAILED.value]),
            posts.c.column_name == column,
        )
        .group_by(post_resources.c.resource_id)
        .subquery()
    )
    query = (
        sa.select(resources, last.c.at)
        .outerjoin(last, last.c.rid == resources.c.id)
        .where(
            sa.or_(
                resources.c.cover_problem == "",
                resources.c.cover_retry_at <= sa.bindparam("now", now, type_=UTCDateTime()),
            )
        )
        .order_by(
            # One whose cover failed before comes after every other, even once its retry time
            # is past (security re-check 8, M1).
            sa.case((resources.c.cover_problem == "", 0), else_=1),
            sa.case((last.c.at.is_(None), 0), else_=1),
            last.c.at,
            resources.c.id,
        )
        .limit(limit)
    )
    if kinds:
        query = query.where(resources.c.kind.in_(list(kinds)))
    if cooldown_start is not None:
        start = sa.bindparam("cooldown_start", cooldown_start, type_=UTCDateTime())
        query = query.where(sa.or_(last.c.at.is_(None), last.c.at <= start))
    found: list[Resource] = []
    featured: dict[str, datetime] = {}
    decode = UTCDateTime().process_result_value
    for row in await conn.execute(query):
        resource = resource_from_row(row._mapping)
        found.append(resource)
        at = decode(row._mapping["at"], conn.dialect)
        if at is not None:
            featured[resource.id] = at
    return found, featured


async def find_by_publish_id(conn: AsyncConnection, account: str, publish_id: str) -> Post | None:
    row = (
        await conn.execute(
            sa.select(posts.c.id).where(
                posts.c.account == account, posts.c.publish_id == publish_id
            )
        )
    ).first()
    return await get(conn, row[0]) if row else None


async def articles_of_others(
    conn: AsyncConnection, account: str, title: str, *, besides: int
) -> set[str]:
    """The article ids that other posts of ``account`` titled ``title`` already hold: an
    article found in the platform's lists under that title may be theirs, not this post's."""
    rows = await conn.execute(
        sa.select(posts.c.article_id).where(
            posts.c.account == account,
            posts.c.title == title,
            posts.c.id != besides,
            posts.c.article_id != "",
        )
    )
    return {str(article_id) for (article_id,) in rows}


async def in_flight_siblings(
    conn: AsyncConnection, account: str, title: str, *, besides: int
) -> list[Post]:
    """Other posts of ``account`` titled ``title`` whose submit may have made an article they
    have not recorded yet (submitting, submitted or unclear): an article found under that
    title may be theirs."""
    rows = await conn.execute(
        sa.select(posts.c.id).where(
            posts.c.account == account,
            posts.c.title == title,
            posts.c.id != besides,
            posts.c.status == PostStatus.PUBLISHING.value,
            posts.c.article_id == "",
            posts.c.stage.in_(
                [
                    PublishStage.SUBMITTING.value,
                    PublishStage.SUBMITTED.value,
                    PublishStage.UNKNOWN.value,
                ]
            ),
        )
    )
    return [await get(conn, post_id) for (post_id,) in rows]


async def find_by_msg_id(conn: AsyncConnection, account: str, msg_id: str) -> Post | None:
    row = (
        await conn.execute(
            sa.select(posts.c.id).where(posts.c.account == account, posts.c.msg_id == msg_id)
        )
    ).first()
    return await get(conn, row[0]) if row else None


async def count_by_status(conn: AsyncConnection) -> dict[str, int]:
    """How many posts are in each status (statuses with none are left out)."""
    rows = await conn.execute(sa.select(posts.c.status, sa.func.count()).group_by(posts.c.status))
    return {status: int(n) for status, n in rows}


async def mass_sends_since(conn: AsyncConnection, account: str, since: datetime) -> int:
    """Mass sends of an account accepted by the platform since ``since`` (for its allowance)."""
    query = sa.select(sa.func.count()).where(
        posts.c.account == account,
        posts.c.delivery == "mass_send",
        posts.c.msg_id != "",
        posts.c.submitted_at >= since,
    )
    return int((await conn.execute(query)).scalar_one())


async def recent_publish_seconds(
    conn: AsyncConnection, account: str, limit: int = 20
) -> list[float]:
    """How long the account's recent freepublish jobs took, submit to published, in seconds."""
    rows = await conn.execute(
        sa.select(posts.c.submitted_at, posts.c.published_at)
        .where(
            posts.c.account == account,
            posts.c.status == PostStatus.PUBLISHED.value,
            posts.c.delivery == "publish",
            posts.c.submitted_at.is_not(None),
            posts.c.published_at.is_not(None),
        )
        .order_by(posts.c.published_at.desc())
        .limit(limit)
    )
    return [(published - submitted).total_seconds() for submitted, published in rows]


async def live_lease_owners(conn: AsyncConnection, now: datetime) -> set[str]:
    rows = await conn.execute(
        sa.select(posts.c.lease_owner)
        .where(posts.c.lease_owner.is_not(None), posts.c.lease_expires_at > now)
        .distinct()
    )
    return {r[0] for r in rows}


async def expire_leases(conn: AsyncConnection, owners: Sequence[str], *, now: datetime) -> int:
    """End the leases of owners known to be gone, so their posts are due again at once."""
    if not owners:
        return 0
    result = await conn.execute(
        posts.update()
        .where(posts.c.lease_owner.in_(list(owners)), posts.c.lease_expires_at > now)
        .values(lease_expires_at=now)
    )
    return result.rowcount


async def still_submitting(conn: AsyncConnection, post_id: int) -> bool:
    """Whether the post is still publishing at stage ``submitting``: what a holder checks
    right before its submit leaves. A worker that takes a post over moves it on from there at
    once (to ``unknown``, to be reconciled), so a stalled holder finds it moved."""
    row = (
        await conn.execute(
            sa.select(posts.c.id).where(
                posts.c.id == post_id,
                posts.c.status == PostStatus.PUBLISHING.value,
                posts.c.stage == PublishStage.SUBMITTING.value,
            )
        )
    ).first()
    return row is not None


async def update_if_stage(
    conn: AsyncConnection, post_id: int, expected: PublishStage, *, now: datetime, **values: Any
) -> bool:
    """Record publishing progress only if the post is still publishing at stage ``expected``."""
    result = await conn.execute(
        posts.update()
        .where(
            posts.c.id == post_id,
            posts.c.status == PostStatus.PUBLISHING.value,
            posts.c.stage == expected.value,
        )
        .values(updated_at=now, **values)
    )
    return result.rowcount == 1
