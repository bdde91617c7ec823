"""``bot sync``: read each account's published list (freepublish/batchget) and bring our records
in line with it, so reports can also count what was published without the bot.

- An item whose ``article_id`` one of our posts carries is matched; when the platform marks
  all its articles deleted (``news_item[i].is_deleted``), the post gets the error "deleted on
  the platform" and a log row. It still counts as published (it was), and reports show it
  apart. Some articles of a push deleted, the others still online: a log row says which.
- An item we do not know, whose headline title is that of one of our posts published without
  an article_id, and which has as many articles, is that post: the article_id (and each
  article's link) is filled in rather than a second post recorded.
  One whose title is that of a post still ``publishing`` is left to the publisher's
  reconciliation (recording it here would count it twice).
- After the whole list was read, a post of ours with an article_id that the list no longer
  holds (published at least ``LISTING_LAG`` before the sync began) is marked deleted too:
  the list shows only what is still online, and an item whose every article was deleted
  leaves it. An incomplete read (call limit, an error) infers nothing.
- Any other item is recorded as a post with ``source = "platform"``, status ``published``,
  ``published_at`` = the item's ``update_time`` (the only time the list gives; on the item or
  only inside ``content``), one post per
  item (a push) with every article of the item as its articles, so reports count its pushes
  and its articles as for our own; in the account's first configured column unless the
  caller chooses another (``columns={account: column}``). Posts an earlier version recorded
  one per article are still matched, article by article.
- A list item's ``url`` is the draft's temporary link, never stored: article links come from
  the PUBLISHJOBFINISH event of that article_id when one arrived, else stay empty. A post
  that carries the list's temporary link (stored by an earlier version) is corrected.

The list is read 20 items a call with ``no_content=1``, at most ``max_calls`` calls per account:
the endpoint's daily quota is 100 and reconciliation of unclear submits needs it too. The
list's order is not guaranteed, so a sync reads it from the start each time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Config
from bot.domain.errors import BotError, UserError
from bot.domain.models import Article, Delivery, PostStatus
from bot.engine.reconcile import update_time
from bot.store import events as event_store
from bot.store import log
from bot.store import posts as post_store
from bot.store import reports as report_store

Clock = Callable[[], datetime]

PAGE_SIZE = 20  # the most freepublish/batchget returns per call
DELETED_ON_PLATFORM = "deleted on the platform"
PLATFORM_SOURCE = "platform"
NO_COLUMN = "(platform)"  # for an account that has no configured column
# A post published this shortly before a sync may not be listed yet: never call it missing.
LISTING_LAG = timedelta(minutes=10)


class PublishedList(Protocol):
    """What sync needs of an account client (``bot.account.client.AccountClient`` has it)."""

    async def freepublish_batchget(
        self, offset: int = 0, count: int = 20, no_content: bool = False
    ) -> dict[str, Any]: ...


@dataclass
class AccountSync:
    """What one account's sync did."""

    account: str
    column: str  # where unknown items were recorded
    calls: int = 0
    total: int = 0  # total_count the platform reported
    seen: int = 0  # items read
    matched: int = 0  # items one of our posts already carried
    adopted: int = 0  # our posts without an article_id, matched by title and filled in
    recorded: int = 0  # posts recorded from the platform (one per item)
    articles_recorded: int = 0  # the articles of those posts
    deleted: int = 0  # posts newly known deleted on the platform (recorded ones included)
    unreconciled: int = 0  # items that may be a post still publishing: left to the publisher
    corrected: int = 0  # posts whose stored link was the list's temporary one
    complete: bool = False  # the whole list was read within max_calls
    error: str = ""  # why reading stopped early, when it did
    listed: set[str] = field(default_factory=set, repr=False)  # article_ids seen

    def summary(self) -> str:
        read = f"read {self.seen} of {self.total} items in {self.calls} calls"
        recorded = f"{self.recorded} recorded"
        if self.articles_recorded != self.recorded:
            recorded += f" ({self.articles_recorded} articles)"
        parts = [recorded, f"{self.adopted} matched by title"]
        parts += [f"{self.deleted} deleted", f"{self.unreconciled} left to reconciliation"]
        if self.corrected:
            parts.append(f"{self.corrected} temporary links corrected")
        tail = "" if self.complete else f"; incomplete: {self.error or 'call limit reached'}"
        return f"{read}: {', '.join(parts)}{tail}"


