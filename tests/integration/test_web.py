"""The admin and the JSON API over real loopback HTTP, on a real SQLite database and the real
services (the simulator stands in for the platform)."""

from __future__ import annotations

import json
import re
from zoneinfo import ZoneInfo

import aiohttp

from bot.domain.models import PostStatus
from tests.integration.web_rig import (
    CATALOGUE_CSV,
    WebRig,
    _named,
    csrf_from,
    rig_fixture,  # noqa: F401 (a fixture)
    safe_rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


async def _draft_api(rig: WebRig, column: str, *resources: str, role: str = "editor") -> dict:
    response = await rig.client.post(
        "/api/posts",
        json={"column": column, "resources": list(resources), "at": "now"},
        headers=rig.bearer(role),
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def test_healthz_answers_without_login(rig: WebRig) -> None:
    response = await rig.client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_login_page_is_chinese_by_default_and_english_on_request(rig: WebRig) -> None:
    page = await (await rig.client.get("/login")).text()
    assert "登录" in page and 'lang="zh-CN"' in page
    response = await rig.client.get("/login?lang=en")
    page = await response.text()
    assert "Log in" in page and "登录</h1>" not in page
    # The choice is remembered in a cookie for the next page.
    page = await (await rig.client.get("/login")).text()
    assert "<h1>Log in</h1>" in page


async def test_wrong_password_is_refused_and_right_one_logs_in(rig: WebRig) -> None:
    token = await rig.csrf()
    response = await rig.client.post(
        "/login", data={"name": "editor", "password": "wrong password", "csrf_token": token}
    )
    assert response.status == 401
    assert "用户名或密码错误" in await response.text()
    await rig.login("editor")
    page = await (await rig.client.get("/")).text()
    assert "editor" in page and "概览" in page


async def test_login_redirects_to_the_page_asked_for_but_never_off_site(rig: WebRig) -> None:
    response = await rig.client.get("/queue?status=queued", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=")
    for target, expected in (
        ("/queue?status=queued", "/queue?status=queued"),
        ("//evil.example/", "/"),
    ):
        await rig.logout()
        token = await rig.csrf()
        response = await rig.client.post(
            "/login",
            data={
                "name": "editor",
                "password": "correct horse battery",
                "csrf_token": token,
                "next": target,
            },
            allow_redirects=False,
        )
        assert response.headers["Location"] == expected


async def test_catalogue_upload_imports_and_names_the_bad_line(rig: WebRig) -> None:
    token = await rig.login("editor")
    response = await rig.client.post(
        "/catalogue/import",
        data={"csrf_token": token, "file": _named(CATALOGUE_CSV.encode(), "资源.csv")},
    )
    page = await response.text()
    assert response.status == 200, page
    assert "新增 3 条" in page
    bad = CATALOGUE_CSV + "broken-004,not-a-kind,标题,,,\n"
    response = await rig.client.post(
        "/catalogue/import",
        data={"csrf_token": token, "file": _named(bad.encode(), "bad.csv")},
    )
    page = await response.text()
    assert response.status == 422
    assert "bad.csv:5" in page and "bot-import-" not in page
    listing = await (await rig.client.get("/catalogue?q=展馆二号")).text()
    assert "exhibit-002" in listing and "course-001" not in listing


async def test_draft_edit_and_preview_a_post_from_the_pages(rig: WebRig) -> None:
    await rig.import_catalogue()
    token = await rig.login("editor")
    response = await rig.client.post(
        "/queue/draft",
        data={"csrf_token": token, "column": "快讯", "resources": "course-001", "at": "now"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    post_url = response.headers["Location"]
    post_id = int(post_url.rsplit("/", 1)[1])
    page = await (await rig.client.get(post_url)).text()
    assert "网上团课第一讲" in page and 'sandbox=""' in page

    preview = await rig.client.get(f"{post_url}/preview")
    assert preview.status == 200
    assert preview.headers["Content-Security-Policy"].startswith("sandbox")
    assert "网上团课第一讲" in await preview.text()

    response = await rig.client.post(
        f"{post_url}/edit",
        data={
            "csrf_token": token,
            "title": "改过的标题",
            "digest": "新的摘要",
            "markdown": "# 新正文\n\n这是**改过**的内容。",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    detail = await (
        await rig.client.get(f"/api/posts/{post_id}", headers=rig.bearer("editor"))
    ).json()
    assert detail["title"] == "改过的标题"
    assert "<strong" in detail["content_html"] and "改过" in detail["content_html"]

    too_long = "标题" * 20  # 40 characters: the platform allows 32
    response = await rig.client.post(
        f"{post_url}/edit",
        data={"csrf_token": token, "title": too_long, "digest": "", "markdown": "正文"},
    )
    page = await response.text()
    assert response.status == 422
    assert too_long in page  # what was typed is kept beside the findings
    detail = await (
        await rig.client.get(f"/api/posts/{post_id}", headers=rig.bearer("editor"))
    ).json()
    assert detail["title"] == "改过的标题"


async def test_review_publish_log_and_report(rig: WebRig) -> None:
    await rig.import_catalogue()
    post = await _draft_api(rig, "学习平台", "exhibit-001")
    assert post["status"] == "review"

    editor_token = await rig.login("editor")
    response = await rig.client.post(
        f"/posts/{post['id']}/approve", data={"csrf_token": editor_token, "comment": "ok"}
    )
    assert response.status == 403

    await rig.logout()
    token = await rig.login("reviewer")
    response = await rig.client.post(
        f"/posts/{post['id']}/approve",
        data={"csrf_token": token, "comment": "可以发布", "version": post["version"]},
        allow_redirects=False,
    )
    assert response.status == 303
    done = await rig.services.worker.run_due(max_wait=20)
    assert [p.status for p in done] == [PostStatus.PUBLISHED]

    page = await (await rig.client.get("/log?status=published")).text()
    assert "freepublish/submit" in page
    assert re.search(r'href="https?://[^"]+"[^>]*class="article"', page)

    # The report counts by the Beijing calendar day, which is not the UTC one after 16:00 UTC.
    published = done[0].published_at
    today = published.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat() if published else ""
    report_page = await (await rig.client.get(f"/reports?from=2020-01-01&to={today}")).text()
    assert "学习平台" in report_page and "<svg" in report_page  # the no-script fallback
    found = re.search(
        r'<script type="application/json" id="chart-data">(.*?)</script>', report_page
    )
    assert found, "no chart data in the reports page"
    series = json.loads(found.group(1))
    assert [(s["column"], sum(s["counts"])) for s in series["series"]] == [("学习平台", 1)]
    assert len(series["series"][0]["counts"]) == len(series["labels"])
    assert series["y_title"] == "推文篇数"  # the chart counts articles
    # No inline script: every script is a file from /static or a JSON data block.
    for tag in re.findall(r"<script\b[^>]*>", report_page):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    for path in ("/static/vendor/chart.umd.min.js", "/static/reports-chart.js"):
        script = await rig.client.get(path)
        assert script.status == 200 and "javascript" in script.headers["Content-Type"], path
        assert "script-src 'self'" in script.headers["Content-Security-Policy"]
    csv = await rig.client.get(f"/reports.csv?from=2020-01-01&to={today}")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    text = (await csv.read()).decode("utf-8-sig")
    # The headers follow the admin's language: Chinese by default, English on request.
    assert text.splitlines()[0].startswith("栏目,公众号,推送次数,推文篇数,平台,展馆")
    assert any(line.startswith("学习平台,main,1,1") for line in text.splitlines())
    english = await rig.client.get(f"/reports.csv?from=2020-01-01&to={today}&lang=en")
    text = (await english.read()).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("column,account,posts_published,articles_published")


async def test_api_actions_and_error_shapes(rig: WebRig) -> None:
    await rig.import_catalogue()
    post = await _draft_api(rig, "学习平台", "exhibit-002")
    headers = rig.bearer("reviewer")
    response = await rig.client.post(
        f"/api/posts/{post['id']}/reject", json={"comment": "再改改"}, headers=headers
    )
    body = await response.json()
    assert response.status == 200 and body["status"] == "draft"
    assert body["review_comment"] == "再改改"

    response = await rig.client.post(
        f"/api/posts/{post['id']}/resolve", json={"published": True}, headers=headers
    )
    assert response.status == 409 and "does not need attention" in (await response.json())["error"]

    response = await rig.client.post(f"/api/posts/{post['id']}/retry", headers=headers)
    assert response.status == 409
    assert "only a failed post" in (await response.json())["error"]

    response = await rig.client.get("/api/posts/999999", headers=headers)
    assert response.status == 404 and "999999" in (await response.json())["error"]

    response = await rig.client.post(
        "/api/posts", json={"column": "no such column"}, headers=headers
    )
    assert response.status == 400 and "no such column" in (await response.json())["error"]

    response = await rig.client.post(
        f"/api/posts/{post['id']}/reschedule",
        json={"at": "2030-01-02T08:00", "priority": 5},
        headers=headers,
    )
    body = await response.json()
    assert body["scheduled_for"] == "2030-01-02T08:00:00+08:00" and body["priority"] == 5

    response = await rig.client.post(f"/api/posts/{post['id']}/cancel", headers=headers)
    assert (await response.json())["status"] == "cancelled"
    listing = await (await rig.client.get("/api/posts?status=cancelled", headers=headers)).json()
    assert [p["id"] for p in listing] == [post["id"]]

    log = await (await rig.client.get(f"/api/log?post={post['id']}", headers=headers)).json()
    assert [e["step"] for e in log][-1] == "cancel"
    me = await (await rig.client.get("/api/me", headers=headers)).json()
    assert me == {"name": "reviewer", "role": "reviewer", "via": "token"}


async def test_schedules_pause_and_resume(rig: WebRig) -> None:
    listing = await (await rig.client.get("/api/schedules", headers=rig.bearer("editor"))).json()
    assert [s["schedule"] for s in listing] == ["morning"] and listing[0]["paused"] is False
    response = await rig.client.post("/api/schedules/morning/pause", headers=rig.bearer("editor"))
    assert response.status == 403
    response = await rig.client.post("/api/schedules/morning/pause", headers=rig.bearer("admin"))
    assert response.status == 200
    listing = await (await rig.client.get("/api/schedules", headers=rig.bearer("editor"))).json()
    assert listing[0]["paused"] is True
    response = await rig.client.post("/api/schedules/nope/pause", headers=rig.bearer("admin"))
    assert response.status == 404

    token = await rig.login("admin")
    response = await rig.client.post(
        "/schedules/morning/resume", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    page = await (await rig.client.get("/schedules")).text()
    assert "morning" in page and "运行中" in page


async def test_admin_manages_users_and_tokens_shown_once(rig: WebRig) -> None:
    token = await rig.login("admin")
    response = await rig.client.post(
        "/users",
        data={
            "csrf_token": token,
            "name": "newbie",
            "role": "editor",
            "password": "long enough pw",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    page = await (await rig.client.get("/users")).text()
    user_id = re.search(r'action="/users/(\d+)/token"', page.split("newbie", 1)[1])
    assert user_id
    page = await (
        await rig.client.post(f"/users/{user_id.group(1)}/token", data={"csrf_token": token})
    ).text()
    new_token = re.search(r'id="new-token">([^<]+)<', page)
    assert new_token
    me = await rig.client.get("/api/me", headers={"Authorization": f"Bearer {new_token.group(1)}"})
    assert (await me.json())["name"] == "newbie"
    page = await (await rig.client.get("/users")).text()
    assert new_token.group(1) not in page


async def test_dashboard_shows_account_health_and_metrics_count_posts(rig: WebRig) -> None:
    await rig.import_catalogue()
    await _draft_api(rig, "快讯", "course-001")
    await rig.services.worker.run_due(max_wait=20)
    await rig.login("editor")
    page = await (await rig.client.get("/")).text()
    assert "main" in page and "freepublish/submit" in page and "访问令牌" in page
    health = await (await rig.client.get("/api/accounts", headers=rig.bearer("editor"))).json()
    submit = next(q for q in health[0]["quota"] if q["endpoint"] == "freepublish/submit")
    assert health[0]["token_present"] is True
    assert submit["used"] == 1 and submit["left"] == submit["limit"] - 1

    metrics = await rig.client.get("/metrics", headers=rig.bearer("editor"))
    text = await metrics.text()
    assert metrics.status == 200
    assert 'bot_posts{status="published"} 1' in text
    assert 'bot_quota_left{account="main",endpoint="freepublish/submit"}' in text
    assert re.search(
        r'bot_api_calls_total\{account="main",endpoint="freepublish/submit",errcode="0"\} 1', text
    )


async def test_catalogue_text_is_escaped_in_pages(rig: WebRig) -> None:
    evil = "id,kind,title,summary\nx-1,article,<script>alert(1)</script>,<b>bold</b>\n"
    response = await rig.client.post(
        "/api/catalogue/import",
        data={"file": _named(evil.encode(), "evil.csv")},
        headers=rig.bearer("editor"),
    )
    # The importer keeps markup as text; the pages must escape it.
    assert response.status == 200, await response.text()
    await rig.login("editor")
    page = await (await rig.client.get("/catalogue")).text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert csrf_from(page)


async def _sim_previews(rig: WebRig) -> list[dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{rig.sim.url}/_sim/state") as response,
    ):
        assert response.status == 200
        return list((await response.json())["previews"])


async def test_api_preview_sends_one_to_the_reviewers_wechat(rig: WebRig) -> None:
    await rig.import_catalogue()
    post = await _draft_api(rig, "学习平台", "exhibit-001")
    url = f"/api/posts/{post['id']}/preview"
    openid = "oREVIEWER000000000000000001"
    before = await _sim_previews(rig)

    response = await rig.client.post(url, json={"openid": openid}, headers=rig.bearer("editor"))
    assert response.status == 403
    response = await rig.client.post(url, headers=rig.bearer("reviewer"))
    error = (await response.json())["error"]
    assert response.status == 400 and "preview_openid" in error and "\n" not in error
    response = await rig.client.post(url, json={"openid": "o<b>"}, headers=rig.bearer("reviewer"))
    assert response.status == 400 and "openid" in (await response.json())["error"]
    assert await _sim_previews(rig) == before  # nothing refused reached the platform

    response = await rig.client.post(url, json={"openid": openid}, headers=rig.bearer("reviewer"))
    body = await response.json()
    assert response.status == 200, body
    after = await _sim_previews(rig)
    assert len(after) == len(before) + 1
    assert after[-1]["to"] == openid and after[-1]["msg_id"] == int(body["msg_id"])
    assert body["id"] == post["id"]
    log = await (
        await rig.client.get(f"/api/log?post={post['id']}", headers=rig.bearer("editor"))
    ).json()
    assert log[-1]["step"] == "preview" and "reviewer" in log[-1]["detail"]


async def test_preview_form_on_the_post_page_is_a_reviewers(rig: WebRig) -> None:
    await rig.import_catalogue()
    post = await _draft_api(rig, "快讯", "course-001")
    editor_token = await rig.login("editor")
    page = await (await rig.client.get(f"/posts/{post['id']}")).text()
    assert f'action="/posts/{post["id"]}/preview"' not in page
    response = await rig.client.post(
        f"/posts/{post['id']}/preview", data={"csrf_token": editor_token, "openid": "oEDITOR"}
    )
    assert response.status == 403

    await rig.logout()
    token = await rig.login("reviewer")
    page = await (await rig.client.get(f"/posts/{post['id']}")).text()
    assert f'action="/posts/{post["id"]}/preview"' in page and "发送预览到微信" in page
    response = await rig.client.post(
        f"/posts/{post['id']}/preview", data={"openid": "oREVIEWER2"}, allow_redirects=False
    )
    assert response.status == 403  # no CSRF token
    response = await rig.client.post(
        f"/posts/{post['id']}/preview",
        data={"csrf_token": token, "openid": "oREVIEWER2"},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/posts/{post['id']}"
    page = await (await rig.client.get(response.headers["Location"])).text()
    assert "预览已发送到微信。" in page
    assert [p["to"] for p in await _sim_previews(rig)][-1] == "oREVIEWER2"
