"""Required services: CI sets ``BOT_TEST_REQUIRE_PG=1`` and ``BOT_TEST_REQUIRE_BROWSER=1``, and then
a test that needs PostgreSQL or Chromium must not skip; its skip is reported as a failure.

A test needs PostgreSQL when it is marked ``postgres``, when it runs with the ``postgres``
parameter of the ``database_url`` fixture (marked here at collection), or when its skip names
PostgreSQL; it needs Chromium when it is marked ``browser`` or its skip names Chromium or
Playwright. Whatever made it skip (``skipif``, ``importorskip``, an unreachable server), the
reason is kept in the failure.

tests/conftest.py imports these hooks; a test of them loads this module as a plugin.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable

import pytest

# (environment variable, marker, words in a skip reason that name the service, what it is)
REQUIREMENTS = (
    ("BOT_TEST_REQUIRE_PG", "postgres", ("postgresql", "bot_test_pg_url"), "PostgreSQL"),
    ("BOT_TEST_REQUIRE_BROWSER", "browser", ("chromium", "playwright"), "Chromium"),
)
# Fixture parameters that mean "this run uses PostgreSQL".
_PG_PARAMS = {"postgres", "postgresql"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            continue
        if _PG_PARAMS & {v for v in callspec.params.values() if isinstance(v, str)}:
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    for variable, marker, words, service in REQUIREMENTS:
        if not os.environ.get(variable):
            continue
        if item.get_closest_marker(marker) or _names(reason, words):
            report.outcome = "failed"
            report.longrepr = (
                f"{service} is required ({variable} is set) but the test skipped: {reason}"
            )
            return


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _names(reason: str, words: Iterable[str]) -> bool:
    lowered = reason.lower()
    return any(word in lowered for word in words)
