"""CI's required services: with BOT_TEST_REQUIRE_PG / BOT_TEST_REQUIRE_BROWSER set, a test that
needs PostgreSQL or Chromium fails instead of skipping, whatever made it skip; other skips stay
skips. Runs a small pytest session in a subprocess with the hooks of tests/require.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = """
import pytest

@pytest.mark.browser
@pytest.mark.skipif(True, reason="Debian's chromium (/usr/bin/chromium) is not installed")
def test_marked_browser():
    pass

def test_needs_playwright():
    pytest.importorskip("playwright_is_not_installed_here")

@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request):
    if request.param == "postgres":
        pytest.skip("no server answered")
    return "sqlite://"

def test_on_each_database(database_url):
    assert database_url

def test_names_postgresql_in_its_reason():
    pytest.skip("PostgreSQL not reachable at BOT_TEST_PG_URL")

def test_unrelated_skip():
    pytest.skip("nothing to do with a service")
"""


def _outcomes(tmp_path: Path, **env: str) -> dict[str, str]:
    (tmp_path / "conftest.py").write_text(
        "from tests.require import pytest_collection_modifyitems, pytest_runtest_makereport\n",
        encoding="utf-8",
    )
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    browser: b\n    postgres: p\n",
        encoding="utf-8",
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BOT_TEST_REQUIRE_PG", "BOT_TEST_REQUIRE_BROWSER")
    }
    report = tmp_path / "report.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = {
        case.get("name", ""): _status(case) for case in ElementTree.parse(report).iter("testcase")
    }
    assert len(found) == 6, done.stdout + done.stderr
    return found


def _status(case: ElementTree.Element) -> str:
    for tag, status in (("failure", "FAILED"), ("error", "ERROR"), ("skipped", "SKIPPED")):
        if case.find(tag) is not None:
            return status
    return "PASSED"


def test_without_requirements_every_service_test_skips(tmp_path: Path) -> None:
    assert _outcomes(tmp_path) == {
        "test_marked_browser": "SKIPPED",
        "test_needs_playwright": "SKIPPED",
        "test_on_each_database[sqlite]": "PASSED",
        "test_on_each_database[postgres]": "SKIPPED",
        "test_names_postgresql_in_its_reason": "SKIPPED",
        "test_unrelated_skip": "SKIPPED",
    }


@pytest.mark.parametrize(
    ("variable", "failing"),
    [
        (
            "BOT_TEST_REQUIRE_PG",
            {"test_on_each_database[postgres]", "test_names_postgresql_in_its_reason"},
        ),
        ("BOT_TEST_REQUIRE_BROWSER", {"test_marked_browser", "test_needs_playwright"}),
    ],
)
def test_a_required_service_turns_its_skips_into_failures(
    tmp_path: Path, variable: str, failing: set[str]
) -> None:
    outcomes = _outcomes(tmp_path, **{variable: "1"})
    # A skip in a fixture becomes an error of the setup, one in the test a failure.
    assert {name for name, status in outcomes.items() if status in ("FAILED", "ERROR")} == failing
    assert outcomes["test_unrelated_skip"] == "SKIPPED"
    assert outcomes["test_on_each_database[sqlite]"] == "PASSED"
