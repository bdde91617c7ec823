"""One post's resumable publish.

Every step's result is committed before the next step starts: the cover's media id, then the
draft's media id, then an intent ("submitting"), then the publish_id (or mass-send msg_id).
A crash or a lost answer between intent and result leaves the post in stage ``unknown``; it is
reconciled from what the platform can tell (the PUBLISHJOBFINISH event, freepublish/batchget,
the draft box) and submitted again only when proven unpublished.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import statistics
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.client import AccountClient, PublishResult, before_effect
from bot.account.errors import DuplicateMassSendError
from bot.account.limits import DEFAULT_LIMITS, PlatformLimits
from bot.config import AccountConfig, PublisherConfig
from bot.domain.errors import (
    BotError,
    ConflictError,
    ContentRejectedError,
    PermanentError,
    QuotaExhaustedError,
    TokenError,
    TransientError,
    UnknownOutcomeError,
    UserError,
)
from bot.domain.links import is_platform_article_url
from bot.domain.models import Article, Delivery, Post, PostStatus, PublishStage
from bot.engine import offload, reconcile
from bot.engine.post_records import PostRecords, StepResult
from bot.engine.quota import (
    mass_send_window,
    next_quota_day_start,
    poll_budget_left,
    poll_delay,
    quota_day,
)
from bot.store import accounts as account_store
from bot.store import cover_copies, log
from bot.store import events as event_store
from bot.store import posts as post_store
from bot.store.installation import installation_id

Clock = Callable[[], datetime]

# publish_status values of freepublish/get and PUBLISHJOBFINISH (wechat-api.md §4.2)
PUBLISH_OK = 0
PUBLISH_RUNNING = 1
PUBLISH_FAILURES = {
    2: "the originality (原创) check failed",
    3: "the platform reported a generic failure",
    4: "the platform's review rejected the article",
}
# Stages after which the post may be online: an error there never makes it "failed".
AFTER_SUBMIT = frozenset({PublishStage.SUBMITTING, PublishStage.SUBMITTED, PublishStage.UNKNOWN})
# The platform refuses a repeated clientmsgid for 24 hours; leave an hour of margin.
CLIENTMSGID_WINDOW = timedelta(hours=23)
# How long the account's recent publish durations are trusted before they are read again.
DURATIONS_FRESH = timedelta(minutes=1)
PUBLISH_DELETED = {5: "published, then deleted by the account", 6: "published, then banned"}
# What a person can do about each failure.
FAILURE_ADVICE = {
    2: "remove the originality (原创) claim or rewrite the text the check matched",
    3: "check the account's notices on mp.weixin.qq.com",
    4: "edit what the review refused",
}


class PostPublisher(PostRecords):
    """Advances one claimed post as far as it can go now."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        account: AccountConfig,
        api: AccountClient,
        settings: PublisherConfig,
        clock: Clock,
        load_cover: Callable[[str], Awaitable[bytes]],
        rng: random.Random | None = None,
        callback_configured: bool = False,
    ) -> None:
        self.engine = engine
        self.account = account
        self.api = api
        self.settings = settings
        self.clock = clock
        self.load_cover = load_cover
        self.rng = rng or random.Random()
        self.callback_configured = callback_configured
        self._durations: tuple[datetime, list[float]] | None = None  # when read, what
        self._redrafted: set[int] = set()  # posts whose forgotten draft was made again

    # --- entry point --------------------------------------------------------------------

    async def advance(self, post: Post) -> StepResult:
        """Run the post's next steps until it must wait. Typed errors from the platform are
        turned into the post's state here; only bugs escape."""
        try:
            if post.status is PostStatus.QUEUED:
                staged = holds_staged_draft(post)
                # A draft made ahead for freepublish: the start and the submit's intent are one
                # write, and the submit follows at once (a mass send checks its allowance
                # first, in the usual step).
                intent = staged and post.delivery is Delivery.PUBLISH
                post = await self._start(post, staged=staged, intent=intent)
                # A draft made ahead was checked when it was made, from these very articles.
                refused = None if staged else await offload.run(recheck, post, self.account.limits)
                if refused is not None:
                    return await self._fail(post, refused)
                if intent:
                    sent = await self._send(post)
                    if isinstance(sent, StepResult):
                        return sent
                    post = sent
            while post.status is PostStatus.PUBLISHING:
                step = await self._step(post)
                if isinstance(step, StepResult):
                    return step
                post = step
            return StepResult(post, None)
        except QuotaExhaustedError as exc:
            return await self._park(post, exc)
        except PermanentError as exc:
            current = await self._current(post.id)
            if current.stage in AFTER_SUBMIT:
                # The post may be online: "failed" would invite a retry, so a person decides.
                return await self._needs_attention(
                    current, f"{exc} — after the submit; check the account before retrying"
                )
            return await self._fail(post, exc)
        except (TransientError, TokenError) as exc:
            return await self._retry_later(post, exc)

    async def _step(self, post: Post) -> Post | StepResult:
        stage = post.stage
        if post.delivery is Delivery.MASS_SEND and stage in (
            PublishStage.SUBMITTING,
            PublishStage.UNKNOWN,
        ):
            # sendall carries the post's own clientmsgid: a repeat within 24 h is refused by
            # the platform with 45065 and the existing msg_id, so resending is safe then, and
            # only then. The resend goes with a fresh draft of the same articles: the first
            # send used its draft up, and a platform that checks the draft before the
            # clientmsgid would answer 40007 instead of 45065.
            sent_at = post.submitted_at or self.clock()
            if self.clock() - sent_at > CLIENTMSGID_WINDOW:
                return await self._needs_attention(
                    post,
                    "a mass send's answer was lost more than 23 hours ago; the platform "
                    "no longer recognises its clientmsgid, so check the account before resending",
                )
            return await self._record(post, stage=PublishStage.COVER, draft_media_id="")
        if stage is PublishStage.NEW:
            return await self._upload_cover(post)
        if stage is PublishStage.COVER:
            return await self._add_draft(post)
        if stage is PublishStage.DRAFTED:
            return await self._submit(post)
        if stage is PublishStage.SUBMITTING:
            # A crash between the intent and its answer: the submit may or may not have
            # been accepted.
            await self._log(post, "reconcile", "unknown", detail="resumed after an unclear submit")
            return await self._record(post, stage=PublishStage.UNKNOWN)
        if stage is PublishStage.SUBMITTED:
            return await self._await_result(post)
        if stage is PublishStage.UNKNOWN:
            return await self._reconcile(post)
        return StepResult(post, None)  # ATTENTION: a person decides

    # --- steps --------------------------------------------------------------------------

    async def _start(self, post: Post, *, staged: bool = False, intent: bool = False) -> Post:
        """queued → publishing. ``intent``: the post holds its draft and goes straight on to
        the submit, whose intent ("submitting") is recorded in this same write."""
        now = self.clock()
        changes: dict[str, Any] = {
            "attempts": post.attempts + 1,
            "error": "",
            "errcode": None,
            # From here the draft belongs to this attempt: a cancel can no longer reach it.
            "staged_digest": "",
        }
        if intent:
            changes.update(stage=PublishStage.SUBMITTING.value, submitted_at=now)
        stale_draft = post.draft_media_id if post.staged_digest and not staged else ""
        if post.stage is not PublishStage.NEW and not staged:
            # Re-queued after a failure, or edited after its draft was made ahead: keep the
            # cover, redo the draft and the submit.
            changes.update(
                # Every article's cover must be known (an edit may have changed one).
                stage=PublishStage.COVER.value
                if all(a.thumb_media_id for a in post.articles)
                else "new",
                draft_media_id="",
                publish_id="",
                msg_id="",
                polls=0,
            )
        async with self.engine.begin() as conn:
            started = await post_store.transition(
                conn,
                post,
                PostStatus.PUBLISHING,
                now=now,
                changes=changes,
                detail=f"attempt {post.attempts + 1}"
                + (" (its draft was made ahead)" if staged else ""),
                reread=False,  # the compare-and-set says nobody moved or edited it
                # An edit since the claim read the post (its staged draft holds the old text,
                # or the copy in hand does) must not go out: ConflictError, and the next claim
                # reads the post again.
                unchanged=True,
            )
        if stale_draft:
            await self._delete_draft(started, stale_draft, "its articles changed since")
        return started

    # --- ahead of the slot --------------------------------------------------------------

    async def stage_ahead(self, post: Post, *, owner: str) -> bool:
        """Make a queued post's draft before its fire time (checks, covers, ``draft/add``),
        so that at the slot only the submit remains. The post must be held by ``owner``; it
        stays queued. A draft made from articles edited since is replaced. Returns whether a
        draft is now ready; a failure is logged and left to the slot, which retries it and
        fails the post with the reason as it always would."""
        digest = articles_digest(post)
        if post.stage is PublishStage.DRAFTED and post.staged_digest == digest:
            return True
        from bot.engine.people_quota import share_spent

        # Staging is work the slot can do itself: it stops once the day's calls reach
        # STAGING_SHARE of the quota, which every edit of a staged post would otherwise spend
        # again (a draft/add and a draft/delete each; re-check 22, H1). Not logged: it is
        # asked again at every pass of the stager.
        if await share_spent(
            self.engine,
            self.account.name,
            self.account.quota.daily,
            ("draft/add", "material/add_material"),
            self.clock(),
        ):
            return False
        refused = await offload.run(recheck, post, self.account.limits)
        if refused is not None:
            await self._log(post, "stage-ahead", "error", detail=str(refused))
            return False
        stale = post.draft_media_id if post.stage is PublishStage.DRAFTED else ""
        try:
            thumbs = await self._cover_media_ids(post)
            media_id = await self.api.draft_add(
                [
                    _article(a.replace(thumb_media_id=t))
                    for a, t in zip(post.articles, thumbs, strict=True)
                ]
            )
        except BotError as exc:
            await self._log(
                post, "stage-ahead", "error", detail=f"{exc}; the slot will make the draft"
            )
            return False
        async with self.engine.begin() as conn:
            recorded = await post_store.update_staged(
                conn,
                post.id,
                post.stage,
                owner=owner,
                now=self.clock(),
                unchanged_since=post.updated_at,
                stage=PublishStage.DRAFTED.value,
                thumb_media_id=thumbs[0],
                draft_media_id=media_id,
                staged_digest=digest,
            )
            if recorded:
                await post_store.record_article_results(conn, post.id, thumb_media_ids=thumbs)
                await log.append(
                    conn,
                    at=self.clock(),
                    step="stage-ahead",
                    outcome="ok",
                    post_id=post.id,
                    account=post.account,
                    column=post.column,
                    detail=f"draft {media_id} made ahead of {_iso(post.scheduled_for)}",
                )
        if not recorded:
            # Edited, cancelled or claimed meanwhile: this draft is nobody's.
            await self._delete_draft(post, media_id, "the post changed while it was made")
            return False
        if stale:
            await self._delete_draft(post, stale, "replaced by a draft of the edited articles")
        return True

    async def _delete_draft(self, post: Post, media_id: str, why: str) -> None:
        """Remove a draft made ahead that no push will use. Best effort: a draft left in the
        draft box is harmless, so a failure is logged, never raised."""
        try:
            await self.api.draft_delete(media_id)
        except BotError as exc:
            await self._log(post, "draft/delete", "error", detail=f"draft {media_id}: {exc}")
            return
        await self._log(post, "draft/delete", "ok", detail=f"draft {media_id} deleted: {why}")

    async def _upload_cover(self, post: Post) -> Post:
        media_ids = await self._cover_media_ids(post)
        return await self._record(
            post, stage=PublishStage.COVER, thumb_media_id=media_ids[0], article_thumbs=media_ids
        )

    async def _cover_media_ids(self, post: Post) -> list[str]:
        """Every article's cover, in push order; one image shared by several is sent once."""
        several = post.article_count > 1
        return [
            await self._cover_media_id(
                post.id, a.cover, f"article {i + 1}'s cover" if several else "cover"
            )
            for i, a in enumerate(post.articles)
        ]

    async def _cover_media_id(self, post_id: int, cover: str, what: str = "cover") -> str:
        """The cover as permanent material, uploaded once per account (by content hash)."""
        try:
            data = await self._cover_bytes(post_id, cover)
        except UserError as exc:
            # A cover that cannot be read fails this attempt with the reason (a person fixes
            # it and retries); escaping as a bug would retry it every tick forever.
            raise PermanentError(f"{what}: {exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        async with self.engine.connect() as conn:
            cached = await account_store.cached_media(conn, self.account.name, digest, "cover")
        if cached:
            return cached[0]
        from bot.content.images import platform_cover
        from bot.engine import offload

        try:  # a WebP (or any format the platform refuses with 40005) becomes a JPEG
            # Read in an image lane, within its time limit (see offload): a local cover is a
            # catalogue's file, which an editor chose.
            data, filename = await offload.run_image(platform_cover, data)
        except ContentRejectedError as exc:
            raise PermanentError(f"{what} {cover}: {exc}") from exc
        media_id, url = await self.api.add_material(data, filename, "image")
        async with self.engine.begin() as conn:
            await account_store.remember_media(
                conn,
                self.account.name,
                digest,
                "cover",
                media_id=media_id,
                url=url,
                now=self.clock(),
            )
        return media_id

    async def _cover_bytes(self, post_id: int, cover: str) -> bytes:
        """A local cover read from its file; an http(s) one from the copy kept when the post
        was stored, never fetched here: a host that stopped answering since would hold every
        post of the account behind this one (security re-check 8, M3). Raises UserError."""
        if not cover_copies.is_url(cover):
            return await self.load_cover(cover)
        async with self.engine.connect() as conn:
            data = await cover_copies.copy_of(conn, post_id, cover)
        if data is None:
            raise UserError(
                f"{cover}: no copy of it was kept when the post was stored; retry the post "
                "once the image loads (a retry keeps one)"
            )
        return data

    async def send_preview(self, post: Post, openid: str, *, actor: str = "") -> str:
        """Send the post to one reviewer's WeChat (message/mass/preview) before it is
        published: its cover and a draft are put on the platform for the preview. The draft
        stays in the account's draft box (publishing makes its own). Returns the msg_id."""
        if not openid:
            raise UserError(
                f"no openid to preview to: give one or set preview_openid for account "
                f"{self.account.name!r}"
            )
        if post.status not in (PostStatus.DRAFT, PostStatus.REVIEW, PostStatus.QUEUED):
            raise ConflictError(
                f"post {post.id} is {post.status}; only a post not yet published can be previewed"
            )
        from bot.engine import people_quota
        from bot.engine.turns import current_owner

        # A person's previews one at a time, within their daily count and the share of the
        # account's quota people may use: the rest is publishing's (security re-check 21, H1).
        async with people_quota.PREVIEWS.taken():
            await people_quota.spend(
                self.engine,
                self.account.name,
                self.account.quota.daily,
                current_owner(),
                "message/mass/preview",
                self.clock(),
                also=("draft/add", "material/add_material"),
            )
            return await self._send_preview(post, openid, actor)

    async def _send_preview(self, post: Post, openid: str, actor: str) -> str:
        thumbs = await self._cover_media_ids(post)
        draft_id = await self.api.draft_add(
            [
                _article(a.replace(thumb_media_id=t))
                for a, t in zip(post.articles, thumbs, strict=True)
            ]
        )
        msg_id = await self.api.mass_preview(draft_id, openid)
        await self._log(
            post,
            "preview",
            "ok",
            detail=f"preview sent{f' by {actor}' if actor else ''} (draft {draft_id})",
        )
        return msg_id

    async def _add_draft(self, post: Post) -> Post:
        try:
            # One draft of every article: the push is published (or sent) as one.
            media_id = await self.api.draft_add([_article(a) for a in post.articles])
        except PermanentError as exc:
            if exc.fields.get("errcode") != reconcile.INVALID_MEDIA_ID:
                raise
            # The platform forgot a cached cover (deleted in the console, a new simulator):
            # upload the covers again, once, and go on.
            post = await self._upload_forgotten_media(post, exc)
            return await self._add_draft_once_more(post)
        except UnknownOutcomeError:
            # A lost draft/add answer may have left a draft behind; adopt it if we can find
            # it, otherwise add again (a stray draft is harmless, a lost post is not).
            await self._log(post, "draft/add", "unknown", detail="answer lost; looking for it")
            found = await reconcile.find_draft(self.api, post)
            if not found:
                # Not there: add it again, after the usual backoff (a stray draft is
                # harmless; a tight loop through an outage is not).
                raise TransientError(
                    "draft/add: the answer was lost and no draft was found"
                ) from None
            media_id = found
        return await self._record(post, stage=PublishStage.DRAFTED, draft_media_id=media_id)

    def _draft_forgotten(self, post: Post, exc: BotError) -> bool:
        """A submit refused with 40007 from "drafted": the draft left the box without a
        submit of ours (deleted in the console, a new platform, a draft made ahead that
        expired). Made again once per post and process; a second time fails the attempt."""
        if exc.fields.get("errcode") != reconcile.INVALID_MEDIA_ID or post.id in self._redrafted:
            return False
        self._redrafted.add(post.id)
        return True

    async def _draft_again(self, post: Post, exc: BotError) -> Post:
        await self._log(
            post,
            "freepublish/submit",
            "info",
            detail=f"{exc}: the draft is no longer in the draft box; making it again",
        )
        return await self._record(post, stage=PublishStage.COVER, draft_media_id="")

    async def _upload_forgotten_media(self, post: Post, exc: PermanentError) -> Post:
        """Forget the post's cached covers and upload them again; the post keeps its stage
        (cover) with the new media ids."""
        stale = [a.thumb_media_id for a in post.articles if a.thumb_media_id]
        async with self.engine.begin() as conn:
            await account_store.forget_media(conn, self.account.name, stale)
        await self._log(
            post,
            "draft/add",
            "info",
            detail=f"{exc}: the platform no longer knows the cached cover; uploading it again",
        )
        media_ids = await self._cover_media_ids(post)
        return await self._record(post, thumb_media_id=media_ids[0], article_thumbs=media_ids)

    async def _add_draft_once_more(self, post: Post) -> Post:
        """draft/add after the covers were uploaded again: a second 40007 is not the cache's
        doing, so it fails the attempt like any refusal."""
        try:
            media_id = await self.api.draft_add([_article(a) for a in post.articles])
        except UnknownOutcomeError:
            found = await reconcile.find_draft(self.api, post)
            if not found:
                raise TransientError(
                    "draft/add: the answer was lost and no draft was found"
                ) from None
            media_id = found
        return await self._record(post, stage=PublishStage.DRAFTED, draft_media_id=media_id)

    async def _submit(self, post: Post) -> Post | StepResult:
        now = self.clock()
        mass = post.delivery is Delivery.MASS_SEND
        if mass:
            opens_at = await self._mass_send_allowance_opens(post)
            if opens_at is not None:
                await self._log(
                    post,
                    "mass-send",
                    "info",
                    detail=f"mass-send allowance used; waiting until {opens_at.isoformat()}",
                )
                return await self._wait(post, opens_at)
        # The intent, committed before the call. For a mass send the clientmsgid window runs
        # from the first send, whatever resends follow.
        resend = mass and post.submitted_at is not None  # an earlier send may have gone out
        first_sent = (post.submitted_at or now) if mass else now
        chosen = (
            {"clientmsgid": await self._new_clientmsgid(post)}
            if mass and not post.clientmsgid
            else {}
        )
        post = await self._record(
            post, stage=PublishStage.SUBMITTING, submitted_at=first_sent, **chosen
        )
        return await self._send(post, resend=resend)

    async def _send(self, post: Post, *, resend: bool = False) -> Post | StepResult:
        """The submit (or mass send) of a post whose intent is recorded; its answer is
        recorded before anything else, and the post then waits for its first poll. A
        ``resend`` (a mass send whose first answer was lost) that is refused stays unclear:
        the first may have gone out."""
        mass = post.delivery is Delivery.MASS_SEND
        endpoint = "message/mass/sendall" if mass else "freepublish/submit"
        fence = before_effect.set(lambda: self._still_submitting(post))
        try:
            try:
                if mass:
                    sent = await self._mass_send(post)
                else:
                    sent = await self.api.freepublish_submit(post.draft_media_id)
            finally:
                before_effect.reset(fence)
        except (TransientError, TokenError, PermanentError) as exc:
            # The platform answered and refused (busy, rate limit, quota, 48001, …): nothing
            # was sent, so the post goes back to "drafted" and the usual rules apply.
            unclear = resend or isinstance(exc, ForeignMassSendError)
            post = await self._record(
                post, stage=PublishStage.UNKNOWN if unclear else PublishStage.DRAFTED
            )
            if not mass and self._draft_forgotten(post, exc):
                return await self._draft_again(post, exc)
            raise
        except UnknownOutcomeError as exc:
            await self._log(post, endpoint, "unknown", detail=str(exc))
            return await self._record(
                post,
                stage=PublishStage.UNKNOWN,
                next_attempt_at=self.clock()
                + timedelta(
                    seconds=reconcile.recheck_seconds(0, self.settings.reconcile_window_seconds)
                ),
            )
        first_poll = self.clock() + timedelta(seconds=await self._first_poll_seconds())
        # The answer, and the wait for the first poll, in one write.
        submitted = await self._record(
            post,
            stage=PublishStage.SUBMITTED,
            polls=0,
            next_attempt_at=first_poll,
            lease_owner=None,
            lease_expires_at=None,
            **({"msg_id": sent} if mass else {"publish_id": str(sent)}),
        )
        return StepResult(submitted, first_poll, released=True)

    async def _still_submitting(self, post: Post) -> None:
        """Right before the submit leaves: the intent this worker recorded is still the post's
        state. A holder that stalled past its lease (another worker may have reconciled and
        submitted meanwhile) raises ConflictError and sends nothing."""
        async with self.engine.connect() as conn:
            ours = await post_store.still_submitting(conn, post.id)
        if not ours:
            raise ConflictError(f"post {post.id} moved on before its submit left; not sending")

    async def _mass_send_allowance_opens(self, post: Post) -> datetime | None:
        """None when the account may mass-send now, else when its allowance opens again."""
        start, end, allowed = mass_send_window(self.clock(), self.account.account_type)
        async with self.engine.connect() as conn:
            used = await post_store.mass_sends_since(conn, post.account, start)
        return None if used < allowed else end

    async def _new_clientmsgid(self, post: Post) -> str:
        """A clientmsgid no other post, database or restored backup uses: this installation's
        id, the post's id and a nonce (at most 64 bytes)."""
        installation = await installation_id(self.engine, now=self.clock())
        return f"bot-{installation[:16]}-{post.id}-{secrets.token_hex(6)}"

    async def _mass_send(self, post: Post) -> str:
        """sendall with the post's clientmsgid; returns the msg_id."""
        try:
            return await self.api.mass_sendall(post.draft_media_id, post.clientmsgid)
        except DuplicateMassSendError as exc:
            msg_id = str(getattr(exc, "msg_id", None) or "")
            if not adoptable(post, msg_id):
                raise ForeignMassSendError(
                    f"message/mass/sendall: 45065 names msg_id {msg_id or '(none)'}, which is "
                    f"not a send of this post (clientmsgid {post.clientmsgid}); nothing new "
                    "was sent — check the account's sent messages before sending it again",
                    errcode=45065,
                ) from exc
            # Our earlier send (whose answer was lost) went through: adopt its msg_id.
            await self._log(
                post,
                "message/mass/sendall",
                "ok",
                detail=f"already sent earlier (msg_id {msg_id or 'unknown'})",
            )
            return msg_id

    async def _await_result(self, post: Post) -> Post | StepResult:
        now = self.clock()
        if post.next_attempt_at and post.next_attempt_at > now:
            return await self._wait(post, post.next_attempt_at)
        if post.delivery is Delivery.MASS_SEND:
            return await self._await_mass_send(post)
        async with self.engine.connect() as conn:
            event = await event_store.publish_event_for(conn, self.account.name, post.publish_id)
        if event is not None and _event_settles(event):
            return await self._finish(post, event, source="event")
        # No event, or one that only hints: a failure event would make the post retryable,
        # that is sent again, so only the platform's own answer may say it failed.
        if not await self._may_poll():
            # Out of polling budget: the event (if configured) or tomorrow's budget decides.
            return await self._wait(post, next_quota_day_start(now))
        status = await self.api.freepublish_get(post.publish_id)
        if status.in_progress:
            delay = poll_delay(
                post.polls,
                first=self.settings.poll_first_seconds,
                maximum=self.settings.poll_max_seconds,
            )
            post = await self._record(
                post, polls=post.polls + 1, next_attempt_at=now + timedelta(seconds=delay)
            )
            return await self._wait(post, post.next_attempt_at or now)
        return await self._finish(post, _status_dict(status), source="poll")

    async def _await_mass_send(self, post: Post) -> Post | StepResult:
        now = self.clock()
        result = await self.api.mass_get(post.msg_id)
        status = str(result.get("msg_status", ""))
        if status in {"SEND_SUCCESS", "DELETE"}:
            note = "sent, then deleted on the platform" if status == "DELETE" else ""
            return await self._published(
                post, article_id="", article_url="", source="mass/get", note=note
            )
        if status == "SEND_FAIL":
            # Proven not sent: a retry is a new send. It must not carry this send's
            # clientmsgid (the platform would answer 45065 with the failed msg_id, adopted
            # as "already sent") nor its time (the 23-hour rule runs from the new send).
            post = await self._record(post, clientmsgid="", submitted_at=None)
            return await self._fail(post, PermanentError(f"mass send ended as {status}"))
        delay = poll_delay(
            post.polls,
            first=self.settings.poll_first_seconds,
            maximum=self.settings.poll_max_seconds,
        )
        post = await self._record(
            post, polls=post.polls + 1, next_attempt_at=now + timedelta(seconds=delay)
        )
        return await self._wait(post, post.next_attempt_at or now)

    async def _finish(self, post: Post, status: dict[str, Any], *, source: str) -> Post:
        code = int(status.get("publish_status", -1))
        if code == PUBLISH_OK or code in PUBLISH_DELETED:
            article_id = str(status.get("article_id", "")).strip()
            urls = _article_urls(status)
            return await self._published(
                post,
                article_id=article_id,
                article_url=urls[0] if urls else "",
                article_urls=urls,
                source=source,
                note=PUBLISH_DELETED.get(code, ""),
            )
        reason = failure_reason(post, code, status.get("fail_idx") or [])
        now = self.clock()
        async with self.engine.begin() as conn:
            return await post_store.transition(
                conn,
                post,
                PostStatus.FAILED,
                now=now,
                outcome="error",
                detail=f"{reason} [{source}]",
                changes={
                    "error": reason,
                    "stage": PublishStage.NEW.value,
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "next_attempt_at": None,
                },
            )

    # --- reconciliation -----------------------------------------------------------------

    async def _reconcile(self, post: Post) -> Post | StepResult:
        """Prove whether an unclear submit was published (``bot.engine.reconcile`` says what
        proves what). Only a post proven not published is submitted again; one that stays
        unclear past the window waits for a person, shown the evidence."""
        now = self.clock()
        if post.next_attempt_at and post.next_attempt_at > now:
            return await self._wait(post, post.next_attempt_at)
        window = self.settings.reconcile_window_seconds
        age = (now - (post.submitted_at or now)).total_seconds()
        async with self.engine.connect() as conn:
            others = await post_store.articles_of_others(
                conn, post.account, post.title, besides=post.id
            )
            rivals = await post_store.in_flight_siblings(
                conn, post.account, post.title, besides=post.id
            )
        article_id, read, contested = await reconcile.search_published(
            self.api, post, now=now, others=others, rivals=rivals
        )
        draft = "not checked"  # the box proves nothing while a job may run
        if not article_id and not contested and age >= window:
            present = await reconcile.draft_present(self.api, post.draft_media_id)
            draft = "present" if present else "gone"
        evidence = reconcile.Evidence(
            age, window, article_id=article_id, listed_items=read, draft=draft, contested=contested
        )
        verdict = evidence.verdict()
        if verdict == reconcile.PUBLISHED:
            await self._log(post, "reconcile", "ok", detail=evidence.describe())
            urls = await reconcile.lasting_links(self.engine, self.account.name, article_id)
            return await self._published(
                post,
                article_id=article_id,
                article_url=urls[0] if urls else "",
                article_urls=urls,
                source="reconcile",
            )
        if verdict == reconcile.WAIT:
            await self._log(
                post, "reconcile", "info", detail=f"not yet provable: {evidence.describe()}"
            )
            delay = reconcile.recheck_seconds(age, window)
            return await self._wait(post, now + timedelta(seconds=delay))
        if verdict == reconcile.RESUBMIT:
            await self._log(
                post,
                "reconcile",
                "ok",
                detail=f"proven not published: {evidence.describe()}; submitting again",
            )
            return await self._record(post, stage=PublishStage.DRAFTED)
        return await self._needs_attention(
            post,
            f"the submit's answer was lost and nothing proves whether it was published: "
            f"{evidence.describe()}; check the account's published list before retrying",
        )

    # --- waiting, failing, parking ------------------------------------------------------

    async def _may_poll(self) -> bool:
        async with self.engine.connect() as conn:
            used = await account_store.calls_on(conn, self.account.name, quota_day(self.clock()))
        limit = self.account.quota.daily.get("freepublish/get", 100)
        return (
            poll_budget_left(used.get("freepublish/get", 0), limit, self.account.quota.poll_share)
            > 0
        )

    async def _first_poll_seconds(self) -> float:
        """When to ask for a job's result first. Each freepublish/get costs one of ~100 calls
        a day, so the first poll waits as long as this account's recent jobs took (their
        median, plus a margin), and four times longer when the callback usually answers."""
        now = self.clock()
        if self._durations is None or now - self._durations[0] > DURATIONS_FRESH:
            # Read again at most once a minute: a hundred submits at a slot need one read.
            async with self.engine.connect() as conn:
                durations = await post_store.recent_publish_seconds(conn, self.account.name)
            self._durations = (now, durations)
        durations = self._durations[1]
        first = self.settings.poll_first_seconds
        if durations:
            first = max(first, statistics.median(durations) * 1.2)
        first = min(first, self.settings.poll_max_seconds)
        return first * 4 if self.callback_configured else first

    async def _retry_later(self, post: Post, exc: BotError) -> StepResult:
        now = self.clock()
        async with self.engine.connect() as conn:
            current = await post_store.get(conn, post.id)
        transient_failures = current.attempts
        if transient_failures >= self.settings.max_attempts and current.stage in (
            PublishStage.NEW,
            PublishStage.COVER,
            PublishStage.DRAFTED,
        ):
            return await self._fail(
                current,
                PermanentError(f"gave up after {transient_failures} attempts: {exc}", **exc.fields),
            )
        retry_after = getattr(exc, "retry_after", None)
        delay = retry_after if retry_after is not None else self._backoff(transient_failures)
        until = now + timedelta(seconds=delay)
        return await self._defer(
            post,
            until,
            retry=True,
            step="retry",
            exc=exc,
            attempts=current.attempts + 1,
            detail=f"{exc}; next try at {until.isoformat()}",
        )

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with full jitter, in seconds."""
        ceiling = min(600.0, 2.0 * (2 ** min(failures, 10)))
        return self.rng.uniform(ceiling / 2, ceiling)

    async def _park(self, post: Post, exc: QuotaExhaustedError) -> StepResult:
        now = self.clock()
        until = next_quota_day_start(now)
        reason = f"{exc} (parked until {until.isoformat()})"
        async with self.engine.begin() as conn:
            await account_store.park(conn, post.account, until=until, reason=reason, now=now)
        return await self._defer(post, until, retry=True, step="quota", exc=exc, detail=reason)


class ForeignMassSendError(PermanentError):
    """45065 for a send that is not this post's: a person checks before anything is sent."""


def adoptable(post: Post, msg_id: str) -> bool:
    """Whether a 45065 answer's msg_id is a send of this post: the one it recorded, or, when
    its answer was lost, any (its clientmsgid is its own: installation, post id and nonce).
    A clientmsgid of the old form ``bot-post-<id>`` is shared with restored backups and
    other databases, so only a recorded msg_id proves it."""
    if post.msg_id:
        return msg_id == post.msg_id
    return bool(msg_id) and not post.clientmsgid.startswith("bot-post-")


def articles_digest(post: Post) -> str:
    """What a draft made ahead is made of: every article's text, links and cover, in order,
    and the images kept for the covers. A draft whose post no longer has this digest was made
    from something else."""
    parts: list[object] = [
        [a.title, a.author, a.digest, a.content_html, a.content_source_url, a.cover]
        for a in post.articles
    ]
    if post.covers_digest:
        parts.append(post.covers_digest)
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def holds_staged_draft(post: Post) -> bool:
    """Whether a queued post's draft, made ahead of its slot, is still of its articles."""
    return (
        post.stage is PublishStage.DRAFTED
        and bool(post.draft_media_id)
        and post.staged_digest == articles_digest(post)
    )


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else "its slot"


def recheck(post: Post, limits: PlatformLimits = DEFAULT_LIMITS) -> ContentRejectedError | None:
    """The drafting checks again, right before the first call: the body may have been edited,
    or the checks improved, since it was queued. Every article is checked, and the push."""
    from bot.content import checks  # on first use: see bot.engine.drafting

    articles = post.articles
    findings = checks.check_push([a.title for a in articles])
    for index, article in enumerate(articles):
        found = checks.check_post(
            article.title,
            article.author,
            article.digest,
            article.content_html,
            article.content_source_url,
            markdown=article.markdown,
            limits=limits,
            # Traditional characters depend on the column's allow list: drafting and every
            # edit checked them with it, and nothing else changes the text in between.
            simplified_only=False,
        )
        findings += checks.for_article(found, index) if len(articles) > 1 else found
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return None
    return ContentRejectedError(
        "refused by the checks before publishing: "
        + "; ".join(
            (f"article {f.article + 1}: " if f.article is not None else "") + f.message
            for f in errors[:3]
        ),
        errors,
    )


def failure_reason(post: Post, code: int, fail_idx: Sequence[Any]) -> str:
    """Why a publish job failed, naming the articles the platform refused (``fail_idx`` is
    1-based) and what a person can do about it."""
    reason = PUBLISH_FAILURES.get(code, f"publish_status {code}")
    articles = post.articles
    named: list[str] = []
    for raw in fail_idx:
        try:
            number = int(raw)
        except (TypeError, ValueError):
            continue
        title = articles[number - 1].title if 1 <= number <= len(articles) else ""
        named.append(f"{number} «{title}»" if title else str(number))
    if named:
        reason += f" (article{'s' if len(named) > 1 else ''} {', '.join(named)})"
    advice = FAILURE_ADVICE.get(code)
    if advice:
        if len(articles) > 1 and named:
            advice += ", or remove those articles from the push"
        reason += f": {advice}, then retry"
    return reason


def _article(article: Article) -> dict[str, Any]:
    """One article as draft/add takes it."""
    return {
        "title": article.title,
        "author": article.author,
        "digest": article.digest,
        "content": article.content_html,
        "content_source_url": article.content_source_url,
        "thumb_media_id": article.thumb_media_id,
        "need_open_comment": 0,
        "only_fans_can_comment": 0,
    }


def _article_urls(status: dict[str, Any]) -> list[str]:
    """Every article's permanent link, in push order (``idx`` is 1-based)."""
    items = (status.get("article_detail") or {}).get("item") or []
    if isinstance(items, dict):  # one <item> read from XML
        items = [items]
    ordered = sorted(
        (i for i in items if isinstance(i, dict)),
        key=lambda i: int(i.get("idx") or 0),
    )
    return [str(i.get("article_url", "")) for i in ordered]


def _status_dict(result: PublishResult) -> dict[str, Any]:
    return {
        "publish_status": result.status,
        "article_id": result.article_id,
        "article_detail": {
            "item": [{"idx": i, "article_url": u} for i, u in enumerate(result.article_urls, 1)]
        },
        "fail_idx": list(result.fail_idx),
    }


def _event_settles(event: dict[str, Any]) -> bool:
    """Whether a pushed publish result may finish a post without asking the platform: only a
    success whose article links lie on the platform's own host. Anything else is confirmed
    with ``freepublish/get`` first (a forged or mistaken failure must never lead to a resend,
    nor a forged success put a stranger's link on the post)."""
    try:
        code = int(event.get("publish_status", PUBLISH_RUNNING))
    except (TypeError, ValueError):
        return False
    if code != PUBLISH_OK:
        return False
    items = (event.get("article_detail") or {}).get("item") or []
    urls = [str(item.get("article_url", "")) for item in items if isinstance(item, dict)]
    return bool(urls) and all(is_platform_article_url(url) for url in urls)
