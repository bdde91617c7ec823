"""Drafting posts of several articles: a column of ``articles_per_post = 3`` drafts one post
of three distinct resources, one article each from the column's template; findings say which
article; an article is edited and the articles reordered the way drafting stores them."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import AccountConfig, ColumnConfig, Config, Secret
from bot.content.sample import DEFAULT_COVER
from bot.domain.errors import ContentRejectedError, UserError
from bot.domain.models import PostStatus, Resource
from bot.engine.drafting import Drafting
from bot.store import catalogue as catalogue_store
from bot.store import db
from bot.store import log as log_store
from tests.conftest import FakeClock

NOW = datetime(2024, 5, 6, 0, 0, tzinfo=UTC)
COLUMN = "学习平台"


def _cover(tmp_path: Path, n: int) -> str:
    path = tmp_path / f"cover-{n}.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (470, 200), (40 * n, 80, 120)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def _resources(tmp_path: Path) -> list[Resource]:
    titles = ["学习强国", "中国大学MOOC", "智慧团建"]
    return [
        Resource(
            f"p{n}",
            "platform",
            title,
            summary=f"{title}的简介。",
            url=f"https://example.com/{n}",
            cover=_cover(tmp_path, n),
        )
        for n, title in enumerate(titles, start=1)
    ]


async def _load(ref: str) -> bytes:
    """As the service loads images: a file that cannot be read is the user's error."""
    try:
        return await asyncio.to_thread(Path(ref).read_bytes)
    except OSError as exc:
        raise UserError(f"cannot read {ref}: {exc.strerror}") from None


class Rig:
    def __init__(self, engine: AsyncEngine, tmp_path: Path, **column: object) -> None:
        self.engine = engine
        self.uploads: list[str] = []
        self.config = Config(
            path=None,
            database_url="",
            accounts=(AccountConfig("main", "wx1", Secret("s")),),
            columns=(ColumnConfig(COLUMN, "main", author="团区委", **column),),  # type: ignore[arg-type]
            templates_dir=tmp_path / "templates",
        )
        default = Path(__file__).resolve().parents[2] / "templates" / "posts" / "default.md.j2"
        (tmp_path / "templates" / "posts").mkdir(parents=True, exist_ok=True)
        (tmp_path / "templates" / "posts" / "default.md.j2").write_text(
            default.read_text(encoding="utf-8"), encoding="utf-8"
        )
        self.drafting = Drafting(
            engine=engine,
            config=self.config,
            clock=FakeClock(NOW),
            upload_image=self._upload,
            load_image=_load,
            has_schedule=lambda column: False,
            default_cover=DEFAULT_COVER,
        )

    async def _upload(self, account: str, data: bytes, filename: str) -> str:
        self.uploads.append(filename)
        return f"https://mmbiz.qpic.cn/{account}/{len(self.uploads)}"

    def template(self, tmp_path: Path, text: str) -> None:
        path = tmp_path / "templates" / "posts" / "numbered.md.j2"
        path.write_text(text, encoding="utf-8")
        column = replace(self.config.columns[0], template="posts/numbered.md.j2")
        self.config = replace(self.config, columns=(column,))
        self.drafting.config = self.config


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = db.open_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    await db.upgrade(engine)
    yield engine
    await engine.dispose()


async def _catalogue(engine: AsyncEngine, resources: list[Resource]) -> None:
    async with engine.begin() as conn:
        await catalogue_store.upsert(conn, resources, now=NOW)


