"""The command line as a user runs it (contract "Command line"): the real ``bot`` script as a
subprocess against a project directory and the simulator, checking exit codes, stdout as one
JSON document, one-line errors on stderr, and what each command left in the database."""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content.sample import SAMPLE_CATALOGUE
from tests.e2e.conftest import (
    COLUMN,
    ISO_WITH_OFFSET,
    Project,
    Simulator,
    bot_env,
    config_text,
    http_json,
    run_bot,
)

FAST = {"poll_first_seconds": 0.3, "poll_max_seconds": 1, "tick_seconds": 0.3}
POST_KEYS = {
    "id",
    "column",
    "title",
    "status",
    "scheduled_for",
    "published_at",
    "article_url",
    "attempts",
    "error",
}


def sample_rows() -> list[dict[str, str]]:
    text = SAMPLE_CATALOGUE.read_bytes().decode("gb18030")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory, simulator: Simulator) -> Iterator[Project]:
    """One project for the module: schema created and the sample catalogue imported."""
    project = Project(tmp_path_factory.mktemp("cli") / "project", simulator.url)
    project.write_config(publisher=FAST)
    upgrade = project.run("db", "upgrade")
    assert upgrade.code == 0, upgrade.stderr
    imported = project.run("catalogue", "import", str(SAMPLE_CATALOGUE))
    assert imported.code == 0, imported.stderr
    assert f"{len(sample_rows())} created, 0 updated" in imported.stdout
    yield project


def draft_now(project: Project, *extra: str) -> dict:
    result = project.run("draft", "--column", COLUMN, "--at", "now", "--json", *extra)
    post = result.json()
    assert isinstance(post, dict)
    return post


# --- schema and catalogue -------------------------------------------------------------------


def test_db_upgrade_is_idempotent(project: Project) -> None:
    first, second = project.run("db", "upgrade"), project.run("db", "upgrade")
    assert first.code == second.code == 0
    assert first.stdout == second.stdout == ""
    assert "revision" in first.error_line and first.error_line == second.error_line
    assert project.run("queue", "list", "--json").json() == []


def test_the_gbk_sample_lists_as_one_json_document(ready: Project) -> None:
    everything, courses = ready.run_all(
        ["catalogue", "list", "--json"], ["catalogue", "list", "--kind", "course", "--json"]
    )
    items = everything.json()
    expected = {row["id"]: row for row in sample_rows()}
    assert {item["id"] for item in items} == set(expected)
    for item in items:  # decoded from GBK, not mojibake
        assert item["title"] == expected[item["id"]]["title"]
        assert item["kind"] == expected[item["id"]]["kind"]
    assert {c["id"] for c in courses.json()} == {
        i for i, row in expected.items() if row["kind"] == "course"
    }


def test_reimporting_updates_by_id(ready: Project) -> None:
    again = ready.run("catalogue", "import", str(SAMPLE_CATALOGUE))
    assert again.code == 0
    assert f"0 created, {len(sample_rows())} updated" in again.stdout


def test_a_bad_file_names_file_line_and_field_and_imports_nothing(
    ready: Project, tmp_path: Path
) -> None:
    bad = tmp_path / "新目录.csv"
    bad.write_bytes(
        "id,kind,title,summary\n"
        "e2e-good-1,exhibit,第一个好展馆,简介\n"
        "e2e-good-2,exhibit,第二个好展馆,简介\n"
        "e2e-bad-3,planet,坏的一行,简介\n".encode("gbk")
    )
    result = ready.run("catalogue", "import", str(bad))
    assert result.code == 1 and result.stdout == ""
    line = result.error_line
    assert "新目录.csv:4" in line and "kind" in line and "planet" in line
    ids = {item["id"] for item in ready.run("catalogue", "list", "--json").json()}
    assert not ids & {"e2e-good-1", "e2e-good-2", "e2e-bad-3"}


# --- drafting and the queue -----------------------------------------------------------------


