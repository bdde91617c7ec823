"""The reproductions of ``docs``' security review (/work/shared/research/security-review.md,
findings 1 to 15), each re-run against the real service over loopback HTTP, asserting the
safe behaviour. A test's name starts with the finding's number."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from bot.engine import offload
from bot.engine.offload import Offload
from bot.web.views import reports as reports_view
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    safe_rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


@pytest.fixture
def threads() -> Iterator[None]:
    """Offloaded work in threads of this process, so a test can patch what it runs."""
    previous = offload.use(Offload(mode="thread"))
    yield
    offload.use(previous)


# --- 1. a wide report period froze the service ------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "from=0100-01-01&to=2026-12-31",
        "from=0002-01-01&to=9998-12-31",
        "from=2000-01-01&to=2026-12-31",
        "from=0001-01-01&to=0001-01-02",
        "from=9999-12-30&to=9999-12-31",
        "period=9999",
        "period=0001",
        "period=9999-Q4",
        "period=0000-01",
    ],
)
async def test_1_a_report_period_beyond_the_limits_is_refused_saying_the_limit(
    rig: WebRig, query: str
) -> None:
    response = await rig.client.get(f"/api/report?{query}", headers=rig.bearer("editor"))
    assert response.status == 400, await response.text()
    error = (await response.json())["error"]
    assert "3653 days" in error or "2000" in error
    await rig.login("editor")
    page = await rig.client.get(f"/reports?{query}")
    assert page.status == 400
    assert "2000" in await page.text() or "3653" in await page.text()
    csv = await rig.client.get(f"/reports.csv?{query}")
    assert csv.status == 400


async def test_1_the_longest_allowed_period_is_answered(rig: WebRig) -> None:
    response = await rig.client.get(
        "/api/report?from=2017-01-01&to=2026-12-31", headers=rig.bearer("editor")
    )
    assert response.status == 200, await response.text()
    assert len((await response.json())["posts_per_week"]) == 0  # no posts: no columns


async def test_1_healthz_answers_while_a_big_report_is_being_built(
    rig: WebRig, threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release, left = threading.Event(), threading.Event(), threading.Event()
    original = reports_view.chart_series

    def slow_chart(weeks: list[dict[str, object]], *, y_title: str) -> dict[str, object]:
        entered.set()
        release.wait(5)  # on the loop this would hold every other request for 5 s
        left.set()
        return original(weeks, y_title=y_title)

    monkeypatch.setattr(reports_view, "chart_series", slow_chart)
    await rig.login("editor")
    page = asyncio.create_task(rig.client.get("/reports?from=2024-01-01&to=2024-12-31"))
    assert await asyncio.to_thread(entered.wait, 5)
    health = await rig.client.get("/healthz")
    assert health.status == 200
    assert not left.is_set(), "/healthz waited for the report"
    release.set()
    response = await page
    assert response.status == 200