async def test_three_articles_per_post_draft_one_post_of_three_distinct_resources(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    resources = _resources(tmp_path)
    await _catalogue(engine, resources)
    rig = Rig(engine, tmp_path, articles_per_post=3)
    draft = await rig.drafting.draft(COLUMN)
    post = draft.post
    assert post.status is PostStatus.QUEUED and post.article_count == 3
    assert sorted(post.resource_ids) == ["p1", "p2", "p3"]
    by_id = {r.id: r for r in resources}
    for article in post.articles:
        (rid,) = article.resource_ids
        assert article.title == by_id[rid].title
        assert article.cover == by_id[rid].cover
        assert article.content_source_url == by_id[rid].url
        assert article.author == "团区委"
        assert by_id[rid].title in article.markdown
    assert len({a.content_html for a in post.articles}) == 3
    # a second post finds the catalogue featured within the cooldown
    with pytest.raises(UserError, match="no catalogue resource is left"):
        await rig.drafting.draft(COLUMN)


async def test_one_article_per_post_features_its_resources_in_one_article(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _catalogue(engine, _resources(tmp_path))
    rig = Rig(engine, tmp_path, resources_per_post=3)
    post = (await rig.drafting.draft(COLUMN)).post
    assert post.article_count == 1
    assert post.title == f"{COLUMN}｜本期推荐3项学习资源"


async def test_named_resources_are_dealt_into_the_columns_articles(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _catalogue(engine, _resources(tmp_path))
    rig = Rig(engine, tmp_path, articles_per_post=3)
    post = (await rig.drafting.draft(COLUMN, resource_ids=["p3", "p1"])).post
    assert [a.resource_ids for a in post.articles] == [("p3",), ("p1",)]


async def test_fewer_resources_left_than_articles_make_a_shorter_post(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _catalogue(engine, _resources(tmp_path)[:2])
    rig = Rig(engine, tmp_path, articles_per_post=3)
    post = (await rig.drafting.draft(COLUMN)).post
    assert post.article_count == 2


async def test_a_template_addresses_the_article_it_renders(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _catalogue(engine, _resources(tmp_path))
    rig = Rig(engine, tmp_path, articles_per_post=3)
    rig.template(
        tmp_path,
        "{% if article.headline %}{% set title = '头条：' ~ resource.title %}"
        "{% else %}{% set title = '第' ~ article.number ~ '篇：' ~ resource.title %}{% endif %}"
        "第{{ article.number }}篇，共{{ article.count }}篇（本期共"
        "{{ post_resources | length }}项资源）：{{ resource.title }}\n",
    )
    post = (await rig.drafting.draft(COLUMN)).post
    assert [a.title for a in post.articles] == [
        "头条：学习强国",
        "第2篇：中国大学MOOC",
        "第3篇：智慧团建",
    ]
    assert "第2篇，共3篇（本期共3项资源）：中国大学MOOC" in post.articles[1].markdown


async def test_a_damaged_article_is_refused_with_findings_that_name_it(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    resources = _resources(tmp_path)
    resources[1] = resources[1].replace(summary="锟斤拷烫烫烫的简介")
    await _catalogue(engine, resources)
    rig = Rig(engine, tmp_path, articles_per_post=3)
    with pytest.raises(ContentRejectedError) as info:
        await rig.drafting.draft(COLUMN)
    errors = [f for f in info.value.findings if f.severity == "error"]
    assert errors and {f.article for f in errors} == {1}
    assert "article 2: " in str(info.value)
    assert all(f.article in (0, 1, 2) for f in info.value.findings)


async def test_the_same_title_twice_in_a_push_is_a_warning_on_the_later_article(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    resources = _resources(tmp_path)
    resources[2] = resources[2].replace(title=resources[0].title)
    await _catalogue(engine, resources)
    rig = Rig(engine, tmp_path, articles_per_post=3)
    draft = await rig.drafting.draft(COLUMN)
    same = [f for f in draft.findings if f.code == "push.same_title"]
    assert [(f.severity, f.article) for f in same] == [("warning", 2)]


async def test_editing_one_article_and_reordering_keep_the_others(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _catalogue(engine, _resources(tmp_path))
    rig = Rig(engine, tmp_path, articles_per_post=3)
    post = (await rig.drafting.draft(COLUMN)).post
    before = post.articles
    edited = (
        await rig.drafting.edit(
            post.id, title="改过的第二篇", digest="新摘要", markdown="新的正文", article=1
        )
    ).post
    assert [a.title for a in edited.articles] == [before[0].title, "改过的第二篇", before[2].title]
    assert edited.articles[1].content_html != before[1].content_html
    assert edited.articles[1].cover == before[1].cover
    assert edited.articles[0] == before[0] and edited.articles[2] == before[2]
    with pytest.raises(ContentRejectedError) as info:
        await rig.drafting.edit(post.id, title="团(tuán)员", digest="", markdown="正文", article=2)
    assert {f.article for f in info.value.findings if f.severity == "error"} == {2}
    with pytest.raises(UserError, match="has no article 4"):
        await rig.drafting.edit(post.id, title="x", digest="", markdown="x", article=3)

    reordered = await rig.drafting.reorder(post.id, [2, 0, 1], actor="editor")
    assert [a.title for a in reordered.articles] == [
        before[2].title,
        before[0].title,
        "改过的第二篇",
    ]
    assert reordered.title == before[2].title and reordered.cover == before[2].cover
    with pytest.raises(UserError, match="give each of its 3 articles once"):
        await rig.drafting.reorder(post.id, [0, 0, 1])
    async with engine.connect() as conn:
        details = [e.detail for e in await log_store.list_entries(conn, post_ids=[post.id])]
    assert "edited article 2" in details
    # (reordered above: article 3 is now the headline, the edited article the third)
    assert "articles reordered to 3 1 2 by editor" in details


async def test_an_articles_cover_is_edited_and_must_load(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _catalogue(engine, _resources(tmp_path))
    rig = Rig(engine, tmp_path, articles_per_post=3)
    post = (await rig.drafting.draft(COLUMN)).post
    second = post.articles[1]
    new_cover = _cover(tmp_path, 9)
    edited = (
        await rig.drafting.edit(
            post.id,
            title=second.title,
            digest=second.digest,
            markdown=second.markdown,
            article=1,
            cover=new_cover,
        )
    ).post
    assert edited.articles[1].cover == new_cover
    assert edited.articles[1].thumb_media_id == ""
    assert [a.cover for a in edited.articles[::2]] == [a.cover for a in post.articles[::2]]
    with pytest.raises(UserError, match=r"^cover: "):
        await rig.drafting.edit(
            post.id,
            title=second.title,
            digest=second.digest,
            markdown=second.markdown,
            article=1,
            cover=str(tmp_path / "missing.jpg"),
        )
    with pytest.raises(ContentRejectedError):
        await rig.drafting.edit(
            post.id, title="x", digest="", markdown="x", article=1, cover="ftp://nowhere/x.jpg"
        )