def test_draft_now_queues_a_post_and_queue_list_has_the_contract_shape(ready: Project) -> None:
    before = datetime.now().astimezone()
    post = draft_now(ready)
    assert post["status"] == "queued" and post["column"] == COLUMN
    due = datetime.fromisoformat(post["scheduled_for"])
    assert before - timedelta(seconds=5) <= due <= datetime.now().astimezone()
    listing = ready.run("queue", "list", "--json").json()
    assert isinstance(listing, list)
    (shown,) = [p for p in listing if p["id"] == post["id"]]
    assert set(shown) >= POST_KEYS
    assert shown["title"] == post["title"] and shown["attempts"] == 0
    assert shown["published_at"] is None and shown["article_url"] is None
    for entry in listing:
        for key in ("scheduled_for", "published_at"):
            if entry[key] is not None:
                assert re.match(ISO_WITH_OFFSET, entry[key]), entry[key]


def test_draft_with_an_unknown_resource_creates_nothing(ready: Project) -> None:
    before = ready.run("queue", "list", "--json").json()
    result = ready.run("draft", "--column", COLUMN, "--resource", "no-such-resource", "--json")
    assert result.code == 1 and result.stdout == ""
    assert "no-such-resource" in result.error_line
    assert ready.run("queue", "list", "--json").json() == before


def test_review_actions_on_wrong_states_exit_1(ready: Project) -> None:
    post = draft_now(ready)
    pid = str(post["id"])
    approve, retry, unknown = ready.run_all(
        ["queue", "approve", pid], ["queue", "retry", pid], ["queue", "cancel", "999999"]
    )
    for result in (approve, retry, unknown):
        assert result.code == 1 and result.stdout == ""
        assert result.error_line.startswith("error: ")
    assert "999999" in unknown.error_line
    cancelled = ready.run("queue", "cancel", pid, "--json").json()
    assert cancelled["status"] == "cancelled"
    again, shown = ready.run_all(["queue", "cancel", pid], ["queue", "show", pid, "--json"])
    assert again.code == 1 and again.error_line.startswith("error: ")
    assert shown.json()["status"] == "cancelled"


# --- publishing, the log and reports --------------------------------------------------------


def test_publish_due_publishes_against_the_simulator_and_log_and_reports_agree(
    ready: Project, simulator: Simulator
) -> None:
    mine = [draft_now(ready), draft_now(ready)]
    result = ready.run("publish", "--due", "--json", timeout=90)
    done = {p["id"]: p for p in result.json()}
    for post in mine:
        assert done[post["id"]]["status"] == "published", done[post["id"]]
        assert done[post["id"]]["article_url"].startswith("https://")
        assert re.match(ISO_WITH_OFFSET, done[post["id"]]["published_at"])
    counts = Counter(simulator.published_titles())
    assert all(counts[p["title"]] == 1 for p in mine)

    published = ready.run("queue", "list", "--status", "published", "--json").json()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    period = ["--from", str(today - timedelta(days=1)), "--to", str(today + timedelta(days=1))]
    log, as_json, as_csv, as_md, as_text = ready.run_all(
        ["log", "--json"],
        ["report", *period, "--format", "json"],
        ["report", *period, "--format", "csv"],
        ["report", *period, "--format", "md"],
        ["report", *period, "--format", "text"],
    )
    entries = log.json()
    for post in mine:
        steps = {e["step"] for e in entries if e["post_id"] == post["id"]}
        assert {"draft/add", "freepublish/submit", "transition"} <= steps, steps
    assert all(re.match(ISO_WITH_OFFSET, e["at"]) for e in entries)

    total = len(published)
    report = as_json.json()
    assert report["posts_published"] == total
    assert [c["posts_published"] for c in report["columns"] if c["column"] == COLUMN] == [total]
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {r["column"]: int(r["posts_published"]) for r in rows}[COLUMN] == total
    assert re.search(rf"\|\s*{COLUMN}\s*\|\s*main\s*\|\s*{total}\s*\|", as_md.stdout)
    assert f"{total}篇" in as_text.stdout or f"{total} post" in as_text.stdout


