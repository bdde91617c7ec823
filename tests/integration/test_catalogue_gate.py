"""Security re-check 4, F3: catalogue searches (a scan each) go through a gate: a few at once,
a few more waiting, the rest refused at once, and no waiting search holds a database
connection, so a burst of them cannot keep a "draft now" waiting."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.engine.turns import Turns
from bot.store import catalogue as catalogue_store
from bot.web import queries
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


async def test_searches_beyond_the_gate_are_refused_and_drafting_goes_on(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rig.import_catalogue()
    gate = Turns(1, 1, queries.SearchesBusyError)
    monkeypatch.setattr(queries, "CATALOGUE_READS", gate)
    release = asyncio.Event()
    real = catalogue_store.list_resources

    async def slow_scan(*args: Any, **kwargs: Any) -> Any:
        await release.wait()  # a scan of a huge catalogue
        return await real(*args, **kwargs)

    monkeypatch.setattr(catalogue_store, "list_resources", slow_scan)
    monkeypatch.setattr(queries, "SEARCH_SECONDS", 60.0)  # the scan's wait is no statement
    search = "/api/catalogue?q=zzzz"
    # Three people: one person's second search would be refused for being theirs.
    running = asyncio.create_task(rig.client.get(search, headers=rig.bearer("reviewer")))
    waiting = asyncio.create_task(rig.client.get(search, headers=rig.bearer("editor")))
    for _ in range(200):
        if gate.waiting == 1:
            break
        await asyncio.sleep(0.01)
    headers = rig.bearer("admin")
    refused = await rig.client.get(search, headers=headers)
    assert refused.status == 429
    assert "too many catalogue searches at once" in (await refused.json())["error"]
    started = time.perf_counter()
    drafted = await rig.client.post(
        "/api/posts", json={"column": "快讯", "at": "now"}, headers=rig.bearer("editor")
    )
    assert drafted.status == 201, await drafted.text()
    assert time.perf_counter() - started < 5
    release.set()
    assert [(await r).status for r in (running, waiting)] == [200, 200]
    assert (await rig.client.get(search, headers=headers)).status == 200  # the queue drained
