"""Regression tests for what the security review found: safe-mode bypass, open redirect,
concurrent login guesses, a callback body that arrives in pieces, site-local IPv6."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bot.account.callback import (
    MessageCrypto,
    PublishJobFinish,
    build_push,
    open_push,
    render_event,
)
from bot.content.images import is_public_address
from bot.domain.errors import ForbiddenError
from bot.store import db
from bot.store.tables import callback_events
from bot.web.hashing import LoginsBusyError
from bot.web.render import local_target
from bot.web.users import TooManyAttemptsError, authenticate_password, create_user
from tests.integration.web_rig import (
    CALLBACK_TOKEN,
    WebRig,
    rig_fixture,  # noqa: F401
    template_fixture,  # noqa: F401
)

TOKEN = "callbacktoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxsim0000000000001"
EVENT = (
    "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
    "<CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo><publish_id>9</publish_id>"
    "<publish_status>0</publish_status></PublishEventInfo></xml>"
)


def test_an_account_in_safe_mode_refuses_plain_pushes() -> None:
    crypto = MessageCrypto(TOKEN, AES_KEY, APPID)
    plain = build_push(EVENT, token=TOKEN, timestamp="1", nonce="2", to_user="gh_1")
    with pytest.raises(ForbiddenError, match="only safe-mode"):
        open_push(plain.query, plain.body, token=TOKEN, crypto=crypto)
    safe = build_push(EVENT, token=TOKEN, timestamp="1", nonce="2", to_user="gh_1", crypto=crypto)
    assert "PUBLISHJOBFINISH" in open_push(safe.query, safe.body, token=TOKEN, crypto=crypto)


@pytest.mark.parametrize(
    "target", ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil", "http://x"]
)
def test_login_redirects_stay_on_this_site(target: str) -> None:
    assert local_target(target) == "/"
    assert local_target("/queue?status=review") == "/queue?status=review"


async def test_concurrent_wrong_passwords_are_limited(database_url: str) -> None:
    engine = db.open_engine(database_url)
    await db.upgrade(engine)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    try:
        await create_user(engine, "admin", "admin", "correct horse", now=now)

        async def guess() -> str:
            try:
                user = await authenticate_password(
                    engine, "admin", "wrong", address="10.0.0.1", now=now
                )
            except (TooManyAttemptsError, LoginsBusyError):  # counted, or too many at once
                return "limited"
            return "ok" if user else "refused"

        outcomes = await asyncio.gather(*(guess() for _ in range(20)))
        assert outcomes.count("refused") == 5  # the limit, however many arrive at once
        assert outcomes.count("limited") == 15
    finally:
        await engine.dispose()


def test_site_local_ipv6_is_not_public() -> None:
    assert not is_public_address(ipaddress.IPv6Address("fec0::1"))
    assert is_public_address(ipaddress.IPv6Address("2001:4860:4860::8888"))


async def test_a_callback_body_arriving_in_pieces_is_read_whole(rig: WebRig) -> None:
    event = PublishJobFinish(
        to_user="gh",
        from_user="oSys",
        create_time=1,
        publish_id="split-1",
        publish_status=0,
        article_id="x",
    )
    push = build_push(
        render_event(event),
        token=CALLBACK_TOKEN,
        timestamp=int(datetime.now(UTC).timestamp()),
        nonce="n",
        to_user="gh",
    )
    body = push.body.encode()
    reader, writer = await asyncio.open_connection(rig.client.host, rig.client.port)
    head = (
        f"POST /callback/main?{urlencode(push.query)} HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {len(body)}\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n"
    ).encode()
    writer.write(head + body[:40])
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.write(body[40:])
    await writer.drain()
    answer = (await reader.read()).decode()
    writer.close()
    assert answer.startswith("HTTP/1.1 200") and answer.endswith("success")
    async with rig.services.engine.connect() as conn:
        payloads = (await conn.execute(sa.select(callback_events.c.payload))).scalars().all()
    assert [p["publish_id"] for p in payloads] == ["split-1"]  # the whole event was recorded
