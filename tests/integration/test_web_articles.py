"""A push of several articles in the admin and the JSON API: the post page shows each
article, edits each, reorders them, previews the list view on a phone beside each article's
page; review approves the whole push, which goes out as one draft."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import PostStatus
from tests.integration.web_rig import (
    Template,
    WebRig,
    template_fixture,  # noqa: F401 (a fixture)
    web_rig,
)

COLUMN = "三篇一推"


@pytest.fixture
async def rig(tmp_path: Path, cover_file: Path, web_template: Template) -> AsyncIterator[WebRig]:
    column = {
        "name": COLUMN,
        "account": "main",
        "author": "团区委",
        "cover": str(cover_file),
        "require_review": True,
        "cooldown_days": 0,
        "articles_per_post": 3,
    }
    async with web_rig(tmp_path, cover_file, web_template, extra_columns=[column]) as value:
        yield value


async def _draft(rig: WebRig) -> dict[str, Any]:
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts", json={"column": COLUMN, "at": "now"}, headers=rig.bearer("editor")
    )
    assert response.status == 201, await response.text()
    post: dict[str, Any] = await response.json()
    assert post["article_count"] == 3 and post["status"] == "review"
    return post


async def _get(rig: WebRig, post_id: int) -> dict[str, Any]:
    response = await rig.client.get(f"/api/posts/{post_id}", headers=rig.bearer("editor"))
    assert response.status == 200
    result: dict[str, Any] = await response.json()
    return result


async def test_the_post_page_shows_edits_and_reorders_each_article(rig: WebRig) -> None:
    post = await _draft(rig)
    titles = [a["title"] for a in post["articles"]]
    url = f"/posts/{post['id']}"
    token = await rig.login("editor")

    page = await (await rig.client.get(url)).text()
    assert "本次推送的文章（3篇）" in page and "头条" in page
    positions = [page.index(f'?article={n}">{t}</a>') for n, t in enumerate(titles, 1)]
    assert positions == sorted(positions)
    assert page.count('action="/posts/{}/reorder"'.format(post["id"])) == 4  # 2 up, 2 down
    assert f'src="{url}/preview/list"' in page and "消息列表中" in page

    queue = await (await rig.client.get("/queue")).text()
    assert f'{titles[0]}</a> <small class="muted">另2篇</small>' in queue

    second = await (await rig.client.get(f"{url}?article=2")).text()
    assert "第2篇，共3篇" in second
    assert 'name="article" value="2"' in second
    assert f'value="{titles[1]}"' in second
    assert f'src="{url}/preview?article=2"' in second

    response = await rig.client.post(
        f"{url}/edit",
        data={
            "csrf_token": token,
            "article": "2",
            "title": "第二篇改过",
            "digest": "",
            "markdown": "改过的**第二篇**正文",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == f"{url}?article=2"
    detail = await _get(rig, post["id"])
    assert [a["title"] for a in detail["articles"]] == [titles[0], "第二篇改过", titles[2]]
    assert "<strong" in detail["articles"][1]["content_html"]

    body = await rig.client.get(f"{url}/preview?article=2")
    assert body.headers["Content-Security-Policy"].startswith("sandbox")
    assert "第二篇" in await body.text()

    refused = await rig.client.post(
        f"{url}/edit",
        data={"csrf_token": token, "article": "3", "title": "团(tuán)员", "markdown": "x"},
    )
    assert refused.status == 422
    refused_page = await refused.text()
    assert "第3篇" in refused_page and 'name="article" value="3"' in refused_page

    cover_refused = await rig.client.post(
        f"{url}/edit",
        data={
            "csrf_token": token,
            "article": "2",
            "title": "第二篇改过",
            "digest": "",
            "markdown": "改过的**第二篇**正文",
            "cover": "/nowhere/cover.jpg",
        },
    )
    assert cover_refused.status == 422
    cover_page = await cover_refused.text()
    assert "封面：" in cover_page and 'value="/nowhere/cover.jpg"' in cover_page
    assert (await _get(rig, post["id"]))["articles"][1]["cover"] == post["articles"][1]["cover"]

    down = re.search(rf'action="{url}/reorder".*?name="order" value="([\d ]+)"', page, flags=re.S)
    assert down and down.group(1) == "2 1 3"  # the headline's "down" swaps it with article 2
    response = await rig.client.post(
        f"{url}/reorder", data={"csrf_token": token, "order": "2 1 3"}, allow_redirects=False
    )
    assert response.status == 303
    detail = await _get(rig, post["id"])
    assert [a["title"] for a in detail["articles"]] == ["第二篇改过", titles[0], titles[2]]
    assert detail["title"] == "第二篇改过"
    assert detail["status"] == "review"


async def test_the_list_view_shows_the_headline_card_and_smaller_rows(rig: WebRig) -> None:
    post = await _draft(rig)
    await rig.login("editor")
    response = await rig.client.get(f"/posts/{post['id']}/preview/list")
    assert response.status == 200
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    html = await response.text()
    titles = [a["title"] for a in post["articles"]]
    assert [html.index(t) for t in titles] == sorted(html.index(t) for t in titles)
    # the headline's cover fills the card; each further article has a square thumbnail
    assert html.count("data:image/jpeg;base64,") == 3
    assert "aspect-ratio:2.35/1" in html and html.count("width:56px;height:56px") == 2
    assert "<script" not in html


async def test_the_api_edits_and_reorders_articles_and_refuses_bad_numbers(
    rig: WebRig,
) -> None:
    post = await _draft(rig)
    editor = rig.bearer("editor")
    url = f"/api/posts/{post['id']}"
    response = await rig.client.patch(
        url, json={"article": 3, "title": "第三篇新标题"}, headers=editor
    )
    assert response.status == 200, await response.text()
    edited = await response.json()
    assert edited["articles"][2]["title"] == "第三篇新标题"
    assert edited["articles"][2]["markdown"] == post["articles"][2]["markdown"]
    assert edited["title"] == post["title"]

    response = await rig.client.post(f"{url}/reorder", json={"order": [3, 1, 2]}, headers=editor)
    assert response.status == 200, await response.text()
    assert (await response.json())["title"] == "第三篇新标题"

    for bad in ({"article": 4, "title": "x"}, {"article": "two", "title": "x"}):
        response = await rig.client.patch(url, json=bad, headers=editor)
        assert response.status == 400
        assert "article" in (await response.json())["error"]
    for order in ([1, 1, 2], [1, 2], "x y z", None):
        response = await rig.client.post(f"{url}/reorder", json={"order": order}, headers=editor)
        assert response.status == 400, order
        assert "\n" not in (await response.json())["error"]


async def test_review_approves_the_whole_push_which_goes_out_as_one_draft(rig: WebRig) -> None:
    post = await _draft(rig)
    token = await rig.login("reviewer")
    page = await (await rig.client.get(f"/posts/{post['id']}")).text()
    assert "通过审核即通过整次推送：当前的全部3篇文章。" in page
    version = post.get("version")
    response = await rig.client.post(
        f"/posts/{post['id']}/approve",
        data={
            "csrf_token": token,
            "comment": "三篇都可以",
            **({"version": version} if version else {}),
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    done = await rig.services.worker.run_due(max_wait=20)
    assert [p.status for p in done] == [PostStatus.PUBLISHED]
    (published,) = done
    assert all(a.article_url for a in published.articles)
    state = await (await rig.client.session.get(f"{rig.sim.url}/_sim/state")).json()
    (job,) = state["published"]
    assert job["titles"] == [a["title"] for a in post["articles"]]
