"""The review page's examples through the surfaces that draft and edit: a catalogue resource
drafted by the JSON API (as ``bot draft`` does, through the same Drafting), and the JSON
API's edit of a post's body. Damage is refused with findings as objects, nothing is stored;
what the page allows to be fixed is fixed in what is stored; clean text is accepted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.content.checks import has_surrogates
from bot.domain.models import Resource
from bot.store import catalogue as catalogue_store
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)
from tests.unit.checks.page_examples import CLEAN, DAMAGED, FIXABLE

COLUMN = "学习平台"


async def _add_resources(rig: WebRig, texts: list[str], prefix: str) -> list[str]:
    resources = [
        Resource(
            id=f"{prefix}{i}",
            kind="platform",
            title=f"资源{i}",  # the text is the summary: the digest and the body
            summary=text,
            url="https://www.xuexi.cn/",
        )
        for i, text in enumerate(texts)
    ]
    async with rig.services.engine.begin() as conn:
        await catalogue_store.upsert(conn, resources, now=datetime.now(UTC))
    return [r.id for r in resources]


async def _draft(rig: WebRig, resource: str) -> tuple[int, dict]:
    response = await rig.client.post(
        "/api/posts",
        json={"column": COLUMN, "resources": [resource], "at": "now"},
        headers=rig.bearer("editor"),
    )
    return response.status, await response.json()


async def test_drafting_refuses_each_damaged_example_and_accepts_each_clean_one(
    rig: WebRig,
) -> None:
    # A lone surrogate cannot be stored (the import refuses it); the edit test below has it.
    storable = [(kind, text) for kind, text in DAMAGED if not has_surrogates(text)]
    ids = await _add_resources(rig, [text for _, text in storable], "d")
    for (kind, text), resource in zip(storable, ids, strict=True):
        status, body = await _draft(rig, resource)
        if status == 201 and kind in FIXABLE:
            fixed = [f for f in body["findings"] if f["severity"] == "fixed"]
            assert fixed, (text, body["findings"])
            assert body["title"] != text or not text.strip("\u200b")
            continue
        assert status == 422, (kind, text, status, body)
        assert body["findings"], text
        assert all(isinstance(f, dict) and f["code"] and f["message"] for f in body["findings"])
        assert any(f["severity"] == "error" for f in body["findings"])
    ids = await _add_resources(rig, CLEAN, "c")
    for text, resource in zip(CLEAN, ids, strict=True):
        status, body = await _draft(rig, resource)
        assert status == 201, (text, body)
        assert not [f for f in body["findings"] if f["severity"] == "error"]


async def test_the_api_edit_refuses_each_damaged_example_and_stores_nothing(rig: WebRig) -> None:
    (resource,) = await _add_resources(rig, ["青年大学习"], "e")
    status, post = await _draft(rig, resource)
    assert status == 201, post
    url = f"/api/posts/{post['id']}"
    for kind, text in DAMAGED:
        response = await rig.client.patch(
            url, json={"markdown": f"正文：{text}\n"}, headers=rig.bearer("editor")
        )
        body = await response.json()
        if has_surrogates(text):  # refused before it is read as text, saying why
            assert response.status == 400 and "surrogate" in body["error"], body
            continue
        if response.status == 200 and kind in FIXABLE:
            assert [f for f in body["findings"] if f["severity"] == "fixed"], text
            assert body["markdown"] != f"正文：{text}\n"  # stored repaired
            continue
        assert response.status == 422, (kind, text, response.status, body)
        assert any(f["severity"] == "error" for f in body["findings"]), text
    for text in CLEAN:
        response = await rig.client.patch(
            url, json={"markdown": f"正文：{text}\n"}, headers=rig.bearer("editor")
        )
        body = await response.json()
        assert response.status == 200, (text, body)


async def test_the_admin_shows_findings_as_readable_lines(rig: WebRig) -> None:
    (resource,) = await _add_resources(rig, ["青年大学习"], "a")
    status, post = await _draft(rig, resource)
    assert status == 201
    token = await rig.login("editor")
    response = await rig.client.post(
        f"/posts/{post['id']}/edit",
        data={
            "csrf_token": token,
            "title": "团(tuán)课",
            "digest": "",
            "markdown": "电话\u202e13800138000\u202c",
        },
    )
    page = await response.text()
    assert response.status == 422
    assert "Finding(" not in page and "severity=" not in page
    assert "拼音" in page and "文字方向控制符" in page  # Chinese by default
    findings = page[page.index('<ul class="findings"') :].split("</ul>")[0]
    assert "\u202e" not in findings and "U+202E" in findings  # shown, never applied


async def test_a_resource_featured_within_the_cooldown_is_refused_unless_forced(
    rig: WebRig,
) -> None:
    config = rig.services.drafting.config  # the rig's columns have no cooldown: give one
    columns = [replace(c, cooldown_days=30) if c.name == COLUMN else c for c in config.columns]
    rig.services.drafting.config = replace(config, columns=type(config.columns)(columns))
    (resource,) = await _add_resources(rig, ["学习强国"], "dup")
    status, first = await _draft(rig, resource)
    assert status == 201
    status, again = await _draft(rig, resource)  # e.g. a script retrying after a timeout
    assert status == 409, again
    assert resource in again["error"] and "cooldown" in again["error"] and "force" in again["error"]
    today = first["scheduled_for"][:10]
    assert today in again["error"]  # the date it was last featured
    response = await rig.client.post(
        "/api/posts",
        json={"column": COLUMN, "resources": [resource], "at": "now", "force": True},
        headers=rig.bearer("editor"),
    )
    assert response.status == 201
    # the admin's checkbox: refused without it, drafted with it
    token = await rig.login("editor")
    form = {"csrf_token": token, "column": COLUMN, "resources": resource, "at": "now"}
    refused = await rig.client.post("/queue/draft", data=form, allow_redirects=False)
    assert refused.status == 409
    assert "冷却期" in await refused.text()
    forced = await rig.client.post(
        "/queue/draft", data={**form, "force": "1"}, allow_redirects=False
    )
    assert forced.status == 303


async def test_the_preview_shows_title_author_and_our_own_cover_at_phone_width(
    rig: WebRig,
) -> None:
    (resource,) = await _add_resources(rig, ["青年大学习第十二期"], "pv")
    status, post = await _draft(rig, resource)
    assert status == 201
    await rig.login("editor")
    response = await rig.client.get(f"/posts/{post['id']}/preview")
    page = await response.text()
    assert response.status == 200
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert '<h1 style="' in page and ">资源0</h1>" in page  # the title
    assert "团区委" in page and "main" in page  # the author and the account
    assert 'src="data:image/jpeg;base64,' in page  # the cover, from our own media
    assert "mmbiz" not in page.split("<h1")[0]  # never the platform's copy
    assert "max-width:375px" in page and "PingFang SC" in page
