"""Security re-check 8, M3 (re-check 9, M-B and M-C): publishing fetched each post's cover from
the editor's URL at publish time, inside the account's one publishing lane, so a host that had
since stopped answering held every post of the account behind it. Now drafting and edits keep
the cover they loaded and checked with the post, in the transaction that stores it; a draft or
an edit whose cover cannot be kept stores nothing; publishing uploads the copy and never
fetches; copies go with the cover they were of, and when the post is published or cancelled."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import images
from bot.domain.errors import TransientError, UserError
from bot.domain.models import PostStatus
from bot.store import cover_copies
from bot.store import log as log_store
from bot.store import posts as post_store
from bot.store.tables import cover_copies as copies_table
from bot.store.tables import media_cache
from tests.integration.test_cover_pass_over import COLUMN, Loader, _drafting, _import
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

COVER_A = "https://img.example.org/a.png"
COVER_B = "https://img.example.org/b.png"
PAGE = "https://img.example.org/moved.png"


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 102), colour).save(buffer, "PNG")
    return buffer.getvalue()


IMAGES = {COVER_A: _png((200, 40, 40)), COVER_B: _png((40, 40, 200))}


class Net:
    """The fetcher as the tests need it: the images above, a page instead of an image (at
    PAGE, or everywhere with ``pages``), or (with ``down``) a host that never answers; every
    URL asked for is noted."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.down = False
        self.pages = False  # every address answers a page instead of an image

    async def __call__(self, url: str, *, session: aiohttp.ClientSession, **_: object) -> bytes:
        self.calls.append(url)
        if self.down:
            await asyncio.Event().wait()
        if url == PAGE or self.pages:
            return b"<html><body>moved</body></html>"
        return IMAGES[url]


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Net:
    fake = Net()
    monkeypatch.setattr(images, "fetch_image", fake)
    return fake


async def _copies(engine: AsyncEngine) -> dict[tuple[int, str], bytes]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(copies_table.c.post_id, copies_table.c.url, copies_table.c.data)
        )
        return {(post_id, url): data for post_id, url, data in rows}


async def _draft(rig: WebRig, at: str = "now") -> int:
    await rig.import_catalogue()
    drafted = await rig.client.post(
        "/api/posts", json={"column": "快讯", "at": at}, headers=rig.bearer("editor")
    )
    assert drafted.status == 201, await drafted.text()
    return int((await drafted.json())["id"])


async def _stored(rig: WebRig, post_id: int) -> tuple[str, object]:
    """The post's cover and when it last changed, as stored."""
    async with rig.services.engine.connect() as conn:
        post = await post_store.get(conn, post_id)
    return post.cover, post.updated_at


async def _set_cover(
    rig: WebRig, post_id: int, cover: str, *, role: str = "editor"
) -> aiohttp.ClientResponse:
    return await rig.client.patch(
        f"/api/posts/{post_id}", json={"cover": cover}, headers=rig.bearer(role)
    )


async def test_a_post_goes_out_with_its_kept_cover_when_the_host_no_longer_answers(
    rig: WebRig, net: Net
) -> None:
    """The review's case: the cover's host answered when the editor saved the post and hangs
    at publish time. The post is published without a single fetch, with the bytes checked."""
    post_id = await _draft(rig)
    edited = await _set_cover(rig, post_id, COVER_A)
    assert edited.status == 200, await edited.text()
    engine = rig.services.engine
    assert await _copies(engine) == {(post_id, COVER_A): IMAGES[COVER_A]}
    net.down = True
    net.calls.clear()
    done = await asyncio.wait_for(rig.services.worker.run_due(max_wait=20), timeout=30)
    assert [(p.id, p.status) for p in done] == [(post_id, PostStatus.PUBLISHED)]
    assert net.calls == []  # publishing fetched nothing
    async with engine.connect() as conn:
        digests = set(
            (
                await conn.execute(
                    sa.select(media_cache.c.sha256).where(media_cache.c.purpose == "cover")
                )
            ).scalars()
        )
    assert hashlib.sha256(IMAGES[COVER_A]).hexdigest() in digests
    assert await _copies(engine) == {}  # a published post needs its copies no more


