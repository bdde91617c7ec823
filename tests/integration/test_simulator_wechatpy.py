"""A third-party client, wechatpy 1.8.18, against the simulator over loopback: if a widely used
SDK gets the answers it expects, the simulator speaks the platform's wire format and not just
our own idea of it. wechatpy is synchronous, so it runs in a thread."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest
from aiohttp import web
from wechatpy import WeChatClient, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import MassSendJobFinishEvent
from wechatpy.exceptions import WeChatClientException
from wechatpy.utils import check_signature

from bot.account.simulator import RunningSimulator, SimulatorConfig, start_simulator

APPID, SECRET = "wxthirdparty000001", "third-party-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 500
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 500
T = TypeVar("T")


class SimulatorClient(WeChatClient):
    """wechatpy pointed at the simulator: its API base and its (hard-coded) token URL."""

    def __init__(self, base_url: str, access_token: str | None = None, **kwargs: Any) -> None:
        super().__init__(APPID, SECRET, access_token=access_token, **kwargs)
        self.API_BASE_URL = f"{base_url}/cgi-bin/"
        self._token_url = f"{base_url}/cgi-bin/token"

    def fetch_access_token(self) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        result: dict[str, Any] = self._fetch_access_token(url=self._token_url, params=params)
        return result


async def in_thread(client: SimulatorClient, work: Callable[[SimulatorClient], T]) -> T:
    def run() -> T:
        try:
            return work(client)
        finally:
            client._http.close()  # no socket left for the garbage collector to warn about

    return await asyncio.to_thread(run)


@pytest.fixture
async def running() -> AsyncIterator[RunningSimulator]:
    config = SimulatorConfig(appid=APPID, secret=SECRET, seed=3, publish_delay_seconds=0.3)
    sim = await start_simulator(config)
    yield sim
    await sim.stop()


def errcode_of(call: Callable[[], object]) -> int | None:
    with pytest.raises(WeChatClientException) as caught:
        call()
    return caught.value.errcode


def article(title: str, thumb: str, content: str = "<p>正文</p>") -> dict[str, Any]:
    return {"title": title, "author": "作者", "content": content, "thumb_media_id": thumb}


def publish_flow(client: SimulatorClient) -> dict[str, Any]:
    """What an editor's script would do with wechatpy, start to end."""
    token = client.fetch_access_token()
    image_url = client.media.upload_image(io.BytesIO(PNG))
    thumb = client.material.add("thumb", io.BytesIO(JPEG))["media_id"]
    cover = client.material.add("image", io.BytesIO(JPEG))
    content = f'<p>正文</p><img src="{image_url}"><img src="https://example.com/a.png">'
    media_id = client.post("draft/add", data={"articles": [article("第三方发布", thumb, content)]})[
        "media_id"
    ]
    draft = client.post("draft/get", data={"media_id": media_id})["news_item"][0]
    submitted = client.post("freepublish/submit", data={"media_id": media_id})
    deadline = time.monotonic() + 10
    status = client.post("freepublish/get", data={"publish_id": submitted["publish_id"]})
    while status["publish_status"] == 1:
        assert time.monotonic() < deadline, "publish job did not finish"
        time.sleep(0.1)
        status = client.post("freepublish/get", data={"publish_id": submitted["publish_id"]})
    listed = client.post("freepublish/batchget", data={"offset": 0, "count": 20, "no_content": 0})
    return {
        "token": token,
        "image_url": image_url,
        "cover": cover,
        "draft": draft,
        "submitted": submitted,
        "status": status,
        "listed": listed,
    }


