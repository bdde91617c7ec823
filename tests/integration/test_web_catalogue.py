"""The catalogue page as a committee uses it: an Excel workbook with Chinese headers, the
example file to start from, errors in their language, drafting straight from the table."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.content.catalogue_example import EXAMPLE
from tests.integration.web_rig import (
    WebRig,
    _named,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _example(rig: WebRig) -> bytes:
    response = await rig.client.get("/catalogue/example.xlsx")
    assert response.status == 200
    assert response.headers["Content-Type"] == XLSX
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    return await response.read()


async def test_the_example_workbook_downloads_and_imports(rig: WebRig) -> None:
    token = await rig.login("editor")
    page = await (await rig.client.get("/catalogue")).text()
    assert 'href="/catalogue/example.xlsx"' in page and 'accept=".xlsx,' in page
    data = await _example(rig)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["编号", "类型", "标题", "简介", "链接", "封面", "标签"]
    assert sheet["B2"].value == "平台"
    response = await rig.client.post(
        "/catalogue/import",
        data={"csrf_token": token, "file": _named(data, "我们的目录.xlsx")},
    )
    page = await response.text()
    assert response.status == 200, page
    assert f"已导入：新增 {len(EXAMPLE)} 条，更新 0 条" in page
    listing = await (await rig.client.get("/catalogue?kind=exhibit")).text()
    assert "古田会议会址" in listing and "<td>展馆</td>" in listing
    csv = await rig.client.get("/catalogue/example.csv")
    assert (await csv.read()).startswith("\ufeff编号,类型".encode())


async def test_a_bad_workbook_is_explained_in_chinese_with_sheet_row_and_column(
    rig: WebRig,
) -> None:
    token = await rig.login("editor")
    book = load_workbook(io.BytesIO(await _example(rig)))
    book.worksheets[0]["B4"] = "星球"
    out = io.BytesIO()
    book.save(out)
    response = await rig.client.post(
        "/catalogue/import",
        data={"csrf_token": token, "file": _named(out.getvalue(), "目录.xlsx")},
    )
    page = await response.text()
    assert response.status == 422
    assert "目录.xlsx：工作表 &#39;资源目录&#39;，第 4 行，B 列：字段“类型”：未知类型" in page
    english = await rig.client.post(
        "/api/catalogue/import",
        data={"file": _named(out.getvalue(), "目录.xlsx")},
        headers=rig.bearer("editor"),
    )
    [outcome] = await english.json()
    assert outcome["error"].startswith("目录.xlsx: sheet '资源目录', row 4, column B: field 'kind'")
    listing = await (await rig.client.get("/catalogue")).text()
    assert "古田会议会址" not in listing  # all or nothing


async def test_drafting_from_the_catalogue_page_one_row_or_the_ticked_ones(rig: WebRig) -> None:
    await rig.import_catalogue()
    token = await rig.login("editor")
    page = await (await rig.client.get("/catalogue")).text()
    assert 'name="one" value="course-001"' in page and 'name="pick" value="exhibit-001"' in page
    response = await rig.client.post(
        "/catalogue/draft",
        data={"csrf_token": token, "column": "学习平台", "one": "course-001", "pick": "x"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    post = await (await rig.client.get(response.headers["Location"])).text()
    assert "网上团课第一讲" in post and "文章等待审核" in post
    several = aiohttp_form(
        [
            ("csrf_token", token),
            ("column", "快讯"),
            ("pick", "exhibit-001"),
            ("pick", "exhibit-002"),
        ]
    )
    response = await rig.client.post("/catalogue/draft", data=several, allow_redirects=False)
    assert response.status == 303, await response.text()
    post = await (await rig.client.get(response.headers["Location"])).text()
    assert "数字展馆一号" in post and "数字展馆二号" in post and "已起草并排队" in post
    response = await rig.client.post(
        "/catalogue/draft", data={"csrf_token": token, "column": "快讯"}
    )
    assert response.status == 400
    assert "请至少勾选一个资源" in await response.text()


def aiohttp_form(fields: list[tuple[str, str]]) -> object:
    import aiohttp

    form = aiohttp.FormData()
    for name, value in fields:
        form.add_field(name, value)
    return form


async def test_a_rejected_post_goes_back_through_review(rig: WebRig) -> None:
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts",
        json={"column": "学习平台", "resources": ["course-001"], "at": "now"},
        headers=rig.bearer("editor"),
    )
    post = await response.json()
    assert post["status"] == "review"
    reviewer = rig.bearer("reviewer")
    url = f"/api/posts/{post['id']}"
    rejected = await rig.client.post(f"{url}/reject", json={"comment": "改"}, headers=reviewer)
    draft = await rejected.json()
    assert draft["status"] == "draft"
    refused = await rig.client.post(
        f"{url}/approve", json={"version": draft["version"]}, headers=reviewer
    )
    assert refused.status == 409
    assert "submit a draft for review first" in (await refused.json())["error"]
    await rig.login("reviewer")
    page = await (await rig.client.get(f"/posts/{post['id']}")).text()
    assert f'action="/posts/{post["id"]}/approve"' not in page
    assert f'action="/posts/{post["id"]}/submit"' in page
    submitted = await rig.client.post(f"{url}/submit", json={}, headers=rig.bearer("editor"))
    resubmitted = await submitted.json()
    assert resubmitted["status"] == "review"
    version = {"version": resubmitted["version"]}  # approving names the version read
    approved = await rig.client.post(f"{url}/approve", json=version, headers=reviewer)
    assert (await approved.json()).get("status") == "queued", await approved.text()


async def test_healthz_says_degraded_while_an_account_is_parked(rig: WebRig) -> None:
    from datetime import timedelta

    from bot.store import accounts as account_store

    assert await (await rig.client.get("/healthz")).json() == {"status": "ok"}
    now = rig.services.clock()
    async with rig.services.engine.begin() as conn:
        await account_store.park(
            conn, "main", until=now + timedelta(hours=1), reason="45009 quota", now=now
        )
    response = await rig.client.get("/healthz")
    assert response.status == 200  # the service answers; its work is stuck
    body = await response.json()
    assert body["status"] == "degraded"
    assert any(p.startswith("account main parked until") for p in body["problems"])


async def test_the_reports_page_opens_on_this_year_with_its_csv_and_sentences(rig: WebRig) -> None:
    await rig.login("editor")
    page = await (await rig.client.get("/reports")).text()
    year = rig.services.clock().year  # the rig's clock is far from New Year's Eve
    assert f'value="{year}"' in page
    assert f'href="/reports.csv?period={year}"' in page
    assert "工作报告用语" in page and f"{year}年" in page
    plain = await rig.client.get("/reports.csv")  # no period: this year too, never an error
    assert plain.status == 200
    text = (await plain.read()).decode("utf-8-sig")
    assert text.startswith("栏目,公众号,推送次数")
