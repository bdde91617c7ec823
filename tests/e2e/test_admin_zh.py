"""Every page of the Chinese admin, walked in headless Chromium after a full tour (import,
draft from the catalogue, approve, publish, reject), shows no English word outside data, URLs
and code. Data is what people typed or the platform returned (titles, ids, file names): the
templates mark it ``translate="no"`` (the HTML attribute for text not to be translated) or
put it in ``<code>``; the language switch's "English" is marked ``lang="en"``.

A failure lists each English word with the page it is on: add the string to a module of
``bot/i18n/zh/`` (or mark real data ``translate="no"``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.web.routes import PAGES
from tests.e2e.conftest import Project, ServeProcess, Simulator
from tests.e2e.test_admin_browser import CATALOGUE, CHROMIUM, CHROMIUM_ARGS, PASSWORD, _config

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
    ),
]

USER = "团委书记"  # a committee's user name; names are data either way
# Names and formats a Chinese page writes in Latin letters, as Chinese software does.
ALLOWED = {"CSV", "Excel", "xlsx", "csv", "API", "JSON", "Markdown", "openid", "OpenID", "AppID"}
# Pages that are not the admin's words: downloads, the previews (the post itself, as WeChat shows it),
# machine endpoints.
NOT_PAGES = {
    "/healthz",
    "/metrics",
    "/reports.csv",
    "/callback/{account}",
    r"/posts/{id:\d+}/preview",
    r"/posts/{id:\d+}/preview/list",
    "/catalogue/example.{format:xlsx|csv}",
}
_DATA = re.compile(
    r"https?://\S+"  # URLs
    r"|\S+@\S+"  # e-mail addresses
    r"|\S*[/\\]\S*"  # paths, time zones (Asia/Shanghai), cron fields (*/5)
    r"|\S+\.[A-Za-z0-9]{2,5}\b"  # file names
    r"|[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*"  # numbers, hashes, ids with digits
    r"|\b[a-z0-9]+(?:[-_][a-z0-9]+)+\b"  # identifiers (exhibit-gutian-site, wx_demo)
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")

_VISIBLE_TEXT = """() => {
    const skip = 'script, style, code, iframe, [translate="no"], [lang="en"]';
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || parent.closest(skip)) continue;
        const text = node.textContent.trim();
        if (text) out.push(text);
    }
    for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], [alt]')) {
        if (el.closest(skip)) continue;
        for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
            const value = el.getAttribute(name);
            if (value) out.push(value);
        }
    }
    out.push(document.title);
    return out;
}"""


# The innermost element reaching furthest right: what makes a page too wide.
_WIDEST = """() => {
    let found = null, right = 0;
    for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect().right;
        if (r > right + 0.5 || (r >= right - 0.5 && found && found.contains(el))) {
            right = r; found = el;
        }
    }
    return found ? `${found.tagName.toLowerCase()}.${found.className} (${Math.round(right)} px)` : '';
}"""


def english_words(texts: list[str]) -> set[str]:
    words: set[str] = set()
    for text in texts:
        for word in _WORD.findall(_DATA.sub(" ", text)):
            if word not in ALLOWED:
                words.add(word)
    return words


def test_the_word_finder_sees_english_but_not_data() -> None:
    found = english_words(
        [
            "状态 published，详情 stage submitted",
            "https://example.org/a?b=c 古田.xlsx Asia/Shanghai 3f2a9c0d wx-demo-appid-1 下载 CSV",
        ]
    )
    assert found == {"published", "stage", "submitted"}


@pytest.fixture
def served_zh(tmp_path: Path, simulator: Simulator) -> Iterator[tuple[ServeProcess, Path]]:
    project = Project(tmp_path / "project", simulator.url)
    schedules = project.root / "schedules"
    schedules.mkdir()
    (schedules / "zh.toml").write_text(
        '[[schedule]]\nname = "morning"\ncolumn = "学习平台"\ncron = "0 8 * * mon-fri"\n'
        'when_queue_empty = "draft"\n',
        encoding="utf-8",
    )
    # One person drafts and approves here, as in a small committee (and the demo).
    text = _config(project, schedules).replace("[web]\n", "[web]\nallow_self_approval = true\n")
    project.config.write_text(text, encoding="utf-8")
    assert project.run("db", "upgrade").code == 0
    env = {**project.env, "BOT_NEW_PASSWORD": PASSWORD}
    assert project.run("user", "add", USER, "--role", "admin", env=env).code == 0
    catalogue = tmp_path / "资源目录.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    serve = project.serve()
    try:
        yield serve, catalogue
    finally:
        serve.stop()


@pytest.fixture
def zh_page(served_zh: tuple[ServeProcess, Path]) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale="zh-CN", reduced_motion="reduce")
            yield context.new_page()
        finally:
            browser.close()


def _tour(page: Any, base: str, catalogue: Path) -> int:
    """Log in, import, draft from the catalogue page, approve, publish, draft and reject
    another: every page then has something in it. Returns the published post's id."""
    page.goto(f"{base}/login")
    page.fill("input[name=name]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/catalogue")
    page.set_input_files("form[action='/catalogue/import'] input[type=file]", str(catalogue))
    # While a file uploads and imports the page says so (the upload is held back here).
    shown = page.evaluate(
        """() => {
            const form = document.querySelector("form[action='/catalogue/import']");
            form.addEventListener('submit', (event) => event.preventDefault(), {once: true});
            form.requestSubmit();
            return [!document.querySelector('p.importing').hidden,
                    form.querySelector('button').disabled];
        }"""
    )
    assert shown == [True, True]
    page.goto(f"{base}/catalogue")
    page.set_input_files("form[action='/catalogue/import'] input[type=file]", str(catalogue))
    page.click("form[action='/catalogue/import'] button[type=submit]")
    page.wait_for_selector("li.ok")
    page.fill("form[action='/catalogue/draft'] input[name=at]", "now")
    page.click("button[name=one][value='exhibit-e2e-1']")
    page.wait_for_url(f"{base}/posts/*")
    published = int(page.url.rsplit("/", 1)[1])
    page.click("form[action$='/approve'] button")
    page.wait_for_url(f"{base}/posts/{published}")
    deadline = time.monotonic() + 60
    while "已发布" not in page.inner_text("main"):
        assert time.monotonic() < deadline, "the approved post was not published"
        time.sleep(1)
        page.reload()
    page.goto(f"{base}/catalogue")
    page.check("input[name=pick][value='course-e2e-1']")
    page.click("form[action='/catalogue/draft'] button[type=submit]:not([name])")
    page.wait_for_url(f"{base}/posts/*")
    page.click("form[action$='/reject'] button")
    page.wait_for_url(f"{base}/posts/*")
    return published


