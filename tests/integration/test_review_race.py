"""Four-eyes under concurrency: an edit that commits between approve's read and its update
(PostgreSQL's READ COMMITTED lets one in; SQLite's BEGIN IMMEDIATE serialises the two) is
never queued with an approval that named the older version. From the engine review (F9)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from bot.domain.errors import ConflictError
from bot.domain.models import PostStatus
from bot.engine import review as review_module
from bot.engine.review import ReviewActions
from bot.store import posts as post_store
from tests.integration.publish_harness import publish_rig, utc_now


async def test_an_edit_landing_inside_approve_is_not_approved_unseen(
    database_url: str, cover_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with publish_rig(database_url, cover_file) as rig:
        post = await rig.add_post("待审稿")
        async with rig.engine.begin() as conn:
            await post_store.update_fields(conn, post.id, now=utc_now(), status="review")
        read = await rig.get(post.id)
        real_get = post_store.get
        fired = {"done": False}

        async def get_then_edit(conn: Any, post_id: int) -> Any:
            found = await real_get(conn, post_id)
            if not fired["done"] and not database_url.startswith("sqlite"):
                fired["done"] = True
                async with rig.engine.begin() as other:  # the editor's save, meanwhile
                    [head] = found.articles
                    assert await post_store.replace_articles(
                        other,
                        found,
                        [head.replace(content_html="<p>未经审核的正文</p>")],
                        now=utc_now(),
                        statuses=[PostStatus.REVIEW],
                        actor="web:editor",
                    )
            return found

        monkeypatch.setattr(review_module.post_store, "get", get_then_edit)
        with contextlib.suppress(ConflictError):
            await ReviewActions(rig.engine, utc_now).approve(
                post.id, actor="web:reviewer", version=read.version
            )
        monkeypatch.setattr(review_module.post_store, "get", real_get)
        after = await rig.get(post.id)
        assert not (after.status is PostStatus.QUEUED and after.version != read.version), (
            f"queued content {after.content_html!r}; the reviewer approved {read.content_html!r}"
        )
        if database_url.startswith("sqlite"):  # nothing raced: the approval went through
            assert after.status is PostStatus.QUEUED
