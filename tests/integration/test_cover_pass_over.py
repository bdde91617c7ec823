"""Security re-checks 6 and 7, M1: automatic drafting took the catalogue in a fixed order, so
one resource whose cover did not load (a dead link, a page instead of an image, a host the
fetcher refuses, a server that never answers) failed every draft and every slot of every column
featuring its kind. Now candidates' covers are loaded before they are chosen, several at once
within one budget per draft; one that does not load is passed over, logged and marked (a week
when refused, an hour when it failed for the moment) or until an import changes its cover.
Drafting's image fetches use an HTTP client of their own (re-check 7, M2)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import AccountConfig, ColumnConfig, Config, Secret
from bot.content.sample import DEFAULT_COVER
from bot.domain.errors import ContentRejectedError, TransientError, UserError
from bot.engine.drafting import Drafting
from bot.engine.importing import import_file
from bot.store import db
from bot.store import log as log_store
from bot.store.catalogue import note_cover_problem
from bot.store.tables import resources
from tests.conftest import FakeClock
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
COLUMN = "学习平台"
DEAD = "https://img.example.org/dead.png"
PAGE = "https://img.example.org/moved.png"
SLOW = "https://img.example.org/slow.png"
HANG = "https://img.example.org/hang.png"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 90, 150)).save(buffer, "PNG")
    return buffer.getvalue()


class Loader:
    """The service's image loader, as the tests need it: each URL answers what it is told."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, ref: str) -> bytes:
        self.calls.append(ref)
        if ref == DEAD:
            raise ContentRejectedError(f"image {ref}: the server answered 404")
        if ref == PAGE:
            return b"<html><body>This page has moved</body></html>"
        if ref == SLOW:
            raise TransientError(f"image {ref}: no answer within 10 s")
        if ref.startswith(HANG):
            await asyncio.Event().wait()  # a server that never answers
        return _png()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.open_engine(database_url)
    await db.upgrade(engine)
    yield engine
    await engine.dispose()


def _drafting(
    engine: AsyncEngine, load: Loader, tmp_path: Path, clock: FakeClock | None = None
) -> Drafting:
    config = Config(
        path=None,
        database_url="",
        accounts=(AccountConfig("main", "wx1", Secret("s")),),
        columns=(ColumnConfig(COLUMN, "main", author="团区委"),),
        templates_dir=Path(__file__).resolve().parents[2] / "templates",
        media_dir=tmp_path / "media",
    )

    async def upload(account: str, data: bytes, filename: str) -> str:
        return f"https://mmbiz.qpic.cn/{account}/{filename}"

    return Drafting(
        engine=engine,
        config=config,
        clock=clock or FakeClock(NOW),
        upload_image=upload,
        load_image=load,
        has_schedule=lambda column: False,
        default_cover=DEFAULT_COVER,
    )


