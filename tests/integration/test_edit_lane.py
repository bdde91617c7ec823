"""An editor's text cannot hold the workers others need (security re-check S3/S4): an edit's
render and checks run in a lane of their own with a time limit; an edit that runs past it is
answered 422 with the limit, its worker is replaced, and a report and a "draft now" made
meanwhile are answered at their usual speed from the main pool."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.account.limits import PlatformLimits
from bot.content.checks import Finding
from bot.domain.models import Article
from bot.engine import drafting, offload
from bot.engine.offload import Offload
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

LIMIT = 5.0  # seconds: the lane's limit in this test (the service's is 20)


def slow_checked_article(
    article: Article, html: str, limits: PlatformLimits, allowed: tuple[str, ...]
) -> tuple[list[Finding], str, str]:
    """Checks as slow as a pathological text makes them, for the article titled "slow"
    (the draft made meanwhile is checked as usual, in the main pool)."""
    if article.title == "slow":
        time.sleep(60)
    return ORIGINAL_CHECKS(article, html, limits, allowed)


ORIGINAL_CHECKS = drafting._checked_article


@pytest.fixture
async def processes() -> AsyncIterator[Offload]:
    """Real worker processes (one in the main pool, one in the lane): only a process can be
    stopped."""
    lane = Offload(mode="process", workers=1, limited_seconds=LIMIT)
    previous = offload.use(lane)
    await lane.warm()
    yield lane
    offload.use(previous)
    lane.close()


async def _timed(request: Any) -> tuple[float, int, Any]:
    started = time.monotonic()
    response = await request
    body = await response.json()
    return time.monotonic() - started, response.status, body


async def test_an_edit_past_the_time_limit_is_stopped_and_holds_up_no_one_else(
    rig: WebRig, processes: Offload, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rig.import_catalogue()
    created = await rig.client.post(
        "/api/posts",
        json={"column": "学习平台", "resources": ["exhibit-001"]},
        headers=rig.bearer("editor"),
    )
    assert created.status == 201, await created.text()
    post_id = (await created.json())["id"]
    monkeypatch.setattr(drafting, "_checked_article", slow_checked_article)

    edit = asyncio.create_task(
        _timed(
            rig.client.patch(
                f"/api/posts/{post_id}",
                json={"title": "slow", "markdown": "# slow\n\ntext"},
                headers=rig.bearer("editor"),
            )
        )
    )
    await asyncio.sleep(0.3)  # the edit's checks are running in the lane now
    report, draft = await asyncio.gather(
        _timed(rig.client.get("/api/report?period=2026", headers=rig.bearer("admin"))),
        _timed(
            rig.client.post(
                "/api/posts", json={"column": "学习平台", "at": "now"}, headers=rig.bearer("admin")
            )
        ),
    )
    assert report[1] == 200 and draft[1] == 201, (report, draft)
    assert not edit.done(), "the report and the draft were answered while the edit ran"
    assert report[0] < LIMIT and draft[0] < LIMIT

    seconds, status, body = await edit
    assert status == 422, body
    assert body["error"] == (
        "checking this text took over 5 s and was stopped; split or simplify it"
    )
    assert LIMIT <= seconds < LIMIT + 2

    monkeypatch.undo()  # the real checks again; the lane has a new worker for them
    seconds, status, body = await _timed(
        rig.client.patch(
            f"/api/posts/{post_id}",
            json={"title": "fine", "markdown": "# fine\n\nan ordinary edit"},
            headers=rig.bearer("editor"),
        )
    )
    assert status == 200, body
    assert body["title"] == "fine"
