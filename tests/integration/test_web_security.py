"""Security of the web surface over real loopback HTTP: who may call what (walking the
router), CSRF, the login rate limit, sessions, headers, and the platform's signed callback."""

from __future__ import annotations

import time

import sqlalchemy as sa

from bot.account.callback import MessageCrypto, PublishJobFinish, build_push, render_event
from bot.store.tables import callback_events
from bot.web.keys import ACCESS, ROLE_RANK
from bot.web.sessions import COOKIE
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

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/callback/{account}"),
    ("POST", "/callback/{account}"),
    ("GET", "/static"),
}


def _concrete(path: str) -> str:
    return (
        path.replace("{id}", "1")
        .replace("{name}", "morning")
        .replace("{account}", "main")
        .replace("{format}", "csv")
        .replace("/static", "/static/admin.css")
    )


def _routes(rig: WebRig) -> list[tuple[str, str, str | None]]:
    return sorted((m, p, a.role) for (m, p), a in rig.app[ACCESS].items())


async def test_every_route_but_the_public_ones_refuses_anonymous_callers(rig: WebRig) -> None:
    routes = _routes(rig)
    public = {(m, p) for m, p, role in routes if role is None}
    assert public == PUBLIC
    assert len(routes) > 40
    for method, path, role in routes:
        if role is None:
            continue
        response = await rig.client.request(method, _concrete(path), allow_redirects=False)
        if path.startswith("/api/") or path == "/metrics":
            assert response.status == 401, (method, path)
            assert "error" in await response.json()
            assert response.headers["WWW-Authenticate"] == "Bearer"
        else:
            assert response.status == 303, (method, path)
            assert response.headers["Location"].startswith("/login")


async def test_every_router_route_is_in_the_access_table(rig: WebRig) -> None:
    table = rig.app[ACCESS]
    for route in rig.app.router.routes():
        method = "GET" if route.method == "HEAD" else route.method
        assert route.resource is not None
        assert (method, route.resource.canonical) in table, (route.method, route.resource)


async def test_an_editor_cannot_take_a_reviewers_or_an_admins_action(rig: WebRig) -> None:
    checked = 0
    for method, path, role in _routes(rig):
        if role is None or ROLE_RANK[role] <= ROLE_RANK["editor"]:
            continue
        response = await rig.client.request(
            method, _concrete(path), headers=rig.bearer("editor"), json={}, allow_redirects=False
        )
        assert response.status == 403, (method, path)
        checked += 1
    assert checked >= 10
    # By session too, with a valid CSRF token: the role check, not CSRF, refuses.
    token = await rig.login("editor")
    for path in ("/posts/1/approve", "/users", "/schedules/morning/pause"):
        response = await rig.client.post(path, data={"csrf_token": token}, allow_redirects=False)
        assert response.status == 403, path
    assert (await rig.client.get("/users")).status == 403
    response = await rig.client.post("/api/posts/1/approve", headers=rig.bearer("reviewer"))
    assert response.status == 404  # the reviewer passes the role check; post 1 does not exist


