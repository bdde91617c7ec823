"""The account-API simulator over real loopback HTTP: token semantics, limits and error codes,
quotas, the publish and mass-send lifecycles, event pushes (plain and safe mode), every fault
kind, and repeatability under a seed."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.account.callback import (
    MassSendJobFinish,
    MessageCrypto,
    PublishJobFinish,
    check_signature,
    open_push,
    parse_event,
)
from bot.account.simulator import (
    RunningSimulator,
    SimulatorConfig,
    run_forever,
    simulator_config_from_args,
    start_simulator,
)
from bot.domain.errors import ConfigError

APPID, SECRET = "wxtest000000000001", "test-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
GIF = b"GIF89a" + b"\0" * 200
CREDS = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Api:
    """A few lines of HTTP in the platform's style (raw UTF-8 JSON, token in the query)."""

    def __init__(self, session: aiohttp.ClientSession, running: RunningSimulator) -> None:
        self.session = session
        self.url = running.url
        self.sim = running.sim
        self.token = ""

    async def raw(
        self, method: str, path: str, body: object = None, *, data: Any = None, **params: str
    ) -> tuple[int, Any]:
        if path not in ("token", "stable_token", "clear_quota/v2") and "access_token" not in params:
            params["access_token"] = self.token
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        async with self.session.request(
            method, f"{self.url}/cgi-bin/{path}", params=params, data=data
        ) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def post(self, path: str, body: object = None, **params: str) -> dict[str, Any]:
        status, answer = await self.raw("POST", path, body if body is not None else {}, **params)
        assert status == 200, answer
        assert isinstance(answer, dict)
        return answer

    async def get(self, path: str, **params: str) -> dict[str, Any]:
        status, answer = await self.raw("GET", path, **params)
        assert status == 200
        assert isinstance(answer, dict)
        return answer

    async def login(self) -> str:
        self.token = (await self.post("stable_token", CREDS))["access_token"]
        return self.token

    async def upload(self, path: str, data: bytes, **params: str) -> dict[str, Any]:
        status, answer = await self.raw("POST", path, data=_form(data), **params)
        assert status == 200
        assert isinstance(answer, dict)
        return answer

    async def thumb(self) -> str:
        answer = await self.upload("material/add_material", JPEG, type="thumb")
        return str(answer["media_id"])

    async def draft(self, title: str = "测试标题", **fields: Any) -> str:
        article = {"title": title, "content": "<p>正文</p>", "thumb_media_id": await self.thumb()}
        answer = await self.post("draft/add", {"articles": [{**article, **fields}]})
        return str(answer["media_id"])

    async def state(self) -> dict[str, Any]:
        async with self.session.get(f"{self.url}/_sim/state") as response:
            result: dict[str, Any] = await response.json()
            return result

    async def control(self, path: str, body: object) -> tuple[int, Any]:
        async with self.session.post(f"{self.url}/_sim/{path}", json=body) as response:
            return response.status, await response.json()


Factory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api() -> AsyncIterator[Factory]:
    started: list[RunningSimulator] = []
    session = aiohttp.ClientSession()

    async def make(login: bool = True, **overrides: Any) -> Api:
        settings: dict[str, Any] = {
            "appid": APPID,
            "secret": SECRET,
            "seed": 7,
            "publish_delay_seconds": 0.2,
            "tick_seconds": 0.02,
            "callback_retry_delay_seconds": 0.05,
            **overrides,
        }
        running = await start_simulator(SimulatorConfig(**settings))
        started.append(running)
        api = Api(session, running)
        if login:
            await api.login()
        return api

    yield make
    await session.close()
    for running in started:
        await running.stop()


@pytest.fixture
async def api(make_api: Factory) -> Api:
    return await make_api()


