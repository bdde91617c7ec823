"""The reproductions of ``docs``' security review (/work/shared/research/security-review.md,
findings 1 to 15), each re-run against the real service over loopback HTTP, asserting the
safe behaviour. A test's name starts with the finding's number."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from bot.account.callback import (
    ArticleLink,
    MessageCrypto,
    PublishJobFinish,
    build_push,
    render_event,
)
from bot.domain.errors import ImportFileError
from bot.domain.models import PostStatus
from bot.engine import importing, offload
from bot.engine.importing import import_file
from bot.engine.offload import Offload
from bot.store import posts as post_store
from bot.store import users as user_store
from bot.store.tables import callback_events
from bot.store.users import Failures
from bot.web import users
from bot.web.app import build_web_app
from bot.web.sessions import COOKIE
from bot.web.views import reports as reports_view
from tests.integration.web_rig import (
    AES_KEY,
    APPID,
    CALLBACK_TOKEN,
    PASSWORD,
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    safe_rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


@pytest.fixture
def threads() -> Iterator[None]:
    """Offloaded work in threads of this process, so a test can patch what it runs."""
    previous = offload.use(Offload(mode="thread"))
    yield
    offload.use(previous)


# --- 1. a wide report period froze the service ------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "from=0100-01-01&to=2026-12-31",
        "from=0002-01-01&to=9998-12-31",
        "from=2000-01-01&to=2026-12-31",
        "from=0001-01-01&to=0001-01-02",
        "from=9999-12-30&to=9999-12-31",
        "period=9999",
        "period=0001",
        "period=9999-Q4",
        "period=0000-01",
    ],
)
async def test_1_a_report_period_beyond_the_limits_is_refused_saying_the_limit(
    rig: WebRig, query: str
) -> None:
    response = await rig.client.get(f"/api/report?{query}", headers=rig.bearer("editor"))
    assert response.status == 400, await response.text()
    error = (await response.json())["error"]
    assert "3653 days" in error or "2000" in error
    await rig.login("editor")
    page = await rig.client.get(f"/reports?{query}")
    assert page.status == 400
    assert "2000" in await page.text() or "3653" in await page.text()
    csv = await rig.client.get(f"/reports.csv?{query}")
    assert csv.status == 400


async def test_1_the_longest_allowed_period_is_answered(rig: WebRig) -> None:
    response = await rig.client.get(
        "/api/report?from=2017-01-01&to=2026-12-31", headers=rig.bearer("editor")
    )
    assert response.status == 200, await response.text()
    assert len((await response.json())["posts_per_week"]) == 0  # no posts: no columns


async def test_1_healthz_answers_while_a_big_report_is_being_built(
    rig: WebRig, threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release, left = threading.Event(), threading.Event(), threading.Event()
    original = reports_view.chart_series

    def slow_chart(weeks: list[dict[str, object]], *, y_title: str) -> dict[str, object]:
        entered.set()
        release.wait(5)  # on the loop this would hold every other request for 5 s
        left.set()
        return original(weeks, y_title=y_title)

    monkeypatch.setattr(reports_view, "chart_series", slow_chart)
    await rig.login("editor")
    page = asyncio.create_task(rig.client.get("/reports?from=2024-01-01&to=2024-12-31"))
    assert await asyncio.to_thread(entered.wait, 5)
    health = await rig.client.get("/healthz")
    assert health.status == 200
    assert not left.is_set(), "/healthz waited for the report"
    release.set()
    response = await page
    assert response.status == 200


async def test_1_one_persons_reports_are_made_one_at_a_time(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-check L2: reports had no per-person limit, so one person's reports of ten years at
    once could fill the worker pool everyone shares. A person's second report, meanwhile, is
    refused at once; someone else's is made."""
    from bot.engine import reporting

    original, release = reporting.build_report, asyncio.Event()

    async def held(*args: object, **kwargs: object) -> object:
        await release.wait()
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reporting, "build_report", held)
    query = "/api/report?from=2017-01-01&to=2026-12-31"
    first = asyncio.create_task(rig.client.get(query, headers=rig.bearer("editor")))
    await asyncio.sleep(0.2)
    again = await rig.client.get(query, headers=rig.bearer("editor"))
    assert again.status == 429
    assert (await again.json())["error"] == (
        "your previous report is still being made; try again when it is done"
    )
    monkeypatch.setattr(reporting, "build_report", original)
    other = await rig.client.get(query, headers=rig.bearer("admin"))
    assert other.status == 200, await other.text()
    release.set()
    assert (await first).status == 200


