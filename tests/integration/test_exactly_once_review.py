"""Exactly-once review findings F3, F6 and F8 (review-engine): a retried mass send is sent
anew, a lost draft/add never adopts another draft (a preview whose body was refused), and an
unclear submit never adopts a sibling post's article."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.account.simulator import SimulatorConfig
from bot.domain.models import Delivery, PostStatus
from bot.engine.review import ReviewActions
from bot.store import posts as post_store
from tests.integration.publish_harness import Rig, publish_rig, utc_now
from tests.integration.test_staging import make_due, queue_for_later


async def settle(rig: Rig, post_id: int, seconds: float = 20):  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.2)):
        await rig.worker().run_once()
        current = await rig.get(post_id)
        if current.status in (PostStatus.PUBLISHED, PostStatus.FAILED) or current.needs_attention:
            return current
        await asyncio.sleep(0.2)
    return await rig.get(post_id)


async def test_a_retried_mass_send_is_really_sent_again(
    sqlite_url: str, cover_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mass send the platform reports SEND_FAIL; a person retries it the same day. The retry
    reuses clientmsgid bot-post-N and submitted_at, so the platform answers 45065 with the
    FAILED send's msg_id, which is adopted: the retry never sends anything."""
    # A service account (four sends a month): the simulator's send did not really fail (only
    # mass/get below says so), so with a subscription account its one send a day would be
    # spent and the retry refused with 45028 whatever the engine does.
    service = SimulatorConfig(publish_delay_seconds=0.2, seed=1, account_type="service")
    async with publish_rig(sqlite_url, cover_file, delivery="mass_send", sim_config=service) as rig:
        rig.config = replace(
            rig.config,
            accounts=tuple(replace(a, account_type="service") for a in rig.config.accounts),
        )
        post = await rig.add_post("群发失败后重试", delivery=Delivery.MASS_SEND)
        client = rig.clients["acc0"]
        real_get = client.mass_get
        seen: dict[str, int] = {}

        async def failing_first(msg_id: str) -> dict[str, Any]:
            answer = await real_get(msg_id)
            seen[msg_id] = seen.get(msg_id, 0) + 1
            if seen[msg_id] == 1 and len(seen) == 1:
                return {**answer, "msg_status": "SEND_FAIL"}  # the platform says it failed
            return answer

        monkeypatch.setattr(client, "mass_get", failing_first)
        await rig.worker().run_due(max_wait=20)
        failed = await rig.get(post.id)
        assert failed.status is PostStatus.FAILED, failed
        await ReviewActions(rig.engine, utc_now).retry(post.id, actor="test")
        await rig.worker().run_due(max_wait=20)
        again = await rig.get(post.id)
        state = await rig.sim_state()
        assert len(state["mass_sends"]) == 2, (
            f"retry ended {again.status} with msg_id {again.msg_id} (failed one was "
            f"{failed.msg_id}); platform mass sends: {len(state['mass_sends'])}; "
            f"sendall calls: {state['call_counts'].get('message/mass/sendall')}"
        )