def _pages(post_id: int) -> list[str]:
    found = []
    for route in PAGES:
        if route.method != "GET" or route.path in NOT_PAGES:
            continue
        found.append(re.sub(r"\{id[^}]*\}", str(post_id), route.path))
    # The rejected post (the next id) and pages that answer with an error.
    extra = [f"/posts/{post_id + 1}", "/reports?period=2020", f"/posts/{post_id + 1000}"]
    return [*found, *extra, "/no-such-page"]


def test_every_zh_page_is_chinese(served_zh: tuple[ServeProcess, Path], zh_page: Any) -> None:
    serve, catalogue = served_zh
    base = serve.url
    post_id = _tour(zh_page, base, catalogue)
    untranslated: dict[str, set[str]] = {}
    pages = _pages(post_id)
    assert "/" in pages and "/catalogue" in pages and f"/posts/{post_id}" in pages
    for path in pages:
        zh_page.goto(f"{base}{path}")
        words = english_words(zh_page.evaluate(_VISIBLE_TEXT))
        if words:
            untranslated[path] = words
    zh_page.goto(f"{base}/")
    zh_page.click("form[action='/logout'] button")
    zh_page.wait_for_url(f"{base}/login")
    words = english_words(zh_page.evaluate(_VISIBLE_TEXT))
    if words:
        untranslated["/login"] = words
    report = "\n".join(f"{path}: {' '.join(sorted(w))}" for path, w in untranslated.items())
    assert not untranslated, "English on zh pages:\n" + report
    # At phone width no page scrolls sideways (a wide table scrolls inside its own box).
    zh_page.goto(f"{base}/login")
    zh_page.fill("input[name=name]", USER)
    zh_page.fill("input[name=password]", PASSWORD)
    zh_page.click("form[action='/login'] button[type=submit]")
    zh_page.set_viewport_size({"width": 375, "height": 812})
    too_wide = {}
    for path in pages:
        zh_page.goto(f"{base}{path}")
        width = zh_page.evaluate("() => document.documentElement.scrollWidth")
        if width > 375:
            too_wide[path] = (width, zh_page.evaluate(_WIDEST))
    assert not too_wide, f"pages wider than 375 px: {too_wide}"
