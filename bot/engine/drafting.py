"""Drafting a post for a column: choose resources, render the column's template, re-host the
images on the platform, check the result, and store it as the exact body that will be sent."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.limits import DEFAULT_LIMITS, PlatformLimits
from bot.config import ColumnConfig, Config
from bot.content import selection
from bot.domain.errors import (
    ConfigError,
    ConflictError,
    ContentRejectedError,
    DuplicateError,
    TransientError,
    UserError,
)
from bot.domain.models import FINAL_STATUSES, Article, Post, PostStatus, Resource
from bot.engine import loadable
from bot.engine.turns import PersonsTurns
from bot.i18n import text as msg
from bot.store import accounts as account_store
from bot.store import catalogue as catalogue_store
from bot.store import cover_copies, log
from bot.store import posts as post_store

if TYPE_CHECKING:
    from bot.content.checks import Finding

# The rendering stack (markdown-it, nh3, Pillow, OpenCC: about 8 MB) is imported on first use,
# inside the methods below: a service that is only publishing what was drafted earlier, or
# idle, never loads it.

Clock = Callable[[], datetime]
EDITABLE = (PostStatus.DRAFT, PostStatus.REVIEW, PostStatus.QUEUED)
Uploader = Callable[[str, bytes, str], Awaitable[str]]  # (account, data, filename) -> url
Offloaded = Callable[..., Awaitable[Any]]  # offload.run or offload.run_limited
# Drafts one person (through the admin or an API token) runs at once, and how many more of
# theirs may wait: a draft's CPU work (rendering, image conversion, the covers' copies) goes to
# the worker pool everyone shares, so thirty drafts of one editor's made another's "publish
# now" wait 151 s (security re-check 11, M3). Schedules' and the CLI's drafts are not held.
DRAFTS_PER_PERSON = 2
DRAFTS_WAITING_PER_PERSON = 100


class DraftsBusyError(UserError):
    """This person already has DRAFTS_WAITING_PER_PERSON drafts waiting."""

    http_status = 429

    def __init__(self) -> None:
        super().__init__(msg("too many of your drafts are waiting; try again when some are done"))


# A person's drafts (schedules' and the CLI's have no turns to wait for).
DRAFT_TURNS = PersonsTurns(DRAFTS_PER_PERSON, DRAFTS_WAITING_PER_PERSON, DraftsBusyError)


# How long publishing waits at start for the covers of posts stored before covers were kept
# with their post (keep_missing_copies): a cover host that hangs holds it back this long at most.
CATCH_UP_SECONDS = 60.0


@dataclass(frozen=True)
class Draft:
    post: Post
    findings: list[Finding]


class Drafting:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        config: Config,
        clock: Clock,
        upload_image: Uploader,
        load_image: Callable[[str], Awaitable[bytes]],
        has_schedule: Callable[[str], bool],
        default_cover: Path,
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        self.upload_image = upload_image
        self.load_image = load_image
        self.has_schedule = has_schedule
        self.default_cover = default_cover

    async def draft(
        self,
        column_name: str,
        *,
        resource_ids: Sequence[str] = (),
        at: datetime | None = None,
        due_now: bool = False,
        actor: str = "",
        review: bool | None = None,
        force: bool = False,
    ) -> Draft:
        """Create a post for the column: one article per group of resources (the column's
        ``articles_per_post``), each rendered from the column's template. Raises
        ContentRejectedError with every article's findings when the checks fail (nothing is
        stored), UserError for unknown ids or an empty catalogue, DuplicateError for a named
        resource the column featured within its cooldown (unless ``force``)."""
        column = self.config.column(column_name)
        if len(resource_ids) > MAX_RESOURCES_PER_POST:
            # Before anything is loaded or rendered: the work grows with the ids named.
            raise UserError(
                f"a post features at most {MAX_RESOURCES_PER_POST} resources; "
                f"{len(resource_ids)} were named"
            )
        from bot.engine import offload

        # The person's images are read one at a time in the image lanes; a schedule's and the
        # CLI's in the service's own lane (see offload).
        with offload.owned_by(post_store.person(actor)):
            async with DRAFT_TURNS.taken(post_store.person(actor)):
                return await self._draft(column, resource_ids, at, due_now, actor, review, force)

    async def _draft(
        self,
        column: ColumnConfig,
        resource_ids: Sequence[str],
        at: datetime | None,
        due_now: bool,
        actor: str,
        review: bool | None,
        force: bool,
    ) -> Draft:
        load = self.loader_for(actor)
        chosen = await self._resources(column, resource_ids, load)
        if resource_ids and not force:
            await self._refuse_recent(column, chosen)
        groups = selection.group_into_articles(
            chosen, articles=column.articles_per_post, per_article=column.resources_per_post
        )
        articles, findings = await self._render_articles(column, groups, chosen, load)
        needs_review = column.require_review if review is None else review
        status = PostStatus.REVIEW if needs_review else PostStatus.QUEUED
        scheduled_for = at
        if scheduled_for is None and (due_now or not self.has_schedule(column.name)):
            scheduled_for = self.clock()
        head, *more = articles
        new = post_store.NewPost(
            column=column.name,
            account=column.account,
            title=head.title,
            author=head.author,
            digest=head.digest,
            markdown=head.markdown,
            content_html=head.content_html,
            content_source_url=head.content_source_url,
            cover=head.cover,
            delivery=column.delivery.value,
            status=status,
            resources=[(r.id, r.kind) for r in chosen],
            scheduled_for=scheduled_for,
            more_articles=more,
        )
        copies = await self._cover_copies(articles, load)
        now = self.clock()
        async with self.engine.begin() as conn:
            post_id = await post_store.create(conn, new, now=now, actor=actor)
            await cover_copies.keep(
                conn,
                post_id,
                [a.cover for a in articles],
                copies,
                now=now,
                owner=post_store.person(actor),
            )
            post = await post_store.get(conn, post_id)
        return Draft(post, findings)

    async def _render_articles(
        self,
        column: ColumnConfig,
        groups: list[list[Resource]],
        chosen: list[Resource],
        load: loadable.Load,
    ) -> tuple[list[Article], list[Finding]]:
        """Render, re-host and check each article; raises ContentRejectedError naming every
        failing article when any check fails."""
        from bot.content import checks, render
        from bot.engine import offload

        articles: list[Article] = []
        findings: list[Finding] = []
        several = len(groups) > 1
        for index, group in enumerate(groups):
            # Rendering is CPU work a template or a catalogue sets the size of: off the loop.
            rendered = await offload.run(
                render.render_post,
                column.template,
                templates_dir=self.config.templates_dir,
                context=self._context(column, group, chosen, index, len(groups)),
            )
            cover = group[0].cover if group and group[0].cover else ""
            article = Article(
                title=rendered.title,
                author=column.author,
                digest=rendered.digest,
                markdown=rendered.markdown,
                content_html=rendered.html,
                content_source_url=rendered.content_source_url,
                cover=cover or column.cover or str(self.default_cover),
                resource_ids=tuple(r.id for r in group),
            )
            article, found = await self._finish_article(
                column.account, article, column.traditional_allowed, load=load
            )
            articles.append(article)
            findings += checks.for_article(found, index) if several else found
        findings += checks.check_push([a.title for a in articles])
        _refuse_errors(f"the post for column {column.name!r}", findings)
        return articles, findings

    async def edit(
        self,
        post_id: int,
        *,
        title: str,
        digest: str,
        markdown: str,
        article: int = 0,
        cover: str | None = None,
        actor: str = "",
    ) -> Draft:
        """Re-render one edited article of a post (0: the headline) the way drafting does,
        re-run the checks and store the new body only if they pass and the post has not
        started publishing. ``cover`` (a local path or an http(s) URL; None keeps it) must
        load as an image. An approved post of a column that requires review goes back to
        review. Raises NotFoundError, ConflictError, UserError (no such article, a cover that
        does not load), ContentRejectedError (nothing is stored)."""
        _refuse_control_characters("title", title)
        _refuse_control_characters("digest", digest)
        _refuse_control_characters("markdown", markdown, lines=True)
        post = await self._editable(post_id)
        articles = post.articles
        if not 0 <= article < len(articles):
            raise UserError(f"post {post_id} has no article {article + 1}")
        from bot.content import checks, render
        from bot.engine import offload

        if checks.has_surrogates(title, digest, markdown):  # nothing past here can encode it
            broken = [
                *checks.check_text(title, "title"),
                *checks.check_text(digest, "digest"),
                *checks.check_text(markdown, "markdown"),
            ]
            raise ContentRejectedError(f"post {post_id} holds broken characters", broken)
        changes: dict[str, object] = {}
        # An edit's images load within the person's turns, as a draft's do (re-check 9, M-A).
        load = self.loader_for(actor)
        if cover is not None and cover.strip() != articles[article].cover:
            # A new cover is uploaded at publishing (the old one's media id no longer fits).
            changes = {
                "cover": await self._loadable_cover(cover.strip(), load),
                "thumb_media_id": "",
            }
        # One text of a person's at a time in the editors' lane: a flood of slow texts from one
        # account cannot queue ahead of everyone else's (security re-check 4, F2).
        with offload.owned_by(post_store.person(actor)):
            edited, findings = await self._finish_article(
                post.account,
                articles[article].replace(
                    title=title.strip(),
                    digest=digest.strip(),
                    markdown=markdown,
                    # An editor's markdown sets the amount of work: rendered in the editors' lane,
                    # off the loop, within its time limit.
                    content_html=await offload.run_limited(render.render_markdown, markdown),
                    **changes,
                ),
                self._traditional_allowed(post.column),
                lane=offload.run_limited,
                load=load,
            )
        articles[article] = edited
        if len(articles) > 1:
            findings = checks.for_article(findings, article)
        findings += checks.check_push([a.title for a in articles])
        what = f"post {post_id}" + (f", article {article + 1}" if len(articles) > 1 else "")
        _refuse_errors(what, findings)
        detail = "edited" + (f" article {article + 1}" if len(articles) > 1 else "")
        async with self.engine.connect() as conn:
            kept = await cover_copies.kept_urls(conn, post_id)
        with offload.owned_by(post_store.person(actor)):
            copies = await self._cover_copies(articles, load, kept=kept)
        return Draft(await self._store_articles(post, articles, actor, detail, copies), findings)

    async def _loadable_cover(self, cover: str, load: loadable.Load) -> str:
        """``cover`` if it loads (a local image where posts may take them from, or a URL that
        answers); raises UserError naming the cover otherwise."""
        from bot.content import checks

        if any(f.severity == "error" for f in checks.check_cover(cover)):
            return cover  # the article's checks say what is wrong with it
        try:
            await load(cover)
        except UserError as exc:
            raise UserError(f"cover: {exc}") from exc
        return cover

    async def reorder(self, post_id: int, order: Sequence[int], *, actor: str = "") -> Post:
        """Put a post's articles in a new order: ``order`` lists every article's current
        0-based index once, the new headline first. The same rules as an edit apply (an
        approved post of a column that requires review goes back to review). Raises
        NotFoundError, ConflictError, UserError (not a permutation of the articles)."""
        post = await self._editable(post_id)
        articles = post.articles
        if sorted(order) != list(range(len(articles))):
            raise UserError(
                f"post {post_id}: give each of its {len(articles)} articles once, "
                f"numbered 1 to {len(articles)}"
            )
        if list(order) == list(range(len(articles))):
            return post
        numbers = " ".join(str(i + 1) for i in order)
        return await self._store_articles(
            post, [articles[i] for i in order], actor, f"articles reordered to {numbers}"
        )

    async def _editable(self, post_id: int) -> Post:
        async with self.engine.connect() as conn:
            post = await post_store.get(conn, post_id)
        if post.status not in EDITABLE:
            raise ConflictError(f"post {post_id} is {post.status}; it can no longer be edited")
        return post

    async def _cover_copies(
        self,
        articles: Sequence[Article],
        load: loadable.Load,
        *,
        kept: Iterable[str] = (),
    ) -> dict[str, bytes]:
        """Each http(s) cover of ``articles`` not ``kept`` with the post yet, as it is kept
        with it (``kept_cover``: at most 1 MB and 1,280 px, re-encoded in an image lane, within
        its time limit): publishing uploads these and never fetches the URL again (security
        re-check 8, M3). The bytes come from ``load``, which remembers what this draft or edit
        already loaded. Raises UserError naming a cover that does not load or is not an image:
        the post is then not stored."""
        from bot.content.images import kept_cover
        from bot.engine import offload

        copies: dict[str, bytes] = {}
        for cover in dict.fromkeys(a.cover for a in articles):  # each image once
            if not cover_copies.is_url(cover) or cover in kept:
                continue
            try:
                copies[cover] = await offload.run_image(kept_cover, await load(cover))
            except (UserError, TransientError) as exc:
                raise UserError(f"cover {cover} cannot be kept for publishing: {exc}") from exc
        return copies

    async def keep_missing_copies(self, seconds: float = CATCH_UP_SECONDS) -> int:
        """Keep the copies of the http(s) covers of unpublished posts stored before covers were
        kept with their post (migration 0009), so that publishing finds them; returns how many
        posts got theirs. Runs before publishing starts, for ``seconds`` at most. A post whose
        cover does not load now is logged (step "cover") and left: publishing fails it naming
        the cover, and a retry keeps the copy first (``keep_copies_of``)."""
        done = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async with self.engine.connect() as conn:
                    waiting = await cover_copies.posts_missing_copies(conn)
                for post_id in waiting:
                    done += await self._keep_copies_of(post_id)
        return done

    async def _keep_copies_of(self, post_id: int) -> int:
        """1 when ``post_id``'s missing copies were kept, 0 when a cover did not load (logged)."""
        try:
            await self.keep_copies_of(post_id)
        except UserError as exc:
            async with self.engine.begin() as conn:
                post = await post_store.get(conn, post_id)
                await log.append(
                    conn,
                    at=self.clock(),
                    step="cover",
                    outcome="error",
                    post_id=post.id,
                    account=post.account,
                    column=post.column,
                    detail=str(exc),
                )
            return 0
        return 1

    async def keep_copies_before_retry(self, post_id: int, *, actor: str) -> None:
        """A failed post stored before covers were kept with their post, whose cover did not
        load when the service started, keeps its copies before ``actor`` retries it (or the
        retry is refused with the reason). Any other post is left to the retry's own checks."""
        async with self.engine.connect() as conn:
            post = await post_store.get(conn, post_id)
        if post.status is PostStatus.FAILED:
            await self.keep_copies_of(post_id, actor=actor)

    async def keep_copies_of(self, post_id: int, *, actor: str = "") -> None:
        """Keep the copies ``post_id`` lacks (a post stored before covers were kept with their
        post): at start, and before a person retries it. Raises UserError naming a cover that
        cannot be kept."""
        async with self.engine.connect() as conn:
            post = await post_store.get(conn, post_id)
            kept = await cover_copies.kept_urls(conn, post_id)
        if post.status in FINAL_STATUSES:
            return  # nothing left to publish
        from bot.engine import offload

        with offload.owned_by(post_store.person(actor)):
            copies = await self._cover_copies(post.articles, self.loader_for(actor), kept=kept)
        if not copies:
            return
        async with self.engine.begin() as conn:
            # The post as it is now: an edit meanwhile kept its own copies.
            current = await post_store.get(conn, post_id)
            covers = [a.cover for a in current.articles]
            await cover_copies.keep(
                conn, post_id, covers, copies, now=self.clock(), owner=post_store.person(actor)
            )

    async def _store_articles(
        self,
        post: Post,
        articles: list[Article],
        actor: str,
        detail: str,
        copies: Mapping[str, bytes] | None = None,
    ) -> Post:
        now = self.clock()
        async with self.engine.begin() as conn:
            changed = await post_store.replace_articles(
                conn, post, articles, now=now, statuses=[post.status], actor=actor
            )
            if not changed:
                raise ConflictError(f"post {post.id} changed while you edited it; reload and retry")
            await cover_copies.keep(
                conn,
                post.id,
                [a.cover for a in articles],
                copies or {},
                now=now,
                owner=post_store.person(actor),
            )
            await log.append(
                conn,
                at=now,
                step="edit",
                outcome="ok",
                post_id=post.id,
                account=post.account,
                column=post.column,
                detail=f"{detail} by {actor}" if actor else detail,
            )
            edited = await post_store.get(conn, post.id)
            if edited.status is PostStatus.QUEUED and self._requires_review(post.column):
                edited = await post_store.transition(
                    conn,
                    edited,
                    PostStatus.REVIEW,
                    now=now,
                    step="edit",
                    detail="edited after approval; back to review",
                )
        return edited

    def _limits(self, account: str) -> PlatformLimits:
        """The account's platform limits (the defaults for one no longer configured)."""
        try:
            return self.config.account(account).limits
        except ConfigError:
            return DEFAULT_LIMITS

    def _traditional_allowed(self, column: str) -> tuple[str, ...]:
        try:
            return self.config.column(column).traditional_allowed
        except UserError:  # a column no longer configured: no names allowed
            return ()

    def _requires_review(self, column: str) -> bool:
        try:
            return self.config.column(column).require_review
        except UserError:  # a column no longer configured: nothing to enforce
            return False

    async def _finish_article(
        self,
        account: str,
        article: Article,
        allowed: Sequence[str] = (),
        *,
        load: loadable.Load,
        lane: Offloaded | None = None,
    ) -> tuple[Article, list[Finding]]:
        """Re-host the article's images, then check it; the findings are returned, not
        raised. ``allowed``: the column's names in Traditional characters. ``load``: how
        images are loaded (within a person's turns, see ``loader_for``). ``lane``: where the
        CPU work runs (``offload.run`` unless given: an edit gives ``run_limited``)."""
        from bot.content import checks
        from bot.engine import offload

        offloaded = lane or offload.run
        html = await self._rehost_images(account, article.content_html, offloaded, load)
        findings, markdown, html = await offloaded(
            _checked_article, article, html, self._limits(account), tuple(allowed)
        )
        findings += checks.check_cover(article.cover)
        fixed = article.replace(
            title=checks.fix_invisible(article.title, single_line=True),
            digest=checks.fix_invisible(article.digest, single_line=True),
            markdown=markdown,
            content_html=html,
        )
        return fixed, findings

    async def _rehost_images(
        self, account: str, html: str, offloaded: Offloaded, load: loadable.Load
    ) -> str:
        """``html`` with every ``<img>`` re-hosted on the platform (``rehost_images``, its
        parsing, sanitising and image conversion run by ``offloaded``, off the loop: only the
        loading and uploading, which are network I/O, stay on it). Raises what loading and
        uploading raise, ContentRejectedError for an unusable image.

        An article the checks will refuse for its length whatever its images become is
        returned as it is: nothing is uploaded for it (security re-checks N9 and S4)."""
        from bot.content.checks.limits import CONTENT_BYTES, CONTENT_CHARS
        from bot.content.images import rehost_images, with_hosted_images

        if len(html) >= CONTENT_BYTES:
            return html  # over the limit whatever the characters: not even scanned
        if len(html) >= CONTENT_CHARS:
            # Images only add to the length (each a tag): without any it is the shortest
            # this article can become.
            shortest = await offloaded(with_hosted_images, html, {})
            if len(shortest) >= CONTENT_CHARS:
                return html
        from bot.engine import offload

        return await rehost_images(
            html,
            upload=lambda data, name: self._upload(account, data, name),
            load=load,
            run=offloaded,
            # An image is read in an image lane, within its time limit (see offload).
            convert=offload.run_image,
        )

    async def _refuse_recent(self, column: ColumnConfig, chosen: Sequence[Resource]) -> None:
        """A resource named again within the column's cooldown is a duplicate: a script
        retrying after a timeout, or a person who forgot it went out last week."""
        if not column.cooldown_days:
            return
        async with self.engine.connect() as conn:
            featured = await post_store.last_featured(conn, column.name)
        since = self.clock() - timedelta(days=column.cooldown_days)
        recent = [
            (r, featured[r.id]) for r in chosen if r.id in featured and featured[r.id] > since
        ]
        if not recent:
            return
        resource, when = recent[0]
        tz = self.config.account(column.account).tz
        raise DuplicateError(
            msg(
                "resource {id} was featured in column {column} on {date}, within its cooldown "
                "of {days} days; draft it again with --force (the admin's 'draft anyway')",
                id=repr(resource.id),
                column=repr(column.name),
                date=when.astimezone(tz).date().isoformat(),
                days=column.cooldown_days,
            ),
            resource=resource.id,
            last_featured=when.isoformat(),
        )

    def loader_for(self, owner: str) -> loadable.Load:
        """``load_image`` within ``owner``'s turns (loadable.LOADS_PER_PERSON at once), for
        what else loads a post's images on a person's request (previews, edits). A person is
        one whether they come through the admin or with an API token (security re-check 9)."""
        return loadable.RememberingLoader(self.load_image, owner=_person(owner))

    def post_loader(self, post_id: int, owner: str) -> loadable.Load:
        """How a preview loads post ``post_id``'s images: a cover at an http(s) address only
        from the copy kept with the post (exactly what publishing will upload), never fetched
        (UserError when there is none: a published or cancelled post's copies are gone, and
        fetching again let one editor's previews of such posts hold the shared worker pool,
        security re-check 12, M1); a local one as ``loader_for`` reads it."""
        load = self.loader_for(owner)

        async def load_for_post(ref: str) -> bytes:
            if not cover_copies.is_url(ref):
                return await load(ref)
            async with self.engine.connect() as conn:
                data = await cover_copies.copy_of(conn, post_id, ref)
            if data is None:
                raise UserError(f"image {ref}: no copy is kept for this post")
            return data

        return load_for_post

    async def _resources(
        self, column: ColumnConfig, ids: Sequence[str], load: loadable.Load
    ) -> list[Resource]:
        async with self.engine.connect() as conn:
            if ids:
                chosen = await catalogue_store.get_many(conn, list(ids))
                for resource in chosen:
                    if column.kinds and resource.kind not in column.kinds:
                        raise UserError(
                            f"resource {resource.id!r} is of kind {resource.kind!r}, which column "
                            f"{column.name!r} does not feature ({', '.join(column.kinds)})"
                        )
                return chosen
            count = column.articles_per_post * column.resources_per_post
            # Chosen in SQL with a limit: a catalogue of a million rows costs one query,
            # not a million objects on the event loop.
            candidates, featured = await post_store.next_candidates(
                conn,
                column=column.name,
                kinds=column.kinds,
                cooldown_start=(
                    self.clock() - timedelta(days=column.cooldown_days)
                    if column.cooldown_days
                    else None
                ),
                limit=count + loadable.SPARE_CANDIDATES,
                now=self.clock(),
            )
        ordered = selection.choose_resources(
            candidates,
            kinds=column.kinds,
            last_featured=featured,
            now=self.clock(),
            cooldown_days=column.cooldown_days,
            count=len(candidates),
        )
        # Those whose cover failed before are tried last (security re-check 8, M1).
        ordered.sort(key=lambda r: bool(r.cover_problem))
        try:
            chosen, passed = await loadable.with_loadable_covers(ordered, count, load)
        except loadable.CoversUnjudgedError as exc:
            await self._note_covers(column, [], exc.passed)
            raise
        await self._note_covers(column, chosen, passed)
        if not chosen:
            left = (
                f"column {column.name!r}: no catalogue resource is left to feature "
                f"(kinds: {', '.join(column.kinds) or 'all'}, cooldown {column.cooldown_days} days)"
            )
            if passed:
                ids = ", ".join(repr(p.resource.id) for p in passed)
                left += f"; the covers of {ids} do not load ({passed[0].problem})"
            raise UserError(left)
        return chosen

    async def _note_covers(
        self,
        column: ColumnConfig,
        chosen: Sequence[Resource],
        passed: Sequence[loadable.Passed],
    ) -> None:
        """Mark and log each resource passed over for its cover, so that later drafts skip it
        for a while (loadable.RETRY_AFTER) or until an import changes the cover; clear the
        mark of one whose cover loads again."""
        healed = [r for r in chosen if r.cover_problem]
        if not passed and not healed:
            return
        now = self.clock()
        async with self.engine.begin() as conn:
            for r in healed:
                await catalogue_store.clear_cover_problem(conn, r.id, r.cover)
            for p in passed:
                retry_at = now + loadable.RETRY_AFTER[p.lasting]
                await catalogue_store.note_cover_problem(
                    conn, p.resource.id, p.resource.cover, p.problem, retry_at=retry_at
                )
                detail = (
                    "resource {id} passed over, its cover does not load ({problem}): "
                    "not featured again before {until} unless its cover changes"
                    if p.lasting
                    else "resource {id} passed over, its cover does not load for now "
                    "({problem}): tried again from {until}"
                )
                tz = self.config.account(column.account).tz
                until = retry_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                await log.append(
                    conn,
                    at=now,
                    step="catalogue",
                    outcome="error",
                    account=column.account,
                    column=column.name,
                    detail=detail.format(id=repr(p.resource.id), problem=p.problem, until=until),
                )

    def _context(
        self,
        column: ColumnConfig,
        group: list[Resource],
        chosen: list[Resource],
        index: int,
        count: int,
    ) -> dict[str, Any]:
        """What a template sees when it renders one article (see templates/posts/)."""
        return {
            "column": {"name": column.name, "author": column.author},
            "resource": group[0],
            "resources": group,
            "article": {
                "index": index,
                "number": index + 1,
                "count": count,
                "headline": index == 0,
            },
            "post_resources": chosen,
            "now": self.clock(),
        }

    async def _upload(self, account: str, data: bytes, filename: str) -> str:
        """Upload a body image once per account (by content hash)."""
        digest = hashlib.sha256(data).hexdigest()
        async with self.engine.connect() as conn:
            cached = await account_store.cached_media(conn, account, digest, "content")
        if cached:
            return cached[1]
        from bot.engine import people_quota
        from bot.engine.turns import current_owner

        # On a person's request: within their daily count and people's share of the quota,
        # the rest kept for publishing (security re-check 21, M1).
        await people_quota.spend(
            self.engine,
            account,
            self.config.account(account).quota.daily,
            current_owner(),
            "media/uploadimg",
            self.clock(),
        )
        url = await self.upload_image(account, data, filename)
        async with self.engine.begin() as conn:
            await account_store.remember_media(
                conn, account, digest, "content", media_id="", url=url, now=self.clock()
            )
        return url