# --- 2. forged or replayed callback events were acted on --------------------------------------


def _push(
    publish_id: str,
    status: int,
    *,
    url: str = "",
    timestamp: int | None = None,
    nonce: str = "captured",
    crypto: MessageCrypto | None = None,
) -> tuple[dict[str, str], bytes]:
    event = PublishJobFinish(
        to_user="gh_test",
        from_user="oSystem",
        create_time=int(time.time()),
        publish_id=publish_id,
        publish_status=status,
        article_id="art-x" if status == 0 else "",
        articles=(ArticleLink(1, url),) if url else (),
    )
    push = build_push(
        render_event(event),
        token=CALLBACK_TOKEN,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        nonce=nonce,
        to_user="gh_test",
        crypto=crypto,
    )
    return push.query, push.body.encode("utf-8")


async def _callback_events(rig: WebRig) -> int:
    async with rig.services.engine.connect() as conn:
        return len((await conn.execute(sa.select(callback_events))).all())


async def test_2_a_push_signed_in_the_year_2000_is_refused(rig: WebRig) -> None:
    query, body = _push("1", 0, timestamp=946684800)
    response = await rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 403
    assert "5 minutes" in (await response.json())["error"]
    query, body = _push("1", 0, timestamp=int(time.time()) + 3600)  # from the future too
    assert (await rig.client.post("/callback/main", params=query, data=body)).status == 403
    assert await _callback_events(rig) == 0


async def test_2_a_safe_mode_push_signed_in_the_year_2000_is_refused(safe_rig: WebRig) -> None:
    crypto = MessageCrypto(CALLBACK_TOKEN, AES_KEY, APPID)
    query, body = _push("1", 0, timestamp=946684800, crypto=crypto)
    response = await safe_rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 403
    assert await _callback_events(safe_rig) == 0


async def test_2_a_seen_signature_with_another_body_is_refused_and_a_retry_acts_once(
    rig: WebRig,
) -> None:
    query, body = _push("555", 0, url="https://mp.weixin.qq.com/s/a", nonce="n1")
    first = await rig.client.post("/callback/main", params=query, data=body)
    assert first.status == 200 and await first.text() == "success"
    rig.services.worker.wake.clear()
    retry = await rig.client.post("/callback/main", params=query, data=body)
    assert retry.status == 200 and await retry.text() == "success"
    assert not rig.services.worker.wake.is_set()
    _, forged = _push("556", 4, nonce="n1")  # the captured query, a body of one's choosing
    response = await rig.client.post("/callback/main", params=query, data=forged)
    assert response.status == 403
    assert "another body" in (await response.json())["error"]
    assert await _callback_events(rig) == 1


async def _submitted_post(rig: WebRig) -> dict[str, Any]:
    """A post the publisher has submitted (it has a publish_id), not yet polled."""
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts",
        json={"column": "快讯", "resources": ["exhibit-001"], "at": "now"},
        headers=rig.bearer("editor"),
    )
    assert response.status == 201, await response.text()
    post_id = (await response.json())["id"]
    await rig.services.worker.run_once()
    async with rig.services.engine.connect() as conn:
        post = await post_store.get(conn, post_id)
    assert post.publish_id and post.status is PostStatus.PUBLISHING
    return {"id": post_id, "publish_id": post.publish_id}


async def _sim_published(rig: WebRig) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{rig.sim.url}/_sim/state") as response,
    ):
        return list((await response.json())["published"])


async def test_2_a_failure_event_is_checked_with_the_platform_and_never_leads_to_a_resend(
    rig: WebRig,
) -> None:
    post = await _submitted_post(rig)
    query, body = _push(post["publish_id"], 4, nonce="fail")  # "rejected by review"
    response = await rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 200
    await rig.services.worker.run_due(max_wait=20)
    async with rig.services.engine.connect() as conn:
        final = await post_store.get(conn, post["id"])
    assert final.status is PostStatus.PUBLISHED  # the platform published it
    retry = await rig.client.post(f"/api/posts/{post['id']}/retry", headers=rig.bearer("editor"))
    assert retry.status == 409
    assert len(await _sim_published(rig)) == 1


async def test_2_a_success_event_with_a_strangers_link_does_not_set_the_link(
    rig: WebRig,
) -> None:
    post = await _submitted_post(rig)
    query, body = _push(post["publish_id"], 0, url="https://evil.example/phish", nonce="evil")
    response = await rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 200
    await rig.services.worker.run_due(max_wait=20)
    async with rig.services.engine.connect() as conn:
        final = await post_store.get(conn, post["id"])
    assert final.status is PostStatus.PUBLISHED
    assert final.article_url.startswith("https://mp.weixin.qq.com/")


