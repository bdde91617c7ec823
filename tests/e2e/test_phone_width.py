"""What a phone shows, measured in Chromium at 375 px: table figures stay on one line (the
table scrolls instead), and the preview page is the phone's width with the title and cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.render import render_markdown
from tests.e2e.test_admin_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
    ),
]

TABLE = (
    "|序号|章节名|单词数|阅读耗时|生词数|每分钟单词|生词比例|备注|\n"
    "| :------:| :------: | :------: | :------:| :------: | :------: | :------: | --- |\n"
    "|0|Prologue|3837|40|134|96 |3.5%|https://example.com/a/very/long/path/that/does/not/break|\n"
    "|1|第一章 团员青年网上学习打卡记录与组织生活会|4120|45|101|91|2.5%|无|\n"
)


def test_table_figures_are_never_split_at_phone_width(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "phone.html"
    page_file.write_text(
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        f'<body style="margin:0;width:375px">{render_markdown(TABLE)}</body></html>',
        encoding="utf-8",
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 375, "height": 700})
            page.goto(page_file.as_uri())
            lines = page.evaluate(
                """() => [...document.querySelectorAll('td')].map(td => {
                    const range = document.createRange();
                    range.selectNodeContents(td);
                    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                    return [td.textContent.trim(), tops.size];
                })"""
            )
            body_width = page.evaluate("() => document.body.scrollWidth")
        finally:
            browser.close()
    by_text = dict(lines)
    for figure in ("3837", "134", "3.5%", "4120", "2.5%"):
        assert by_text[figure] == 1, (figure, by_text[figure])  # one line, never "38"/"37"
    assert body_width <= 375  # the table scrolls inside its box, not the page
