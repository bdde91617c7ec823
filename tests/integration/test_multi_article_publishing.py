"""Posts of several articles (多图文) through the real publisher, client and simulator: one
draft of every article, one submit, each article's cover and link; exactly once through
crashes, lost answers and faults, as for a single article; a job that fails for some
articles names them."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.account.simulator import SimulatorConfig
from bot.domain.models import Delivery, Post, PostStatus, PublishStage
from bot.store import posts as post_store
from tests.integration.publish_harness import Rig, publish_rig, utc_now
from tests.integration.test_publishing import publish_all

MORE = ("中国大学MOOC：名校好课", "国家博物馆数字展厅")


def pushes(state: dict) -> Counter[tuple[str, ...]]:
    """Each published push as its tuple of titles, counted."""
    return Counter(tuple(job["titles"]) for job in state["published"])


async def _on_platform(rig: Rig, post: Post, *, submit: bool = False) -> tuple[str, str]:
    """The post's draft made on the platform directly (and submitted), as a crashed worker
    left it: (headline thumb media id, draft media id)."""
    client = rig.clients["acc0"]
    thumbs = []
    for article in post.articles:
        media_id, _ = await client.add_material(Path(article.cover).read_bytes(), "c.jpg", "image")
        thumbs.append(media_id)
    draft_id = await client.draft_add(
        [
            {
                "title": a.title,
                "author": a.author,
                "digest": a.digest,
                "content": a.content_html,
                "content_source_url": a.content_source_url,
                "thumb_media_id": thumb,
            }
            for a, thumb in zip(post.articles, thumbs, strict=True)
        ]
    )
    if submit:
        await client.freepublish_submit(draft_id)
    return thumbs[0], draft_id


async def _crashed(rig: Rig, post: Post, **fields: object) -> None:
    """Leave ``post`` as a crashed worker would: publishing, lease expired."""
    async with rig.engine.begin() as conn:
        await post_store.update_fields(
            conn,
            post.id,
            now=utc_now(),
            status=PostStatus.PUBLISHING.value,
            attempts=1,
            lease_owner="dead-worker",
            lease_expires_at=utc_now() - timedelta(seconds=1),
            **fields,
        )


async def test_three_articles_go_out_as_one_draft_with_their_own_titles_and_covers(
    database_url: str, cover_file: Path
) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        post = await rig.add_post("学习强国：随时随地学习", more_titles=MORE)
        done = await rig.worker().run_due(max_wait=20)
        assert [p.status for p in done] == [PostStatus.PUBLISHED]
        state = await rig.sim_state()
        calls = state["call_counts"]
        assert calls["draft/add"] == 1 and calls["freepublish/submit"] == 1
        assert calls["material/add_material"] == 3  # three different covers
        (draft,) = [job for job in state["publish_jobs"]]
        assert draft["titles"] == [a.title for a in post.articles]
        (job,) = state["published"]
        assert len(job["article_urls"]) == 3
        published = await rig.get(post.id)
        assert [a.article_url for a in published.articles] == job["article_urls"]
        thumbs = [a.thumb_media_id for a in published.articles]
        assert len(set(thumbs)) == 3 and all(thumbs)
        assert {m["media_id"] for m in state["materials"]} == set(thumbs)


async def test_a_multi_article_draft_carries_each_articles_fields(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("头条", more_titles=MORE)
        await publish_all(rig)
        client = rig.clients["acc0"]
        published = await rig.get(post.id)
        items = (await client.freepublish_getarticle(published.article_id))["news_item"]
        assert [(i["title"], i["content_source_url"], i["digest"]) for i in items] == [
            (a.title, a.content_source_url, a.digest) for a in post.articles
        ]


async def test_crash_after_a_multi_article_submit_is_found_not_resent(
    database_url: str, cover_file: Path
) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        post = await rig.add_post("提交之后崩溃（多图文）", more_titles=MORE)
        thumb, draft_id = await _on_platform(rig, post, submit=True)
        await _crashed(
            rig,
            post,
            stage=PublishStage.SUBMITTING.value,
            thumb_media_id=thumb,
            draft_media_id=draft_id,
            submitted_at=utc_now(),
        )
        await publish_all(rig)
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED and done.article_id
        # No publish event came (no callback), so no lasting links are known; the list's
        # urls are the drafts' temporary links and are never stored.
        assert not any(a.article_url for a in done.articles)
        state = await rig.sim_state()
        assert state["call_counts"]["freepublish/submit"] == 1
        assert pushes(state) == Counter({tuple(a.title for a in post.articles): 1})


async def test_a_push_differing_in_one_article_is_not_taken_for_ours(
    sqlite_url: str, cover_file: Path
) -> None:
    """Reconciliation matches every article: a published push with the same headline but
    other articles is not proof that ours went out."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("同一个头条", more_titles=MORE)
        other = await rig.add_post("同一个头条", more_titles=("别的第二篇",))
        await _on_platform(rig, other, submit=True)
        async with rig.engine.begin() as conn:  # only ``other``'s push is on the platform
            await post_store.update_fields(conn, other.id, now=utc_now(), status="cancelled")
        _, draft_id = await _on_platform(rig, post)
        await _crashed(
            rig,
            post,
            stage=PublishStage.SUBMITTING.value,
            draft_media_id=draft_id,
            submitted_at=utc_now(),
        )
        await publish_all(rig)
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert state["call_counts"]["freepublish/submit"] == 2  # other's, then ours once
        assert pushes(state)[tuple(a.title for a in post.articles)] == 1


