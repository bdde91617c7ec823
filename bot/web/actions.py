"""The actions a person takes on a post, shared by the admin's forms and the JSON API: each
names the least role it needs and calls one method of ``ReviewActions``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.app import Services
from bot.domain.errors import NotFoundError
from bot.domain.models import Post
from bot.shapes import account_tz
from bot.store import posts as post_store
from bot.web import forms

# action -> the least role that may take it
POST_ACTIONS: dict[str, str] = {
    "approve": "reviewer",
    "reject": "reviewer",
    "resolve": "reviewer",
    "submit": "editor",
    "cancel": "editor",
    "retry": "editor",
    "reschedule": "editor",
}


async def load_post(services: Services, post_id: int) -> Post:
    async with services.engine.connect() as conn:
        return await post_store.get(conn, post_id)


async def run_action(
    services: Services, action: str, post_id: int, values: Mapping[str, Any], *, actor: str
) -> Post:
    """Raises NotFoundError (unknown post or action), ConflictError (not legal in the post's
    status), UserError (bad field)."""
    review = services.review
    if action == "approve":
        comment = forms.text(values, "comment", max_len=2000)
        return await review.approve(post_id, actor=actor, comment=comment)
    if action == "reject":
        comment = forms.text(values, "comment", max_len=2000)
        return await review.reject(post_id, actor=actor, comment=comment)
    if action == "submit":
        return await review.submit_for_review(post_id, actor=actor)
    if action == "cancel":
        return await review.cancel(post_id, actor=actor)
    if action == "retry":
        return await review.retry(post_id, actor=actor)
    if action == "resolve":
        published = forms.boolean(values, "published")
        url = forms.text(values, "article_url", max_len=2000).strip()
        return await review.resolve(post_id, published=published, actor=actor, article_url=url)
    if action == "reschedule":
        post = await load_post(services, post_id)
        tz = account_tz(services.config, post.account)
        at = forms.optional_when(values, "at", tz=tz, now=services.clock())
        priority = forms.integer(values, "priority", low=-1000, high=1000)
        return await review.reschedule(post_id, at=at, priority=priority, actor=actor)
    raise NotFoundError(f"no post action named {action!r}")
