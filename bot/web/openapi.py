"""The OpenAPI 3 document of the JSON API, served at /api/openapi.json. A test checks that it
describes exactly the /api/ routes of the routes table, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.domain.models import PostStatus

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERRORS = {
    "400": _answer("Bad input", _ref("Error")),
    "401": _answer("No or bad API token", _ref("Error")),
    "403": _answer("Your role may not do this", _ref("Error")),
}
NOT_FOUND = {"404": _answer("Unknown id", _ref("Error"))}
CONFLICT = {"409": _answer("Not legal in the post's status", _ref("Error"))}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


POST_ID = _path("id", {"type": "integer", "minimum": 1, "maximum": 2**31})
SCHEDULE = _path("name", {"type": "string", "minLength": 1})
STATUS = {"type": "string", "enum": [s.value for s in PostStatus]}
NULLABLE_STR = {"type": ["string", "null"]}


def _op(summary: str, responses: dict[str, Any], *, tag: str, **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "tags": [tag], "responses": {**responses, **ERRORS}, **extra}


def _body(schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


ACTION_BODIES: dict[str, dict[str, Any]] = {
    "approve": {
        "version": {
            "type": "string",
            "maxLength": 64,
            "description": "the post's version as the reviewer read it (required)",
        },
        "comment": {"type": "string", "maxLength": 2000},
    },
    "reject": {"comment": {"type": "string", "maxLength": 2000}},
    "submit": {},
    "cancel": {},
    "retry": {},
    "resolve": {
        "published": {"type": "boolean"},
        "article_url": {"type": "string", "maxLength": 2000},
    },
    "reschedule": {
        "at": {**NULLABLE_STR, "description": "'now', ISO 8601, or null for the next slot"},
        "priority": {"type": "integer", "minimum": -1000, "maximum": 1000},
    },
}
ACTION_SUMMARIES = {
    "approve": "Approve a post in review (reviewer)",
    "reject": "Send a post in review back to draft with a comment (reviewer)",
    "submit": "Submit a draft for review",
    "cancel": "Cancel a post that has not started publishing",
    "retry": "Queue a failed post again",
    "resolve": "Say whether a post that needs attention was published (reviewer)",
    "reschedule": "Change when a post is due and its priority",
}


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/openapi.json": {
            "get": _op(
                "This document", {"200": _answer("OpenAPI 3.1", {"type": "object"})}, tag="meta"
            )
        },
        "/api/me": {
            "get": _op(
                "Who the token belongs to", {"200": _answer("The caller", _ref("Me"))}, tag="meta"
            )
        },
        "/api/posts": {
            "get": _op(
                "List posts, newest first",
                {"200": _answer("Posts", {"type": "array", "items": _ref("Post")})},
                tag="posts",
                parameters=[
                    _query("status", STATUS),
                    _query("column", {"type": "string", "maxLength": 100}),
                    _query("account", {"type": "string", "maxLength": 100}),
                    _query("needs_attention", {"type": "boolean"}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    _query("offset", {"type": "integer", "minimum": 0}),
                ],
            ),
            "post": _op(
                "Draft a post for a column (checked, then queued or left for review)",
                {
                    "201": _answer("The new post", _ref("Post")),
                    "404": _answer("Unknown resource", _ref("Error")),
                    "409": _answer("Featured within the cooldown (send force)", _ref("Error")),
                    "422": _answer("The checks refused it", _ref("Error")),
                },
                tag="posts",
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["column"],
                        "properties": {
                            "column": {"type": "string"},
                            "resources": {"type": "array", "items": {"type": "string"}},
                            "at": {**NULLABLE_STR, "description": "'now' or ISO 8601"},
                            "force": {
                                "type": "boolean",
                                "description": "draft a resource featured within the cooldown",
                            },
                        },
                    },
                    required=True,
                ),
            ),
        },
        "/api/posts/{id}": {
            "get": _op(
                "One post with its Markdown and HTML",
                {"200": _answer("The post", _ref("Post")), **NOT_FOUND},
                tag="posts",
                parameters=[POST_ID],
            ),
            "patch": _op(
                "Edit an article's title, digest or Markdown (re-rendered and checked)",
                {
                    "200": _answer("The post", _ref("Post")),
                    **NOT_FOUND,
                    **CONFLICT,
                    "422": _answer("The checks refused it", _ref("Error")),
                },
                tag="posts",
                parameters=[POST_ID],
                requestBody=_body(
                    {
                        "type": "object",
                        "properties": {
                            "title": {"type": "string", "maxLength": 200},
                            "digest": {"type": "string", "maxLength": 1000},
                            "markdown": {"type": "string"},
                            "article": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 8,
                                "description": "which article of the push (1: the headline)",
                            },
                            "cover": {
                                "type": "string",
                                "maxLength": 2000,
                                "description": "the article's cover: a local path or a URL",
                            },
                        },
                    }
                ),
            ),
        },
        "/api/posts/{id}/reorder": {
            "post": _op(
                "Put a push's articles in a new order (the first becomes the headline)",
                {"200": _answer("The post", _ref("Post")), **NOT_FOUND, **CONFLICT},
                tag="posts",
                parameters=[POST_ID],
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["order"],
                        "properties": {
                            "order": {
                                "type": "array",
                                "items": {"type": "integer", "minimum": 1, "maximum": 8},
                                "maxItems": 8,
                                "description": "every article's number once, in the new order",
                            }
                        },
                    },
                    required=True,
                ),
            ),
        },
        "/api/catalogue": {
            "get": _op(
                "List or search the catalogue",
                {
                    "200": _answer("Resources", {"type": "array", "items": _ref("Resource")}),
                    "422": _answer("The search ran past its time and was stopped", _ref("Error")),
                    "429": _answer(
                        "Your previous search still runs, or too many searches at once",
                        _ref("Error"),
                    ),
                },
                tag="catalogue",
                parameters=[
                    _query("kind", {"type": "string"}),
                    _query("q", {"type": "string", "maxLength": 50}, "search title, summary, id"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    _query("offset", {"type": "integer", "minimum": 0}),
                ],
            )
        },
        "/api/catalogue/import": {
            "post": _op(
                "Import catalogue files (CSV, JSON, YAML, TOML), all-or-nothing per file",
                {
                    "200": _answer(
                        "Each file's outcome", {"type": "array", "items": _ref("ImportOutcome")}
                    ),
                    "422": _answer(
                        "A file was refused", {"type": "array", "items": _ref("ImportOutcome")}
                    ),
                },
                tag="catalogue",
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
            )
        },
        "/api/log": {
            "get": _op(
                "The publish log, oldest first",
                {"200": _answer("Entries", {"type": "array", "items": _ref("LogEntry")})},
                tag="log",
                parameters=[
                    _query("account", {"type": "string"}),
                    _query("column", {"type": "string"}),
                    _query("status", STATUS, "entries of posts now in this status"),
                    _query("since", {"type": "string"}, "date or ISO 8601 time"),
                    _query("until", {"type": "string"}, "date (whole day) or ISO 8601 time"),
                    _query("post", {"type": "integer", "minimum": 1}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 5000}),
                ],
            )
        },
        "/api/report": {
            "get": _op(
                "Report figures for a period (the shape of `bot report --format json`)",
                {"200": _answer("The report", {"type": "object"})},
                tag="reports",
                parameters=[
                    _query("from", {"type": "string", "format": "date"}),
                    _query("to", {"type": "string", "format": "date"}),
                    _query("period", {"type": "string"}, "2024-01, 2024-Q1, 2024 or a campaign"),
                    _query("column", {"type": "string"}),
                    _query("timezone", {"type": "string"}),
                ],
            )
        },
        "/api/schedules": {
            "get": _op(
                "Schedules with their next fire times",
                {"200": _answer("Schedules", {"type": "array", "items": _ref("Schedule")})},
                tag="schedules",
            )
        },
        "/api/accounts": {
            "get": _op(
                "Each account's health: token, quota used and left today, parking, last error",
                {"200": _answer("Accounts", {"type": "array", "items": _ref("AccountHealth")})},
                tag="accounts",
            )
        },
    }
    paths["/api/posts/{id}/preview"] = {
        "post": _op(
            "Send a post not yet published to a reviewer's WeChat (message/mass/preview; "
            "reviewer). Without an openid the account's preview_openid is used; 400 when "
            "neither is set",
            {
                "200": _answer("Sent", _ref("Preview")),
                **NOT_FOUND,
                "409": _answer("The post is publishing or published", _ref("Error")),
                "502": _answer("The platform refused the preview", _ref("Error")),
                "503": _answer("The platform is busy; try again later", _ref("Error")),
            },
            tag="posts",
            parameters=[POST_ID],
            requestBody=_body(
                {
                    "type": "object",
                    "properties": {
                        "openid": {
                            "type": "string",
                            "maxLength": 64,
                            "pattern": "^[A-Za-z0-9_-]*$",
                            "description": "the reviewer's openid; empty: the account default",
                        }
                    },
                }
            ),
        )
    }
    for verb in ("pause", "resume"):
        paths[f"/api/schedules/{{name}}/{verb}"] = {
            "post": _op(
                f"{verb.capitalize()} a schedule (admin)",
                {"200": _answer("Done", {"type": "object"}), **NOT_FOUND},
                tag="schedules",
                parameters=[SCHEDULE],
            )
        }
    for action, props in ACTION_BODIES.items():
        paths[f"/api/posts/{{id}}/{action}"] = {
            "post": _op(
                ACTION_SUMMARIES[action],
                {"200": _answer("The post", _ref("Post")), **NOT_FOUND, **CONFLICT},
                tag="posts",
                parameters=[POST_ID],
                requestBody=_body({"type": "object", "properties": props}),
            )
        }
    return paths


SCHEMAS: dict[str, Any] = {
    "Finding": {
        "type": "object",
        "required": ["code", "severity", "field", "message"],
        "properties": {
            "code": {"type": "string"},
            "severity": {"type": "string", "enum": ["error", "warning", "fixed"]},
            "field": {"type": "string"},
            "article": {"type": ["integer", "null"]},
            "position": {"type": ["integer", "null"]},
            "line": {"type": ["integer", "null"]},
            "column": {"type": ["integer", "null"]},
            "excerpt": {"type": "string"},
            "message": {"type": "string"},
            "message_en": {"type": "string"},
            "message_zh": {"type": "string"},
            "fix": {"type": "string"},
            "fix_en": {"type": "string"},
            "fix_zh": {"type": "string"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
        },
    },
    "Me": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "role": {"type": "string"},
            "via": {"type": "string"},
        },
    },
    "Post": {
        "type": "object",
        "required": [
            "id",
            "column",
            "title",
            "status",
            "scheduled_for",
            "published_at",
            "article_url",
            "attempts",
            "error",
        ],
        "properties": {
            "id": {"type": "integer"},
            "column": {"type": "string"},
            "account": {"type": "string"},
            "title": {"type": "string"},
            "status": STATUS,
            "scheduled_for": {**NULLABLE_STR, "format": "date-time"},
            "published_at": {**NULLABLE_STR, "format": "date-time"},
            "article_url": NULLABLE_STR,
            "attempts": {"type": "integer"},
            "error": NULLABLE_STR,
            "errcode": {"type": ["integer", "null"]},
            "needs_attention": {"type": "boolean"},
            "priority": {"type": "integer"},
            "resources": {"type": "array", "items": {"type": "string"}},
            "version": {
                "type": "string",
                "description": "a digest of the content; approving names the version read",
            },
            "created_by": NULLABLE_STR,
            "edited_by": NULLABLE_STR,
            "markdown": {"type": "string"},
            "content_html": {"type": "string"},
            "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
            "article_count": {"type": "integer", "minimum": 1, "maximum": 8},
            "articles": {
                "type": "array",
                "description": "every article of the push, the headline first",
                "items": _ref("Article"),
            },
        },
    },
    "Article": {
        "type": "object",
        "required": ["number", "title"],
        "properties": {
            "number": {"type": "integer", "minimum": 1, "maximum": 8},
            "title": {"type": "string"},
            "author": {"type": "string"},
            "digest": {"type": "string"},
            "content_source_url": {"type": "string"},
            "cover": {"type": "string"},
            "resources": {"type": "array", "items": {"type": "string"}},
            "article_url": NULLABLE_STR,
            "markdown": {"type": "string"},
            "content_html": {"type": "string"},
        },
    },
    "Preview": {
        "type": "object",
        "required": ["id", "msg_id"],
        "properties": {
            "id": {"type": "integer", "description": "the post"},
            "msg_id": {"type": "string", "description": "the platform's id; may be empty"},
        },
    },
    "Resource": {
        "type": "object",
        "required": ["id", "kind", "title"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "url": {"type": "string"},
            "cover": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "source": {"type": "string"},
            "cover_problem": {
                "type": "string",
                "description": "why drafting could not load the cover (empty when it could); "
                "automatic drafts pass the resource over until an import changes its cover",
            },
        },
    },
    "ImportOutcome": {
        "type": "object",
        "properties": {
            "file": {"type": "string"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "error": NULLABLE_STR,
        },
    },
    "LogEntry": {
        "type": "object",
        "required": ["id", "at", "step", "outcome"],
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "post_id": {"type": ["integer", "null"]},
            "account": NULLABLE_STR,
            "column": NULLABLE_STR,
            "step": {"type": "string"},
            "outcome": {"type": "string"},
            "errcode": {"type": ["integer", "null"]},
            "latency_ms": {"type": ["integer", "null"]},
            "detail": {"type": "string"},
        },
    },
    "Schedule": {
        "type": "object",
        "properties": {
            "schedule": {"type": "string"},
            "column": {"type": "string"},
            "paused": {"type": "boolean"},
            "next": {"type": "array", "items": {"type": "string", "format": "date-time"}},
        },
    },
    "AccountHealth": {
        "type": "object",
        "properties": {
            "account": {"type": "string"},
            "token_present": {"type": "boolean"},
            "token_expires_at": NULLABLE_STR,
            "parked_until": NULLABLE_STR,
            "last_error": {"type": "string"},
            "quota": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "endpoint": {"type": "string"},
                        "used": {"type": "integer"},
                        "limit": {"type": ["integer", "null"]},
                        "left": {"type": ["integer", "null"]},
                    },
                },
            },
        },
    },
}


def build_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Publishing service API",
            "version": "1",
            "description": (
                "Send `Authorization: Bearer TOKEN` (from `bot token create NAME`). Errors are "
                '`{"error": "..."}` with the HTTP status of the failure.'
            ),
        },
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


DOCUMENT = build_document()


async def document(request: web.Request) -> web.Response:
    return web.json_response(DOCUMENT)
