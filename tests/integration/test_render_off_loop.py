"""Rendering runs off the event loop: drafting renders each article's template, and an edit
renders the editor's Markdown, through the offload pool, with arguments that pickle (so the
work really goes to a worker process, not a thread that holds the loop's GIL). An editor's
Markdown of 30,000 nested tags once held the whole service for over a minute (security
re-review N6)."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import offload
from bot.engine.offload import Offload
from tests.integration.test_multi_article_drafting import (
    COLUMN,
    Rig,
    _catalogue,
    _cover,
    _resources,
    engine,  # noqa: F401 (a fixture)
)


class SpyOffload(Offload):
    """Runs work inline and records, for each call, the function and whether its payload
    pickles (what the process pool needs)."""

    def __init__(self) -> None:
        super().__init__(mode="inline")
        self.calls: list[tuple[str, bool]] = []

    async def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        try:
            pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            picklable = True
        except (pickle.PicklingError, TypeError, AttributeError):
            picklable = False
        self.calls.append((fn.__qualname__, picklable))
        return fn(*args, **kwargs)


@pytest.fixture
def spy() -> Iterator[SpyOffload]:
    recorder = SpyOffload()
    previous = offload.use(recorder)
    yield recorder
    offload.use(previous)


async def test_drafting_and_editing_render_in_the_offload_pool(
    engine: AsyncEngine,  # noqa: F811 (the fixture)
    tmp_path: Path,
    spy: SpyOffload,
) -> None:
    await _catalogue(engine, _resources(tmp_path))
    rig = Rig(engine, tmp_path, articles_per_post=3)
    post = (await rig.drafting.draft(COLUMN)).post
    assert spy.calls.count(("render_post", True)) == 3  # one per article, each picklable

    spy.calls.clear()
    await rig.drafting.edit(post.id, title="改过的标题", digest="", markdown="新的正文", article=1)
    assert ("render_markdown", True) in spy.calls


async def test_a_body_over_the_byte_limit_uploads_nothing_before_it_is_refused(
    engine: AsyncEngine,  # noqa: F811 (the fixture)
    tmp_path: Path,
    spy: SpyOffload,
) -> None:
    from bot.content.checks.limits import MARKDOWN_CHARS
    from bot.domain.errors import ContentRejectedError

    await _catalogue(engine, _resources(tmp_path))
    rig = Rig(engine, tmp_path)
    post = (await rig.drafting.draft(COLUMN)).post
    uploads = list(rig.uploads)
    image = f"![]({_cover(tmp_path, 9)})\n\n"
    # Under the Markdown limit, over the byte limit once rendered (each heading's styles).
    headings = "# 正\n" * 12_000
    assert len(image + headings) <= MARKDOWN_CHARS
    with pytest.raises(ContentRejectedError) as refused:
        await rig.drafting.edit(post.id, title="太长的正文", digest="", markdown=image + headings)
    assert "content.too_large" in {f.code for f in refused.value.findings}
    assert rig.uploads == uploads  # its image was not re-hosted for a post that is refused