async def wait_for(predicate: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(5):
        # Polls: what is awaited is another server's state, seen over HTTP.
        while not await predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


# --- tokens -------------------------------------------------------------------------------


async def test_classic_token_rotates_and_keeps_the_previous_for_five_minutes(api: Api) -> None:
    first = await api.get("token", **CREDS)
    second = await api.get("token", **CREDS)
    assert first["expires_in"] == 7200 and first["access_token"] != second["access_token"]
    api.sim.advance(299)
    assert (await api.get("draft/count", access_token=first["access_token"])) == {"total_count": 0}
    api.sim.advance(2)
    assert (await api.get("draft/count", access_token=first["access_token"]))["errcode"] == 40001
    assert "total_count" in await api.get("draft/count", access_token=second["access_token"])
    api.sim.advance(7200)
    assert (await api.get("draft/count", access_token=second["access_token"]))["errcode"] == 42001


@pytest.mark.parametrize(
    ("change", "errcode"),
    [({"secret": "wrong"}, 40001), ({"appid": "wxother"}, 40013), ({"grant_type": "x"}, 40002)],
)
async def test_token_endpoints_refuse_bad_credentials(
    api: Api, change: dict[str, str], errcode: int
) -> None:
    assert (await api.get("token", **{**CREDS, **change}))["errcode"] == errcode
    assert (await api.post("stable_token", {**CREDS, **change}))["errcode"] == errcode


async def test_stable_token_is_shared_then_rotates_in_its_last_five_minutes(api: Api) -> None:
    first = api.token
    again = await api.post("stable_token", CREDS)
    assert again["access_token"] == first and again["expires_in"] <= 7200
    api.sim.advance(7200 - 299)
    rotated = await api.post("stable_token", CREDS)
    assert rotated["access_token"] != first and rotated["expires_in"] == 7200
    assert "total_count" in await api.get("draft/count", access_token=first)  # overlap
    api.sim.advance(300)
    assert (await api.get("draft/count", access_token=first))["errcode"] == 42001
    assert (await api.post("stable_token", CREDS))["access_token"] == rotated["access_token"]


async def test_forced_refresh_invalidates_at_once_and_is_spaced_and_counted(
    make_api: Factory,
) -> None:
    api = await make_api(quotas={"stable_token:force_refresh": 2})
    old = api.token
    forced = await api.post("stable_token", {**CREDS, "force_refresh": True})
    assert forced["access_token"] != old
    assert (await api.get("draft/count", access_token=old))["errcode"] == 40001
    too_soon = await api.post("stable_token", {**CREDS, "force_refresh": True})
    assert too_soon["access_token"] == forced["access_token"]  # within 30 s: no refresh
    api.sim.advance(31)
    assert (await api.post("stable_token", {**CREDS, "force_refresh": True}))["access_token"]
    api.sim.advance(31)
    assert (await api.post("stable_token", {**CREDS, "force_refresh": True}))["errcode"] == 45009


async def test_classic_and_stable_tokens_are_isolated(api: Api) -> None:
    classic = (await api.get("token", **CREDS))["access_token"]
    await api.get("token", **CREDS)
    api.sim.advance(301)
    assert "total_count" in await api.get("draft/count", access_token=api.token)
    assert (await api.get("draft/count", access_token=classic))["errcode"] == 40001


async def test_business_calls_check_the_token(api: Api) -> None:
    status, missing = await api.raw("GET", "draft/count", access_token="")
    assert status == 200 and missing["errcode"] == 41001
    bogus = await api.get("draft/count", access_token="nonsense")
    assert bogus["errcode"] == 40001 and " rid: " in bogus["errmsg"]


# --- uploads ------------------------------------------------------------------------------


async def test_uploadimg_accepts_small_jpg_and_png_only(api: Api) -> None:
    for data in (JPEG, PNG):
        answer = await api.upload("media/uploadimg", data)
        assert "errcode" not in answer and answer["url"].startswith("http://mmbiz.qpic.cn/")
    assert (await api.upload("media/uploadimg", GIF))["errcode"] == 40005
    big = JPEG + b"\0" * (1024 * 1024)
    assert (await api.upload("media/uploadimg", big))["errcode"] == 40009
    assert (await api.post("media/uploadimg", {"x": 1}))["errcode"] == 41005


async def test_add_material_limits_by_type(api: Api) -> None:
    image = await api.upload("material/add_material", GIF, type="image")
    assert image["media_id"] and image["url"].startswith("http://mmbiz.qpic.cn/")
    thumb = await api.upload("material/add_material", JPEG, type="thumb")
    assert thumb["media_id"] and thumb["url"] and thumb["item"] == []  # as recorded
    assert (await api.upload("material/add_material", PNG, type="thumb"))["errcode"] == 40005
    big_thumb = JPEG + b"\0" * (64 * 1024)
    assert (await api.upload("material/add_material", big_thumb, type="thumb"))["errcode"] == 40009
    assert (await api.upload("material/add_material", JPEG, type="voice"))["errcode"] == 40004


# --- drafts -------------------------------------------------------------------------------


async def test_draft_round_trip_filters_external_images_and_scripts(api: Api) -> None:
    image_url = (await api.upload("media/uploadimg", PNG))["url"]
    https_url = image_url.replace("http://", "https://")
    content = (
        f'<p>正文</p><img src="{image_url}"><img src="{https_url}" alt="b">'
        '<img src="https://example.com/x.png"><script>alert(1)</script>'
        '<p onclick="steal()">点击</p><p>turn on=yes</p>'
    )
    media_id = await api.draft("第一篇", content=content, author="作者")
    item = (await api.post("draft/get", {"media_id": media_id}))["news_item"][0]
    assert item["title"] == "第一篇" and item["author"] == "作者"
    assert image_url in item["content"] and https_url in item["content"]
    assert "example.com" not in item["content"] and "<script" not in item["content"]
    assert "onclick" not in item["content"] and "turn on=yes" in item["content"]
    assert item["digest"].startswith("正文")
    assert item["thumb_url"].startswith("http://mmbiz.qpic.cn/")

    thumb = await api.thumb()
    update = {"title": "改过", "content": "<p>新</p>", "thumb_media_id": thumb}
    ok = await api.post("draft/update", {"media_id": media_id, "index": 0, "articles": update})
    assert ok["errcode"] == 0
    bad = await api.post("draft/update", {"media_id": media_id, "index": 1, "articles": update})
    assert bad["errcode"] == 40097
    await api.draft("第二篇")
    assert (await api.get("draft/count"))["total_count"] == 2
    page = await api.post("draft/batchget", {"offset": 0, "count": 20, "no_content": 1})
    assert page["total_count"] == 2 and "content" not in page["item"][0]["content"]["news_item"][0]
    assert {i["content"]["news_item"][0]["title"] for i in page["item"]} == {"改过", "第二篇"}
    assert (await api.post("draft/delete", {"media_id": media_id}))["errcode"] == 0
    assert (await api.post("draft/get", {"media_id": media_id}))["errcode"] == 40007


@pytest.mark.parametrize(
    ("fields", "errcode"),
    [
        ({"title": "标" * 33}, 45003),
        ({"author": "作" * 17}, 45110),
        ({"digest": "摘" * 129}, 45004),
        ({"content": "x" * 20_000}, 45002),
        ({"content_source_url": "https://e.com/" + "a" * 1011}, 45005),
        ({"thumb_media_id": "not-a-permanent-id"}, 40007),
        ({"title": ""}, 44003),
        ({"title": 5}, 47001),
    ],
)
async def test_draft_field_limits(api: Api, fields: dict[str, Any], errcode: int) -> None:
    article = {"title": "标" * 32, "content": "x" * 19_999, "thumb_media_id": await api.thumb()}
    answer = await api.post("draft/add", {"articles": [{**article, **fields}]})
    assert answer.get("errcode") == errcode, answer


async def test_draft_limits_at_their_edges_pass(api: Api) -> None:
    article = {
        "title": "标" * 32,
        "author": "作" * 16,
        "digest": "摘" * 128,
        "content": "x" * 19_999,
        "content_source_url": "https://e.com/" + "a" * 1010,
        "thumb_media_id": await api.thumb(),
    }
    assert "media_id" in await api.post("draft/add", {"articles": [article] * 8})
    assert (await api.post("draft/add", {"articles": [article] * 9}))["errcode"] == 45008
    assert (await api.post("draft/add", {"articles": []}))["errcode"] == 44003


async def test_request_encoding_rules(api: Api) -> None:
    escaped = b'{"articles": [{"title": "\\u6807\\u9898"}]}'
    assert (await api.raw("POST", "draft/add", data=escaped))[1]["errcode"] == 40033
    literal = json.dumps({"media_id": "a\\u0041"}, ensure_ascii=False).encode()
    assert (await api.raw("POST", "draft/get", data=literal))[1]["errcode"] == 40007
    assert (await api.raw("POST", "draft/add", data=b"{not json"))[1]["errcode"] == 47001
    assert (await api.raw("POST", "draft/add", data=b""))[1]["errcode"] == 44002
    assert (await api.raw("GET", "draft/add"))[1]["errcode"] == 43002
    assert (await api.raw("POST", "draft/count", {}))[1]["errcode"] == 43001


# --- quotas -------------------------------------------------------------------------------


async def test_daily_quota_answers_45009_until_the_beijing_day_rolls_over(
    make_api: Factory,
) -> None:
    # 15:59:58 UTC is 23:59:58 in Beijing: the quota day ends two seconds later.
    clock = FakeClock(datetime(2025, 3, 1, 15, 59, 58, tzinfo=UTC))
    api = await make_api(quotas={"draft/count": 2}, clock=clock)
    for _ in range(2):
        assert "total_count" in await api.get("draft/count")
    assert (await api.get("draft/count"))["errcode"] == 45009
    info = await api.post("openapi/quota/get", {"cgi_path": "/cgi-bin/draft/count"})
    assert info["quota"] == {"daily_limit": 2, "used": 2, "remain": 0}
    assert (await api.post("openapi/quota/get", {"cgi_path": "draft/count"}))["errcode"] == 76003
    assert (await api.post("openapi/quota/get", {"cgi_path": "/cgi-bin/nope"}))["errcode"] == 76021
    clock.now += timedelta(seconds=2)
    assert "total_count" in await api.get("draft/count")
    assert (await api.state())["quota_used"]["draft/count"] == 1


async def test_clear_quota_resets_the_counters_ten_times_a_month(make_api: Factory) -> None:
    api = await make_api(quotas={"draft/count": 1})
    await api.get("draft/count")
    assert (await api.get("draft/count"))["errcode"] == 45009
    assert (await api.post("clear_quota", {"appid": "wxother"}))["errcode"] == 40013
    for _ in range(10):
        assert (await api.post("clear_quota", {"appid": APPID}))["errcode"] == 0
    assert (await api.post("clear_quota", {"appid": APPID}))["errcode"] == 48006
    assert "total_count" in await api.get("draft/count")


async def test_per_minute_limit_answers_45011(make_api: Factory) -> None:
    api = await make_api(minute_limit=3)
    answers = [await api.get("draft/count") for _ in range(4)]
    assert [a.get("errcode", 0) for a in answers] == [0, 0, 0, 45011]
    api.sim.advance(60)
    assert "total_count" in await api.get("draft/count")


# --- publishing ---------------------------------------------------------------------------


async def test_publish_job_lifecycle(make_api: Factory) -> None:
    # A job of 30 s on the simulator's clock, ended by moving that clock: no wall-clock race.
    api = await make_api(publish_delay_seconds=30.0)
    media_id = await api.draft("发布测试")
    submitted = await api.post("freepublish/submit", {"media_id": media_id})
    publish_id = submitted["publish_id"]
    assert isinstance(publish_id, str) and publish_id.isdigit() and submitted["msg_data_id"]
    assert (await api.post("draft/get", {"media_id": media_id}))["errcode"] == 40007
    assert (await api.post("freepublish/submit", {"media_id": media_id}))["errcode"] == 40007
    running = await api.post("freepublish/get", {"publish_id": publish_id})
    assert running == {"publish_id": publish_id, "publish_status": 1, "fail_idx": []}
    api.sim.advance(29)
    still = await api.post("freepublish/get", {"publish_id": publish_id})
    assert still["publish_status"] == 1
    api.sim.advance(1)
    done = await api.post("freepublish/get", {"publish_id": int(publish_id)})
    assert done["publish_status"] == 0 and done["article_id"]
    url = done["article_detail"]["item"][0]["article_url"]
    assert url.startswith("https://mp.weixin.qq.com/s/") and done["article_detail"]["count"] == 1

    listed = await api.post("freepublish/batchget", {"offset": 0, "count": 10})
    assert listed["total_count"] == 1
    item = listed["item"][0]
    assert item["article_id"] == done["article_id"]
    assert item["content"]["news_item"][0]["title"] == "发布测试"
    state = await api.state()
    published = state["published"][0]
    assert item["update_time"] == published["update_time"]
    assert published["publish_id"] == publish_id and published["status"] == 0
    assert published["title"] == "发布测试" and published["publish_time"]

    article = await api.post("freepublish/getarticle", {"article_id": done["article_id"]})
    assert article["news_item"][0]["is_deleted"] is False
    # The lists give the draft's temporary link, never the lasting article_url.
    assert article["news_item"][0]["url"] != url
    assert article["news_item"][0]["url"].startswith("http://mp.weixin.qq.com/s?__biz=")
    assert (await api.post("freepublish/delete", {"article_id": done["article_id"]}))[
        "errcode"
    ] == 0
    article = await api.post("freepublish/getarticle", {"article_id": done["article_id"]})
    assert article["news_item"][0]["is_deleted"] is True
    assert (await api.post("freepublish/get", {"publish_id": publish_id}))["publish_status"] == 5
    assert (await api.post("freepublish/batchget", {"offset": 0, "count": 10}))["total_count"] == 0
    assert (await api.post("freepublish/get", {"publish_id": "1"}))["errcode"] == 53502
    assert (await api.post("freepublish/getarticle", {"article_id": "x"}))["errcode"] == 53600


@pytest.mark.parametrize(("marker", "status"), [("[sim-reject]", 4), ("[sim-original]", 2)])
async def test_title_markers_make_jobs_fail(api: Api, marker: str, status: int) -> None:
    media_id = await api.draft(f"标题{marker}")
    publish_id = (await api.post("freepublish/submit", {"media_id": media_id}))["publish_id"]
    api.sim.advance(1)
    answer = await api.post("freepublish/get", {"publish_id": publish_id})
    assert answer == {"publish_id": publish_id, "publish_status": status, "fail_idx": [1]}
    assert (await api.post("freepublish/batchget", {"offset": 0, "count": 1}))["item"] == []


async def test_unverified_accounts_may_not_publish(make_api: Factory) -> None:
    api = await make_api(verified=False)
    media_id = await api.draft()
    assert (await api.post("freepublish/submit", {"media_id": media_id}))["errcode"] == 48001


# --- mass send ----------------------------------------------------------------------------


def sendall(media_id: str, clientmsgid: str) -> dict[str, Any]:
    return {
        "filter": {"is_to_all": True},
        "mpnews": {"media_id": media_id},
        "msgtype": "mpnews",
        "send_ignore_reprint": 0,
        "clientmsgid": clientmsgid,
    }


async def test_mass_send_dedupes_and_allows_once_a_day_for_subscriptions(api: Api) -> None:
    media_id = await api.draft("群发")
    preview = await api.post(
        "message/mass/preview",
        {"touser": "o_reviewer", "msgtype": "mpnews", "mpnews": {"media_id": media_id}},
    )
    assert preview["errcode"] == 0
    sent = await api.post("message/mass/sendall", sendall(media_id, "post-1"))
    assert sent["errcode"] == 0 and sent["msg_id"]
    assert (await api.post("draft/get", {"media_id": media_id}))["errcode"] == 40007
    again = await api.post("message/mass/sendall", sendall(media_id, "post-1"))
    assert again["errcode"] == 45065 and again["msg_id"] == sent["msg_id"]
    long_id = await api.post("message/mass/sendall", sendall(media_id, "x" * 65))
    assert long_id["errcode"] == 45067
    other = await api.draft("第二次")
    assert (await api.post("message/mass/sendall", sendall(other, "post-2")))["errcode"] == 45028
    assert (await api.post("message/mass/get", {"msg_id": sent["msg_id"]}))[
        "msg_status"
    ] == "SENDING"
    api.sim.advance(24 * 3600)
    await api.login()  # the old token expired meanwhile
    assert (await api.post("message/mass/get", {"msg_id": sent["msg_id"]}))[
        "msg_status"
    ] == "SEND_SUCCESS"
    assert (await api.post("message/mass/sendall", sendall(other, "post-2")))["errcode"] == 0
    assert (await api.post("message/mass/sendall", sendall(other, "post-1")))["errcode"] == 40007


async def test_service_accounts_send_four_times_a_month(make_api: Factory) -> None:
    api = await make_api(account_type="service")
    errcodes = []
    for n in range(5):
        media_id = await api.draft(f"第{n}次")
        answer = await api.post("message/mass/sendall", sendall(media_id, f"m-{n}"))
        errcodes.append(answer["errcode"])
    assert errcodes == [0, 0, 0, 0, 45028]


# --- event pushes -------------------------------------------------------------------------


class Receiver:
    """A tiny callback endpoint; ``behaviour`` says how to treat each attempt in turn."""

    def __init__(self, behaviour: list[str] | None = None) -> None:
        self.behaviour = list(behaviour or [])
        self.pushes: list[tuple[dict[str, str], str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.pushes.append((dict(request.query), await request.text()))
        action = self.behaviour.pop(0) if self.behaviour else "ok"
        if action == "slow":
            await asyncio.sleep(3.0)
        if action == "fail":
            return web.Response(status=500)
        return web.Response(text="success")


@pytest.fixture
async def receiver_factory() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    runners: list[web.AppRunner] = []

    async def make(behaviour: list[str] | None = None) -> Receiver:
        receiver = Receiver(behaviour)
        app = web.Application()
        app.router.add_post("/callback/main", receiver.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/callback/main"
        return receiver

    yield make
    for runner in runners:
        await runner.cleanup()


async def test_publish_event_is_pushed_in_plain_mode(
    make_api: Factory, receiver_factory: Callable[..., Awaitable[Receiver]]
) -> None:
    receiver = await receiver_factory()
    api = await make_api(callback_url=receiver.url, callback_token="cbtoken")
    publish_id = (await api.post("freepublish/submit", {"media_id": await api.draft()}))[
        "publish_id"
    ]

    async def pushed() -> bool:
        return len(receiver.pushes) == 1

    await wait_for(pushed)
    query, body = receiver.pushes[0]
    assert check_signature("cbtoken", query["signature"], query["timestamp"], query["nonce"])
    assert "encrypt_type" not in query
    event = parse_event(body)
    assert isinstance(event, PublishJobFinish)
    polled = await api.post("freepublish/get", {"publish_id": publish_id})
    assert (event.publish_id, event.publish_status, event.article_id) == (
        publish_id,
        0,
        polled["article_id"],
    )
    assert event.articles[0].url == polled["article_detail"]["item"][0]["article_url"]
    assert (await api.state())["pushes"][0]["delivered"] is True


async def test_events_are_pushed_encrypted_in_safe_mode(
    make_api: Factory, receiver_factory: Callable[..., Awaitable[Receiver]]
) -> None:
    receiver = await receiver_factory()
    api = await make_api(callback_url=receiver.url, callback_token="cbtoken", aes_key=AES_KEY)
    await api.post("message/mass/sendall", sendall(await api.draft("[sim-reject]群发"), "c-1"))
    await api.post("freepublish/submit", {"media_id": await api.draft("[sim-reject]")})

    async def both() -> bool:
        return len(receiver.pushes) == 2

    await wait_for(both)
    crypto = MessageCrypto("cbtoken", AES_KEY, APPID)
    events = []
    for query, body in receiver.pushes:
        assert query["encrypt_type"] == "aes" and "<Encrypt>" in body
        events.append(parse_event(open_push(query, body, token="cbtoken", crypto=crypto)))
    mass = next(e for e in events if isinstance(e, MassSendJobFinish))
    publish = next(e for e in events if isinstance(e, PublishJobFinish))
    assert mass.status == "send success" and mass.articles[0].url.startswith("https://")
    assert publish.publish_status == 4 and publish.fail_idx == (1,)


async def test_events_are_pushed_in_compatible_mode_with_plain_fields_and_encrypt(
    make_api: Factory, receiver_factory: Callable[..., Awaitable[Receiver]]
) -> None:
    receiver = await receiver_factory()
    api = await make_api(
        callback_url=receiver.url, callback_token="cbtoken", aes_key=AES_KEY, push_mode="compatible"
    )
    await api.post("freepublish/submit", {"media_id": await api.draft()})

    async def pushed() -> bool:
        return len(receiver.pushes) == 1

    await wait_for(pushed)
    ((query, body),) = receiver.pushes
    assert query["encrypt_type"] == "aes" and "<Encrypt>" in body and "<Event>" in body
    plain = parse_event(body)  # readable without the key
    crypto = MessageCrypto("cbtoken", AES_KEY, APPID)
    decrypted = parse_event(open_push(query, body, token="cbtoken", crypto=crypto))
    assert isinstance(plain, PublishJobFinish) and plain == decrypted
    assert (await api.state())["pushes"][0]["mode"] == "compatible"


@pytest.mark.parametrize(
    ("behaviour", "attempts", "delivered"),
    [(["fail", "fail"], 3, True), (["fail", "fail", "fail"], 3, False), (["slow"], 2, True)],
)
async def test_pushes_are_retried_three_times_in_total(
    make_api: Factory,
    receiver_factory: Callable[..., Awaitable[Receiver]],
    behaviour: list[str],
    attempts: int,
    delivered: bool,
) -> None:
    receiver = await receiver_factory(behaviour)
    api = await make_api(
        # A timeout well above a quick answer's time on a loaded machine (0.3 s was not: an
        # "ok" attempt ran out too), well below the slow attempt's 3 s.
        callback_url=receiver.url,
        callback_token="t",
        callback_timeout_seconds=1.0,
    )
    await api.post("freepublish/submit", {"media_id": await api.draft()})

    async def finished() -> bool:
        pushes = (await api.state())["pushes"]
        return bool(pushes) and (pushes[0]["delivered"] or len(pushes[0]["errors"]) == 3)

    await wait_for(finished)
    record = (await api.state())["pushes"][0]
    assert (record["attempts"], record["delivered"]) == (attempts, delivered)
    assert len(receiver.pushes) == attempts
    # Every attempt carries the same event (same CreateTime), so receivers can dedupe.
    assert len({parse_event(body) for _, body in receiver.pushes}) == 1


async def test_callback_target_can_be_set_at_run_time(
    api: Api, receiver_factory: Callable[..., Awaitable[Receiver]]
) -> None:
    receiver = await receiver_factory()
    status, _ = await api.control("callback", {"url": receiver.url, "token": "late"})
    assert status == 200
    assert (await api.control("callback", {"aes_key": "short"}))[0] == 400
    await api.post("freepublish/submit", {"media_id": await api.draft()})

    async def pushed() -> bool:
        return len(receiver.pushes) == 1

    await wait_for(pushed)
    query, _ = receiver.pushes[0]
    assert check_signature("late", query["signature"], query["timestamp"], query["nonce"])


# --- faults -------------------------------------------------------------------------------


async def script(api: Api, *items: dict[str, str]) -> None:
    status, _ = await api.control("faults", {"next": list(items)})
    assert status == 200


@pytest.mark.parametrize(("kind", "errcode"), [("busy", -1), ("rate_limited", 45011)])
async def test_error_faults_happen_before_any_effect(api: Api, kind: str, errcode: int) -> None:
    thumb = await api.thumb()
    await script(api, {"kind": kind, "path": "draft/add"})
    article = {"title": "t", "content": "c", "thumb_media_id": thumb}
    assert (await api.post("draft/add", {"articles": [article]}))["errcode"] == errcode
    assert (await api.state())["drafts"] == []
    assert "media_id" in await api.post("draft/add", {"articles": [article]})


async def test_http_5xx_fault_has_no_effect(api: Api) -> None:
    thumb = await api.thumb()
    await script(api, {"kind": "http_5xx"})
    article = {"title": "t", "content": "c", "thumb_media_id": thumb}
    status, _ = await api.raw("POST", "draft/add", {"articles": [article]})
    assert status == 503
    assert (await api.state())["drafts"] == []


async def test_token_invalid_fault_needs_a_new_token(api: Api) -> None:
    old = api.token
    await script(api, {"kind": "token_invalid"})
    assert (await api.get("draft/count"))["errcode"] == 40001
    assert (await api.get("draft/count"))["errcode"] == 40001  # stays invalid
    assert await api.login() != old
    assert "total_count" in await api.get("draft/count")


async def test_slow_fault_answers_late_after_the_effect(api: Api) -> None:
    await api.control("faults", {"slow_seconds": 0.4})
    media_id = await api.draft()
    await script(api, {"kind": "slow", "path": "freepublish/submit"})
    timeout = aiohttp.ClientTimeout(total=0.1)
    with pytest.raises(TimeoutError):
        async with api.session.post(
            f"{api.url}/cgi-bin/freepublish/submit",
            params={"access_token": api.token},
            data=json.dumps({"media_id": media_id}),
            timeout=timeout,
        ):
            pass
    assert len((await api.state())["publish_jobs"]) == 1
    started = time.monotonic()
    await script(api, {"kind": "slow"})
    assert "total_count" in await api.get("draft/count")
    assert time.monotonic() - started >= 0.4


async def test_lost_answer_by_dropped_connection_after_the_effect(api: Api) -> None:
    thumb = await api.thumb()
    await script(api, {"kind": "lost_answer", "path": "draft/add", "mode": "drop"})
    article = {"title": "丢失", "content": "c", "thumb_media_id": thumb}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.raw("POST", "draft/add", {"articles": [article]})
    assert [d["title"] for d in (await api.state())["drafts"]] == ["丢失"]


@pytest.mark.parametrize("path", ["freepublish/submit", "message/mass/sendall"])
async def test_lost_answer_by_5xx_after_the_effect(api: Api, path: str) -> None:
    media_id = await api.draft()
    await script(api, {"kind": "lost_answer", "path": path, "mode": "5xx"})
    body = {"media_id": media_id} if path.startswith("free") else sendall(media_id, "lost-1")
    status, _ = await api.raw("POST", path, body)
    assert status == 502
    state = await api.state()
    assert state["drafts"] == []
    assert len(state["publish_jobs"] if path.startswith("free") else state["mass_sends"]) == 1


async def test_latency_delays_every_answer(make_api: Factory) -> None:
    api = await make_api(latency_ms=150)
    started = time.monotonic()
    await api.get("draft/count")
    assert time.monotonic() - started >= 0.15


async def test_faults_switch_at_run_time(api: Api) -> None:
    status, settings = await api.control("faults", {"fault_rate": 1.0, "kinds": ["busy"]})
    assert status == 200 and settings["fault_rate"] == 1.0
    assert [(await api.get("draft/count")).get("errcode") for _ in range(3)] == [-1, -1, -1]
    await api.control("faults", {"fault_rate": 0})
    assert "total_count" in await api.get("draft/count")
    assert (await api.state())["faults"]["injected"] == {"busy": 3}
    assert (await api.control("faults", {"fault_rat": 1}))[0] == 400
    assert (await api.control("faults", {"kinds": ["meteor"]}))[0] == 400


async def _fault_run(api: Api) -> list[object]:
    """Thirty draft/add calls through random faults, recovering as a client would; what each
    call met, then the ids of the drafts that exist."""
    outcomes: list[object] = []

    async def attempt(path: str, body: object = None, **params: Any) -> dict[str, Any] | None:
        try:
            status, answer = await api.raw("POST", path, body, **params)
        except aiohttp.ServerDisconnectedError:
            outcomes.append("dropped")
            return None
        outcomes.append(answer.get("errcode", 0) if status == 200 else status)
        return answer if outcomes[-1] == 0 else None

    async def login() -> None:
        while (answer := await attempt("stable_token", CREDS)) is None:
            pass
        api.token = answer["access_token"]

    await login()
    thumb = None
    while thumb is None:
        thumb = await attempt("material/add_material", data=_form(JPEG), type="thumb")
        if outcomes[-1] == 40001:
            await login()
    for n in range(30):
        article = {"title": f"t{n}", "content": "c", "thumb_media_id": thumb["media_id"]}
        await attempt("draft/add", {"articles": [article]})
        if outcomes[-1] == 40001:
            await login()
    outcomes.append([d["media_id"] for d in (await api.state())["drafts"]])
    return outcomes


def _form(data: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("media", io.BytesIO(data), filename="image.bin", content_type="image/jpeg")
    return form


async def test_random_faults_repeat_under_a_seed(make_api: Factory) -> None:
    settings = {
        "fault_rate": 0.4,
        "lost_answer_rate": 0.3,
        "fault_kinds": ("busy", "rate_limited", "http_5xx", "token_invalid"),
    }
    first = await _fault_run(await make_api(seed=11, login=False, **settings))
    second = await _fault_run(await make_api(seed=11, login=False, **settings))
    other = await _fault_run(await make_api(seed=12, login=False, **settings))
    assert first == second
    assert first != other
    met = set(first[:-1])
    assert {0, -1, 45011, 503, 40001, "dropped", 502} <= met, met
    assert len(first[-1]) >= 10  # type: ignore[arg-type]


# --- control routes -----------------------------------------------------------------------


async def test_state_reset_and_time(api: Api) -> None:
    await api.draft()
    state = await api.state()
    assert state["call_counts"]["draft/add"] == 1 and state["quota_used"]["draft/add"] == 1
    assert state["appid"] == APPID and len(state["drafts"]) == 1
    before = datetime.fromisoformat(state["now"])
    status, answer = await api.control("time", {"advance_seconds": 3600})
    assert status == 200 and datetime.fromisoformat(answer["now"]) - before >= timedelta(hours=1)
    assert (await api.control("reset", {}))[0] == 200
    state = await api.state()
    assert state["drafts"] == [] and state["call_counts"] == {}
    assert (await api.get("draft/count"))["errcode"] == 40001  # tokens went with the reset


async def test_run_forever_serves_the_cli_config_until_cancelled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = simulator_config_from_args(appid="wxcli", secret="s3", latency_ms=0, seed=5)
    task = asyncio.create_task(run_forever(config, "127.0.0.1", 0))
    printed = ""
    async with asyncio.timeout(5):
        while "http://" not in printed:
            await asyncio.sleep(0.02)
            printed += capsys.readouterr().err
    url = printed.split("simulator at ", 1)[1].split()[0]
    async with aiohttp.ClientSession() as session, session.get(f"{url}/_sim/state") as response:
        assert (await response.json())["appid"] == "wxcli"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_cli_values_are_validated() -> None:
    with pytest.raises(ConfigError, match="fault_rate"):
        simulator_config_from_args(fault_rate=1.5)
    assert simulator_config_from_args().appid == SimulatorConfig().appid


# --- the variants (platform-fidelity.md §1) ------------------------------------------------


@pytest.mark.parametrize(
    ("removal", "in_box_while_running", "second_submit_publishes"),
    [("submit", False, None), ("job_end", True, False), ("job_end_republish", True, True)],
)
async def test_each_draft_removal_variant(
    make_api: Factory, removal: str, in_box_while_running: bool, second_submit_publishes: Any
) -> None:
    api = await make_api(draft_removal=removal, publish_delay_seconds=60)
    media_id = await api.draft("变体")
    first = await api.post("freepublish/submit", {"media_id": media_id})
    in_box = (await api.post("draft/get", {"media_id": media_id})).get("errcode", 0) == 0
    assert in_box is in_box_while_running
    second = await api.post("freepublish/submit", {"media_id": media_id})
    if second_submit_publishes is None:
        assert second["errcode"] == 40007
    else:
        assert (second["publish_id"] != first["publish_id"]) is second_submit_publishes
    api.sim.advance(61)
    assert (await api.post("draft/get", {"media_id": media_id}))["errcode"] == 40007
    titles = [p["title"] for p in (await api.state())["published"]]
    assert titles == ["变体"] * (2 if second_submit_publishes else 1)


async def test_an_unverified_account_gets_48001_on_every_freepublish_and_mass_endpoint(
    make_api: Factory,
) -> None:
    api = await make_api(verified=False)
    media_id = await api.draft()
    for path, body in [
        ("freepublish/submit", {"media_id": media_id}),
        ("freepublish/get", {"publish_id": "1"}),
        ("freepublish/batchget", {"offset": 0, "count": 20}),
        ("freepublish/getarticle", {"article_id": "a"}),
        ("freepublish/delete", {"article_id": "a", "index": 0}),
        ("message/mass/preview", {"touser": "o", "msgtype": "mpnews", "mpnews": {}}),
        ("message/mass/sendall", sendall(media_id, "c-48001")),
        ("message/mass/get", {"msg_id": 1}),
    ]:
        assert (await api.post(path, body))["errcode"] == 48001, path
    assert "errcode" not in await api.post("draft/get", {"media_id": media_id})


async def test_a_clientmsgid_repeated_within_a_minute_gets_45066_then_45065(
    make_api: Factory,
) -> None:
    api = await make_api(clientmsgid_45066=True, account_type="service")
    sent = await api.post("message/mass/sendall", sendall(await api.draft("群发"), "c-9"))
    again = sendall(await api.draft("再发"), "c-9")
    assert (await api.post("message/mass/sendall", again))["errcode"] == 45066
    api.sim.advance(61)
    repeat = await api.post("message/mass/sendall", again)
    assert repeat["errcode"] == 45065 and repeat["msg_id"] == sent["msg_id"]


@pytest.mark.parametrize(
    ("order", "errcode"), [("clientmsgid_first", 45065), ("media_first", 40007)]
)
async def test_a_repeated_send_of_a_used_draft_by_check_order(
    make_api: Factory, order: str, errcode: int
) -> None:
    api = await make_api(mass_check_order=order, account_type="service")
    media_id = await api.draft("群发")
    await api.post("message/mass/sendall", sendall(media_id, "c-1"))
    api.sim.advance(61)
    assert (await api.post("message/mass/sendall", sendall(media_id, "c-1")))["errcode"] == errcode


async def test_publish_ids_are_numbers_without_msg_data_id_when_chosen(make_api: Factory) -> None:
    api = await make_api(publish_id_type="number")
    answer = await api.post("freepublish/submit", {"media_id": await api.draft()})
    assert isinstance(answer["publish_id"], int) and "msg_data_id" not in answer
    status = await api.post("freepublish/get", {"publish_id": str(answer["publish_id"])})
    assert status["publish_id"] == answer["publish_id"]


async def test_raw_control_characters_and_broken_bytes_go_out_raw_when_chosen(
    make_api: Factory,
) -> None:
    api = await make_api(raw_control_chars=True, console_articles=1)
    async with api.session.post(
        f"{api.url}/cgi-bin/freepublish/batchget",
        params={"access_token": api.token},
        data=json.dumps({"offset": 0, "count": 20, "no_content": 1}),
    ) as response:
        raw = await response.read()
    assert b"\x08" in raw and b"\xff" in raw
    with pytest.raises(ValueError):
        json.loads(raw)  # strict JSON readers fail on it, as they did on the platform's
