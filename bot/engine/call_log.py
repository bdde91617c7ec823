"""Writes every API call to the publish log, attributed to the post being published."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.context import current_post
from bot.store import log as log_store

logger = logging.getLogger(__name__)

OnCall = Callable[[str, int | None, int, int], Awaitable[None]]


def api_call_logger(engine: AsyncEngine, account: str, clock: Callable[[], datetime]) -> OnCall:
    async def on_call(endpoint: str, errcode: int | None, latency_ms: int, attempt: int) -> None:
        post = current_post.get()
        outcome = "ok" if errcode == 0 else ("unknown" if errcode is None else "error")
        try:
            async with engine.begin() as conn:
                await log_store.append(
                    conn,
                    at=clock(),
                    step=endpoint,
                    outcome=outcome,
                    post_id=post.id if post else None,
                    account=account,
                    column=post.column if post else "",
                    errcode=errcode,
                    latency_ms=latency_ms,
                    attempt=attempt,
                )
        except Exception:  # the log must never break a publish
            logger.exception("could not write the API call to the publish log")

    return on_call
