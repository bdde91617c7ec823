"""A push of three articles in the admin, in headless Chromium against ``bot serve``: the post
page lists the articles, the chat-list preview draws the headline card and two smaller rows
with their covers, and moving an article down reorders the push."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import APPID, SECRET_ENV, Project, ServeProcess, Simulator
from tests.e2e.test_admin_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, _console_error, _shot

CATALOGUE = (
    "id,kind,title,summary,url,tags\n"
    "platform-a,platform,第一个学习平台,平台甲的简介。,https://example.org/a,平台\n"
    "platform-b,platform,第二个学习平台,平台乙的简介。,https://example.org/b,平台\n"
    "platform-c,platform,第三个学习平台,平台丙的简介。,https://example.org/c,平台\n"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
    ),
]


@pytest.fixture
def served(tmp_path: Path, simulator: Simulator) -> Iterator[ServeProcess]:
    project = Project(tmp_path / "project", simulator.url)
    schedules = project.root / "schedules"
    schedules.mkdir()
    project.config.write_text(
        f"""[database]
url = "{project.database_url}"

[[accounts]]
name = "main"
appid = "{APPID}"
secret_env = "{SECRET_ENV}"
api_base = "{project.api_base}"

[[columns]]
name = "三篇一推"
account = "main"
author = "团区委"
articles_per_post = 3
cooldown_days = 0

[web]
session_key = "an e2e session key"

[bot]
schedules_dir = "{schedules}"
""",
        encoding="utf-8",
    )
    assert project.run("db", "upgrade").code == 0
    env = {**project.env, "BOT_NEW_PASSWORD": PASSWORD}
    assert project.run("user", "add", "editor", "--role", "editor", env=env).code == 0
    catalogue = project.root / "platforms.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    assert project.run("catalogue", "import", str(catalogue)).code == 0
    serve = project.serve()
    try:
        yield serve
    finally:
        serve.stop()


@pytest.fixture
def page(served: ServeProcess) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale="zh-CN", reduced_motion="reduce")
            new_page = context.new_page()
            errors: list[str] = []
            new_page.on("pageerror", lambda exc: errors.append(str(exc)))
            new_page.on("console", lambda msg: _console_error(msg, errors))
            yield new_page
            assert not errors, errors  # a script error or a CSP refusal fails the test
        finally:
            browser.close()


def test_a_push_of_three_articles_on_the_post_page(served: ServeProcess, page: Any) -> None:
    base = served.url
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "editor")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/queue")
    page.select_option("select[name=column]", "三篇一推")
    # Due in a month: a post due now is claimed by the running publisher, and a post being
    # published may no longer be reordered (409), which would race the clicks below.
    page.fill("input[name=at]", (datetime.now(UTC) + timedelta(days=30)).isoformat())
    page.click("form[action='/queue/draft'] button[type=submit]")
    page.wait_for_url(f"{base}/posts/*")
    rows = page.locator("table.articles tbody tr")
    assert rows.count() == 3
    titles = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)]
    assert sorted(titles) == ["第一个学习平台", "第三个学习平台", "第二个学习平台"]

    listing = page.frame_locator("iframe.phone-list")
    listing.locator("body").wait_for()
    text = listing.locator("body").inner_text()
    assert [text.index(t) for t in titles] == sorted(text.index(t) for t in titles)
    images = listing.locator("img")
    images.nth(2).wait_for()
    sizes = [
        images.nth(i).evaluate("img => [img.complete, img.naturalWidth, img.clientWidth]")
        for i in range(3)
    ]
    assert all(done and natural > 0 for done, natural, _ in sizes), sizes
    assert sizes[0][2] > 300 and sizes[1][2] == sizes[2][2] == 56  # the card, then rows
    _shot(page, "articles-01-post")

    page.click("table.articles tbody tr:first-child form button")  # the headline moves down
    page.wait_for_selector("table.articles")
    moved = [
        page.locator("table.articles tbody tr").nth(i).locator("td").nth(1).inner_text()
        for i in range(3)
    ]
    assert moved == [titles[1], titles[0], titles[2]]
    assert titles[1] in page.locator("h1").inner_text()  # the new headline titles the post