# --- 4. logins could not be ended; no password change -----------------------------------------


async def _login_cookie(rig: WebRig, role: str) -> tuple[str, str]:
    """Log the rig's client in; returns (the session cookie's value, its CSRF token)."""
    csrf = await rig.login(role)
    cookie = rig.client.session.cookie_jar.filter_cookies(rig.client.make_url("/"))[COOKIE]
    return cookie.value, csrf


async def _with_copy(rig: WebRig, cookie: str, method: str, path: str, **kw: Any) -> int:
    """Status of a request made with a copy of a cookie (not the client's own jar)."""
    rig.client.session.cookie_jar.clear()
    response = await rig.client.request(
        method, path, headers={"Cookie": f"{COOKIE}={cookie}"}, allow_redirects=False, **kw
    )
    return response.status


async def test_4_a_copied_cookie_stops_working_after_logout(rig: WebRig) -> None:
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts", json={"column": "学习平台"}, headers=rig.bearer("editor")
    )
    post_id = (await response.json())["id"]
    cookie, csrf = await _login_cookie(rig, "reviewer")
    assert await _with_copy(rig, cookie, "GET", "/api/me") == 200
    rig.client.session.cookie_jar.clear()
    logout = await rig.client.post(
        "/logout",
        data={"csrf_token": csrf},
        headers={"Cookie": f"{COOKIE}={cookie}"},
        allow_redirects=False,
    )
    assert logout.status == 303
    assert await _with_copy(rig, cookie, "GET", "/api/me") == 401
    assert await _reject_with_copy(rig, cookie, csrf, post_id) == 401
    async with rig.services.engine.connect() as conn:
        assert (await post_store.get(conn, post_id)).status is PostStatus.REVIEW


async def _reject_with_copy(rig: WebRig, cookie: str, csrf: str, post_id: int) -> int:
    rig.client.session.cookie_jar.clear()
    response = await rig.client.post(
        f"/api/posts/{post_id}/reject",
        json={"comment": "after logout"},
        headers={"Cookie": f"{COOKIE}={cookie}", "X-CSRF-Token": csrf},
    )
    return response.status


async def _user_id(rig: WebRig, name: str) -> int:
    async with rig.services.engine.connect() as conn:
        found = await user_store.by_name(conn, name)
    assert found is not None
    return found.id


@pytest.mark.parametrize("action", ["revoke", "role", "delete"])
async def test_4_an_admins_revoke_role_change_or_deletion_ends_the_users_logins(
    rig: WebRig, action: str
) -> None:
    cookie, _ = await _login_cookie(rig, "reviewer")
    uid = await _user_id(rig, "reviewer")
    data = {"role": "editor"} if action == "role" else {}
    response = await rig.client.post(
        f"/users/{uid}/{action}", data=data, headers=rig.bearer("admin"), allow_redirects=False
    )
    assert response.status == 303, await response.text()
    assert await _with_copy(rig, cookie, "GET", "/api/me") == 401


async def test_4_a_password_change_ends_the_other_logins_and_keeps_this_one(rig: WebRig) -> None:
    other, _ = await _login_cookie(rig, "editor")
    rig.client.session.cookie_jar.clear()
    csrf = await rig.login("editor")
    page = await rig.client.get("/account/password")
    assert page.status == 200
    wrong = await rig.client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current": "not it at all",
            "new": "n3w password",
            "confirm": "n3w password",
        },
    )
    assert wrong.status == 400
    changed = await rig.client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current": PASSWORD,
            "new": "n3w password",
            "confirm": "n3w password",
        },
        allow_redirects=False,
    )
    assert changed.status == 303
    assert (await rig.client.get("/api/me")).status == 200  # this browser stays logged in
    assert await _with_copy(rig, other, "GET", "/api/me") == 401
    rig.client.session.cookie_jar.clear()
    await rig.login("editor", password="n3w password")


async def test_4_bot_user_passwd_sets_the_password_and_ends_logins(rig: WebRig) -> None:
    cookie, _ = await _login_cookie(rig, "reviewer")
    ended = await users.set_password(rig.services.engine, "reviewer", "another password")
    assert ended == 1
    assert await _with_copy(rig, cookie, "GET", "/api/me") == 401
    rig.client.session.cookie_jar.clear()
    await rig.login("reviewer", password="another password")