async def test_wechatpy_publishes_through_the_simulator(running: RunningSimulator) -> None:
    result = await in_thread(SimulatorClient(running.url), publish_flow)
    assert result["token"]["expires_in"] == 7200 and result["token"]["access_token"]
    assert result["image_url"].startswith("http://mmbiz.qpic.cn/")
    assert result["cover"]["url"].startswith("http://mmbiz.qpic.cn/")
    draft = result["draft"]
    assert draft["title"] == "第三方发布" and draft["author"] == "作者"
    assert result["image_url"] in draft["content"] and "example.com" not in draft["content"]
    publish_id = result["submitted"]["publish_id"]
    assert isinstance(publish_id, str) and publish_id.isdigit()
    status = result["status"]
    assert status["publish_status"] == 0
    url = status["article_detail"]["item"][0]["article_url"]
    assert url.startswith("https://mp.weixin.qq.com/s/")
    found = [i for i in result["listed"]["item"] if i["article_id"] == status["article_id"]]
    assert found and found[0]["content"]["news_item"][0]["title"] == "第三方发布"
    # The list gives the draft's temporary link, distinct from the lasting article_url.
    assert found[0]["content"]["news_item"][0]["url"] != url
    state = running.sim.jobs.published()
    assert [job.publish_id for job in state] == [publish_id]


async def test_wechatpy_meets_the_platform_errors(running: RunningSimulator) -> None:
    def refusals(client: SimulatorClient) -> dict[str, int | None]:
        thumb = client.material.add("thumb", io.BytesIO(JPEG))["media_id"]
        stale = SimulatorClient(running.url, access_token="stale-token", auto_retry=False)
        try:
            bad_token = errcode_of(lambda: stale.get("draft/count"))
        finally:
            stale._http.close()
        return {
            "bad_token": bad_token,
            "long_title": errcode_of(
                lambda: client.post("draft/add", data={"articles": [article("标" * 33, thumb)]})
            ),
            "unknown_cover": errcode_of(
                lambda: client.post("draft/add", data={"articles": [article("标题", "nope")]})
            ),
            "fits": 0
            if client.post("draft/add", data={"articles": [article("标" * 32, thumb)]})
            else None,
        }

    assert await in_thread(SimulatorClient(running.url), refusals) == {
        "bad_token": 40001,
        "long_title": 45003,
        "unknown_cover": 40007,
        "fits": 0,
    }


async def test_wechatpy_recovers_from_a_stale_token_by_refetching(
    running: RunningSimulator,
) -> None:
    # wechatpy answers 40001 by fetching a new token from /cgi-bin/token and retrying.
    client = SimulatorClient(running.url, access_token="stale-token")
    answer = await in_thread(client, lambda c: c.get("draft/count"))
    assert answer == {"total_count": 0}
    assert running.sim.call_counts["token"] == 1


async def test_wechatpy_decrypts_and_parses_a_safe_mode_push() -> None:
    pushes: list[tuple[dict[str, str], str]] = []

    async def receive(request: web.Request) -> web.Response:
        pushes.append((dict(request.query), await request.text()))
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/callback/main", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    config = SimulatorConfig(
        appid=APPID,
        secret=SECRET,
        seed=4,
        publish_delay_seconds=0.1,
        callback_url=f"http://127.0.0.1:{runner.addresses[0][1]}/callback/main",
        callback_token="cbtoken",
        aes_key=AES_KEY,
    )
    sim = await start_simulator(config)
    try:

        def mass_send(client: SimulatorClient) -> dict[str, Any]:
            thumb = client.material.add("thumb", io.BytesIO(JPEG))["media_id"]
            media_id = client.post("draft/add", data={"articles": [article("群发", thumb)]})[
                "media_id"
            ]
            result: dict[str, Any] = client.message.send_mass_article(
                None, media_id, is_to_all=True, client_msg_id="third-party-1"
            )
            return result

        sent = await in_thread(SimulatorClient(sim.url), mass_send)
        deadline = time.monotonic() + 5
        while not pushes:
            assert time.monotonic() < deadline, "no push arrived"
            await asyncio.sleep(0.05)
    finally:
        await sim.stop()
        await runner.cleanup()

    query, body = pushes[0]
    check_signature("cbtoken", query["signature"], query["timestamp"], query["nonce"])
    crypto = WeChatCrypto("cbtoken", AES_KEY, APPID)
    xml_text = crypto.decrypt_message(
        body, query["msg_signature"], query["timestamp"], query["nonce"]
    )
    event = parse_message(xml_text)
    assert isinstance(event, MassSendJobFinishEvent)
    assert str(event.id) == str(sent["msg_id"]) and event.status == "send success"
