"""Security re-check 21: one person could spend an account's daily platform quota for
everyone. 985 previews in 6 s took `draft/add` past its 1,000 a day (each preview adds a
draft), and the next slot's draft and every approved post then waited until midnight (H1);
four edits of 250-300 images took `media/uploadimg` past its 1,000 (M1). Calls on a person's
request now take at most half of each endpoint's daily quota, the rest kept for publishing,
and each person has a daily count of previews and of uploaded images; schedules and the
publisher are not counted."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import aiohttp
import pytest
from PIL import Image

from bot.content import images
from bot.domain.models import PostStatus
from bot.engine import people_quota
from bot.engine.quota import quota_day
from bot.store import accounts as account_store
from tests.integration.test_cover_copies import _draft
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    people_quota._spent.clear()
    yield
    people_quota._spent.clear()


def _png(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (n % 256, 40, 90)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def picture_host(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every https://img.example.org/N.png is a picture of its own; the URLs asked for."""
    asked: list[str] = []

    async def fetch(url: str, *, session: aiohttp.ClientSession, **_: object) -> bytes:
        asked.append(url)
        return _png(int(url.rsplit("/", 1)[1].split(".")[0]))

    monkeypatch.setattr(images, "fetch_image", fetch)
    return asked


async def _calls(rig: WebRig, endpoint: str) -> int:
    account = rig.services.config.accounts[0].name
    async with rig.services.engine.connect() as conn:
        used = await account_store.calls_on(conn, account, quota_day(rig.services.clock()))
    return used.get(endpoint, 0)


async def _preview(rig: WebRig, post_id: int, role: str = "reviewer") -> aiohttp.ClientResponse:
    return await rig.client.post(
        f"/api/posts/{post_id}/preview", json={"openid": "o-reviewer"}, headers=rig.bearer(role)
    )


async def test_a_persons_previews_stop_at_their_daily_count(rig: WebRig) -> None:
    post_id = await _draft(rig, at="2099-01-01T08:00")
    allowed = people_quota.PER_PERSON["message/mass/preview"]
    for _ in range(allowed):
        sent = await _preview(rig, post_id)
        assert sent.status == 200, await sent.text()
    drafts_added = await _calls(rig, "draft/add")
    refused = await _preview(rig, post_id)
    assert refused.status == 429
    assert (await refused.json())["error"] == (
        f"you have used your {allowed} message/mass/preview calls of today on account "
        f"{rig.services.config.accounts[0].name}: try again tomorrow (Beijing time)"
    )
    assert await _calls(rig, "draft/add") == drafts_added  # refused before any call
    other = await _preview(rig, post_id, role="admin")  # someone else's count is their own
    assert other.status == 200, await other.text()


async def _calls_made(rig: WebRig, endpoint: str, total: int) -> None:
    """Today's calls of ``endpoint`` brought to ``total``, as the stager and publishing make
    them: on no person's request."""
    account = rig.services.config.accounts[0].name
    day = quota_day(rig.services.clock())
    async with rig.services.engine.begin() as conn:
        for _ in range(total - await _calls(rig, endpoint)):
            await account_store.count_call_in(conn, account, endpoint, day, error=False)


async def test_calls_on_no_ones_request_leave_peoples_share_alone(rig: WebRig) -> None:
    """Re-check 23, M1: the share counted every call of the day, so one editor's edits of a
    staged post (each a new draft the stager adds) used up people's half of draft/add, and
    every reviewer's previews were refused until midnight. People's share counts people's
    calls; the stager stops at its own share."""
    post_id = await _draft(rig, at="2099-01-01T08:00")
    daily = rig.services.config.accounts[0].quota.daily["draft/add"]
    await _calls_made(rig, "draft/add", int(daily * people_quota.STAGING_SHARE))
    sent = await _preview(rig, post_id)
    assert sent.status == 200, await sent.text()


