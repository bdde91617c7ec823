"""The OpenAPI document against the app: every /api/ route is documented and every documented
operation is routed; schemathesis, with a bounded number of examples per operation, finds no
5xx answer and no answer that breaks the documented response schemas."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from bot.web.keys import ACCESS
from bot.web.openapi import DOCUMENT
from tests.integration.web_rig import (
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    safe_rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)

EXAMPLES = 8  # per operation: enough to shake out crashes, small enough to stay fast


def _documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_api_route_is_documented_and_every_documented_route_exists(tmp_path: Path) -> None:
    from bot.web.routes import API, ROUTES

    routed = set()
    for route in ROUTES:
        if route.path.startswith("/api/"):
            # The router's canonical form drops the regular expressions of path parameters.
            routed.add((route.method, route.path.replace(r"{id:\d+}", "{id}")))
    assert routed == _documented()
    assert all(r.path.startswith("/api/") for r in API)


async def test_the_router_agrees_with_the_document(rig: WebRig) -> None:
    routed = {(m, p) for (m, p) in rig.app[ACCESS] if p.startswith("/api/")}
    assert routed == _documented()
    served = await (await rig.client.get("/api/openapi.json", headers=rig.bearer("editor"))).json()
    assert served["openapi"].startswith("3.")
    assert set(served["paths"]) == {p for _, p in routed}


def _fuzz(base_url: str, headers: dict[str, str]) -> list[str]:
    """Every operation with EXAMPLES generated cases; returns the failures found."""
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = cast(Any, result).ok()  # an invalid operation raises here, loudly

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(
                base_url=base_url,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            run()
        except Exception as exc:  # collect them all, then report them together
            failures.append(f"{operation.label}: {exc}")
    return failures


async def test_schemathesis_finds_no_server_error(rig: WebRig) -> None:
    await rig.import_catalogue()
    response = await rig.client.post(
        "/api/posts",
        json={"column": "快讯", "resources": ["course-001"]},
        headers=rig.bearer("admin"),
    )
    assert response.status == 201
    base_url = str(rig.client.make_url("")).rstrip("/")
    # schemathesis calls with a blocking HTTP client: run it in a thread so this loop serves.
    failures = await asyncio.to_thread(_fuzz, base_url, rig.bearer("admin"))
    assert not failures, "\n\n".join(failures)