async def test_a_form_post_without_its_csrf_token_is_refused(rig: WebRig) -> None:
    token = await rig.login("admin")
    data = {"name": "mallory", "role": "admin", "password": "a long password"}
    response = await rig.client.post("/users", data=data, allow_redirects=False)
    assert response.status == 403
    assert "CSRF" in await response.text()
    response = await rig.client.post(
        "/users", data={**data, "csrf_token": "forged"}, allow_redirects=False
    )
    assert response.status == 403
    # The same session's JSON API call needs the header; a Bearer call does not.
    response = await rig.client.post("/api/schedules/morning/pause")
    assert response.status == 403
    response = await rig.client.post(
        "/api/schedules/morning/pause", headers={"X-CSRF-Token": token}
    )
    assert response.status == 200
    response = await rig.client.post(
        "/users", data={**data, "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    # Logging in needs the login page's token too (no login CSRF).
    await rig.logout()
    response = await rig.client.post("/login", data={"name": "admin", "password": PASSWORD})
    assert response.status == 403


async def test_logging_in_rotates_the_csrf_token(rig: WebRig) -> None:
    before = await rig.csrf("/login")
    after = await rig.login("editor")
    assert before != after


async def test_login_attempts_are_limited_per_user_and_address(rig: WebRig) -> None:
    token = await rig.csrf()
    for _ in range(5):
        response = await rig.client.post(
            "/login", data={"name": "editor", "password": "nope nope", "csrf_token": token}
        )
        assert response.status == 401
    response = await rig.client.post(
        "/login", data={"name": "editor", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status == 429  # refused before the password is looked at
    # Only that (name, address) pair is over its limit: another user from it logs in.
    response = await rig.client.post(
        "/login",
        data={"name": "reviewer", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303


async def test_session_cookie_flags_and_tampering(rig: WebRig) -> None:
    token = await rig.csrf()
    response = await rig.client.post(
        "/login",
        data={"name": "editor", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # base_url is http:// in the rig
    assert (await rig.client.get("/", allow_redirects=False)).status == 200
    jar = rig.client.session.cookie_jar
    jar.clear()
    jar.update_cookies({COOKIE: cookie.value})
    assert (await rig.client.get("/", allow_redirects=False)).status == 200
    jar.clear()
    jar.update_cookies({COOKIE: cookie.value[:-6] + "AAAAAA"})
    assert (await rig.client.get("/", allow_redirects=False)).status == 303


async def test_a_bad_bearer_token_is_refused(rig: WebRig) -> None:
    for header in ("Bearer bot_not-a-real-token", "Basic abc", "Bearer "):
        response = await rig.client.get("/api/posts", headers={"Authorization": header})
        assert response.status == 401, header
    response = await rig.client.get("/api/posts", headers=rig.bearer("editor"))
    assert response.status == 200


async def test_security_headers_on_pages_and_the_sandboxed_preview(rig: WebRig) -> None:
    for path in ("/login", "/healthz", "/nope"):
        response = await rig.client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert (await rig.client.get("/nope")).status == 404
    missing = await rig.client.get("/api/nope", headers=rig.bearer("editor"))
    assert missing.status == 404 and "error" in await missing.json()


# --- the platform's callback ----------------------------------------------------------------


def _publish_push(
    publish_id: str = "2247483700",
    *,
    crypto: MessageCrypto | None = None,
    token: str = CALLBACK_TOKEN,
) -> tuple[dict[str, str], str]:
    event = PublishJobFinish(
        to_user="gh_test",
        from_user="oSystem",
        create_time=1714036504,
        publish_id=publish_id,
        publish_status=0,
        article_id="art-1",
    )
    push = build_push(
        render_event(event),
        token=token,
        timestamp=_now(),
        nonce="1514711492",
        to_user="gh_test",
        crypto=crypto,
    )
    return push.query, push.body


def _now() -> int:
    return int(time.time())


async def _events(rig: WebRig) -> list[dict[str, object]]:
    async with rig.services.engine.connect() as conn:
        rows = await conn.execute(sa.select(callback_events))
        return [dict(r._mapping) for r in rows]


async def test_callback_url_verification(rig: WebRig) -> None:
    from bot.account.callback import url_signature

    query = {
        "signature": url_signature(CALLBACK_TOKEN, "1714036504", "1514711492"),
        "timestamp": "1714036504",
        "nonce": "1514711492",
        "echostr": "4375120948345356249",
    }
    response = await rig.client.get("/callback/main", params=query)
    assert response.status == 200 and await response.text() == "4375120948345356249"
    response = await rig.client.get("/callback/main", params={**query, "signature": "0" * 40})
    assert response.status == 403
    response = await rig.client.get("/callback/other", params=query)
    assert response.status == 404


async def test_callback_push_is_recorded_once_and_wakes_the_publisher(rig: WebRig) -> None:
    query, body = _publish_push()
    rig.services.worker.wake.clear()
    response = await rig.client.post("/callback/main", params=query, data=body.encode())
    assert response.status == 200 and await response.text() == "success"
    assert rig.services.worker.wake.is_set()
    rig.services.worker.wake.clear()
    again = await rig.client.post("/callback/main", params=query, data=body.encode())
    assert again.status == 200 and await again.text() == "success"
    assert not rig.services.worker.wake.is_set()  # a duplicate changes nothing
    events = await _events(rig)
    assert len(events) == 1
    assert events[0]["event"] == "publish"
    assert events[0]["payload"]["publish_id"] == "2247483700"  # type: ignore[index]

    bad_query = {**query, "signature": "f" * 40}
    response = await rig.client.post("/callback/main", params=bad_query, data=body.encode())
    assert response.status == 403
    response = await rig.client.post("/callback/main", params=query, data=b"<xml><oops")
    assert response.status == 400
    response = await rig.client.post("/callback/main", params=query, data=b"x" * (64 * 1024 + 1))
    assert response.status == 413
    assert len(await _events(rig)) == 1


async def test_callback_safe_mode(safe_rig: WebRig) -> None:
    crypto = MessageCrypto(CALLBACK_TOKEN, AES_KEY, APPID)
    query, body = _publish_push("900", crypto=crypto)
    assert "<Encrypt>" in body and "publish_id" not in body
    response = await safe_rig.client.post("/callback/main", params=query, data=body.encode())
    assert response.status == 200 and await response.text() == "success"
    events = await _events(safe_rig)
    assert [e["payload"]["publish_id"] for e in events] == ["900"]  # type: ignore[index]

    query_bad = {**query, "msg_signature": "0" * 40}
    response = await safe_rig.client.post("/callback/main", params=query_bad, data=body.encode())
    assert response.status == 403

    other_app = MessageCrypto(CALLBACK_TOKEN, AES_KEY, "wx-another-app")
    query, body = _publish_push("901", crypto=other_app)
    response = await safe_rig.client.post("/callback/main", params=query, data=body.encode())
    assert response.status == 400
    assert "app id" in (await response.json())["error"]
    assert len(await _events(safe_rig)) == 1
