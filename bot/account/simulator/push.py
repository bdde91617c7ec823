"""Pushing finished-job events to the configured callback URL the way the platform does
(wechat-api.md §5.2): signed, encrypted in safe mode, retried when the receiver fails or does
not answer within 5 s, three attempts in total."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import aiohttp

from bot.account.callback import (
    MassSendJobFinish,
    MessageCrypto,
    PublishJobFinish,
    build_push,
    render_event,
)
from bot.account.simulator.state import Simulator


def compatible_body(xml_text: str, safe_body: str) -> str:
    """兼容模式: the plain event's elements and the safe-mode ``<Encrypt>`` in one body."""
    start, end = safe_body.index("<Encrypt>"), safe_body.index("</Encrypt>") + len("</Encrypt>")
    head, _, tail = xml_text.rpartition("</xml>")
    return f"{head}{safe_body[start:end]}</xml>{tail}"


def _describe(event: PublishJobFinish | MassSendJobFinish) -> dict[str, Any]:
    if isinstance(event, PublishJobFinish):
        return {
            "event": event.event,
            "publish_id": event.publish_id,
            "publish_status": event.publish_status,
        }
    return {"event": "MASSSENDJOBFINISH", "msg_id": event.msg_id, "status": event.status}


class CallbackPusher:
    """Watches the simulator for finished jobs and delivers their events. Owns one HTTP
    session and its delivery tasks between ``start`` and ``stop``."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._rng = random.Random(f"{sim.seed}/push")  # nonces
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._loop_task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()

    async def _watch(self) -> None:
        while True:
            self._sim.settle()
            for event in self._sim.take_outbox():
                task = asyncio.create_task(self.deliver(event))
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)
            await asyncio.sleep(self._sim.config.tick_seconds)

    async def deliver(self, event: PublishJobFinish | MassSendJobFinish) -> None:
        """Push ``event`` to the callback URL current at this moment; the outcome is appended
        to ``sim.deliveries`` (what /_sim/state shows)."""
        sim, config = self._sim, self._sim.config
        target = sim.callback
        record: dict[str, Any] = {
            **_describe(event),
            "url": target.url,
            "mode": (config.push_mode if target.aes_key else "plain"),
            "attempts": 0,
            "delivered": False,
            "errors": [],
        }
        sim.deliveries.append(record)
        if not target.url:
            record["errors"].append("no callback url configured")
            return
        crypto = (
            MessageCrypto(target.token, target.aes_key, config.appid) if target.aes_key else None
        )
        xml_text = render_event(event)
        for attempt in range(1, config.callback_attempts + 1):
            push = build_push(
                xml_text,
                token=target.token,
                timestamp=int(sim.now()),
                nonce=str(self._rng.randrange(10**8, 10**10)),
                to_user=config.original_id,
                openid=event.from_user,
                crypto=crypto,
            )
            body = push.body
            if crypto is not None and config.push_mode == "compatible":
                body = compatible_body(xml_text, push.body)
            record["attempts"] = attempt
            error = await self._post(target.url, push.query, body)
            if error is None:
                record["delivered"] = True
                return
            record["errors"].append(error)
            if attempt < config.callback_attempts:
                await asyncio.sleep(config.callback_retry_delay_seconds)

    async def _post(self, url: str, query: dict[str, str], body: str) -> str | None:
        """None when the receiver answered 200, else why the attempt failed."""
        assert self._session is not None, "start() the pusher first"
        timeout = aiohttp.ClientTimeout(total=self._sim.config.callback_timeout_seconds)
        try:
            async with self._session.post(
                url,
                params=query,
                data=body.encode("utf-8"),
                headers={"Content-Type": "text/xml; charset=utf-8"},
                timeout=timeout,
            ) as response:
                await response.read()
                return None if response.status == 200 else f"HTTP {response.status}"
        except TimeoutError:
            return "no answer within the timeout"
        except aiohttp.ClientError as exc:
            return f"{type(exc).__name__}: {exc}"
