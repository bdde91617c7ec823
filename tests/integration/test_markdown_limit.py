"""The Markdown size limit through every surface that renders an article's body: the JSON
API's edit, the admin's edit form and ``bot check``. Over ``MARKDOWN_CHARS`` the body is refused
before it is rendered or checked, saying its length and the limit in Chinese and English
(security review 3, S3: 100,000 ``[`` or backslashes held a worker for minutes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.checks.limits import MARKDOWN_CHARS
from bot.engine.checking import check_files
from bot.store import posts as post_store
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

OVER = MARKDOWN_CHARS + 1
MESSAGE_EN = f"the body's Markdown is {OVER} characters, over the limit of {MARKDOWN_CHARS}"
MESSAGE_ZH = f"正文 Markdown 有 {OVER} 个字符，超过上限 {MARKDOWN_CHARS}"


async def _draft(rig: WebRig) -> dict[str, Any]:
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts",
        json={"column": "学习平台", "resources": ["exhibit-001"]},
        headers=rig.bearer("editor"),
    )
    assert response.status == 201, await response.text()
    post: dict[str, Any] = await response.json()
    return post


async def _stored_markdown(rig: WebRig, post_id: int) -> str:
    async with rig.services.engine.connect() as conn:
        return (await post_store.get(conn, post_id)).articles[0].markdown


async def test_an_api_edit_over_the_limit_is_refused_naming_length_and_limit(rig: WebRig) -> None:
    post = await _draft(rig)
    before = await _stored_markdown(rig, post["id"])
    response = await rig.client.patch(
        f"/api/posts/{post['id']}", json={"markdown": "\\" * OVER}, headers=rig.bearer("editor")
    )
    body = await response.json()
    assert response.status == 422, body
    assert body["error"] == MESSAGE_EN
    (finding,) = body["findings"]
    assert finding["code"] == "markdown.too_long" and finding["field"] == "markdown"
    assert finding["message_en"] == MESSAGE_EN and finding["message_zh"] == MESSAGE_ZH
    assert await _stored_markdown(rig, post["id"]) == before


async def test_a_body_at_the_limit_is_rendered_and_refused_for_its_html_alone(
    rig: WebRig,
) -> None:
    # 50,000 "[" is the parser's worst case: the HTML is over the platform's limit, so the
    # body's other checks (which re-parse the Markdown) are not run.
    post = await _draft(rig)
    response = await rig.client.patch(
        f"/api/posts/{post['id']}",
        json={"markdown": "[" * MARKDOWN_CHARS},
        headers=rig.bearer("editor"),
    )
    body = await response.json()
    assert response.status == 422, body
    codes = {f["code"] for f in body["findings"]}
    assert "content.too_long" in codes and "markdown.too_long" not in codes
    assert not {c for c in codes if c.startswith(("markdown.", "link.", "escape."))}


async def test_the_admin_edit_form_shows_the_limit_in_chinese_and_keeps_the_text(
    rig: WebRig,
) -> None:
    post = await _draft(rig)
    token = await rig.login("editor")
    response = await rig.client.post(
        f"/posts/{post['id']}/edit",
        data={"csrf_token": token, "title": post["title"], "digest": "", "markdown": "[" * OVER},
    )
    page = await response.text()
    assert response.status == 422
    assert MESSAGE_ZH in page
    assert "[" * 1000 in page  # what was typed is kept in the form


def test_bot_check_names_the_limit_for_the_long_file_and_checks_the_others(
    tmp_path: Path,
) -> None:
    long, short = tmp_path / "long.md", tmp_path / "short.md"
    long.write_text("[" * OVER, encoding="utf-8")
    short.write_text("团(tuán)课\n", encoding="utf-8")
    found = check_files([long, short], None, None)
    on_long = [f for f in found if f.file == str(long)]
    assert [(f.finding.code, f.line) for f in on_long] == [("markdown.too_long", 1)]
    assert on_long[0].finding.message_zh == MESSAGE_ZH
    assert any(f.file == str(short) and f.finding.code == "annotation.pinyin" for f in found)