@dataclass
class SyncResult:
    accounts: list[AccountSync] = field(default_factory=list)

    @property
    def recorded(self) -> int:
        return sum(a.recorded for a in self.accounts)

    @property
    def articles_recorded(self) -> int:
        return sum(a.articles_recorded for a in self.accounts)

    @property
    def deleted(self) -> int:
        return sum(a.deleted for a in self.accounts)

    @property
    def ok(self) -> bool:
        return all(not a.error for a in self.accounts)


async def sync_published(
    engine: AsyncEngine,
    config: Config,
    clients: Mapping[str, PublishedList],
    *,
    clock: Clock,
    max_calls: int = 10,
    columns: Mapping[str, str] | None = None,
) -> SyncResult:
    """Sync every account of ``config`` that has a client in ``clients``. A platform error
    stops that account's sync (recorded in its ``AccountSync.error`` and the log), not the
    others. Raises UserError for a client or a chosen column the configuration does not know."""
    if max_calls < 1:
        raise UserError("sync: max_calls must be at least 1")
    known_accounts = {a.name for a in config.accounts}
    for name in clients:
        if name not in known_accounts:
            raise UserError(f"sync: no account named {name!r} in the configuration")
    result = SyncResult()
    for account in config.accounts:
        client = clients.get(account.name)
        if client is not None:
            column = _column_for(config, account.name, columns or {})
            state = AccountSync(account.name, column)
            await _sync_account(engine, client, state, clock=clock, max_calls=max_calls)
            result.accounts.append(state)
    return result


def _column_for(config: Config, account: str, chosen: Mapping[str, str]) -> str:
    if account in chosen:
        name = chosen[account]
        if not any(c.name == name for c in config.columns):
            raise UserError(f"sync: no column named {name!r} in the configuration")
        return name
    mine = [c.name for c in config.columns if c.account == account]
    return mine[0] if mine else NO_COLUMN


async def _sync_account(
    engine: AsyncEngine,
    client: PublishedList,
    state: AccountSync,
    *,
    clock: Clock,
    max_calls: int,
) -> None:
    started = clock()
    offset = 0
    try:
        while state.calls < max_calls:
            state.calls += 1  # counted before the call: a failed call uses quota too
            page = await client.freepublish_batchget(offset, PAGE_SIZE, no_content=True)
            items = [i for i in page.get("item") or [] if isinstance(i, dict)]
            state.total = _int(page.get("total_count"))
            for item in items:
                await _apply(engine, state, item, clock)
            state.seen += len(items)
            offset += len(items)
            if offset >= state.total:
                # Fewer distinct items than the total: the list moved under the paging (an
                # item published or deleted meanwhile), so something may have been skipped.
                state.complete = len(state.listed) >= state.total
                if not state.complete:
                    state.error = "the list changed while it was read; sync again"
                break
            if not items:
                state.error = f"the list ended after {offset} of {state.total} items"
                break
    except BotError as exc:
        # The client's errors name the endpoint and errcode, never the token or secret.
        state.error = str(exc)
    if state.complete:
        await _mark_missing(engine, state, started, clock)
    async with engine.begin() as conn:
        await log.append(
            conn,
            at=clock(),
            step="sync",
            outcome="error" if state.error else "ok",
            account=state.account,
            detail=state.summary(),
        )


