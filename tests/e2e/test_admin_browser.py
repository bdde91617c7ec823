"""The admin in headless Chromium (Debian's, never a downloaded browser) against ``bot serve``
and ``bot simulator`` as subprocesses: log in, import a catalogue file, draft and preview a
post, approve it as a reviewer, see it published in the log, download the report CSV.
Screenshots go to tests/e2e/artifacts/ (ignored by git)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import APPID, SECRET_ENV, Project, ServeProcess, Simulator

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser test password"
CATALOGUE = (
    "id,kind,title,summary,url,tags\n"
    "exhibit-e2e-1,exhibit,浏览器测试展馆,一座用于端到端测试的线上展馆。,https://example.org/e2e,展馆\n"
    "course-e2e-1,course,浏览器测试课程,一门用于端到端测试的课程。,https://example.org/c,课程\n"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
    ),
]


def _config(project: Project, schedules: Path) -> str:
    return f"""[database]
url = "{project.database_url}"

[[accounts]]
name = "main"
appid = "{APPID}"
secret_env = "{SECRET_ENV}"
api_base = "{project.api_base}"

[[columns]]
name = "学习平台"
account = "main"
author = "团区委"
require_review = true
cooldown_days = 0

[web]
session_key = "an e2e session key"

[bot]
schedules_dir = "{schedules}"

[publisher]
tick_seconds = 0.5
poll_first_seconds = 0.5
poll_max_seconds = 2
"""


@pytest.fixture
def served(tmp_path: Path, simulator: Simulator) -> Iterator[tuple[ServeProcess, Path]]:
    project = Project(tmp_path / "project", simulator.url)
    schedules = project.root / "schedules"
    schedules.mkdir()
    project.config.write_text(_config(project, schedules), encoding="utf-8")
    assert project.run("db", "upgrade").code == 0
    for role in ("editor", "reviewer"):
        env = {**project.env, "BOT_NEW_PASSWORD": PASSWORD}
        result = project.run("user", "add", role, "--role", role, env=env)
        assert result.code == 0, result.stderr
    catalogue = tmp_path / "资源目录.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    serve = project.serve()
    try:
        yield serve, catalogue
    finally:
        serve.stop()


@pytest.fixture
def page(served: tuple[ServeProcess, Path]) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            # Reduced motion: the chart draws without animation, so its pixels are final at once.
            context = browser.new_context(
                accept_downloads=True, locale="zh-CN", reduced_motion="reduce"
            )
            new_page = context.new_page()
            errors: list[str] = []
            new_page.on("pageerror", lambda exc: errors.append(str(exc)))
            new_page.on("console", lambda msg: _console_error(msg, errors))
            yield new_page
            # A script error or a CSP refusal (logged to the console) fails the test.
            assert not errors, errors
        finally:
            browser.close()


def _console_error(message: Any, errors: list[str]) -> None:
    # The browser asks for /favicon.ico on its own; the admin has none, and that is fine.
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        errors.append(f"{message.text} at {message.location.get('url')}")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _log_in(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/")


def _assert_chart_drawn(page: Any) -> None:
    """The vendored Chart.js drew the weekly chart into the canvas (and the SVG fallback made
    way for it), with no script or CSP error on the way."""
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('weekly-chart'))"
    )
    drawn = page.evaluate(
        """() => {
            const canvas = document.getElementById('weekly-chart');
            const chart = Chart.getChart(canvas);
            const { width, height } = canvas;
            const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
            return {
                type: chart.config.type,
                columns: chart.data.datasets.map(d => d.label),
                total: chart.data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0),
                width, height, painted,
                boxShown: !canvas.parentElement.hidden,
                fallbackHidden: document.querySelector('.chart-fallback').hidden,
            };
        }"""
    )
    assert drawn["type"] == "bar" and drawn["columns"] == ["学习平台"] and drawn["total"] == 1
    assert drawn["width"] > 300 and drawn["height"] > 100 and drawn["painted"] > 1000, drawn
    assert drawn["boxShown"] and drawn["fallbackHidden"], drawn


# Above its own deadlines (45 s to start, 60 s for the publish).
@pytest.mark.timeout(300)
def test_editor_drafts_reviewer_approves_and_the_post_is_published(
    served: tuple[ServeProcess, Path], page: Any
) -> None:
    serve, catalogue = served
    base = serve.url

    _log_in(page, base, "editor")
    assert "概览" in page.content()
    _shot(page, "01-dashboard")

    page.goto(f"{base}/catalogue")
    page.set_input_files("input[type=file]", str(catalogue))
    page.click("form[action='/catalogue/import'] button[type=submit]")
    page.wait_for_selector("li.ok")
    assert "新增 2 条" in page.inner_text("li.ok")
    assert "exhibit-e2e-1" in page.content()
    _shot(page, "02-catalogue")

    page.goto(f"{base}/queue")
    page.select_option("select[name=column]", "学习平台")
    page.fill("input[name=resources]", "exhibit-e2e-1")
    page.fill("input[name=at]", "now")
    page.click("form[action='/queue/draft'] button[type=submit]")
    page.wait_for_url(f"{base}/posts/*")
    post_url = page.url
    assert "待审核" in page.content()
    preview = page.frame_locator("iframe.phone")
    preview.locator("body").wait_for()
    assert "浏览器测试展馆" in preview.locator("body").inner_text()
    assert page.locator("iframe.phone").get_attribute("sandbox") == ""
    # The editor sees no approve button: that is a reviewer's.
    assert page.locator("form[action$='/approve']").count() == 0
    _shot(page, "03-post-preview")

    page.click("form[action='/logout'] button")
    page.wait_for_url(f"{base}/login")
    _log_in(page, base, "reviewer")
    page.goto(post_url)
    page.fill("form[action$='/approve'] input[name=comment]", "可以发布")
    page.click("form[action$='/approve'] button")
    page.wait_for_url(post_url)
    assert "可以发布" in page.content()

    deadline = time.monotonic() + 60
    while True:
        page.goto(f"{base}/log?status=published")
        if page.locator("a.article").count() > 0:
            break
        assert time.monotonic() < deadline, serve.output()[-3000:]
        time.sleep(1)
    assert "freepublish/submit" in page.content()
    _shot(page, "04-publish-log")

    # Reports count by the Beijing calendar day (ahead of UTC's after 16:00 UTC).
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    page.goto(f"{base}/reports?from=2020-01-01&to={today}")
    _assert_chart_drawn(page)
    _shot(page, "05-report")
    with page.expect_download() as info:
        page.click("a[href^='/reports.csv']")
    download = info.value
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["栏目", "公众号", "推送次数"]  # the zh admin: Chinese headers
    assert rows[1][:3] == ["学习平台", "main", "1"]
