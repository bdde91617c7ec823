"""Editing a post from the admin: the pages and the API both call the engine's drafting
service, which re-renders, re-hosts, re-checks and stores."""

from __future__ import annotations

from bot.app import Services
from bot.engine.drafting import EDITABLE, Draft

__all__ = ["EDITABLE", "edit_post"]


async def edit_post(
    services: Services, post_id: int, *, title: str, digest: str, markdown: str, actor: str
) -> Draft:
    """Raises NotFoundError, ConflictError, ContentRejectedError (nothing is stored)."""
    return await services.drafting.edit(
        post_id, title=title, digest=digest, markdown=markdown, actor=actor
    )