async def test_a_lost_draft_add_never_adopts_an_older_preview_draft(
    sqlite_url: str, cover_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reviewer previews v1 (its draft stays in the box), asks for a body change, approves
    v2. At the slot draft/add's answer is lost (nothing made): find_draft matches on title,
    author, source link and digest only, so it adopts the v1 PREVIEW draft and publishes the
    body the reviewer refused."""
    from bot.account.errors import ApiUnknownOutcomeError

    async with publish_rig(sqlite_url, cover_file) as rig:
        queued = await queue_for_later(rig, "预览后改正文")
        publisher = rig.worker().publishers["acc0"]
        await publisher.send_preview(queued, "o" + "A" * 27, actor="web:reviewer")
        [preview_draft] = (await rig.sim_state())["drafts"]
        current = await rig.get(queued.id)
        async with rig.engine.begin() as conn:
            [head] = current.articles
            assert await post_store.replace_articles(
                conn,
                current,
                [head.replace(content_html="<p>改正后的正文</p>")],
                now=utc_now(),
                statuses=[current.status],
            )
        await make_due(rig, queued.id)
        client = rig.clients["acc0"]
        real = client.draft_add
        calls = {"n": 0}

        async def lost_before_effect(*args: Any, **kwargs: Any) -> str:
            calls["n"] += 1
            if calls["n"] == 1:
                raise ApiUnknownOutcomeError("connection reset", endpoint="draft/add")
            return await real(*args, **kwargs)

        monkeypatch.setattr(client, "draft_add", lost_before_effect)
        final = await settle(rig, queued.id)
        state = await rig.sim_state()
        [job] = state["published"]
        assert final.status is PostStatus.PUBLISHED
        assert job["media_id"] != preview_draft["media_id"], (
            "published the preview draft made from the body the reviewer refused: "
            f"{preview_draft['articles'][0]['content']!r}"
        )


async def test_an_unclear_submit_never_adopts_a_sibling_posts_article(
    sqlite_url: str, cover_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pipelined backlog: Y (submitted, job done, first poll not yet due) and X, same title,
    author, source link and digest but another body (a weekly series). X's submit answer is
    lost before any effect; reconcile matches Y's freshly published article (not yet recorded
    on Y, so not in ``others``) and marks X published: X is never sent."""
    from bot.account.errors import ApiUnknownOutcomeError
    from tests.integration.publish_harness import FAST

    async with publish_rig(sqlite_url, cover_file) as rig:
        rig.config = replace(
            rig.config, publisher=replace(FAST, poll_first_seconds=4.0, poll_max_seconds=4.0)
        )
        y = await rig.add_post("每周课程")
        x = await rig.add_post("每周课程")
        async with rig.engine.begin() as conn:
            await post_store.update_fields(
                conn, x.id, now=utc_now(), content_html="<p>另一周的正文</p>"
            )
        client = rig.clients["acc0"]
        real = client.freepublish_submit
        calls = {"n": 0}

        async def second_lost(media_id: str) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                raise ApiUnknownOutcomeError("connection reset", endpoint="freepublish/submit")
            return await real(media_id)

        monkeypatch.setattr(client, "freepublish_submit", second_lost)
        final_x = await settle(rig, x.id, seconds=15)
        final_y = await settle(rig, y.id, seconds=15)
        state = await rig.sim_state()
        assert not (final_x.status is PostStatus.PUBLISHED and len(state["published"]) == 1), (
            f"X {final_x.status} article {final_x.article_id}, Y {final_y.status} article "
            f"{final_y.article_id}; the platform published {len(state['published'])} article(s)"
        )


async def test_an_unclear_submit_never_adopts_an_identical_siblings_article(
    sqlite_url: str, cover_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but X's articles equal Y's in every field the platform lists, the body too:
    the published article matches both, and Y (in flight, its article not recorded yet) may
    own it, so X never takes it. X waits; once Y records its article X is judged on its own
    (resubmitted when its draft proves it never went out, or shown to a person)."""
    from bot.account.errors import ApiUnknownOutcomeError
    from tests.integration.publish_harness import FAST

    async with publish_rig(sqlite_url, cover_file) as rig:
        rig.config = replace(
            rig.config, publisher=replace(FAST, poll_first_seconds=4.0, poll_max_seconds=4.0)
        )
        y = await rig.add_post("每周课程")
        x = await rig.add_post("每周课程")
        client = rig.clients["acc0"]
        real = client.freepublish_submit
        calls = {"n": 0}

        async def second_lost(media_id: str) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                raise ApiUnknownOutcomeError("connection reset", endpoint="freepublish/submit")
            return await real(media_id)

        monkeypatch.setattr(client, "freepublish_submit", second_lost)
        final_x = await settle(rig, x.id, seconds=15)
        final_y = await settle(rig, y.id, seconds=15)
        state = await rig.sim_state()
        assert final_y.status is PostStatus.PUBLISHED
        assert final_x.article_id != final_y.article_id or not final_x.article_id, (
            f"X and Y both claim article {final_y.article_id}; the platform published "
            f"{len(state['published'])} article(s)"
        )
        assert final_x.status is PostStatus.PUBLISHED or final_x.needs_attention, final_x
        assert len(state["published"]) == (2 if final_x.status is PostStatus.PUBLISHED else 1)
