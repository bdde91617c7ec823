"""The reproductions of ``docs``' security review (/work/shared/research/security-review.md,
findings 1 to 15), each re-run against the real service over loopback HTTP, asserting the
safe behaviour. A test's name starts with the finding's number."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.account.callback import (
    ArticleLink,
    MessageCrypto,
    PublishJobFinish,
    build_push,
    render_event,
)
from bot.domain.models import PostStatus
from bot.engine import offload
from bot.engine.offload import Offload
from bot.store import posts as post_store
from bot.store.tables import callback_events
from bot.web.views import reports as reports_view
from tests.integration.web_rig import (
    AES_KEY,
    APPID,
    CALLBACK_TOKEN,
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


# --- 2. forged or replayed callback events were acted on --------------------------------------


def _push(
    publish_id: str,
    status: int,
    *,
    url: str = "",
    timestamp: int | None = None,
    nonce: str = "captured",
    crypto: MessageCrypto | None = None,
) -> tuple[dict[str, str], bytes]:
    event = PublishJobFinish(
        to_user="gh_test",
        from_user="oSystem",
        create_time=int(time.time()),
        publish_id=publish_id,
        publish_status=status,
        article_id="art-x" if status == 0 else "",
        articles=(ArticleLink(1, url),) if url else (),
    )
    push = build_push(
        render_event(event),
        token=CALLBACK_TOKEN,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        nonce=nonce,
        to_user="gh_test",
        crypto=crypto,
    )
    return push.query, push.body.encode("utf-8")


async def _callback_events(rig: WebRig) -> int:
    async with rig.services.engine.connect() as conn:
        return len((await conn.execute(sa.select(callback_events))).all())


async def test_2_a_push_signed_in_the_year_2000_is_refused(rig: WebRig) -> None:
    query, body = _push("1", 0, timestamp=946684800)
    response = await rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 403
    assert "5 minutes" in (await response.json())["error"]
    query, body = _push("1", 0, timestamp=int(time.time()) + 3600)  # from the future too
    assert (await rig.client.post("/callback/main", params=query, data=body)).status == 403
    assert await _callback_events(rig) == 0


async def test_2_a_safe_mode_push_signed_in_the_year_2000_is_refused(safe_rig: WebRig) -> None:
    crypto = MessageCrypto(CALLBACK_TOKEN, AES_KEY, APPID)
    query, body = _push("1", 0, timestamp=946684800, crypto=crypto)
    response = await safe_rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 403
    assert await _callback_events(safe_rig) == 0


async def test_2_a_seen_signature_with_another_body_is_refused_and_a_retry_acts_once(
    rig: WebRig,
) -> None:
    query, body = _push("555", 0, url="https://mp.weixin.qq.com/s/a", nonce="n1")
    first = await rig.client.post("/callback/main", params=query, data=body)
    assert first.status == 200 and await first.text() == "success"
    rig.services.worker.wake.clear()
    retry = await rig.client.post("/callback/main", params=query, data=body)
    assert retry.status == 200 and await retry.text() == "success"
    assert not rig.services.worker.wake.is_set()
    _, forged = _push("556", 4, nonce="n1")  # the captured query, a body of one's choosing
    response = await rig.client.post("/callback/main", params=query, data=forged)
    assert response.status == 403
    assert "another body" in (await response.json())["error"]
    assert await _callback_events(rig) == 1


async def _submitted_post(rig: WebRig) -> dict[str, Any]:
    """A post the publisher has submitted (it has a publish_id), not yet polled."""
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts",
        json={"column": "快讯", "resources": ["exhibit-001"], "at": "now"},
        headers=rig.bearer("editor"),
    )
    assert response.status == 201, await response.text()
    post_id = (await response.json())["id"]
    await rig.services.worker.run_once()
    async with rig.services.engine.connect() as conn:
        post = await post_store.get(conn, post_id)
    assert post.publish_id and post.status is PostStatus.PUBLISHING
    return {"id": post_id, "publish_id": post.publish_id}


async def _sim_published(rig: WebRig) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{rig.sim.url}/_sim/state") as response,
    ):
        return list((await response.json())["published"])


async def test_2_a_failure_event_is_checked_with_the_platform_and_never_leads_to_a_resend(
    rig: WebRig,
) -> None:
    post = await _submitted_post(rig)
    query, body = _push(post["publish_id"], 4, nonce="fail")  # "rejected by review"
    response = await rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 200
    await rig.services.worker.run_due(max_wait=20)
    async with rig.services.engine.connect() as conn:
        final = await post_store.get(conn, post["id"])
    assert final.status is PostStatus.PUBLISHED  # the platform published it
    retry = await rig.client.post(f"/api/posts/{post['id']}/retry", headers=rig.bearer("editor"))
    assert retry.status == 409
    assert len(await _sim_published(rig)) == 1


async def test_2_a_success_event_with_a_strangers_link_does_not_set_the_link(
    rig: WebRig,
) -> None:
    post = await _submitted_post(rig)
    query, body = _push(post["publish_id"], 0, url="https://evil.example/phish", nonce="evil")
    response = await rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 200
    await rig.services.worker.run_due(max_wait=20)
    async with rig.services.engine.connect() as conn:
        final = await post_store.get(conn, post["id"])
    assert final.status is PostStatus.PUBLISHED
    assert final.article_url.startswith("https://mp.weixin.qq.com/")
