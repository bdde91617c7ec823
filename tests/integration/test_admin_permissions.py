"""Who may do what, beyond "an editor is refused": a reviewer on every admin route, a role
change taking effect on the next request, revoked tokens, a deleted user's session and tokens,
and the last admin, who can neither give up the role nor be deleted."""

from __future__ import annotations

from bot.i18n import translator
from bot.store import users as user_store
from bot.web.keys import ACCESS
from bot.web.users import LAST_ADMIN
from tests.integration.web_rig import (
    PASSWORD,
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

ZH = translator("zh")  # the admin's pages speak Chinese


def _concrete(path: str) -> str:
    return path.replace("{id}", "1").replace("{name}", "morning").replace("{account}", "main")


async def _user_id(rig: WebRig, name: str) -> int:
    async with rig.services.engine.connect() as conn:
        user = await user_store.by_name(conn, name)
    assert user is not None, name
    return user.id


async def _me(rig: WebRig, role: str) -> tuple[int, dict[str, str]]:
    response = await rig.client.get("/api/me", headers=rig.bearer(role))
    return response.status, (await response.json() if response.status == 200 else {})


async def _as_admin(rig: WebRig, path: str, **form: str) -> tuple[int, str]:
    """An admin's action by Bearer token (no session, so no CSRF token needed)."""
    response = await rig.client.post(
        path, data=form, headers=rig.bearer("admin"), allow_redirects=False
    )
    return response.status, await response.text()


async def test_a_reviewer_is_refused_on_every_admin_route(rig: WebRig) -> None:
    admin_routes = sorted((m, p) for (m, p), a in rig.app[ACCESS].items() if a.role == "admin")
    paths = {p for _, p in admin_routes}
    assert {"/users", "/users/{id}/role", "/users/{id}/delete", "/users/{id}/revoke"} <= paths
    assert {"/schedules/{name}/pause", "/api/schedules/{name}/pause"} <= paths
    for method, path in admin_routes:
        response = await rig.client.request(
            method, _concrete(path), headers=rig.bearer("reviewer"), json={}, allow_redirects=False
        )
        assert response.status == 403, (method, path)
    # By session too, with the session's CSRF token: the role refuses, not CSRF.
    token = await rig.login("reviewer")
    assert await _page(rig, "/users") == 403
    for path in ("/users", "/users/1/role", "/users/1/delete", "/schedules/morning/pause"):
        response = await rig.client.post(
            path, data={"csrf_token": token, "role": "admin"}, allow_redirects=False
        )
        assert response.status == 403, path
    assert await _me(rig, "reviewer") == (
        200,
        {"name": "reviewer", "role": "reviewer", "via": "token"},
    )


async def _page(rig: WebRig, path: str) -> int:
    return (await rig.client.get(path, allow_redirects=False)).status


async def test_a_role_change_ends_the_users_logins_and_applies_at_once(rig: WebRig) -> None:
    editor = await _user_id(rig, "editor")
    await rig.login("editor")  # a live session, and the editor's API token
    assert await _page(rig, "/users") == 403
    approve = await rig.client.post("/api/posts/1/approve", headers=rig.bearer("editor"))
    assert approve.status == 403

    assert (await _as_admin(rig, f"/users/{editor}/role", role="admin"))[0] == 303
    assert await _page(rig, "/queue") == 303  # the old session ended with the old role
    await rig.login("editor")
    assert await _page(rig, "/users") == 200  # logged in again: an admin now
    approve = await rig.client.post("/api/posts/1/approve", headers=rig.bearer("editor"))
    assert approve.status == 404  # the token passes the role check; there is no post 1

    assert (await _as_admin(rig, f"/users/{editor}/role", role="editor"))[0] == 303
    assert await _page(rig, "/users") == 303
    token = await rig.login("editor")
    assert await _page(rig, "/users") == 403
    response = await rig.client.post(
        "/schedules/morning/pause", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 403
    assert (await _me(rig, "editor"))[1]["role"] == "editor"


async def test_revoked_tokens_stop_working_at_once(rig: WebRig) -> None:
    editor = await _user_id(rig, "editor")
    assert (await _me(rig, "editor"))[0] == 200
    assert (await _as_admin(rig, f"/users/{editor}/revoke"))[0] == 303
    assert (await _me(rig, "editor"))[0] == 401
    assert (await _me(rig, "reviewer"))[0] == 200  # only that user's tokens
    # The password still logs in; only the tokens went.
    await rig.login("editor")
    assert (await rig.client.get("/api/me")).status == 200


async def test_a_deleted_user_loses_their_session_and_their_tokens(rig: WebRig) -> None:
    editor = await _user_id(rig, "editor")
    await rig.login("editor")
    assert (await rig.client.get("/queue", allow_redirects=False)).status == 200
    assert (await _as_admin(rig, f"/users/{editor}/delete"))[0] == 303
    response = await rig.client.get("/queue", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    assert (await _me(rig, "editor"))[0] == 401
    # The name and password no longer log in.
    token = await rig.csrf("/login")
    response = await rig.client.post(
        "/login",
        data={"name": "editor", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status != 303


async def test_the_last_admin_can_neither_give_up_the_role_nor_be_deleted(rig: WebRig) -> None:
    admin = await _user_id(rig, "admin")
    for role in ("editor", "reviewer"):
        status, body = await _as_admin(rig, f"/users/{admin}/role", role=role)
        assert status == 400 and ZH(LAST_ADMIN) in body, (role, body)
        assert (await _me(rig, "admin"))[1]["role"] == "admin"
    status, body = await _as_admin(rig, f"/users/{admin}/delete")
    assert status == 400 and ZH("you cannot delete your own user") in body

    # With a second admin, the first may step down; then the second is the last one.
    reviewer = await _user_id(rig, "reviewer")
    assert (await _as_admin(rig, f"/users/{reviewer}/role", role="admin"))[0] == 303
    assert (await _as_admin(rig, f"/users/{admin}/role", role="admin"))[0] == 303  # no change
    assert (await _as_admin(rig, f"/users/{admin}/role", role="editor"))[0] == 303
    assert (await _me(rig, "admin"))[1]["role"] == "editor"
    response = await rig.client.post(
        f"/users/{reviewer}/role", data={"role": "editor"}, headers=rig.bearer("reviewer")
    )
    assert response.status == 400 and ZH(LAST_ADMIN) in await response.text()
    assert (await _me(rig, "reviewer"))[1]["role"] == "admin"
    async with rig.services.engine.connect() as conn:
        assert await user_store.count_admins(conn) == 1