# --- 5. anyone could lock any account out; the proxy's address was shared --------------------


def _behind_proxy(rig: WebRig) -> None:
    config = rig.services.config
    web = replace(config.web, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    rig.services.config = replace(config, web=web)


async def _login_from(rig: WebRig, name: str, password: str, address: str) -> int:
    token = await rig.csrf()
    response = await rig.client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": f"{address}, 127.0.0.1"},
        allow_redirects=False,
    )
    return response.status


async def test_5_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(users, "sleep", no_wait)
    _behind_proxy(rig)
    statuses = [await _login_from(rig, "reviewer", f"wrong{i}", "203.0.113.2") for i in range(6)]
    assert statuses == [401] * 5 + [429]
    assert await _login_from(rig, "reviewer", PASSWORD, "203.0.113.2") == 429
    assert await _login_from(rig, "reviewer", PASSWORD, "203.0.113.3") == 303  # the victim
    assert waits and waits[-1] > 0  # slowed down, not locked out
    for i in range(5):  # five unknown names from one address do not lock out the admin
        assert await _login_from(rig, f"nobody{i}", "wrong", "203.0.113.4") == 401
    assert await _login_from(rig, "admin", PASSWORD, "203.0.113.4") == 303


async def test_5_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(rig: WebRig) -> None:
    statuses = [await _login_from(rig, "editor", "wrong", f"198.51.100.{i}") for i in range(6)]
    assert statuses == [401] * 5 + [429]  # the header did not make six different addresses


def test_5_the_slow_down_grows_with_failures_for_a_name_and_overall() -> None:
    assert users.slowdown(Failures(pair=0, user=4, address=0, everywhere=4)) == 0
    first = users.slowdown(Failures(pair=0, user=5, address=0, everywhere=5))
    later = users.slowdown(Failures(pair=0, user=9, address=0, everywhere=9))
    assert 0 < first < later <= users.SLOWDOWN_MAX
    crowd = Failures(pair=0, user=0, address=0, everywhere=users.GLOBAL_SLOWDOWN_AFTER)
    assert users.slowdown(crowd) > 0


# --- 8. approval was not tied to what the reviewer saw; reviewers approved their own posts -----


async def _draft_for_review(rig: WebRig, role: str = "editor") -> dict[str, Any]:
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts",
        json={"column": "学习平台", "resources": ["exhibit-001"]},
        headers=rig.bearer(role),
    )
    assert response.status == 201, await response.text()
    post: dict[str, Any] = await response.json()
    assert post["status"] == "review"
    return post


async def _api_approve(rig: WebRig, post_id: int, version: str | None) -> int:
    body = {} if version is None else {"version": version}
    response = await rig.client.post(
        f"/api/posts/{post_id}/approve", json=body, headers=rig.bearer("reviewer")
    )
    return response.status


async def test_8_an_edit_made_while_the_reviewer_reads_sends_the_approval_back(
    rig: WebRig,
) -> None:
    post = await _draft_for_review(rig)
    csrf = await rig.login("reviewer")
    page = await (await rig.client.get(f"/posts/{post['id']}")).text()
    seen = re.search(r'name="version" value="([0-9a-f]+)"', page)
    assert seen, "the approve form carries the version on the page"
    edit = await rig.client.patch(
        f"/api/posts/{post['id']}",
        json={"title": "SWAPPED AFTER REVIEW", "markdown": "# swapped\n\nunreviewed text"},
        headers=rig.bearer("editor"),
    )
    assert edit.status == 200, await edit.text()
    approve = await rig.client.post(
        f"/posts/{post['id']}/approve",
        data={"csrf_token": csrf, "version": seen.group(1)},
        allow_redirects=False,
    )
    assert approve.status == 409
    async with rig.services.engine.connect() as conn:
        current = await post_store.get(conn, post["id"])
    assert current.status is PostStatus.REVIEW
    assert await _api_approve(rig, post["id"], None) == 400  # no version: nothing approved
    assert await _api_approve(rig, post["id"], current.version) == 200  # read again: approved


async def test_8_a_reviewer_cannot_approve_their_own_draft_or_their_own_edit(
    rig: WebRig,
) -> None:
    own = await _draft_for_review(rig, "reviewer")
    assert await _api_approve(rig, own["id"], own["version"]) == 403
    theirs = await _draft_for_review(rig, "editor")
    edit = await rig.client.patch(
        f"/api/posts/{theirs['id']}",
        json={"title": "a reviewer's rewrite"},
        headers=rig.bearer("reviewer"),
    )
    assert edit.status == 200, await edit.text()
    version = (await edit.json())["version"]
    assert await _api_approve(rig, theirs["id"], version) == 403
    rig.services.review.allow_self_approval = True  # [web] allow_self_approval = true
    assert await _api_approve(rig, own["id"], own["version"]) == 200


