"""Which post the current task is publishing, so every API call can be logged against it."""

from __future__ import annotations

from contextvars import ContextVar

from bot.domain.models import Post

current_post: ContextVar[Post | None] = ContextVar("current_post", default=None)