async def _apply(
    engine: AsyncEngine, state: AccountSync, item: dict[str, Any], clock: Clock
) -> None:
    article_id = str(item.get("article_id") or "").strip()
    content = item.get("content")
    news = content.get("news_item") if isinstance(content, dict) else None
    articles = [a for a in news or [] if isinstance(a, dict)]
    if not article_id or not articles:
        return  # nothing to match or record
    state.listed.add(article_id)
    async with engine.begin() as conn:
        known = await report_store.posts_with_article(conn, state.account, article_id)
        if len(known) == 1:  # one post for the whole push
            state.matched += 1
            await _correct_links(conn, state, known[0], articles, clock())
            await _mark_if_deleted(conn, state, known[0], articles, clock())
            return
        if known:  # recorded one post per article by an earlier version
            state.matched += 1
            for index, (post, article) in enumerate(zip(known, articles, strict=False)):
                await _correct_links(conn, state, post, [article], clock(), first=index)
                await _mark_if_deleted(conn, state, post, [article], clock())
            return
        title = str(articles[0].get("title") or "")
        ours = await report_store.unmatched_with_title(conn, state.account, title)
        ours = [p for p in ours if await _article_count(conn, p.id) == len(articles)]
        if ours:
            best = next((p for p in ours if p.status == PostStatus.PUBLISHED), ours[0])
            await _adopt(conn, state, best, article_id, articles, clock())
            return
        published_at = _timestamp(update_time(item)) or clock()
        await _record(conn, state, article_id, articles, published_at, clock())


async def _lasting_links(
    conn: AsyncConnection, account: str, article_id: str, count: int
) -> list[str]:
    """``count`` article links of ``article_id`` in push order, from its PUBLISHJOBFINISH
    event ("" for each when none arrived): never the list's temporary url."""
    event = await event_store.publish_event_for_article(conn, account, article_id)
    detail = (event or {}).get("article_detail")
    items = detail.get("item") if isinstance(detail, dict) else None
    if isinstance(items, dict):  # one <item> read from XML
        items = [items]
    links = [i for i in items or [] if isinstance(i, dict)]
    links.sort(key=lambda i: _int(i.get("idx")))
    urls = [str(i.get("article_url") or "") for i in links]
    return (urls + [""] * count)[:count]


async def _correct_links(
    conn: AsyncConnection,
    state: AccountSync,
    post: report_store.SyncPost,
    articles: list[dict[str, Any]],
    now: datetime,
    *,
    first: int = 0,
) -> None:
    """A post whose stored link is the list's temporary ``url`` gets the lasting ones (or
    none). ``first``: the position of ``articles[0]`` in the push (posts an earlier version
    recorded one per article)."""
    temporary = str(articles[0].get("url") or "")
    if not temporary or post.article_url != temporary:
        return
    urls = await _lasting_links(conn, state.account, post.article_id, first + len(articles))
    urls = urls[first:]
    await post_store.update_fields(conn, post.id, now=now, article_url=urls[0])
    await post_store.record_article_results(conn, post.id, article_urls=urls)
    await _log_post(
        conn,
        state,
        post,
        now,
        "info",
        "the stored link was the published list's temporary one; "
        + (f"now the lasting {urls[0]}" if urls[0] else "cleared (no lasting link known)"),
    )
    state.corrected += 1


async def _article_count(conn: AsyncConnection, post_id: int) -> int:
    return (await post_store.get(conn, post_id)).article_count