# --- the CPU parts of finishing an article: plain functions for the offload workers -------


def _checked_article(
    article: Article, html: str, limits: PlatformLimits, allowed: tuple[str, ...]
) -> tuple[list[Finding], str, str]:
    """The article's findings (``html``: its re-hosted body), and its markdown and html with
    what the checks report as ``fixed`` fixed, as stored and sent."""
    from bot.content import checks

    findings = checks.check_post(
        article.title,
        article.author,
        article.digest,
        html,
        article.content_source_url,
        markdown=article.markdown,
        limits=limits,
        allowed_traditional=allowed,
    )
    return findings, checks.fix_invisible(article.markdown), checks.fix_invisible(html)


def _refuse_errors(what: str, findings: Sequence[Finding]) -> None:
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise ContentRejectedError(
            f"{what} failed {len(errors)} check(s): "
            + "; ".join(f"{_about(f)}{f.message}" for f in errors[:3]),
            list(findings),
        )


def _about(finding: Finding) -> str:
    return f"article {finding.article + 1}: " if finding.article is not None else ""


MAX_RESOURCES_PER_POST = 100  # 8 articles of a dozen resources each, with room to spare
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r]")


def _refuse_control_characters(name: str, value: str, *, lines: bool = False) -> None:
    """Edits get the importer's rule: no control characters (nor a lone surrogate, which
    no encoding can hold); a body may keep tabs and line breaks, a title or digest not."""
    found = _CONTROL.search(value) or (None if lines else _LINE_BREAKS.search(value))
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise UserError(f"{name}: control character {code} at position {found.start() + 1}")


def _person(actor: str) -> str:
    """Who ``actor`` is, whether they came through the admin (``web:NAME``) or with an API
    token (``api:NAME``); other actors (``schedule:NAME``, the CLI's) as they are."""
    way, _, name = actor.partition(":")
    return name if way in ("web", "api") and name else actor
