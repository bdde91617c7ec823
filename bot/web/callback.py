"""The platform's push route, ``/callback/{account}``: outside the login, checked by signature.

GET is the URL verification (answer ``echostr`` when the signature matches, else 403). POST is
an event push, plain or safe mode: the signature (and in safe mode ``msg_signature``, the AES
decryption and the app id) are checked, the timestamp must be within 5 minutes of our clock,
and a signature seen before must come with the same body (the platform's retry, answered and
ignored) or the push is refused. The event is parsed and recorded once (a repeated delivery is
recognised by its dedupe key and ignored), answered ``success`` at once, and the publisher is
woken. A post waiting for that publish result is made due, so the publisher reads the event
instead of spending a status poll. An event is evidence, not a verdict: the publisher takes
a success on the platform's own article host as it is, and confirms anything else (a failure
above all, which would let the post be sent again) with ``freepublish/get``."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.account.callback import (
    MAX_SKEW_SECONDS,
    MassSendJobFinish,
    MessageCrypto,
    PublishJobFinish,
    answer_url_verification,
    dedupe_key,
    open_push,
    parse_event,
)
from bot.app import Services
from bot.config import AccountConfig
from bot.domain.errors import ForbiddenError, NotFoundError, UserError
from bot.domain.models import PostStatus
from bot.store import events as event_store
from bot.store import posts as post_store
from bot.web.keys import SERVICES

logger = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _account(services: Services, name: str) -> tuple[AccountConfig, str]:
    """The account and its callback token. An account without a token has no callback: 404,
    the same as an unknown name, so the route tells nothing about which accounts exist."""
    for account in services.config.accounts:
        if account.name == name and account.token is not None:
            return account, account.token.value
    raise NotFoundError("no callback here")


async def verify(request: web.Request) -> web.Response:
    _, token = _account(request.app[SERVICES], request.match_info["account"])
    echo = answer_url_verification(token, request.query)
    return web.Response(text=echo, content_type="text/plain")


async def push(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    account, token = _account(services, request.match_info["account"])
    body = await _read_limited(request)
    crypto = (
        MessageCrypto(token, account.aes_key.value, account.appid)
        if account.aes_key is not None
        else None
    )
    now = services.clock()
    xml_text = open_push(request.query, body, token=token, crypto=crypto, now=now)
    event = parse_event(xml_text)
    name, payload = event_record(event)
    seen, recorded = await event_store.record_push(
        services.engine,
        account=account.name,
        signature=request.query["signature"][:64],
        body_sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        now=now,
        forget_before=now - timedelta(seconds=2 * MAX_SKEW_SECONDS),
        dedupe_key=dedupe_key(event)[:200],
        event=name,
        payload=payload,
    )
    if seen == "replay":
        # In plain mode the signature does not cover the body: a signed URL seen once must
        # not carry a body of someone else's choosing.
        raise ForbiddenError("callback: this signature came before with another body")
    if recorded is not None:
        if isinstance(event, PublishJobFinish):
            await _make_due(services, account.name, event.publish_id)
        services.worker.wake.set()
    return web.Response(text="success", content_type="text/plain")


async def _read_limited(request: web.Request) -> str:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    # content.read(n) returns what has arrived so far; a push that comes in pieces must be
    # read to its end (within the limit).
    data = b""
    while len(data) <= MAX_BODY:
        chunk = await request.content.read(MAX_BODY + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=len(data))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("callback: the body is not UTF-8") from None


def event_record(event: Any) -> tuple[str, dict[str, Any]]:
    """The stored name and payload: a publish result in the shape ``freepublish/get``
    answers, which is what the publisher reads."""
    if isinstance(event, PublishJobFinish):
        return "publish", {
            "publish_id": event.publish_id,
            "publish_status": event.publish_status,
            "article_id": event.article_id,
            "article_detail": {
                "count": len(event.articles),
                "item": [{"idx": a.idx, "article_url": a.url} for a in event.articles],
            },
            "fail_idx": list(event.fail_idx),
            "event": event.event,
            "create_time": event.create_time,
        }
    if isinstance(event, MassSendJobFinish):
        payload = asdict(event)
        payload["articles"] = [{"idx": a.idx, "url": a.url} for a in event.articles]
        return "mass_send", payload
    return "other", asdict(event)


async def _make_due(services: Services, account: str, publish_id: str) -> None:
    async with services.engine.begin() as conn:
        post = await post_store.find_by_publish_id(conn, account, publish_id)
        if post is not None and post.status is PostStatus.PUBLISHING:
            await post_store.update_if_status(
                conn,
                post.id,
                [PostStatus.PUBLISHING],
                now=services.clock(),
                next_attempt_at=services.clock(),
            )
