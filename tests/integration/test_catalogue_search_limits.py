"""Security review, N5: a catalogue search over long repetitive text cost seconds per search.
A search now has a time budget after which the database stops it (and the connection it ran
on serves the next read untouched), a term of at most 50 characters, and one search of a
person's at a time; rows are bounded at import (tests/unit/test_catalogue.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.content.catalogue import MAX_CHARS
from bot.domain.models import Resource
from bot.store import budget, db
from bot.store import catalogue as catalogue_store
from bot.web import queries
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

# LIKE's worst case: one character repeated, and a term that gets 49 characters in at every
# position before it fails. Rows as long as an import allows.
WORST_TERM = "的" * 49 + "了"
ORDINARY = Resource("course-001", "course", "网上团课第一讲", "一门课程的简介。", "", "", (), "t")
TINY = 0.001  # seconds: far less than reading the worst rows takes


def worst_rows(count: int) -> list[Resource]:
    return [
        Resource(
            "的" * (MAX_CHARS["id"] - 6) + f"{i:06d}",
            "article",
            "的" * MAX_CHARS["title"],
            "的" * MAX_CHARS["summary"],
            "",
            "",
            (),
            "worst",
        )
        for i in range(count)
    ]


async def fill(engine: AsyncEngine, rows: int) -> None:
    async with engine.begin() as conn:
        await catalogue_store.upsert(
            conn, [ORDINARY, *worst_rows(rows)], now=datetime(2026, 1, 1, tzinfo=UTC)
        )


async def driver_of(conn: AsyncConnection) -> object:
    return (await conn.get_raw_connection()).driver_connection


async def unbudgeted_worst_search(engine: AsyncEngine) -> tuple[object, list[Resource]]:
    """The worst search without a budget (far longer than TINY), and the driver connection
    it ran on."""
    async with engine.connect() as conn:
        found = await catalogue_store.list_resources(conn, search=WORST_TERM, limit=51)
        return await driver_of(conn), found


async def test_a_search_past_its_budget_is_stopped_and_its_connection_serves_the_next_read(
    database_url: str,
) -> None:
    engine = db.open_engine(database_url, pool_size=1)
    try:
        await db.upgrade(engine)
        await fill(engine, 2000)
        async with engine.connect() as conn:
            before = await driver_of(conn)

        with pytest.raises(budget.OverBudgetError) as stopped:
            await catalogue_store.search_resources(engine, seconds=TINY, search=WORST_TERM)
        assert stopped.value.seconds == TINY

        # The same pooled connection, and nothing of the budget left on it: the same worst
        # search without one runs far past TINY to its (empty) end, and an ordinary one
        # finds its row.
        driver, found = await unbudgeted_worst_search(engine)
        assert driver is before
        assert found == []
        found = await catalogue_store.search_resources(engine, seconds=60, search="团课")
        assert [r.id for r in found] == ["course-001"]
        async with engine.connect() as conn:
            assert await driver_of(conn) is before
    finally:
        await engine.dispose()


async def test_a_search_within_its_budget_leaves_no_timer_behind(database_url: str) -> None:
    engine = db.open_engine(database_url, pool_size=1)
    try:
        await db.upgrade(engine)
        await fill(engine, 2000)
        budget_seconds = 0.05
        for _ in range(3):
            # A quick read well within the budget (one resource of its kind)...
            found = await catalogue_store.search_resources(
                engine, seconds=budget_seconds, kinds=["course"], search="团课"
            )
            assert [r.id for r in found] == ["course-001"]
            # ...then, on the same connection, a read far longer than that budget: had the
            # budget's timer (or PostgreSQL's setting) outlived its block, it would stop this.
            _, found = await unbudgeted_worst_search(engine)
            assert found == []
    finally:
        await engine.dispose()


async def test_a_search_past_its_budget_is_refused_in_each_language(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fill(rig.services.engine, 2000)
    monkeypatch.setattr(queries, "SEARCH_SECONDS", TINY)
    stopped = await rig.client.get(f"/api/catalogue?q={WORST_TERM}", headers=rig.bearer("editor"))
    assert stopped.status == 422
    assert (await stopped.json())["error"] == (
        "the catalogue search was stopped after 0.001 s; "
        "choose a kind to narrow it, or try other words"
    )
    await rig.login("editor")
    page = await rig.client.get("/catalogue", params={"q": WORST_TERM})
    assert page.status == 422
    assert (
        "搜索资源目录超过 0.001 秒，已停止；请选择类型缩小范围，或换个搜索词" in await page.text()
    )

    monkeypatch.setattr(queries, "SEARCH_SECONDS", 60.0)
    found = await rig.client.get("/api/catalogue?q=团课", headers=rig.bearer("editor"))
    assert found.status == 200
    assert [r["id"] for r in await found.json()] == ["course-001"]


async def test_a_search_term_is_at_most_50_characters(rig: WebRig) -> None:
    await rig.import_catalogue()
    headers = rig.bearer("editor")
    at_limit = await rig.client.get("/api/catalogue", params={"q": "展" * 50}, headers=headers)
    assert at_limit.status == 200
    over = await rig.client.get("/api/catalogue", params={"q": "展" * 51}, headers=headers)
    assert over.status == 400
    assert (await over.json())["error"] == (
        "a search may be at most 50 characters long; shorten it"
    )
    await rig.login("editor")
    page = await rig.client.get("/catalogue", params={"q": "展" * 51})
    assert page.status == 400
    assert "搜索词最多 50 个字符，请缩短" in await page.text()
    form = await (await rig.client.get("/catalogue")).text()
    assert 'name="q" value="" maxlength="50"' in form


async def test_a_persons_second_search_waits_for_no_one_and_is_refused(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rig.import_catalogue()
    release = asyncio.Event()
    scans: list[str] = []
    real = catalogue_store.list_resources

    async def slow_scan(conn: AsyncConnection, **kwargs: Any) -> Any:
        scans.append(kwargs["search"])
        await release.wait()  # a scan of a huge catalogue
        return await real(conn, **kwargs)

    monkeypatch.setattr(catalogue_store, "list_resources", slow_scan)
    monkeypatch.setattr(queries, "SEARCH_SECONDS", 60.0)  # the scan's wait is no statement
    reviewer, editor = rig.bearer("reviewer"), rig.bearer("editor")
    first = asyncio.create_task(rig.client.get("/api/catalogue?q=展馆", headers=reviewer))
    for _ in range(200):
        if scans:
            break
        await asyncio.sleep(0.01)
    assert scans == ["展馆"]

    again = await rig.client.get("/api/catalogue?q=团课", headers=reviewer)
    assert again.status == 429
    assert (await again.json())["error"] == (
        "your previous search is still running; try again when it is done"
    )
    others = asyncio.create_task(rig.client.get("/api/catalogue?q=团课", headers=editor))
    for _ in range(200):
        if len(scans) == 2:
            break
        await asyncio.sleep(0.01)
    assert scans == ["展馆", "团课"]  # another person's search runs beside the first

    release.set()
    answers = [await first, await others]
    assert [a.status for a in answers] == [200, 200]
    assert [[r["id"] for r in await a.json()] for a in answers] == [
        ["exhibit-001", "exhibit-002"],
        ["course-001"],
    ]
    # Done: the reviewer searches again.
    assert (await rig.client.get("/api/catalogue?q=团课", headers=reviewer)).status == 200
    refusal = queries.SearchesBusyError(own=True)
    assert refusal.in_language("zh") == "你上一次搜索还在进行中，请等它完成后再试"