async def test_a_lost_draft_answer_adopts_the_multi_article_draft(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        await rig.set_faults(next=[{"kind": "lost_answer", "path": "draft/add"}])
        post = await rig.add_post("草稿回答丢失", more_titles=MORE)
        await publish_all(rig)
        assert (await rig.get(post.id)).status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert state["call_counts"]["draft/add"] == 1
        assert pushes(state) == Counter({tuple(a.title for a in post.articles): 1})


async def test_a_multi_article_mass_send_goes_once_when_its_answer_is_lost(
    sqlite_url: str, cover_file: Path
) -> None:
    config = SimulatorConfig(publish_delay_seconds=0.1, seed=5, account_type="service")
    async with publish_rig(sqlite_url, cover_file, sim_config=config, delivery="mass_send") as rig:
        await rig.set_faults(next=[{"kind": "lost_answer", "path": "message/mass/sendall"}])
        post = await rig.add_post("群发多图文", delivery=Delivery.MASS_SEND, more_titles=MORE)
        await publish_all(rig)
        assert (await rig.get(post.id)).status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        (sent,) = state["mass_sends"]
        assert sent["titles"] == [a.title for a in post.articles]
        assert len(sent["article_urls"]) == 3


@pytest.mark.timeout(400)
async def test_multi_article_posts_through_faults_and_lost_answers_each_publish_once(
    sqlite_url: str, cover_file: Path
) -> None:
    config = SimulatorConfig(
        publish_delay_seconds=0.1,
        seed=17,
        fault_rate=0.15,
        lost_answer_rate=0.15,
        slow_seconds=2.5,
        fault_kinds=("busy", "http_5xx", "slow", "token_invalid"),
    )
    async with publish_rig(sqlite_url, cover_file, sim_config=config, accounts=2) as rig:
        expected = []
        for i in range(12):
            more = tuple(f"故障第{i:02d}期第{n}篇" for n in range(2, 2 + i % 4))
            post = await rig.add_post(
                f"故障第{i:02d}期头条",
                account=f"acc{i % 2}",
                column=f"col{i % 2}",
                more_titles=more,
            )
            expected.append(tuple(a.title for a in post.articles))
        await publish_all(rig, rounds=200)
        async with rig.engine.connect() as conn:
            statuses = Counter(p.status for p in await post_store.list_posts(conn))
        assert statuses == Counter({PostStatus.PUBLISHED: 12})
        assert pushes(await rig.sim_state()) == Counter({t: 1 for t in expected})


async def test_a_job_failing_for_some_articles_names_them_and_what_to_do(
    sqlite_url: str, cover_file: Path
) -> None:
    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("头条没问题", more_titles=("第二篇被拒 [sim-reject]", MORE[1]))
        await publish_all(rig)
        failed = await rig.get(post.id)
        assert failed.status is PostStatus.FAILED
        assert "article 2 «第二篇被拒 [sim-reject]»" in failed.error
        assert "article 1" not in failed.error and "article 3" not in failed.error
        assert "edit what the review refused" in failed.error
        assert "remove those articles" in failed.error


async def test_a_requeued_push_uploads_any_cover_it_does_not_know(
    sqlite_url: str, cover_file: Path
) -> None:
    """A post back in the queue after a failure keeps its covers only when every article's is
    known: an article whose cover was changed meanwhile (its media id cleared) is uploaded."""
    async with publish_rig(sqlite_url, cover_file) as rig:
        post = await rig.add_post("重新排队的多图文", more_titles=MORE)
        media_id, _ = await rig.clients["acc0"].add_material(
            cover_file.read_bytes(), "c.jpg", "image"
        )
        async with rig.engine.begin() as conn:
            await post_store.update_fields(
                conn,
                post.id,
                now=utc_now(),
                stage=PublishStage.DRAFTED.value,
                thumb_media_id=media_id,  # the headline's; articles 2 and 3 have none
                draft_media_id="an-old-draft",
            )
        await publish_all(rig)
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED, done.error
        assert all(a.thumb_media_id for a in done.articles)
        assert len({a.thumb_media_id for a in done.articles}) == 3