# --- 3. an uploaded catalogue could read any image-suffixed file on the server ----------------


async def _upload(rig: WebRig, text: str, name: str = "leak.csv") -> tuple[int, list[Any]]:
    form = aiohttp.FormData()
    form.add_field("file", text.encode("utf-8"), filename=name, content_type="text/csv")
    response = await rig.client.post(
        "/api/catalogue/import", data=form, headers=rig.bearer("editor")
    )
    return response.status, await response.json()


async def test_3_an_uploaded_catalogue_cannot_name_a_file_on_the_server(
    rig: WebRig, tmp_path: Path, cover_file: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    private = outside / "private.png"
    private.write_bytes(cover_file.read_bytes())
    (outside / "notes.jpg").write_text("a private note", encoding="utf-8")
    media = rig.services.config.media_dir
    before = sorted(media.iterdir()) if media.exists() else []
    covers = [
        str(private),
        "../../../../.." + str(outside / "notes.jpg"),
        str(outside / "nothere.png"),
    ]
    errors = []
    for cover in covers:
        status, outcome = await _upload(rig, f"id,kind,title,cover\nleak1,platform,Leak,{cover}\n")
        assert status == 422
        errors.append(outcome[0]["error"].replace(cover, "PATH"))
        assert "http(s) URL" in outcome[0]["error"]
    assert errors[0] == errors[2]  # an existing file and a missing one answer alike
    assert (sorted(media.iterdir()) if media.exists() else []) == before
    listed = await rig.client.get("/api/catalogue", headers=rig.bearer("editor"))
    assert [r["id"] for r in await listed.json()] == []


async def test_3_the_cli_takes_covers_only_from_its_own_folder_media_and_templates(
    rig: WebRig, tmp_path: Path, cover_file: Path
) -> None:
    config = rig.services.config
    folder = tmp_path / "catalogue"
    folder.mkdir()
    (folder / "cover.jpg").write_bytes(cover_file.read_bytes())
    (folder / "fake.jpg").write_text("not an image", encoding="utf-8")
    outside = tmp_path / "elsewhere.jpg"
    outside.write_bytes(cover_file.read_bytes())
    dirs = [folder, config.media_dir, config.templates_dir]

    async def run(cover: str) -> str:
        path = folder / "c.csv"
        path.write_text(f"id,kind,title,cover\nr1,platform,T,{cover}\n", encoding="utf-8")
        try:
            await import_file(
                rig.services.engine,
                path,
                kinds=config.kinds,
                clock=rig.services.clock,
                media_dir=config.media_dir,
                cover_dirs=dirs,
            )
        except ImportFileError as exc:
            return exc.message
        return "ok"

    assert await run("cover.jpg") == "ok"
    assert "catalogue's folder, the media directory" in await run(str(outside))
    assert "catalogue's folder, the media directory" in await run("../elsewhere.jpg")
    fake = await run("fake.jpg")
    assert "fake.jpg" in fake and "image" in fake  # refused: its contents are no image


# --- 6. a large import stalled the event loop ------------------------------------------------


async def test_6_healthz_answers_while_an_upload_is_checked_and_rows_are_limited(
    rig: WebRig, threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release, left = threading.Event(), threading.Event(), threading.Event()
    original = importing.stage_file

    def slow_stage(*args: Any) -> int:
        entered.set()
        release.wait(5)  # on the loop this would hold every other request for 5 s
        left.set()
        return original(*args)

    monkeypatch.setattr(importing, "stage_file", slow_stage)
    rows = "".join(f"r{i},platform,Title {i},\n" for i in range(20))
    upload = asyncio.create_task(_upload(rig, "id,kind,title,cover\n" + rows, "ok.csv"))
    assert await asyncio.to_thread(entered.wait, 5)
    health = await rig.client.get("/healthz")
    assert health.status == 200
    assert not left.is_set(), "/healthz waited for the import"
    release.set()
    status, outcome = await upload
    assert (status, outcome[0]["created"]) == (200, 20)

    monkeypatch.setattr(importing, "MAX_ROWS", 10)
    status, outcome = await _upload(rig, "id,kind,title,cover\n" + rows, "big.csv")
    assert status == 422
    assert "more than 10 rows" in outcome[0]["error"]
    monkeypatch.setattr(importing, "MAX_ROWS", 100)
    monkeypatch.setattr(importing, "MAX_CATALOGUE", 30)  # 20 held
    status, outcome = await _upload(rig, "id,kind,title,cover\n" + rows, "again.csv")
    assert (status, outcome[0]["updated"]) == (200, 20)  # the same ids: nothing new
    more = "".join(f"n{i},platform,New {i},\n" for i in range(11))
    status, outcome = await _upload(rig, "id,kind,title,cover\n" + more, "more.csv")
    assert status == 422
    assert "at most 30 resources; it has 20 and this file adds 11 new" in outcome[0]["error"]


# --- 7. a date in year 9999 broke the queue for everyone --------------------------------------


async def test_7_a_reschedule_to_year_9999_is_refused_and_nothing_is_saved(rig: WebRig) -> None:
    post = await _draft_for_review(rig)
    for at in ("9999-12-31T23:59:00+00:00", "0001-01-01T00:00", "9999-12-31T23:59:59-12:00"):
        response = await rig.client.post(
            f"/api/posts/{post['id']}/reschedule", json={"at": at}, headers=rig.bearer("editor")
        )
        assert response.status == 400, await response.text()
        assert "2099-12-31" in (await response.json())["error"]
    async with rig.services.engine.connect() as conn:
        assert (await post_store.get(conn, post["id"])).scheduled_for is None
    assert (await rig.client.get("/api/posts", headers=rig.bearer("editor"))).status == 200
    drafted = await rig.client.post(
        "/api/posts", json={"column": "快讯", "at": "0001-01-01"}, headers=rig.bearer("editor")
    )
    assert drafted.status == 400


# --- 9. anonymous request bodies of 20 MB were buffered ----------------------------------------


async def test_9_an_anonymous_login_body_is_small_and_refused_before_it_is_read(
    rig: WebRig,
) -> None:
    big = io.BytesIO(b"name=x&password=" + b"a" * (64 * 1024))
    response = await rig.client.post(
        "/login", data=big, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 413
    assert "16 KB" in await response.text()

    async def chunks() -> Any:  # no Content-Length: cut off where it passes the limit
        for _ in range(64):
            yield b"a" * 1024

    response = await rig.client.post(
        "/login", data=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 413
    edit = await rig.client.post(
        "/api/posts",
        data=io.BytesIO(b"{" + b" " * (2 * 1024 * 1024) + b"}"),
        headers=rig.bearer("editor"),
    )
    assert edit.status == 413
    assert "1 MB" in (await edit.json())["error"]


# --- 10. unhandled exceptions answered 500 ------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/log?since=0001-01-01",
        "/api/log?until=9999-12-31",
        "/api/report?from=0001-01-01&to=0001-01-02",
        "/api/report?period=0000-01",
        "/reports.csv?from=0001-01-01&to=9999-12-31",
    ],
)
async def test_10_extreme_dates_answer_400(rig: WebRig, path: str) -> None:
    response = await rig.client.get(path, headers=rig.bearer("editor"))
    assert response.status == 400, await response.text()


async def test_10_deep_nesting_and_lone_surrogates_in_bodies_answer_400(rig: WebRig) -> None:
    post = await _draft_for_review(rig)
    deep = b"[" * 100_000 + b"]" * 100_000
    for method, path in (("POST", "/api/posts"), ("PATCH", f"/api/posts/{post['id']}")):
        response = await rig.client.request(
            method,
            path,
            data=deep,
            headers={**rig.bearer("editor"), "Content-Type": "application/json"},
        )
        assert response.status == 400
        assert "nested too deeply" in (await response.json())["error"]
    response = await rig.client.patch(
        f"/api/posts/{post['id']}",
        data=b'{"markdown": "# a\\ud800"}',
        headers={**rig.bearer("editor"), "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "surrogate" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", "[" * 50_000 + "]" * 50_000),
        ("deep.yaml", "[" * 50_000 + "]" * 50_000),
        ("deep.toml", "a = " + "[" * 50_000 + "]" * 50_000),
    ],
)
async def test_10_a_deeply_nested_catalogue_is_a_422_for_its_file(
    rig: WebRig, name: str, text: str
) -> None:
    status, outcome = await _upload(rig, text, name)
    assert status == 422
    assert outcome[0]["error"]


async def test_10_a_form_part_with_an_unknown_charset_answers_400(rig: WebRig) -> None:
    csrf = await rig.login("editor")
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="column"\r\n'
        "Content-Type: text/plain; charset=bogus\r\n\r\nx\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = await rig.client.post(
        "/queue/draft",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRF-Token": csrf,
        },
    )
    assert response.status == 400


