"""The routes table: every path, its handler and the least role it needs (None: public).
The auth middleware reads the roles from here, the tests walk it, and the OpenAPI document
must describe every /api/ route in it."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp.typedefs import Handler

from bot.web import callback, metrics, openapi
from bot.web.actions import POST_ACTIONS, PREVIEW_ROLE
from bot.web.api import catalogue as api_catalogue
from bot.web.api import ops as api_ops
from bot.web.api import posts as api_posts
from bot.web.keys import Access
from bot.web.views import admin, auth, catalogue, dashboard, log, queue, reports, schedules


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    access: Access


def _r(method: str, path: str, handler: Handler, role: str | None, *, csrf: bool = True) -> Route:
    return Route(method, path, handler, Access(role, csrf))


PUBLIC = None
EDITOR, REVIEWER, ADMIN = "editor", "reviewer", "admin"

PAGES = [
    _r("GET", "/healthz", auth.healthz, PUBLIC),
    _r("GET", "/login", auth.login_page, PUBLIC),
    _r("POST", "/login", auth.login, PUBLIC),
    _r("POST", "/logout", auth.logout, EDITOR),
    _r("GET", "/account/password", auth.password_page, EDITOR),
    _r("POST", "/account/password", auth.password_change, EDITOR),
    _r("GET", "/", dashboard.dashboard, EDITOR),
    _r("GET", "/catalogue", catalogue.catalogue_page, EDITOR),
    _r("POST", "/catalogue/import", catalogue.catalogue_import, EDITOR),
    _r("GET", r"/catalogue/example.{format:xlsx|csv}", catalogue.catalogue_example, EDITOR),
    _r("POST", "/catalogue/draft", catalogue.catalogue_draft, EDITOR),
    _r("GET", "/queue", queue.queue_page, EDITOR),
    _r("POST", "/queue/draft", queue.draft_post, EDITOR),
    _r("GET", r"/posts/{id:\d+}", queue.post_page, EDITOR),
    _r("GET", r"/posts/{id:\d+}/preview", queue.post_preview, EDITOR),
    _r("POST", r"/posts/{id:\d+}/preview", queue.post_send_preview, PREVIEW_ROLE),
    _r("POST", r"/posts/{id:\d+}/edit", queue.post_edit, EDITOR),
    _r("GET", r"/posts/{id:\d+}/preview/list", queue.post_list_preview, EDITOR),
    _r("POST", r"/posts/{id:\d+}/reorder", queue.post_reorder, EDITOR),
    *(
        _r("POST", rf"/posts/{{id:\d+}}/{name}", queue.post_action(name), role)
        for name, role in POST_ACTIONS.items()
    ),
    _r("GET", "/log", log.log_page, EDITOR),
    _r("GET", "/schedules", schedules.schedules_page, EDITOR),
    _r("POST", "/schedules/{name}/pause", schedules.schedule_pause(True), ADMIN),
    _r("POST", "/schedules/{name}/resume", schedules.schedule_pause(False), ADMIN),
    _r("GET", "/reports", reports.reports_page, EDITOR),
    _r("GET", "/reports.csv", reports.report_csv, EDITOR),
    _r("GET", "/users", admin.users_page, ADMIN),
    _r("POST", "/users", admin.user_add, ADMIN),
    _r("POST", r"/users/{id:\d+}/role", admin.user_role, ADMIN),
    _r("POST", r"/users/{id:\d+}/token", admin.user_token, ADMIN),
    _r("POST", r"/users/{id:\d+}/revoke", admin.user_revoke, ADMIN),
    _r("POST", r"/users/{id:\d+}/delete", admin.user_delete, ADMIN),
    _r("GET", "/metrics", metrics.metrics, EDITOR),
    # The platform cannot log in or carry a CSRF token: the signature check stands in.
    _r("GET", "/callback/{account}", callback.verify, PUBLIC, csrf=False),
    _r("POST", "/callback/{account}", callback.push, PUBLIC, csrf=False),
]

API = [
    _r("GET", "/api/openapi.json", openapi.document, EDITOR),
    _r("GET", "/api/me", api_ops.me, EDITOR),
    _r("GET", "/api/posts", api_posts.list_posts, EDITOR),
    _r("POST", "/api/posts", api_posts.draft_post, EDITOR),
    _r("GET", r"/api/posts/{id:\d+}", api_posts.get_post, EDITOR),
    _r("PATCH", r"/api/posts/{id:\d+}", api_posts.edit, EDITOR),
    _r("POST", r"/api/posts/{id:\d+}/reorder", api_posts.reorder, EDITOR),
    *(
        _r("POST", rf"/api/posts/{{id:\d+}}/{name}", api_posts.action(name), role)
        for name, role in POST_ACTIONS.items()
    ),
    _r("POST", r"/api/posts/{id:\d+}/preview", api_posts.preview, PREVIEW_ROLE),
    _r("GET", "/api/catalogue", api_catalogue.list_catalogue, EDITOR),
    _r("POST", "/api/catalogue/import", api_catalogue.import_catalogue, EDITOR),
    _r("GET", "/api/log", api_ops.log, EDITOR),
    _r("GET", "/api/report", api_ops.report, EDITOR),
    _r("GET", "/api/schedules", api_ops.schedules, EDITOR),
    _r("POST", "/api/schedules/{name}/pause", api_ops.pause(True), ADMIN),
    _r("POST", "/api/schedules/{name}/resume", api_ops.pause(False), ADMIN),
    _r("GET", "/api/accounts", api_ops.accounts, EDITOR),
]

ROUTES = PAGES + API