async def _import(engine: AsyncEngine, tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    """Rows of (id, cover) imported the way an editor's file is (staged, then moved in)."""
    path = tmp_path / "catalogue.csv"
    lines = ["id,kind,title,cover"] + [f"{rid},platform,资源 {rid},{cover}" for rid, cover in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    await import_file(
        engine,
        path,
        kinds=("platform",),
        clock=FakeClock(NOW),
        media_dir=tmp_path / "media",
        cover_dirs=(),
    )


async def _problems(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(resources.c.id, resources.c.cover_problem))
        return {rid: problem for rid, problem in rows}


async def _catalogue_log(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        entries = await log_store.list_entries(conn, limit=100)
    return [(e.outcome, e.detail) for e in entries if e.step == "catalogue"]


async def test_a_cover_that_does_not_load_is_passed_over_logged_and_not_tried_again(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    good = "https://img.example.org/good.png"
    await _import(engine, tmp_path, [("a-dead", DEAD), ("b-good", good), ("c-good", good)])
    load = Loader()
    drafting = _drafting(engine, load, tmp_path)

    first = await drafting.draft(COLUMN)

    assert first.post.articles[0].resource_ids == ("b-good",)
    assert "404" in (await _problems(engine))["a-dead"]
    [(outcome, detail)] = await _catalogue_log(engine)
    assert outcome == "error"
    assert "'a-dead' passed over" in detail and "before 2026-12-07 16:00" in detail
    # The next draft does not fetch the dead cover again, and the good one once per draft
    # (checked before it was chosen, then re-hosted from what was loaded).
    load.calls.clear()
    second = await drafting.draft(COLUMN)
    assert second.post.articles[0].resource_ids == ("c-good",)
    assert load.calls == [good]


async def test_a_page_instead_of_an_image_is_passed_over(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _import(engine, tmp_path, [("a-page", PAGE), ("b-good", "")])
    draft = await _drafting(engine, Loader(), tmp_path).draft(COLUMN)
    assert draft.post.articles[0].resource_ids == ("b-good",)
    assert "not a readable image" in (await _problems(engine))["a-page"]


async def test_a_cover_failing_for_the_moment_is_passed_over_for_an_hour_then_tried_again(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Re-check 7, M1: one left unmarked was tried first at every draft; nine such rows (a
    closed port, a 503) failed every automatic draft of their kind."""
    await _import(engine, tmp_path, [("a-slow", SLOW), ("b-good", ""), ("c-good", "")])
    clock = FakeClock(NOW)
    load = Loader()
    draft = await _drafting(engine, load, tmp_path, clock).draft(COLUMN)
    assert draft.post.articles[0].resource_ids == ("b-good",)
    assert "no answer within 10 s" in (await _problems(engine))["a-slow"]
    [(outcome, detail)] = await _catalogue_log(engine)
    assert outcome == "error" and "'a-slow' passed over, its cover does not load for now" in detail
    assert "tried again from 2026-11-30 17:00" in detail  # an hour on, in the account's zone

    load.calls.clear()
    clock.advance(30 * 60)
    await _drafting(engine, load, tmp_path, clock).draft(COLUMN)  # c-good, a-slow not tried
    assert SLOW not in load.calls

    clock.advance(60 * 60)
    load.calls.clear()
    with pytest.raises(UserError, match="'a-slow' do not load"):  # tried again: still failing
        await _drafting(engine, load, tmp_path, clock).draft(COLUMN)
    assert load.calls == [SLOW]


async def test_a_cover_that_loads_again_loses_its_mark(engine: AsyncEngine, tmp_path: Path) -> None:
    await _import(engine, tmp_path, [("a-slow", SLOW), ("b-good", "")])
    clock = FakeClock(NOW)
    await _drafting(engine, Loader(), tmp_path, clock).draft(COLUMN)
    assert (await _problems(engine))["a-slow"]

    class Recovered(Loader):
        async def __call__(self, ref: str) -> bytes:
            return _png() if ref == SLOW else await super().__call__(ref)

    clock.advance(2 * 60 * 60)
    draft = await _drafting(engine, Recovered(), tmp_path, clock).draft(COLUMN)
    assert draft.post.articles[0].resource_ids == ("a-slow",)
    assert (await _problems(engine))["a-slow"] == ""


async def test_covers_that_never_answer_cost_a_draft_one_budget_not_one_timeout_each(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-check 7, M1: nine hanging covers took a draft 9 x 20 s, and the scheduler's pass
    with it, and left every draft of their kind failing. Covers load in rounds within one
    budget; those still loading then are passed over (and marked) as failing for the moment,
    so the next draft gets past them. (Those that waited for one of the draft's turns to load
    meanwhile are not marked: the draft is to be tried again, re-checks 18 and 19.)"""
    from bot.engine import loadable

    monkeypatch.setattr(loadable, "BUDGET_SECONDS", 0.5)
    rows = [(f"h{i}", f"{HANG}?{i}") for i in range(9)] + [("z-good", "")]
    await _import(engine, tmp_path, rows)
    drafting = _drafting(engine, Loader(), tmp_path)
    # The first draft's candidates all hang: it ends within its budget, refused.
    with pytest.raises(loadable.CoversUnjudgedError, match=r"within 0\.\d s"):
        await asyncio.wait_for(drafting.draft(COLUMN), 5)
    problems = (await _problems(engine)).values()
    assert sum("not loaded within 0.5 s" in problem for problem in problems) >= 3
    for _ in range(3):  # each later draft gets further past them
        try:
            draft = await asyncio.wait_for(drafting.draft(COLUMN), 5)
            break
        except (UserError, loadable.CoversUnjudgedError):
            continue
    assert draft.post.articles[0].resource_ids == ("z-good",)


async def test_one_persons_image_loads_are_a_few_at_a_time_and_others_go_on() -> None:
    """Re-check 7, M2: one editor's burst of drafts held every connection of the HTTP client.
    A person's loads take turns (LOADS_PER_PERSON at once); another person's do not wait."""
    from bot.engine import loadable

    running: dict[str, int] = {}
    most: dict[str, int] = {}
    release = asyncio.Event()

    async def load(ref: str) -> bytes:
        who = ref.split("/")[2]
        running[who] = running.get(who, 0) + 1
        most[who] = max(most.get(who, 0), running[who])
        try:
            if who == "flood":
                await release.wait()
            return b"x"
        finally:
            running[who] -= 1

    floods = [loadable.RememberingLoader(load, owner="editor") for _ in range(5)]
    tasks = [
        asyncio.create_task(f(f"http://flood/{i}-{k}.png"))
        for i, f in enumerate(floods)
        for k in range(3)
    ]
    await asyncio.sleep(0.05)
    other = loadable.RememberingLoader(load, owner="admin")
    assert await asyncio.wait_for(other("http://other/1.png"), 1) == b"x"
    assert most["flood"] == loadable.LOADS_PER_PERSON
    release.set()
    await asyncio.gather(*tasks)


async def test_when_no_cover_loads_the_error_names_the_resources(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _import(engine, tmp_path, [("a-dead", DEAD), ("b-page", PAGE)])
    with pytest.raises(UserError, match=r"the covers of 'a-dead', 'b-page' do not load \(.*404"):
        await _drafting(engine, Loader(), tmp_path).draft(COLUMN)
    # Marked all the same: the next slot fails at once, without fetching them again.
    load = Loader()
    with pytest.raises(UserError, match="no catalogue resource is left to feature"):
        await _drafting(engine, load, tmp_path).draft(COLUMN)
    assert load.calls == []


async def test_an_import_with_another_cover_clears_the_mark_and_the_same_cover_keeps_it(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _import(engine, tmp_path, [("a-dead", DEAD), ("b-good", "")])
    await _drafting(engine, Loader(), tmp_path).draft(COLUMN)
    assert (await _problems(engine))["a-dead"]

    await _import(engine, tmp_path, [("a-dead", DEAD), ("b-good", "")])  # the same file again
    assert (await _problems(engine))["a-dead"]

    fixed = "https://img.example.org/new.png"
    await _import(engine, tmp_path, [("a-dead", fixed), ("b-good", "")])
    assert (await _problems(engine))["a-dead"] == ""
    draft = await _drafting(engine, Loader(), tmp_path).draft(COLUMN)
    assert draft.post.articles[0].resource_ids == ("a-dead",)


def test_the_zh_log_and_error_name_the_resource_in_chinese() -> None:
    from bot.i18n import translate_sentence

    detail = (
        "resource 'a-dead' passed over, its cover does not load (image x: the server answered "
        "404): not featured again before 2026-12-07 16:00 unless its cover changes"
    )
    assert translate_sentence("zh", detail).startswith("已跳过资源 'a-dead'：封面无法加载")
    assert "2026-12-07 16:00 之前不再选用" in translate_sentence("zh", detail)
    detail = (
        "resource 'a-slow' passed over, its cover does not load for now (image x: no answer): "
        "tried again from 2026-11-30 17:00"
    )
    assert "封面暂时无法加载" in translate_sentence("zh", detail)
    error = (
        "column '学习平台': no catalogue resource is left to feature (kinds: all, cooldown 30 "
        "days); the covers of 'a-dead' do not load (image x: the server answered 404)"
    )
    assert translate_sentence("zh", error).startswith(
        "栏目 '学习平台'：资源目录中已没有可选用的资源"
    )
    assert "'a-dead' 的封面无法加载" in translate_sentence("zh", error)


async def test_the_catalogue_page_and_api_say_which_cover_does_not_load(rig: WebRig) -> None:
    await rig.import_catalogue()
    async with rig.services.engine.begin() as conn:
        first = (await conn.execute(sa.select(resources.c.id, resources.c.cover).limit(1))).one()
        await note_cover_problem(
            conn, first.id, first.cover, "image x: the server answered 404", retry_at=NOW
        )
    answer = await rig.client.get("/api/catalogue", headers=rig.bearer("editor"))
    shapes = {r["id"]: r["cover_problem"] for r in await answer.json()}
    assert shapes[first.id] == "image x: the server answered 404"
    assert sum(1 for problem in shapes.values() if problem) == 1
    await rig.login("editor")
    page = await (await rig.client.get("/catalogue")).text()
    assert "封面无法加载；重新导入并更换封面之前，自动成稿会跳过这项资源" in page
    assert "the server answered 404" in page


async def test_drafting_fetches_images_through_a_client_of_its_own(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-check 7, M2: one editor's burst of drafts whose covers hang took every connection
    of the one HTTP client the publisher also reaches the platform through; a due post could
    not connect and ended failed. Drafting's fetches now have a client, and a limit, of their
    own."""
    import aiohttp

    from bot import app
    from bot.content import images

    used: list[aiohttp.ClientSession] = []

    async def fetch(url: str, *, session: aiohttp.ClientSession, **_: object) -> bytes:
        used.append(session)
        return _png()

    monkeypatch.setattr(images, "fetch_image", fetch)
    services = rig.services
    await services.drafting.load_image("https://img.example.org/a.png")
    publisher = next(iter(services.publishers.values()))
    with pytest.raises(UserError):  # it uploads the copy kept with the post (test_cover_copies)
        await publisher.load_cover("https://img.example.org/a.png")
    (drafting_client,) = used
    assert drafting_client is not services.session  # the platform's client
    assert drafting_client.connector is not None
    assert drafting_client.connector.limit == app.DRAFTING_CONNECTIONS


async def test_a_slow_cover_overtaken_by_a_quick_one_is_not_marked() -> None:
    """A load still running when a replacement filled the place says nothing about its cover:
    it is stopped, not passed over."""
    from bot.domain.models import Resource
    from bot.engine import loadable

    async def load(ref: str) -> bytes:
        if "slow" in ref:
            await asyncio.sleep(30)
        return _png()

    ordered = [
        Resource("a", "platform", "A", cover="https://img.example.org/slow.png"),
        Resource("b", "platform", "B", cover="https://img.example.org/quick.png"),
    ]
    chosen, passed = await asyncio.wait_for(
        loadable.with_loadable_covers(ordered, 1, load, budget=1.0), 5
    )
    assert [r.id for r in chosen] == ["b"]
    assert passed == []


async def test_once_its_hour_is_over_a_cover_that_failed_is_tried_after_every_clean_one(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Security re-check 8, M1: rows marked for the moment came first again when their hour
    was over, and failed the first automatic draft of every hour."""
    rows = [("a-slow", SLOW), ("b-good", ""), ("c-good", ""), ("d-good", "")]
    await _import(engine, tmp_path, rows)
    clock = FakeClock(NOW)
    await _drafting(engine, Loader(), tmp_path, clock).draft(COLUMN)  # b-good; a-slow marked
    clock.advance(2 * 60 * 60)
    load = Loader()
    draft = await _drafting(engine, load, tmp_path, clock).draft(COLUMN)
    assert draft.post.articles[0].resource_ids == ("c-good",)
    assert SLOW not in load.calls


class Hanging:
    """An image loader whose loads hang until ``release`` is set; ``most`` is how many were
    in flight at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = self.most = 0

    async def __call__(self, ref: str) -> bytes:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.release.wait()
            return _png()
        finally:
            self.running -= 1


async def test_previews_load_covers_within_the_persons_turns(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security re-check 8, M2: the preview pages loaded covers through drafting's client
    without the per-person limit; forty previews of hanging covers filled it for everyone."""
    from bot.engine import loadable

    await rig.import_catalogue()
    drafted = await rig.client.post(
        "/api/posts", json={"column": "快讯", "at": "now"}, headers=rig.bearer("editor")
    )
    assert drafted.status == 201, await drafted.text()
    post_id = (await drafted.json())["id"]
    hanging = Hanging()
    monkeypatch.setattr(rig.services.drafting, "load_image", hanging)
    await rig.login("editor")
    pages = [f"/posts/{post_id}/preview", f"/posts/{post_id}/preview/list"] * 5
    tasks = [asyncio.create_task(rig.client.get(page)) for page in pages]
    for _ in range(100):
        await asyncio.sleep(0.02)
    assert hanging.most == loadable.LOADS_PER_PERSON
    hanging.release.set()
    assert {(await t).status for t in tasks} == {200}


async def test_edits_load_covers_within_the_persons_turns_admin_and_token_alike(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security re-check 9, M-A: an edit's new cover was loaded through drafting's client
    without the per-person limit, so forty edits with hanging covers filled it for everyone;
    and a person's admin session and API token counted as two people."""
    from bot.engine import loadable

    await rig.import_catalogue()
    drafted = await rig.client.post(
        "/api/posts",
        json={"column": "快讯", "at": "2099-01-01T08:00"},
        headers=rig.bearer("editor"),
    )
    assert drafted.status == 201, await drafted.text()
    post_id = (await drafted.json())["id"]
    hanging = Hanging()
    monkeypatch.setattr(rig.services.drafting, "load_image", hanging)
    tasks = [
        asyncio.create_task(
            rig.client.patch(
                f"/api/posts/{post_id}",
                json={"cover": f"https://img.example.org/hang-{i}.png"},
                headers=rig.bearer("editor"),
            )
        )
        for i in range(8)
    ]
    await rig.login("editor")
    pages = [asyncio.create_task(rig.client.get(f"/posts/{post_id}/preview")) for _ in range(4)]
    for _ in range(100):
        await asyncio.sleep(0.02)
    assert hanging.most == loadable.LOADS_PER_PERSON
    hanging.release.set()
    await asyncio.gather(*tasks, *pages)