# --- 11, 15. headers: HSTS over https, no version banner, no cookie on static files -----------


async def test_11_hsts_is_sent_when_base_url_is_https(rig: WebRig) -> None:
    plain = await rig.client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    config = rig.services.config
    rig.services.config = replace(
        config, web=replace(config.web, base_url="https://bot.example.org")
    )
    client = TestClient(TestServer(build_web_app(rig.services), host="127.0.0.1"))
    await client.start_server()
    try:
        secure = await client.get("/login")
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        await client.close()
        rig.services.config = config


async def test_15_no_version_banner_and_no_cookie_on_static_files(rig: WebRig) -> None:
    for path in ("/login", "/static/admin.css", "/no-such-page"):
        response = await rig.client.get(path)
        assert "aiohttp" not in response.headers.get("Server", "")
        assert "Python" not in response.headers.get("Server", "")
    rig.client.session.cookie_jar.clear()
    static = await rig.client.get("/static/admin.css")
    assert static.status == 200
    assert "Set-Cookie" not in static.headers


async def test_15_catalogue_search_takes_percent_and_underscore_literally(rig: WebRig) -> None:
    await rig.import_catalogue()
    for q in ("%", "_"):
        response = await rig.client.get(f"/api/catalogue?q={q}", headers=rig.bearer("editor"))
        assert await response.json() == []


