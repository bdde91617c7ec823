"""Exactly once under every way the platform may behave (platform-fidelity.md §1): the
publisher against each simulator variant, on simulated time (jobs of 15–30 s, reconcile
windows of hours), with lost answers and faults injected and their counts checked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.domain.models import Article, Delivery, PostStatus, PublishStage
from bot.engine.reconcile import same_article
from bot.store import db
from bot.store import log as log_store
from bot.store import posts as post_store
from tests.integration.variant_rig import DRAFT_REMOVALS, PROFILES, VariantRig, variant_rig


async def script(rig: VariantRig, *items: dict[str, str]) -> None:
    rig.sim.sim.faults.update({"next": list(items)})


@pytest.mark.parametrize("removal", DRAFT_REMOVALS)
async def test_a_lost_submit_answer_on_a_long_job_is_found_not_submitted_again(
    sqlite_url: str, cover_file: Path, removal: str
) -> None:
    """The job runs 20 minutes (an originality review): longer than the window the service
    used to wait before taking "draft still in the box" as proof. Under "job_end_republish"
    a second submit would publish the article twice."""
    async with variant_rig(
        sqlite_url, cover_file, draft_removal=removal, publish_delay_seconds=1200.0
    ) as rig:
        post = await rig.add_post("漫长审核中的文章")
        await script(rig, {"kind": "lost_answer", "path": "freepublish/submit", "mode": "5xx"})
        await rig.run()
        done = await rig.get(post.id)
        state = await rig.state()
        assert done.status is PostStatus.PUBLISHED, done.error
        assert (await rig.published_counts())["漫长审核中的文章"] == 1
        assert state["call_counts"]["freepublish/submit"] == 1
        job = next(j for j in state["published"] if j["title"] == "漫长审核中的文章")
        assert done.article_id == job["article_id"]
        # The lasting link (from the job's event), not the list's temporary url.
        assert done.article_url == job["article_urls"][0]
        assert state["faults"]["injected"]["lost_answer"] == 1


@pytest.mark.parametrize("removal", DRAFT_REMOVALS)
async def test_a_submit_that_never_took_effect_is_resubmitted_only_after_the_window(
    sqlite_url: str, cover_file: Path, removal: str
) -> None:
    """A 503 before the effect looks like a lost answer: the draft stays, nothing runs. The
    draft box proves it only once no job could still be running."""
    async with variant_rig(sqlite_url, cover_file, draft_removal=removal) as rig:
        post = await rig.add_post("从未提交成功")
        await script(rig, {"kind": "http_5xx", "path": "freepublish/submit"})
        started = rig.clock()
        await rig.run()
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED, done.error
        state = await rig.state()
        assert state["call_counts"]["freepublish/submit"] == 2
        assert (await rig.published_counts())["从未提交成功"] == 1
        window = rig.config.publisher.reconcile_window_seconds
        assert (done.published_at - started).total_seconds() >= window
        async with rig.engine.connect() as conn:
            details = [e.detail for e in await log_store.list_entries(conn, post_ids=[post.id])]
        proof = next(d for d in details if d.startswith("proven not published"))
        assert "draft present" in proof and "not among the" in proof
        assert state["faults"]["injected"]["http_5xx"] == 1


async def test_a_draft_gone_with_nothing_published_waits_for_a_person_with_the_evidence(
    sqlite_url: str, cover_file: Path
) -> None:
    async with variant_rig(sqlite_url, cover_file, draft_removal="job_end") as rig:
        post = await rig.add_post("草稿被人删除")
        await script(rig, {"kind": "http_5xx", "path": "freepublish/submit"})
        for _ in range(4):  # cover, draft, the unclear submit
            current = await rig.get(post.id)
            await rig.publisher.advance(current)
            if current.stage is PublishStage.UNKNOWN:
                break
        current = await rig.get(post.id)
        assert current.stage is PublishStage.UNKNOWN
        await rig.client.draft_delete(current.draft_media_id)  # a person, in the console
        await rig.run()
        stuck = await rig.get(post.id)
        assert stuck.needs_attention and stuck.stage is PublishStage.ATTENTION
        assert "draft gone" in stuck.error and "not among the" in stuck.error
        assert (await rig.state())["call_counts"]["freepublish/submit"] == 1


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("removal", DRAFT_REMOVALS)
async def test_thirty_posts_through_lost_answers_and_faults_publish_exactly_once(
    sqlite_url: str, cover_file: Path, profile: str, removal: str
) -> None:
    """30 posts; 30% of draft/add and submit answers lost after their effect; one call in ten
    refused (busy, minute limit, 5xx, token); jobs of 15–30 s; a console-made article with a
    raw control character in the published list."""
    async with variant_rig(
        sqlite_url,
        cover_file,
        profile=profile,
        draft_removal=removal,
        publish_delay_seconds=15.0,
        publish_delay_max_seconds=30.0,
        lost_answer_rate=0.3,
        lost_answer_mode="mixed",
        fault_rate=0.1,
        fault_kinds=("busy", "rate_limited", "http_5xx", "token_invalid"),
        console_articles=1,  # reconciliation reads past a title with a raw control character
    ) as rig:
        titles = [f"可靠性第{i}期" for i in range(30)]
        for title in titles:
            await rig.add_post(title)
        await rig.run()
        state = await rig.state()
        counts = await rig.published_counts()
        assert {t: counts[t] for t in titles} == {t: 1 for t in titles}
        jobs = {j["title"]: j for j in state["published"]}
        for post_id in rig.post_ids:
            post = await rig.get(post_id)
            assert post.status is PostStatus.PUBLISHED, (post.title, post.error)
            job = jobs[post.title]
            assert post.article_id == job["article_id"]
            assert post.article_url == job["article_urls"][0]
        injected = state["faults"]["injected"]
        assert injected.get("lost_answer", 0) >= 5, injected
        assert sum(n for kind, n in injected.items() if kind != "lost_answer") >= 5, injected


async def test_without_a_callback_a_reconciled_post_gets_no_temporary_link(
    sqlite_url: str, cover_file: Path
) -> None:
    async with variant_rig(sqlite_url, cover_file, profile="realistic", callback=False) as rig:
        post = await rig.add_post("无回调的文章")
        await script(rig, {"kind": "lost_answer", "path": "freepublish/submit", "mode": "drop"})
        await rig.run()
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED and done.article_id
        assert done.article_url == ""  # the list's url is the draft's temporary link


async def test_an_author_over_the_limit_is_refused_before_any_call(
    sqlite_url: str, cover_file: Path
) -> None:
    """The realistic platform refuses authors over 8 characters (45110): the post is refused
    by the checks, saying why, and never reaches draft/add."""
    async with variant_rig(sqlite_url, cover_file, profile="realistic") as rig:
        post = await rig.add_post("作者太长", author="共青团某某区委员会宣传部")
        await rig.run()
        failed = await rig.get(post.id)
        assert failed.status is PostStatus.FAILED
        assert "12 characters" in failed.error and "45110" in failed.error
        assert "draft/add" not in (await rig.state())["call_counts"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_control_characters_never_leave_the_client(
    sqlite_url: str, cover_file: Path, profile: str
) -> None:
    """The checks refuse control characters in a post; should one reach the client anyway,
    it is taken out before draft/add (the platform would refuse its JSON escape, 40033), and
    reconciliation still recognises the article by its text as sent."""
    async with variant_rig(sqlite_url, cover_file, profile=profile) as rig:
        thumb, _ = await rig.client.add_material(cover_file.read_bytes(), "c.jpg", "image")
        raw = Article(
            title="控制\x0b字符\x1b标题",
            author="团\x07区委",
            digest="摘\x00要",
            content_html="<p>甲\tb\x0c乙</p>\n",
            content_source_url="https://www.xuexi.cn/",
        )
        media_id = await rig.client.draft_add(
            [
                {
                    "title": raw.title,
                    "author": raw.author,
                    "digest": raw.digest,
                    "content": raw.content_html,
                    "content_source_url": raw.content_source_url,
                    "thumb_media_id": thumb,
                }
            ]
        )
        (news,) = (await rig.client.draft_get(media_id))["news_item"]
        assert (news["title"], news["author"], news["digest"]) == ("控制字符标题", "团区委", "摘要")
        assert news["content"] == "<p>甲\tb乙</p>\n"
        assert same_article(news, raw)  # the body too, as the platform keeps it


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_cover_the_platform_forgot_is_uploaded_again_once(
    sqlite_url: str, cover_file: Path, profile: str
) -> None:
    """The cover's media id is cached per account; a new simulator (or a cover deleted in the
    console) no longer knows it: draft/add answers 40007, the cover is uploaded again and the
    post goes on."""
    async with variant_rig(sqlite_url, cover_file, profile=profile) as rig:
        first = await rig.add_post("第一篇")
        await rig.run()
        assert (await rig.get(first.id)).status is PostStatus.PUBLISHED
        rig.sim.sim.materials.clear()  # deleted in the console: the platform forgets them
        second = await rig.add_post("重启之后")
        await rig.run()
        done = await rig.get(second.id)
        assert done.status is PostStatus.PUBLISHED, done.error
        state = await rig.state()
        assert state["call_counts"]["material/add_material"] == 2  # once more, not again
        assert state["call_counts"]["draft/add"] == 3  # the first post's, the 40007, the draft
        assert done.thumb_media_id == state["materials"][0]["media_id"]
        async with rig.engine.connect() as conn:
            details = [e.detail for e in await log_store.list_entries(conn, post_ids=[done.id])]
        assert any("uploading it again" in d for d in details)


async def test_a_draft_the_platform_forgot_before_the_submit_is_made_again(
    sqlite_url: str, cover_file: Path
) -> None:
    """A draft made earlier (ahead of the slot, or before a restart of the platform) is gone
    when its submit comes: 40007 from "drafted" means no submit of ours took it, so the draft
    is made again, once, and published."""
    async with variant_rig(sqlite_url, cover_file, profile="realistic") as rig:
        post = await rig.add_post("草稿被遗忘")
        await script(rig, {"kind": "busy", "path": "freepublish/submit"})
        await rig.publisher.advance(post)  # cover, draft, a submit refused: back to drafted
        current = await rig.get(post.id)
        assert current.stage is PublishStage.DRAFTED and current.draft_media_id
        await rig.client.draft_delete(current.draft_media_id)
        await rig.run()
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED, done.error
        assert done.draft_media_id != current.draft_media_id
        assert (await rig.published_counts())["草稿被遗忘"] == 1


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_lost_mass_send_answer_is_adopted_through_its_own_clientmsgid(
    sqlite_url: str, cover_file: Path, profile: str
) -> None:
    """The sendall answer is lost after the send went out. The resend (with a fresh draft:
    the realistic platform checks the draft first and the first send used it up; and it
    answers 45066 to a repeat within a minute) gets 45065 with the first send's msg_id."""
    async with variant_rig(sqlite_url, cover_file, profile=profile, delivery="mass_send") as rig:
        post = await rig.add_post("群发丢失应答", delivery=Delivery.MASS_SEND)
        await script(rig, {"kind": "lost_answer", "path": "message/mass/sendall", "mode": "drop"})
        await rig.run()
        done = await rig.get(post.id)
        assert done.status is PostStatus.PUBLISHED, done.error
        state = await rig.state()
        (send,) = state["mass_sends"]
        assert send["title"] == "群发丢失应答" and str(send["msg_id"]) == done.msg_id
        assert send["clientmsgid"] == done.clientmsgid != f"bot-post-{post.id}"
        assert state["faults"]["injected"]["lost_answer"] == 1