async def test_people_are_refused_once_all_calls_near_the_quota_and_publishing_goes_on(
    rig: WebRig,
) -> None:
    post_id = await _draft(rig)
    daily = rig.services.config.accounts[0].quota.daily["draft/add"]
    ceiling = int(daily * people_quota.PEOPLE_CEILING)
    await _calls_made(rig, "draft/add", ceiling)
    refused = await _preview(rig, post_id)
    assert refused.status == 429
    assert (
        f"are used up ({ceiling}), the rest of the quota is kept for publishing"
        in (await refused.json())["error"]
    )
    done = await asyncio.wait_for(rig.services.worker.run_due(max_wait=20), timeout=30)
    assert [(p.id, p.status) for p in done] == [(post_id, PostStatus.PUBLISHED)]


async def test_a_persons_uploaded_images_stop_at_their_daily_count(
    rig: WebRig, picture_host: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people_quota, "PER_PERSON", {"media/uploadimg": 2})
    post_id = await _draft(rig, at="2099-01-01T08:00")
    body = "正文\n\n" + "".join(f"![图](https://img.example.org/{n}.png)\n\n" for n in range(3))
    before = await _calls(rig, "media/uploadimg")
    edited = await rig.client.patch(
        f"/api/posts/{post_id}", json={"markdown": body}, headers=rig.bearer("editor")
    )
    assert edited.status == 429, await edited.text()
    assert "you have used your 2 media/uploadimg calls of today" in (await edited.json())["error"]
    assert await _calls(rig, "media/uploadimg") == before + 2
    one_image = "正文\n\n![图](https://img.example.org/7.png)\n"
    other = await rig.client.patch(
        f"/api/posts/{post_id}", json={"markdown": one_image}, headers=rig.bearer("admin")
    )
    assert other.status == 200, await other.text()


async def test_a_persons_imports_are_one_at_a_time_through_the_admin_and_the_api(
    rig: WebRig,
) -> None:
    """Re-check 21, L1: the import lane took `web:alice` and `api:alice` for two people, so
    one person had two imports running while someone else's waited."""
    from bot.engine import offload
    from tests.integration.web_rig import CATALOGUE_CSV, _named

    with offload.owned_by("editor"):  # the editor's import through the admin, running
        async with offload.current()._bulk.taken():
            second = await asyncio.wait_for(
                rig.client.post(
                    "/api/catalogue/import",
                    data={"file": _named(CATALOGUE_CSV.encode("utf-8"), "catalogue.csv")},
                    headers=rig.bearer("editor"),
                ),
                timeout=10,
            )
    assert second.status == 429
    assert (await second.json())["error"] == (
        "your previous file is still being imported; try again when it is done"
    )


async def test_a_persons_retries_stop_at_their_daily_count(rig: WebRig) -> None:
    """Re-check 24, M1: each retry of a post the platform refuses makes the publisher add a
    draft and submit it anew, on no one's count: 80 retries in 68 s used 81 of the account's
    100 submits of the day. A person's retries are counted as theirs."""
    from bot.store import posts as post_store

    post_id = await _draft(rig, at="2099-01-01T08:00")

    async def fail() -> None:
        async with rig.services.engine.begin() as conn:
            await post_store.update_fields(
                conn, post_id, now=rig.services.clock(), status=PostStatus.FAILED.value
            )

    allowed = people_quota.PER_PERSON["freepublish/submit"]
    for _ in range(allowed):
        await fail()
        retried = await rig.client.post(f"/api/posts/{post_id}/retry", headers=rig.bearer("editor"))
        assert retried.status == 200, await retried.text()
    await fail()
    refused = await rig.client.post(f"/api/posts/{post_id}/retry", headers=rig.bearer("editor"))
    assert refused.status == 429
    assert (
        f"you have used your {allowed} freepublish/submit calls of today"
        in (await refused.json())["error"]
    )
    other = await rig.client.post(f"/api/posts/{post_id}/retry", headers=rig.bearer("admin"))
    assert other.status == 200, await other.text()