# --- 12. control characters were accepted in edited titles -------------------------------------


async def test_12_an_edit_with_control_characters_in_the_title_is_refused(rig: WebRig) -> None:
    post = await _draft_for_review(rig)
    for title in ("a\u0000b", "a\nb", "a\u001bb"):
        response = await rig.client.patch(
            f"/api/posts/{post['id']}", json={"title": title}, headers=rig.bearer("editor")
        )
        assert response.status == 400
        assert "control character" in (await response.json())["error"]
    async with rig.services.engine.connect() as conn:
        assert (await post_store.get(conn, post["id"])).title == post["title"]


# --- 13. bot log lines could be forged with newlines in a comment ------------------------------


def test_13_a_comment_with_newlines_prints_as_one_log_line() -> None:
    from bot.cli.log import one_line

    forged = "needs work\n2026-11-30T06:40:00+08:00 post 1    publish   ok   (FAKE LINE)"
    assert "\n" not in one_line(forged)
    assert "\\n2026-11-30" in one_line(forged)
    assert one_line("草稿需要修改") == "草稿需要修改"


# --- 14. post templates ran without the sandbox ------------------------------------------------


async def test_14_a_column_template_cannot_reach_python_internals(rig: WebRig) -> None:
    await rig.import_catalogue()
    config = rig.services.config
    templates = rig.tmp / "templates"
    (templates / "columns").mkdir(parents=True)
    (templates / "columns" / "evil.md.j2").write_text(
        "{{ lipsum.__globals__['os'].popen('id').read() }}\n", encoding="utf-8"
    )
    columns = tuple(
        replace(c, template="columns/evil.md.j2") if c.name == "快讯" else c for c in config.columns
    )
    evil = replace(config, columns=columns, templates_dir=templates)
    rig.services.drafting.config = evil
    response = await rig.client.post(
        "/api/posts",
        json={"column": "快讯", "resources": ["exhibit-001"]},
        headers=rig.bearer("editor"),
    )
    assert response.status == 422, await response.text()
    assert "uid=" not in await response.text()


def test_14_the_sandbox_bounds_what_one_expression_may_allocate_or_compute(
    tmp_path: Path,
) -> None:
    from bot.content.render import render_post
    from bot.domain.errors import ContentRejectedError

    for body in ("{{ 'a' * 10**9 }}", "{{ [1] * 10**7 }}", "{{ 9 ** (10**8) }}"):
        (tmp_path / "t.md.j2").write_text(body + "\n", encoding="utf-8")
        with pytest.raises(ContentRejectedError, match="not allowed"):
            render_post("t.md.j2", templates_dir=tmp_path, context={"resources": []})
    (tmp_path / "ok.md.j2").write_text(
        "{% set title = '标题' %}# {{ '标' * 3 }} {{ 2 ** 10 }}\n", encoding="utf-8"
    )
    assert (
        "标标标 1024"
        in render_post("ok.md.j2", templates_dir=tmp_path, context={"resources": []}).markdown
    )