async def test_mass_sends_of_two_databases_never_share_a_clientmsgid(
    sqlite_url: str, cover_file: Path, tmp_path: Path
) -> None:
    """A second database (or a restored backup) numbers its posts from 1 again: its post 1 is
    sent, not taken for the first database's post 1 (field-reports.md row 14)."""
    async with variant_rig(
        sqlite_url, cover_file, delivery="mass_send", account_type="service"
    ) as rig:
        first = await rig.add_post("第一个库的群发", delivery=Delivery.MASS_SEND)
        await rig.run()
        assert (await rig.get(first.id)).status is PostStatus.PUBLISHED
        other = db.open_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
        await db.upgrade(other)
        try:
            rig.engine, rig.publisher.engine = other, other
            rig.post_ids = []
            second = await rig.add_post("第二个库的全新内容", delivery=Delivery.MASS_SEND)
            assert second.id == first.id
            await rig.run()
            sent = await rig.get(second.id)
            assert sent.status is PostStatus.PUBLISHED, sent.error
        finally:
            await other.dispose()
        titles = sorted(m["title"] for m in (await rig.state())["mass_sends"])
        assert titles == ["第一个库的群发", "第二个库的全新内容"]


async def test_a_45065_for_another_send_is_never_adopted(sqlite_url: str, cover_file: Path) -> None:
    """A post still carrying a clientmsgid of the old form (bot-post-<id>, shared with any
    database that numbered a post the same) meets 45065: it needs a person, it is not marked
    sent."""
    async with variant_rig(
        sqlite_url, cover_file, delivery="mass_send", account_type="service"
    ) as rig:
        thumb, _ = await rig.client.add_material(cover_file.read_bytes(), "c.jpg", "image")
        article = {"title": "别处的群发", "content": "<p>别处</p>", "thumb_media_id": thumb}
        elsewhere = await rig.client.draft_add([article])
        post = await rig.add_post("本库的新内容", delivery=Delivery.MASS_SEND)
        await rig.client.mass_sendall(elsewhere, f"bot-post-{post.id}")
        async with rig.engine.begin() as conn:
            await post_store.update_fields(
                conn, post.id, now=rig.clock(), clientmsgid=f"bot-post-{post.id}"
            )
        await rig.run()
        stuck = await rig.get(post.id)
        assert stuck.needs_attention and stuck.status is PostStatus.PUBLISHING
        assert "not a send of this post" in stuck.error
        assert [m["title"] for m in (await rig.state())["mass_sends"]] == ["别处的群发"]


