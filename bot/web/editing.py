"""Editing a post from the admin: the pages and the API both call the engine's drafting
service, which re-renders, re-hosts, re-checks and stores."""

from __future__ import annotations

from bot.app import Services
from bot.domain.models import Post
from bot.engine.drafting import EDITABLE, Draft

__all__ = ["EDITABLE", "edit_post", "reorder_articles"]


async def edit_post(
    services: Services,
    post_id: int,
    *,
    title: str,
    digest: str,
    markdown: str,
    actor: str,
    article: int = 0,
    cover: str | None = None,
) -> Draft:
    """Edit one article of a post (``article``: 0-based, the headline by default; ``cover``:
    None keeps it). Raises NotFoundError, ConflictError, UserError, ContentRejectedError
    (nothing is stored)."""
    return await services.drafting.edit(
        post_id,
        title=title,
        digest=digest,
        markdown=markdown,
        article=article,
        cover=cover,
        actor=actor,
    )


async def reorder_articles(services: Services, post_id: int, order: list[int], actor: str) -> Post:
    """Put a post's articles in ``order`` (0-based indexes, the new headline first). Raises
    NotFoundError, ConflictError, UserError."""
    return await services.drafting.reorder(post_id, order, actor=actor)