# --- the re-review's findings (review-security.md N1-N7) --------------------------------------


def _xlsx(rows: list[list[object]], *, far_right: bool = False) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
        if far_right:
            sheet.cell(row=r, column=16384, value="x")  # column XFD
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rezip(data: bytes, name: str, change: Any) -> bytes:
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item)
            target.writestr(item.filename, change(body) if item.filename == name else body)
    return out.getvalue()


async def _upload_bytes(rig: WebRig, data: bytes, name: str) -> tuple[int, list[Any]]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name)
    response = await rig.client.post(
        "/api/catalogue/import", data=form, headers=rig.bearer("editor")
    )
    return response.status, await response.json()


HEADER = ["id", "kind", "title"]


async def test_n1_a_cell_far_to_the_right_does_not_make_every_row_16384_cells(
    rig: WebRig,
) -> None:
    rows = [HEADER] + [[f"w{i}", "platform", f"Wide {i}"] for i in range(200)]
    status, outcome = await _upload_bytes(rig, _xlsx(rows, far_right=True), "wide.xlsx")
    assert status == 200, outcome
    assert outcome[0]["created"] == 200


async def test_n3_a_workbook_that_unpacks_to_much_more_than_it_weighs_is_refused(
    rig: WebRig,
) -> None:
    good = _xlsx([HEADER, ["b1", "platform", "Bomb"]])
    pad = b" " * 5_000_000  # 5 MB that deflate packs about a thousand to one
    bomb = _rezip(
        good, "xl/worksheets/sheet1.xml", lambda body: body.replace(b"</", pad + b"</", 1)
    )
    assert len(bomb) < 100_000
    status, outcome = await _upload_bytes(rig, bomb, "bomb.xlsx")
    assert status == 422
    assert "unpacks to" in outcome[0]["error"]


async def test_n7_a_broken_sheet_is_a_422_for_its_file(rig: WebRig) -> None:
    good = _xlsx([HEADER, ["k1", "platform", "Kept"]])
    broken = _rezip(good, "xl/worksheets/sheet1.xml", lambda body: body[: len(body) // 2])
    status, outcome = await _upload_bytes(rig, broken, "broken.xlsx")
    assert status == 422
    assert "broken.xlsx" in outcome[0]["error"]


async def test_n2_a_callback_timestamp_of_400_digits_is_a_400(rig: WebRig) -> None:
    query, body = _push("1", 0, timestamp=int("1" * 400))
    response = await rig.client.post("/callback/main", params=query, data=body)
    assert response.status == 400


async def test_n5_a_draft_naming_too_many_resources_is_refused_before_any_work(
    rig: WebRig,
) -> None:
    ids = [f"r{i}" for i in range(101)]
    response = await rig.client.post(
        "/api/posts", json={"column": "快讯", "resources": ids}, headers=rig.bearer("editor")
    )
    assert response.status == 400
    assert "at most 100 resources" in (await response.json())["error"]


async def test_n6_deeply_nested_html_in_an_edit_is_refused_in_linear_time(rig: WebRig) -> None:
    post = await _draft_for_review(rig)
    response = await rig.client.patch(
        f"/api/posts/{post['id']}",
        json={"markdown": "# t\n\n" + "<b>" * 16_000},  # under the Markdown limit
        headers=rig.bearer("editor"),
    )
    assert response.status in (400, 422)
    assert "nested more than" in await response.text()


async def test_n4_a_later_edit_by_someone_else_does_not_launder_a_reviewers_rewrite(
    rig: WebRig,
) -> None:
    post = await _draft_for_review(rig, "editor")
    for role, change in (
        ("reviewer", {"markdown": "# 审稿人写的正文"}),
        ("editor", {"title": "改个错字"}),
    ):
        edit = await rig.client.patch(
            f"/api/posts/{post['id']}", json=change, headers=rig.bearer(role)
        )
        assert edit.status == 200, await edit.text()
    version = (await edit.json())["version"]
    assert await _api_approve(rig, post["id"], version) == 403


async def test_n8_guessing_the_current_password_on_the_change_page_is_limited(
    rig: WebRig,
) -> None:
    csrf = await rig.login("editor")
    statuses = []
    for i in range(6):
        response = await rig.client.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current": f"guess {i}",
                "new": "n3w password",
                "confirm": "n3w password",
            },
        )
        statuses.append(response.status)
    assert statuses == [400] * 5 + [429]