async def test_a_restored_backup_sends_its_new_post_under_a_new_clientmsgid(
    tmp_path: Path, cover_file: Path
) -> None:
    """field-reports.md row 14: back up, send post 1, restore, draft a different post 1 and
    send it. The same installation, the same post id, but a clientmsgid of its own: it is
    sent, not taken for the first."""
    path = tmp_path / "bot.db"
    async with variant_rig(
        f"sqlite+aiosqlite:///{path}", cover_file, delivery="mass_send", account_type="service"
    ) as rig:
        await rig.engine.dispose()
        sqlite3.connect(path).backup(backup := sqlite3.connect(tmp_path / "backup.db"))
        backup.close()
        first = await rig.add_post("第一篇群发内容", delivery=Delivery.MASS_SEND)
        await rig.run()
        sent_first = await rig.get(first.id)
        await rig.engine.dispose()
        with sqlite3.connect(tmp_path / "backup.db") as source:
            source.backup(target := sqlite3.connect(path))
        target.close()
        rig.post_ids = []
        second = await rig.add_post("完全不同的第二篇", delivery=Delivery.MASS_SEND)
        assert second.id == first.id
        await rig.run()
        sent_second = await rig.get(second.id)
        assert sent_second.status is PostStatus.PUBLISHED, sent_second.error
        assert sent_second.clientmsgid != sent_first.clientmsgid
        titles = sorted(m["title"] for m in (await rig.state())["mass_sends"])
        assert titles == ["完全不同的第二篇", "第一篇群发内容"]