# --- usage errors, configuration lookup -----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["queue"],
        ["draft"],
        ["queue", "approve", "not-a-number"],
        ["publish"],
        ["report", "--format", "pdf"],
    ],
    ids=["no-command", "unknown-command", "no-action", "no-column", "bad-id", "no-due", "format"],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    result = run_bot(args, cwd=tmp_path)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.strip()
    assert not list(tmp_path.iterdir())  # no database, no config written


def test_a_missing_config_is_one_line_and_exit_1(tmp_path: Path) -> None:
    explicit, implicit = (
        run_bot(["--config", str(tmp_path / "nope.toml"), "queue", "list"], cwd=tmp_path),
        run_bot(["queue", "list", "--json"], cwd=tmp_path),
    )
    assert explicit.code == implicit.code == 1
    assert explicit.stdout == implicit.stdout == ""
    assert "nope.toml" in explicit.error_line and "not found" in explicit.error_line
    assert "config.toml" in implicit.error_line and "not found" in implicit.error_line
    assert not list(tmp_path.iterdir())


def test_config_is_found_at_option_then_environment_then_working_directory(
    tmp_path: Path, simulator: Simulator
) -> None:
    for name in ("option", "environment", "cwd"):
        (tmp_path / name).mkdir()
        url = f"sqlite+aiosqlite:///{tmp_path / name / 'bot.db'}"
        text = config_text(database_url=url, api_base=simulator.url)
        target = tmp_path / "cwd" / "config.toml" if name == "cwd" else tmp_path / f"{name}.toml"
        target.write_text(text, encoding="utf-8")
    cwd = tmp_path / "cwd"
    with_env = bot_env(BOT_CONFIG=str(tmp_path / "environment.toml"))

    def databases() -> set[str]:
        return {
            name
            for name in ("option", "environment", "cwd")
            if (tmp_path / name / "bot.db").exists()
        }

    option = run_bot(
        ["--config", str(tmp_path / "option.toml"), "db", "upgrade"], cwd=cwd, env=with_env
    )
    assert option.code == 0 and databases() == {"option"}
    environment = run_bot(["db", "upgrade"], cwd=cwd, env=with_env)
    assert environment.code == 0 and databases() == {"option", "environment"}
    working_dir = run_bot(["db", "upgrade"], cwd=cwd)
    assert working_dir.code == 0 and databases() == {"option", "environment", "cwd"}


# --- users and tokens -----------------------------------------------------------------------


def test_user_add_reads_the_password_from_the_environment_and_a_token_opens_the_api(
    project: Project,
) -> None:
    upgrade, no_password = project.run_all(
        ["db", "upgrade"], ["user", "add", "alice", "--role", "editor"]
    )
    assert upgrade.code == 0
    assert no_password.code == 1 and "BOT_NEW_PASSWORD" in no_password.error_line
    env = {**project.env, "BOT_NEW_PASSWORD": "a long enough password"}
    added = project.run("user", "add", "alice", "--role", "editor", env=env)
    assert added.code == 0 and added.stdout == ""
    env["BOT_NEW_PASSWORD"] = "another long password"
    changed = project.run("user", "passwd", "alice", env=env)
    nobody = project.run("user", "passwd", "bob", env=env)
    assert changed.code == 0 and "alice" in changed.stderr
    assert nobody.code == 1 and "bob" in nobody.error_line
    token, stranger = project.run_all(["token", "create", "alice"], ["token", "create", "bob"])
    assert token.code == 0 and len(token.stdout.splitlines()) == 1
    assert stranger.code == 1 and "bob" in stranger.error_line
    bearer = token.stdout.strip()

    serve = project.serve()
    try:
        me = http_json("GET", f"{serve.url}/api/me", headers={"Authorization": f"Bearer {bearer}"})
        assert me["name"] == "alice" and me["role"] == "editor"
        request = urllib.request.Request(
            f"{serve.url}/api/me", headers={"Authorization": "Bearer not-a-token"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 401
    finally:
        serve.stop()