async def test_an_edit_whose_cover_is_not_an_image_stores_nothing(rig: WebRig, net: Net) -> None:
    """Re-check 9, M-B: a post kept the editor's URL when the first fetch failed, and the
    publisher fetched it again. Now an edit whose cover cannot be kept is refused whole."""
    post_id = await _draft(rig, at="2099-01-01T08:00")
    before = await _stored(rig, post_id)
    refused = await _set_cover(rig, post_id, PAGE)
    assert refused.status in (400, 422), await refused.text()
    assert "cannot be kept for publishing" in (await refused.json())["error"]
    assert await _stored(rig, post_id) == before
    assert await _copies(rig.services.engine) == {}


async def test_an_edit_whose_cover_hangs_stores_nothing(
    rig: WebRig, net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cover that does not answer in time: the edit fails, the post keeps its old cover."""

    async def timing_out(url: str, *, session: aiohttp.ClientSession, **_: object) -> bytes:
        raise TransientError(f"image {url}: no answer within 20 s")

    post_id = await _draft(rig, at="2099-01-01T08:00")
    before = await _stored(rig, post_id)
    monkeypatch.setattr(images, "fetch_image", timing_out)
    refused = await _set_cover(rig, post_id, COVER_A)
    assert refused.status >= 400, await refused.text()
    assert await _stored(rig, post_id) == before
    assert await _copies(rig.services.engine) == {}


async def test_a_changed_cover_replaces_its_copy_and_cancelling_releases_it(
    rig: WebRig, net: Net
) -> None:
    post_id = await _draft(rig, at="2099-01-01T08:00")
    assert (await _set_cover(rig, post_id, COVER_A)).status == 200
    assert (await _set_cover(rig, post_id, COVER_B)).status == 200
    engine = rig.services.engine
    assert await _copies(engine) == {(post_id, COVER_B): IMAGES[COVER_B]}
    # An edit of the text that keeps the cover does not fetch it again.
    net.calls.clear()
    text = await rig.client.patch(
        f"/api/posts/{post_id}", json={"title": "改过的标题"}, headers=rig.bearer("editor")
    )
    assert text.status == 200, await text.text()
    assert net.calls == []
    assert set(await _copies(engine)) == {(post_id, COVER_B)}
    cancelled = await rig.client.post(f"/api/posts/{post_id}/cancel", headers=rig.bearer("editor"))
    assert cancelled.status == 200, await cancelled.text()
    assert await _copies(engine) == {}


async def test_one_persons_copies_have_a_limit_that_leaves_everyone_else_theirs(
    rig: WebRig, net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-check 10, M1: the copies' limit was one pool for the whole service, so one editor
    who filled it with far-future posts stopped every draft and cover edit, scheduled ones
    included. Each person now has a share of their own; what a schedule or the CLI keeps
    counts against no one's. (Re-check 9, M-C: a refused edit stores nothing.)"""
    first = await _draft(rig, at="2099-01-01T08:00")
    second = await _draft(rig, at="2099-01-02T08:00")
    third = await _draft(rig, at="2099-01-03T08:00")
    monkeypatch.setattr(cover_copies, "PERSON_KEPT_BYTES", len(IMAGES[COVER_A]) + 10)
    assert (await _set_cover(rig, first, COVER_A)).status == 200
    # The same post's cover replaced: its old copy goes, so this one fits.
    assert (await _set_cover(rig, first, COVER_B)).status == 200
    before = await _stored(rig, second)
    refused = await _set_cover(rig, second, COVER_A)
    assert refused.status in (400, 422)
    assert "MB" in (await refused.json())["error"]
    assert await _stored(rig, second) == before
    # Another person, and the operator's CLI, still keep theirs.
    assert (await _set_cover(rig, third, COVER_A, role="admin")).status == 200
    async with rig.services.engine.connect() as conn:
        post = await post_store.get(conn, second)
    await rig.services.drafting.edit(
        second,
        title=post.title,
        digest=post.digest,
        markdown=post.markdown,
        cover=COVER_A,
        actor="cli:root",
    )
    assert set(await _copies(rig.services.engine)) == {
        (first, COVER_B),
        (second, COVER_A),
        (third, COVER_A),
    }


async def test_the_preview_shows_the_kept_cover_without_fetching(rig: WebRig, net: Net) -> None:
    post_id = await _draft(rig, at="2099-01-01T08:00")
    assert (await _set_cover(rig, post_id, COVER_A)).status == 200
    net.down = True
    net.calls.clear()
    await rig.login("editor")
    page = await asyncio.wait_for(rig.client.get(f"/posts/{post_id}/preview"), timeout=10)
    assert page.status == 200
    assert "data:image/jpeg;base64," in await page.text()
    assert net.calls == []


async def test_the_publishers_loader_refuses_urls(rig: WebRig, net: Net) -> None:
    publisher = next(iter(rig.services.publishers.values()))
    with pytest.raises(UserError, match="publishing reads only local files"):
        await publisher.load_cover(COVER_A)
    assert net.calls == []


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    from bot.store import db

    engine = db.open_engine(database_url)
    await db.upgrade(engine)
    yield engine
    await engine.dispose()


async def test_an_automatic_draft_keeps_the_cover_of_the_resource_it_features(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL: the copy is stored with the post, from the load the draft
    already made (the cover is fetched once)."""
    await _import(
        engine,
        tmp_path,
        [
            ("a-dead", "https://img.example.org/dead.png"),
            ("b-good", "https://img.example.org/good.png"),
        ],
    )
    load = Loader()
    draft = await _drafting(engine, load, tmp_path).draft(COLUMN)
    assert draft.post.cover == "https://img.example.org/good.png"
    assert load.calls.count("https://img.example.org/good.png") == 1
    copies = await _copies(engine)
    assert list(copies) == [(draft.post.id, "https://img.example.org/good.png")]
    assert images.image_problem(copies[(draft.post.id, draft.post.cover)]) == ""


async def _legacy_post(engine: AsyncEngine, cover: str) -> int:
    """A post stored as before migration 0009: an http(s) cover and no copy of it."""
    new = post_store.NewPost(
        column=COLUMN,
        account="main",
        title="旧文章",
        author="团区委",
        digest="",
        markdown="正文",
        content_html="<p>正文</p>",
        content_source_url="",
        cover=cover,
        delivery="publish",
        status=PostStatus.QUEUED,
        resources=[],
        scheduled_for=datetime.now(UTC),
    )

    async with engine.begin() as conn:
        return await post_store.create(conn, new, now=datetime.now(UTC))


async def test_posts_stored_before_copies_get_them_at_start_and_a_failing_one_is_logged(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    good = await _legacy_post(engine, "https://img.example.org/good.png")
    dead = await _legacy_post(engine, "https://img.example.org/dead.png")
    drafting = _drafting(engine, Loader(), tmp_path)
    assert await drafting.keep_missing_copies() == 1
    assert set(await _copies(engine)) == {(good, "https://img.example.org/good.png")}
    async with engine.connect() as conn:
        entries = await log_store.list_entries(conn, limit=20)
    failed = [e for e in entries if e.step == "cover"]
    assert [(e.post_id, e.outcome) for e in failed] == [(dead, "error")]
    assert "cannot be kept for publishing" in failed[0].detail
    # Nothing left to do: a second start fetches nothing.
    again = Loader()
    await _drafting(engine, again, tmp_path).keep_missing_copies()
    assert again.calls == ["https://img.example.org/dead.png"]


async def test_the_catch_up_stops_at_its_time_limit(engine: AsyncEngine, tmp_path: Path) -> None:
    await _legacy_post(engine, "https://img.example.org/hang.png")
    drafting = _drafting(engine, Loader(), tmp_path)
    assert await asyncio.wait_for(drafting.keep_missing_copies(seconds=0.2), timeout=5) == 0


async def test_a_post_without_its_copy_fails_at_once_naming_the_cover(
    rig: WebRig, net: Net
) -> None:
    """A post stored before copies whose cover did not load at start: publishing does not
    fetch it, it fails the post at once with what to do (edit it and save it again)."""
    post_id = await _legacy_post(rig.services.engine, COVER_A)
    net.down = True
    done = await asyncio.wait_for(rig.services.worker.run_due(max_wait=5), timeout=30)
    assert [(p.id, p.status) for p in done] == [(post_id, PostStatus.FAILED)]
    assert "no copy of it was kept" in done[0].error
    assert net.calls == []
    # Retrying keeps the copy first, and is refused while the image does not load.
    net.down, net.pages = False, True
    refused = await rig.client.post(f"/api/posts/{post_id}/retry", headers=rig.bearer("editor"))
    assert refused.status in (400, 422), await refused.text()
    assert "cannot be kept for publishing" in (await refused.json())["error"]
    async with rig.services.engine.connect() as conn:
        assert (await post_store.get(conn, post_id)).status is PostStatus.FAILED
    net.pages = False
    retried = await rig.client.post(f"/api/posts/{post_id}/retry", headers=rig.bearer("editor"))
    assert retried.status == 200, await retried.text()
    assert set(await _copies(rig.services.engine)) == {(post_id, COVER_A)}
    net.down = True
    net.calls.clear()
    done = await asyncio.wait_for(rig.services.worker.run_due(max_wait=20), timeout=30)
    assert [(p.id, p.status) for p in done] == [(post_id, PostStatus.PUBLISHED)]
    assert net.calls == []
    # A retry of a published post is refused without loading (or keeping) anything.
    again = await rig.client.post(f"/api/posts/{post_id}/retry", headers=rig.bearer("editor"))
    assert again.status == 409, await again.text()
    assert net.calls == []
    assert await _copies(rig.services.engine) == {}


async def test_a_copy_of_a_cover_at_a_long_chinese_address_is_kept(engine: AsyncEngine) -> None:
    """On PostgreSQL too: a cover field may hold 2,000 characters, which as UTF-8 is more than
    a PostgreSQL index entry takes; copies are keyed by the address's SHA-256."""
    url = "https://img.example.org/" + "封面" * 985
    post_id = await _legacy_post(engine, url)
    async with engine.begin() as conn:
        await cover_copies.keep(conn, post_id, [url], {url: IMAGES[COVER_A]}, now=datetime.now(UTC))
    async with engine.connect() as conn:
        assert await cover_copies.copy_of(conn, post_id, url) == IMAGES[COVER_A]
        assert await cover_copies.kept_urls(conn, post_id) == {url}
        assert await cover_copies.posts_missing_copies(conn) == []


async def test_the_version_a_reviewer_approves_names_the_kept_pictures(
    rig: WebRig, net: Net
) -> None:
    """Re-check 11, M1: the version hashed the cover's address, not the picture kept for it.
    An editor changed the cover A -> B -> A while A's host now served another picture: the
    version came back as the reviewer saw it, the approval went through, and the platform
    got a picture nobody reviewed."""
    await rig.import_catalogue()
    drafted = await rig.client.post(
        "/api/posts",
        json={"column": "学习平台", "at": "2099-01-01T08:00"},
        headers=rig.bearer("editor"),
    )
    assert drafted.status == 201, await drafted.text()
    post_id = int((await drafted.json())["id"])
    assert (await _set_cover(rig, post_id, COVER_A)).status == 200

    async def version() -> str:
        got = await rig.client.get(f"/api/posts/{post_id}", headers=rig.bearer("reviewer"))
        return str((await got.json())["version"])

    seen = await version()
    assert (await _set_cover(rig, post_id, COVER_B)).status == 200
    benign = IMAGES[COVER_A]
    IMAGES[COVER_A] = _png((0, 0, 0))  # the same address now serves another picture
    try:
        assert (await _set_cover(rig, post_id, COVER_A)).status == 200
    finally:
        IMAGES[COVER_A] = benign
    assert await version() != seen
    approved = await rig.client.post(
        f"/api/posts/{post_id}/approve", json={"version": seen}, headers=rig.bearer("reviewer")
    )
    assert approved.status == 409, await approved.text()


async def test_a_cover_cut_short_is_passed_over_and_marked(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Re-check 11, M2: a PNG cut short passes a look at its header but not decoding; it was
    chosen first by every automatic draft, which then failed, and never marked."""
    from bot.content.images import decode_problem, image_problem

    whole = _png((10, 200, 10))
    cut = whole[: len(whole) * 2 // 3]
    assert image_problem(cut) == "" and decode_problem(cut)

    class CutShort(Loader):
        async def __call__(self, ref: str) -> bytes:
            self.calls.append(ref)
            return cut if ref.endswith("cut.png") else _png((10, 10, 200))

    await _import(
        engine,
        tmp_path,
        [("a-cut", "https://img.example.org/cut.png"), ("b-good", "https://img.example.org/b.png")],
    )
    draft = await _drafting(engine, CutShort(), tmp_path).draft(COLUMN)
    assert draft.post.articles[0].resource_ids == ("b-good",)
    async with engine.connect() as conn:
        problem = await conn.scalar(
            sa.text("SELECT cover_problem FROM resources WHERE id = 'a-cut'")
        )
    assert problem


async def test_one_persons_drafts_take_two_turns_and_others_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Re-check 11, M3: thirty drafts of one editor's filled the worker pool everyone shares.
    A person's drafts now run two at a time (more wait, and past a limit are refused); other
    people's, and schedules', do not wait for them."""
    from bot.engine import drafting

    monkeypatch.setattr(drafting.DRAFT_TURNS, "max_waiting", 3)
    release = asyncio.Event()
    running: dict[str, int] = {}
    most: dict[str, int] = {}

    async def draft(person: str) -> None:
        async with drafting.DRAFT_TURNS.taken(person):
            running[person] = running.get(person, 0) + 1
            most[person] = max(most.get(person, 0), running[person])
            await release.wait()
            running[person] -= 1

    editor = [asyncio.create_task(draft("editor")) for _ in range(5)]
    await asyncio.sleep(0.05)
    with pytest.raises(drafting.DraftsBusyError):
        await draft("editor")  # two running, three waiting: the sixth is refused
    others = [asyncio.create_task(draft("editor2")), asyncio.create_task(draft(""))]
    await asyncio.sleep(0.05)
    assert running == {"editor": drafting.DRAFTS_PER_PERSON, "editor2": 1, "": 1}
    release.set()
    await asyncio.gather(*editor, *others)
    assert most["editor"] == drafting.DRAFTS_PER_PERSON


async def test_previews_of_a_post_without_copies_fetch_nothing(rig: WebRig, net: Net) -> None:
    """Re-check 12, M1: a cancelled (or published) post's copies are gone, and its previews
    fetched the covers again from the editor's address and decoded them in the shared worker
    pool, with no turn or limit: twenty previews at once held it for minutes. Previews now
    show only kept copies (a grey box otherwise) and fetch nothing."""
    post_id = await _draft(rig, at="2099-01-01T08:00")
    assert (await _set_cover(rig, post_id, COVER_A)).status == 200
    cancelled = await rig.client.post(f"/api/posts/{post_id}/cancel", headers=rig.bearer("editor"))
    assert cancelled.status == 200, await cancelled.text()
    net.down = True
    net.calls.clear()
    await rig.login("editor")
    pages = [f"/posts/{post_id}/preview", f"/posts/{post_id}/preview/list"] * 10
    answers = await asyncio.wait_for(
        asyncio.gather(*(rig.client.get(page) for page in pages)), timeout=20
    )
    assert {a.status for a in answers} == {200}
    assert "data:image" not in await answers[0].text()
    assert net.calls == []
