"""The actions a person takes on a post, shared by the admin's forms and the JSON API: each
names the least role it needs and calls one method of ``ReviewActions``; sending a preview to
a reviewer's WeChat calls ``Services.send_preview``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.app import Services
from bot.domain.errors import NotFoundError, UserError
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
# Previews reach a person's phone and use the account's daily preview allowance.
PREVIEW_ROLE = "reviewer"
# The platform's openids are 28 characters of this alphabet; the margin allows other forms.
OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")


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
        version = forms.text(values, "version", max_len=64).strip()
        return await review.approve(post_id, actor=actor, comment=comment, version=version)
    if action == "reject":
        comment = forms.text(values, "comment", max_len=2000)
        return await review.reject(post_id, actor=actor, comment=comment)
    if action == "submit":
        return await review.submit_for_review(post_id, actor=actor)
    if action == "cancel":
        return await review.cancel(post_id, actor=actor)
    if action == "retry":
        # A post stored before covers were kept, whose cover did not load at start, keeps its
        # copy now or is not retried (publishing never fetches a cover itself).
        await services.drafting.keep_copies_before_retry(post_id, actor=actor)
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


async def send_preview(
    services: Services, post_id: int, values: Mapping[str, Any], *, actor: str
) -> str:
    """Send the post to one reviewer's WeChat; ``openid`` in ``values`` (blank: the account's
    ``preview_openid``). Returns the platform's msg_id ("" when it gives none). Raises
    NotFoundError, ConflictError (already publishing or published), UserError (bad openid or
    none configured), platform errors."""
    openid = forms.text(values, "openid", max_len=64).strip()
    if openid and not OPENID.fullmatch(openid):
        raise UserError("openid: only letters, digits, '-' and '_'")
    return await services.send_preview(post_id, openid=openid, actor=actor)
