"""The account client over real loopback HTTP against the simulator, through each fault kind.

Faults are scripted through the simulator's ``POST /_sim/faults`` (``next``: consumed in order
by the first matching calls), so every test is deterministic.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.account.client import AccountClient, OnCall, RetryPolicy
from bot.account.errors import (
    ApiQuotaError,
    ApiRateLimitedError,
    ApiSetupError,
    ApiTokenError,
    ApiTransientError,
    ApiUnknownOutcomeError,
    DuplicateMassSendError,
)
from bot.account.memory import MemoryCallCounter, MemoryTokenStore
from bot.account.ports import StoredToken
from bot.account.simulator import RunningSimulator, SimulatorConfig, start_simulator
from bot.config import AccountConfig, Secret
from bot.domain.errors import (
    PermanentError,
    QuotaExhaustedError,
    TransientError,
    UnknownOutcomeError,
    UserError,
)

APPID = "wxclienttest000001"
SECRET = "client-test-secret-3f9a"
ACCOUNT = "main"
# 23:59:45 in Beijing: one minute later is the next quota day; 15 s to the next minute.
START = datetime(2025, 3, 3, 15, 59, 45, tzinfo=UTC)
THUMB = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # a small "JPEG" for a cover
PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Harness:
    """One simulator, one session, a shared token store and counter, and a factory of
    clients (several clients over one store play several processes)."""

    def __init__(self, running: RunningSimulator, session: aiohttp.ClientSession) -> None:
        self.running = running
        self.session = session
        self.store = MemoryTokenStore()
        self.counter = MemoryCallCounter()
        self.clock = Clock(START)
        self.sleeps: list[float] = []
        self.steps: list[tuple[str, int | None, int, int]] = []

    async def sleep(self, seconds: float) -> None:
        # Record the wait, yield briefly for real so other tasks (the simulator) progress.
        self.sleeps.append(seconds)
        await asyncio.sleep(0.005)

    def on_call(self, endpoint: str, errcode: int | None, latency_ms: int, attempt: int) -> None:
        self.steps.append((endpoint, errcode, latency_ms, attempt))

    def client(
        self,
        *,
        secret: str = SECRET,
        api_base: str | None = None,
        timeout: float = 2.0,
        on_call: OnCall | None = None,
    ) -> AccountClient:
        account = AccountConfig(
            name=ACCOUNT,
            appid=APPID,
            secret=Secret(secret, "env:WX_SECRET_TEST"),
            api_base=api_base or self.running.url,
        )
        return AccountClient(
            account,
            self.session,
            tokens=self.store,
            counter=self.counter,
            clock=self.clock,
            timeout=aiohttp.ClientTimeout(total=timeout, connect=1.0),
            retry=RetryPolicy(attempts=4, base_delay=0.5, max_delay=30.0),
            sleep=self.sleep,
            rand=lambda: 0.5,
            on_call=on_call or self.on_call,
        )

    async def faults(self, *items: dict[str, Any]) -> None:
        async with self.session.post(
            f"{self.running.url}/_sim/faults", json={"next": list(items)}
        ) as response:
            assert response.status == 200, await response.text()

    async def state(self) -> dict[str, Any]:
        async with self.session.get(f"{self.running.url}/_sim/state") as response:
            assert response.status == 200
            result: dict[str, Any] = await response.json()
            return result

    async def calls(self, path: str) -> int:
        return int((await self.state())["call_counts"].get(path, 0))

    def counted(self, endpoint: str, day: date = date(2025, 3, 3)) -> tuple[int, int]:
        key = (ACCOUNT, endpoint, day)
        return self.counter.calls[key], self.counter.errors[key]


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    config = SimulatorConfig(
        appid=APPID,
        secret=SECRET,
        seed=11,
        slow_seconds=1.0,
        publish_delay_seconds=1.0,
        quotas={"freepublish/getarticle": 2},
    )
    running = await start_simulator(config, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Harness(running, session)
    finally:
        await running.stop()


async def new_draft(client: AccountClient, title: str = "学习平台：每周精选") -> str:
    thumb = await client.add_material(THUMB, "cover.jpg", type="thumb")
    article = {
        "title": title,
        "author": "编辑部",
        "content": "<p>“引号”与中文内容 — 不转义</p>",
        "thumb_media_id": thumb.media_id,
    }
    return await client.draft_add([article])


# --- the happy path -------------------------------------------------------------------------


async def test_draft_publish_and_read_back_in_raw_utf8(harness: Harness) -> None:
    client = harness.client()
    image_url = await client.upload_content_image(PICTURE, "figure.png")
    assert image_url.startswith("http://mmbiz.qpic.cn/")
    media_id = await new_draft(client)
    # The simulator refuses \uXXXX escapes with 40033, so this round trip proves raw UTF-8.
    draft = await client.draft_get(media_id)
    assert draft["news_item"][0]["title"] == "学习平台：每周精选"
    assert await client.draft_count() == 1
    page = await client.draft_batchget(0, 20, no_content=True)
    assert page["item"][0]["media_id"] == media_id
    assert "content" not in page["item"][0]["content"]["news_item"][0]

    publish_id = await client.freepublish_submit(media_id)
    assert isinstance(publish_id, str) and publish_id.isdigit()
    first = await client.freepublish_get(publish_id)
    assert first.in_progress
    harness.running.sim.advance(2.0)  # the simulator's clock: the job finishes
    done = await client.freepublish_get(publish_id)
    assert (done.status, done.publish_id) == (0, publish_id)
    assert done.article_id and len(done.article_urls) == 1
    listed = await client.freepublish_batchget(0, 10)
    assert listed["item"][0]["article_id"] == done.article_id
    await client.freepublish_delete(done.article_id, index=1)
    article = await client.freepublish_getarticle(done.article_id)
    assert article["news_item"][0]["title"] == "学习平台：每周精选"
    assert article["news_item"][0]["is_deleted"] is True


async def test_material_and_quota_answers_are_typed(harness: Harness) -> None:
    client = harness.client()
    image = await client.add_material(PICTURE, "cover.png", type="image")
    assert image.media_id and image.url.startswith("http://")
    thumb = await client.add_material(THUMB, "thumb.jpg", type="thumb")
    assert thumb.media_id and thumb.url.startswith("http://mmbiz.qpic.cn/")  # as recorded
    quota = await client.quota_get("material/add_material")
    assert (quota.daily_limit, quota.used, quota.remain) == (1000, 2, 998)


async def test_draft_update_and_delete(harness: Harness) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    thumb = await client.add_material(THUMB, "t.jpg", type="thumb")
    await client.draft_update(
        media_id,
        0,
        {"title": "改过的标题", "content": "<p>新</p>", "thumb_media_id": thumb.media_id},
    )
    assert (await client.draft_get(media_id))["news_item"][0]["title"] == "改过的标题"
    await client.draft_delete(media_id)
    assert await client.draft_count() == 0


# --- busy (-1) ------------------------------------------------------------------------------


async def test_busy_is_retried_with_backoff_on_an_idempotent_call(harness: Harness) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    harness.steps.clear()
    await harness.faults(
        {"kind": "busy", "path": "draft/get"}, {"kind": "busy", "path": "draft/get"}
    )
    draft = await client.draft_get(media_id)
    assert draft["news_item"][0]["title"]
    assert [(s[0], s[1], s[3]) for s in harness.steps] == [
        ("draft/get", -1, 1),
        ("draft/get", -1, 2),
        ("draft/get", 0, 3),
    ]
    # full jitter with rand 0.5: half of 0.5 s, then half of 1 s
    assert harness.sleeps == [0.25, 0.5]
    assert harness.counted("draft/get") == (3, 2)


async def test_busy_gives_up_after_the_capped_attempts(harness: Harness) -> None:
    client = harness.client()
    await client.draft_count()
    await harness.faults(*[{"kind": "busy", "path": "draft/count"}] * 4)
    with pytest.raises(ApiTransientError) as caught:
        await client.draft_count()
    assert caught.value.errcode == -1 and caught.value.endpoint == "draft/count"
    assert await harness.calls("draft/count") == 5
    assert len(harness.sleeps) == 3


async def test_busy_on_draft_add_is_not_retried_and_proves_nothing_happened(
    harness: Harness,
) -> None:
    client = harness.client()
    thumb = await client.add_material(THUMB, "t.jpg", type="thumb")
    await harness.faults({"kind": "busy", "path": "draft/add"})
    with pytest.raises(TransientError) as caught:
        await client.draft_add(
            [{"title": "t", "content": "<p>x</p>", "thumb_media_id": thumb.media_id}]
        )
    assert not isinstance(caught.value, UnknownOutcomeError)
    assert caught.value.fields["errcode"] == -1
    assert await harness.calls("draft/add") == 1
    assert (await harness.state())["drafts"] == []


# --- 45011 ----------------------------------------------------------------------------------


async def test_rate_limit_waits_for_the_next_minute_then_retries(harness: Harness) -> None:
    client = harness.client()
    await client.draft_count()
    await harness.faults({"kind": "rate_limited", "path": "draft/count"})
    assert await client.draft_count() == 0
    assert harness.sleeps == [15.0]  # 23:59:45 -> the next minute
    assert await harness.calls("draft/count") == 3


async def test_rate_limit_on_submit_raises_with_retry_after(harness: Harness) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    await harness.faults({"kind": "rate_limited", "path": "freepublish/submit"})
    with pytest.raises(ApiRateLimitedError) as caught:
        await client.freepublish_submit(media_id)
    assert caught.value.errcode == 45011
    assert caught.value.retry_after == 15.0
    state = await harness.state()
    assert state["publish_jobs"] == [] and len(state["drafts"]) == 1


# --- HTTP 5xx -------------------------------------------------------------------------------


async def test_http_5xx_is_retried_and_a_multipart_retry_resends_every_byte(
    harness: Harness,
) -> None:
    client = harness.client()
    await harness.faults({"kind": "http_5xx", "path": "media/uploadimg"})
    # The simulator answers 41005 to an empty or missing file part: success means the retry
    # carried the whole image again.
    url = await client.upload_content_image(PICTURE, "figure.png")
    assert url.startswith("http://mmbiz.qpic.cn/")
    assert await harness.calls("media/uploadimg") == 2
    assert harness.counted("media/uploadimg") == (2, 1)
    assert [s[1] for s in harness.steps if s[0] == "media/uploadimg"] == [None, 0]


async def test_http_5xx_on_submit_is_an_unknown_outcome(harness: Harness) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    await harness.faults({"kind": "http_5xx", "path": "freepublish/submit"})
    with pytest.raises(ApiUnknownOutcomeError) as caught:
        await client.freepublish_submit(media_id)
    assert "HTTP 503" in str(caught.value) and "reconcile" in str(caught.value)
    assert await harness.calls("freepublish/submit") == 1


# --- slow answers ---------------------------------------------------------------------------


async def test_a_slow_answer_times_out_and_an_idempotent_call_retries(harness: Harness) -> None:
    client = harness.client(timeout=0.3)
    await client.draft_count()
    await harness.faults({"kind": "slow", "path": "draft/count"})
    assert await client.draft_count() == 0
    assert await harness.calls("draft/count") == 3
    assert [s[1] for s in harness.steps if s[0] == "draft/count"] == [0, None, 0]


async def test_a_slow_answer_to_draft_add_is_unknown_yet_the_draft_exists(
    harness: Harness,
) -> None:
    client = harness.client(timeout=0.3)
    thumb = await client.add_material(THUMB, "t.jpg", type="thumb")
    await harness.faults({"kind": "slow", "path": "draft/add"})
    with pytest.raises(UnknownOutcomeError) as caught:
        await client.draft_add(
            [{"title": "慢", "content": "<p>x</p>", "thumb_media_id": thumb.media_id}]
        )
    assert caught.value.fields["endpoint"] == "draft/add"
    assert await harness.calls("draft/add") == 1
    assert [d["title"] for d in (await harness.state())["drafts"]] == ["慢"]


# --- lost answers after the effect ----------------------------------------------------------


async def test_a_dropped_answer_to_draft_add_is_unknown_and_the_draft_was_made(
    harness: Harness,
) -> None:
    client = harness.client()
    thumb = await client.add_material(THUMB, "t.jpg", type="thumb")
    await harness.faults({"kind": "lost_answer", "path": "draft/add", "mode": "drop"})
    with pytest.raises(ApiUnknownOutcomeError):
        await client.draft_add(
            [{"title": "丢失", "content": "<p>x</p>", "thumb_media_id": thumb.media_id}]
        )
    assert await harness.calls("draft/add") == 1
    assert [d["title"] for d in (await harness.state())["drafts"]] == ["丢失"]


@pytest.mark.parametrize("mode", ["drop", "5xx"])
async def test_a_lost_answer_to_submit_is_unknown_and_the_job_exists(
    harness: Harness, mode: str
) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    await harness.faults({"kind": "lost_answer", "path": "freepublish/submit", "mode": mode})
    with pytest.raises(ApiUnknownOutcomeError):
        await client.freepublish_submit(media_id)
    state = await harness.state()
    assert await harness.calls("freepublish/submit") == 1
    assert [job["media_id"] for job in state["publish_jobs"]] == [media_id]
    assert state["drafts"] == []
    assert harness.counted("freepublish/submit") == (1, 1)


# --- tokens ---------------------------------------------------------------------------------


async def test_an_invalidated_token_is_refreshed_once_and_the_call_retried_once(
    harness: Harness,
) -> None:
    client = harness.client()
    await client.draft_count()
    first = await harness.store.load_token(ACCOUNT)
    await harness.faults({"kind": "token_invalid", "path": "draft/count"})
    assert await client.draft_count() == 0
    second = await harness.store.load_token(ACCOUNT)
    assert first is not None and second is not None
    assert second.access_token != first.access_token
    assert await harness.calls("stable_token") == 2
    assert await harness.calls("draft/count") == 3
    assert harness.sleeps == []  # a token retry is immediate


async def test_a_token_refused_twice_is_not_refreshed_again(harness: Harness) -> None:
    client = harness.client()
    await client.draft_count()
    await harness.faults(*[{"kind": "token_invalid", "path": "draft/count"}] * 2)
    with pytest.raises(ApiTokenError) as caught:
        await client.draft_count()
    assert caught.value.errcode == 40001
    assert await harness.calls("stable_token") == 2
    assert await harness.calls("draft/count") == 3


async def test_a_token_error_on_submit_is_retried_once_because_nothing_happened(
    harness: Harness,
) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    await harness.faults({"kind": "token_invalid", "path": "freepublish/submit"})
    publish_id = await client.freepublish_submit(media_id)
    state = await harness.state()
    assert [str(job["publish_id"]) for job in state["publish_jobs"]] == [publish_id]
    assert await harness.calls("freepublish/submit") == 2


async def test_two_processes_sharing_a_token_store_fetch_one_token(harness: Harness) -> None:
    first, second = harness.client(), harness.client()
    assert await asyncio.gather(first.draft_count(), second.draft_count()) == [0, 0]
    assert await harness.calls("stable_token") == 1
    assert harness.store.saves == 1


async def test_concurrent_calls_in_one_process_fetch_one_token(harness: Harness) -> None:
    client = harness.client()
    assert await asyncio.gather(*[client.draft_count() for _ in range(5)]) == [0] * 5
    assert await harness.calls("stable_token") == 1


async def test_two_processes_recovering_from_one_invalidation_refresh_once(
    harness: Harness,
) -> None:
    first, second = harness.client(), harness.client()
    await first.draft_count()
    await harness.faults({"kind": "token_invalid", "path": "draft/count"})
    assert await asyncio.gather(first.draft_count(), second.draft_count()) == [0, 0]
    assert await harness.calls("stable_token") == 2
    assert harness.store.saves == 2
    assert harness.store.lease_holder(ACCOUNT) is None


async def test_a_token_near_expiry_is_refreshed_before_use(harness: Harness) -> None:
    client = harness.client()
    await client.draft_count()
    harness.clock.advance(7200 - 299)  # under five minutes left on the client's clock
    await client.draft_count()
    assert await harness.calls("stable_token") == 2
    stored = await harness.store.load_token(ACCOUNT)
    assert stored is not None and stored.remaining_seconds(harness.clock()) > 300


async def test_a_wrong_secret_is_a_setup_error_and_never_shown(harness: Harness) -> None:
    wrong = "wrong-secret-value-123"
    client = harness.client(secret=wrong)
    with pytest.raises(ApiSetupError) as caught:
        await client.draft_count()
    assert isinstance(caught.value, PermanentError)
    assert caught.value.errcode == 40001 and caught.value.endpoint == "stable_token"
    for shown in (str(caught.value), repr(caught.value), repr(caught.value.fields), repr(client)):
        assert wrong not in shown
    assert await harness.calls("stable_token") == 1  # not retried
    assert await harness.calls("draft/count") == 0


# --- quota and counters ---------------------------------------------------------------------


async def test_the_daily_quota_raises_quota_exhausted_without_retrying(harness: Harness) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    publish_id = await client.freepublish_submit(media_id)
    harness.running.sim.advance(2.0)
    article_id = (await client.freepublish_get(publish_id)).article_id
    for _ in range(2):
        await client.freepublish_getarticle(article_id)
    with pytest.raises(ApiQuotaError) as caught:
        await client.freepublish_getarticle(article_id)
    assert isinstance(caught.value, QuotaExhaustedError)
    assert caught.value.errcode == 45009 and caught.value.endpoint == "freepublish/getarticle"
    assert await harness.calls("freepublish/getarticle") == 3
    assert harness.counted("freepublish/getarticle") == (3, 1)


async def test_calls_are_counted_per_endpoint_and_quota_day(harness: Harness) -> None:
    client = harness.client()
    await client.draft_count()
    await client.draft_count()
    with pytest.raises(PermanentError):
        await client.draft_get("no-such-draft")  # 40007
    harness.clock.advance(60)  # 00:00:45 in Beijing: the next quota day
    await client.draft_count()
    day1, day2 = date(2025, 3, 3), date(2025, 3, 4)
    assert harness.counted("draft/count", day1) == (2, 0)
    assert harness.counted("draft/get", day1) == (1, 1)
    assert harness.counted("stable_token", day1) == (1, 0)
    assert harness.counted("draft/count", day2) == (1, 0)
    assert all(latency >= 0 for _, _, latency, _ in harness.steps)
    assert [s[:2] for s in harness.steps] == [
        ("stable_token", 0),
        ("draft/count", 0),
        ("draft/count", 0),
        ("draft/get", 40007),
        ("draft/count", 0),
    ]


async def test_an_async_observer_is_awaited_and_its_failure_loses_nothing(
    harness: Harness,
) -> None:
    seen: list[str] = []

    async def observer(endpoint: str, errcode: int | None, latency_ms: int, attempt: int) -> None:
        seen.append(endpoint)
        raise RuntimeError("the publish log is down")

    client = harness.client(on_call=observer)
    media_id = await new_draft(client)
    assert media_id
    assert seen == ["stable_token", "material/add_material", "draft/add"]


# --- connection refused ---------------------------------------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_connection_refused_before_sending_is_transient_even_for_draft_add(
    harness: Harness,
) -> None:
    harness.store = MemoryTokenStore()
    client = harness.client(api_base=closed_port_url())
    # Put a token in place so the refusal comes from draft/add itself.
    await harness.store.save_token(
        ACCOUNT, StoredToken("token", START + timedelta(hours=2)), owner="test"
    )
    with pytest.raises(ApiTransientError) as caught:
        await client.draft_add([{"title": "t", "content": "c", "thumb_media_id": "m"}])
    assert not isinstance(caught.value, UnknownOutcomeError)
    assert "nothing was sent" in str(caught.value)
    assert harness.sleeps == []
    with pytest.raises(ApiTransientError):
        await client.draft_count()
    assert len(harness.sleeps) == 3  # the idempotent call tried four times


# --- mass send ------------------------------------------------------------------------------


async def test_mass_send_and_a_repeated_clientmsgid(harness: Harness) -> None:
    client = harness.client()
    preview_draft = await new_draft(client, "预览")
    assert (await client.mass_preview(preview_draft, "oPreviewOpenId00000000000000")).isdigit()
    await client.mass_preview(preview_draft, "zhang_san-1990")  # a WeChat ID (微信号)
    previews = harness.running.sim.previews
    assert [(p["to"], p["by"]) for p in previews] == [
        ("oPreviewOpenId00000000000000", "touser"),
        ("zhang_san-1990", "towxname"),
    ]
    media_id = await new_draft(client, "群发")
    msg_id = await client.mass_sendall(media_id, clientmsgid="bot-post-7")
    status = await client.mass_get(msg_id)
    assert str(status["msg_id"]) == msg_id
    again = await new_draft(client, "群发")
    with pytest.raises(DuplicateMassSendError) as caught:
        await client.mass_sendall(again, clientmsgid="bot-post-7")
    assert caught.value.msg_id == msg_id
    assert isinstance(caught.value, PermanentError)
    sends = (await harness.state())["mass_sends"]
    assert [s["clientmsgid"] for s in sends] == ["bot-post-7"]


async def test_mass_sendall_needs_a_clientmsgid_and_sends_nothing_without_it(
    harness: Harness,
) -> None:
    client = harness.client()
    media_id = await new_draft(client)
    with pytest.raises(UserError, match="clientmsgid"):
        await client.mass_sendall(media_id, clientmsgid="")
    with pytest.raises(UserError, match="tag_id"):
        await client.mass_sendall(media_id, clientmsgid="bot-post-8", is_to_all=False)
    assert await harness.calls("message/mass/sendall") == 0