async def _mark_if_deleted(
    conn: AsyncConnection,
    state: AccountSync,
    post: report_store.SyncPost,
    articles: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Mark the post deleted when every article of its push is; note the ones that are when
    only some are (the push is still online)."""
    # A post that already carries an error (deleted or banned, as freepublish/get told the
    # publisher) keeps its more precise reason.
    if post.status != PostStatus.PUBLISHED or post.error:
        return
    deleted = [i for i, a in enumerate(articles, start=1) if a.get("is_deleted")]
    if deleted and len(deleted) == len(articles):
        await _mark_deleted(conn, state, post, now, "marked is_deleted in the published list")
    elif deleted:
        numbers = ", ".join(str(i) for i in deleted)
        await _log_post(
            conn,
            state,
            post,
            now,
            "info",
            f"article {numbers} of {len(articles)} deleted on the platform "
            f"(article {post.article_id}); the others are still online",
        )


async def _mark_deleted(
    conn: AsyncConnection,
    state: AccountSync,
    post: report_store.SyncPost,
    now: datetime,
    why: str,
) -> None:
    await post_store.update_fields(conn, post.id, now=now, error=DELETED_ON_PLATFORM)
    await _log_post(
        conn, state, post, now, "error", f"{DELETED_ON_PLATFORM}: article {post.article_id} {why}"
    )
    state.deleted += 1


async def _mark_missing(
    engine: AsyncEngine, state: AccountSync, started: datetime, clock: Clock
) -> None:
    """After a complete read, a post published before the sync began whose article is not in
    the list has been removed: the platform lists only what is still online (an item whose
    every article was deleted leaves the list)."""
    async with engine.begin() as conn:
        before = started - LISTING_LAG
        for post in await report_store.listed_posts(conn, state.account, before):
            if post.article_id not in state.listed:
                await _mark_deleted(
                    conn, state, post, clock(), "is no longer in the published list"
                )


async def _adopt(
    conn: AsyncConnection,
    state: AccountSync,
    post: report_store.SyncPost,
    article_id: str,
    articles: list[dict[str, Any]],
    now: datetime,
) -> None:
    if post.status != PostStatus.PUBLISHED:
        state.unreconciled += 1
        return
    urls = await _lasting_links(conn, state.account, article_id, len(articles))
    await post_store.update_fields(
        conn, post.id, now=now, article_id=article_id, article_url=urls[0]
    )
    await post_store.record_article_results(conn, post.id, article_urls=urls)
    await _log_post(
        conn,
        state,
        post,
        now,
        "info",
        f"found in the platform's published list by title (article {article_id})",
    )
    state.adopted += 1
    await _mark_if_deleted(conn, state, post._replace(article_id=article_id), articles, now)


async def _record(
    conn: AsyncConnection,
    state: AccountSync,
    article_id: str,
    articles: list[dict[str, Any]],
    published_at: datetime,
    now: datetime,
) -> None:
    """One post for the item, with each of its articles."""
    urls = await _lasting_links(conn, state.account, article_id, len(articles))
    head, *more = [_article(a, article_id, url) for a, url in zip(articles, urls, strict=True)]
    deleted = all(a.get("is_deleted") for a in articles)
    new = post_store.NewPost(
        column=state.column,
        account=state.account,
        title=head.title,
        author=head.author,
        digest=head.digest,
        markdown="",
        content_html="",
        content_source_url=head.content_source_url,
        cover=head.cover,
        delivery=Delivery.PUBLISH.value,
        status=PostStatus.PUBLISHED,
        resources=(),
        more_articles=more,
    )
    post_id = await post_store.create(conn, new, now=now, actor="sync")
    await post_store.update_fields(
        conn,
        post_id,
        now=now,
        source=PLATFORM_SOURCE,
        published_at=published_at,
        article_id=article_id,
        article_url=head.article_url,
        error=DELETED_ON_PLATFORM if deleted else "",
    )
    partly = [i for i, a in enumerate(articles, start=1) if a.get("is_deleted")]
    note = ""
    if deleted:
        note = f"; {DELETED_ON_PLATFORM}"
    elif partly:
        note = f"; article {', '.join(map(str, partly))} deleted on the platform"
    count = f"{len(articles)} articles, " if len(articles) > 1 else ""
    await log.append(
        conn,
        at=now,
        step="sync",
        outcome="info",
        post_id=post_id,
        account=state.account,
        column=state.column,
        detail=f"recorded from the platform's published list (article {article_id}, "
        f"{count}updated {published_at.isoformat()})" + note,
    )
    state.recorded += 1
    state.articles_recorded += len(articles)
    state.deleted += int(deleted)


def _article(item: dict[str, Any], article_id: str, article_url: str) -> Article:
    return Article(
        title=str(item.get("title") or "") or f"(article {article_id})",
        author=str(item.get("author") or ""),
        digest=str(item.get("digest") or ""),
        content_source_url=str(item.get("content_source_url") or ""),
        cover=str(item.get("thumb_url") or ""),
        article_url=article_url,
    )


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _timestamp(value: Any) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


async def _log_post(
    conn: AsyncConnection,
    state: AccountSync,
    post: report_store.SyncPost,
    now: datetime,
    outcome: str,
    detail: str,
) -> None:
    """One log row of what sync found about a stored post."""
    await log.append(
        conn,
        at=now,
        step="sync",
        outcome=outcome,
        post_id=post.id,
        account=state.account,
        column=post.column,
        detail=detail,
    )
