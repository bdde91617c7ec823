"""A corpus of bad inputs at the outer edges: configuration files and arguments through the
real command line (``bot.cli.main`` in this process), JSON API payloads and callback bodies
through the real web app. Each must be refused with one line that says what is wrong, and
leave the database exactly as it was (or not create it at all)."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientResponse
from PIL import Image

from bot.account.callback import PublishJobFinish, render_event, url_signature
from bot.cli import main
from bot.domain.models import PostStatus
from bot.store import db
from bot.store import posts as post_store
from tests.integration.web_rig import (
    CALLBACK_TOKEN,
    Template,
    WebRig,
    web_rig,
)
from tests.integration.web_rig import template_fixture as template_fixture  # the fixture

SECRET_ENV = "BOT_BAD_INPUTS_SECRET"
SECRET = "never-show-this-secret-value"
GOOD_ACCOUNT = f'name = "main"\nappid = "wx0000000000000001"\nsecret_env = "{SECRET_ENV}"\n'
GOOD_COLUMN = 'name = "学习平台"\naccount = "main"\n'
CATALOGUE = "id,kind,title,summary\nexhibit-1,exhibit,线上展馆,一座展馆的简介\n"
# The tables a refused request must not touch (counters and login throttles may move).
CONTENT_TABLES = (
    "resources",
    "posts",
    "post_resources",
    "publish_log",
    "slots",
    "callback_events",
    "users",
    "media_cache",
)


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        lines = self.err.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {self.err!r}"
        return lines[0]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def content(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the content tables, to compare before and after."""
    with sqlite3.connect(database) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in CONTENT_TABLES}


def config_file(tmp: Path, body: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def database_section(tmp: Path) -> str:
    return f'[database]\nurl = "sqlite+aiosqlite:///{tmp / "bot.db"}"\n'


def good_config(tmp: Path) -> str:
    return f"{database_section(tmp)}[[accounts]]\n{GOOD_ACCOUNT}[[columns]]\n{GOOD_COLUMN}"


@pytest.fixture(autouse=True)
def secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv("BOT_CONFIG", raising=False)
    monkeypatch.delenv("BOT_NEW_PASSWORD", raising=False)


# --- configuration files --------------------------------------------------------------------

BAD_CONFIGS: list[tuple[str, str, str]] = [
    # (id, text with {db} for the database section, what the error line must contain)
    (
        "unknown-top-key",
        "{db}[databse]\nurl = 'x'\n[[accounts]]\n{acc}[[columns]]\n{col}",
        "databse",
    ),
    (
        "unknown-account-key",
        "{db}[[accounts]]\n{acc}secrett = 'x'\n[[columns]]\n{col}",
        "accounts[0].secrett",
    ),
    ("wrong-type", "{db}[[accounts]]\n{acc}[[columns]]\n{col}[web]\nport = '8080'\n", "web.port"),
    (
        "bad-timezone",
        "{db}[[accounts]]\n{acc}timezone = 'Mars/Olympus'\n[[columns]]\n{col}",
        "Mars/Olympus",
    ),
    (
        "column-unknown-account",
        "{db}[[accounts]]\n{acc}[[columns]]\nname = '学习平台'\naccount = 'nobody'\n",
        "columns[0].account",
    ),
    (
        "unsupported-driver",
        "[database]\nurl = 'mysql+aiomysql://u@h/db'\n[[accounts]]\n{acc}[[columns]]\n{col}",
        "database.url",
    ),
    (
        "not-a-url",
        "[database]\nurl = 'bot.db'\n[[accounts]]\n{acc}[[columns]]\n{col}",
        "database.url",
    ),
    ("toml-syntax", "{db}[[accounts]\n{acc}", "not valid TOML"),
    ("no-columns", "{db}[[accounts]]\n{acc}", "[[columns]]"),
    (
        "duplicate-columns",
        "{db}[[accounts]]\n{acc}[[columns]]\n{col}[[columns]]\n{col}",
        "must be unique",
    ),
    (
        "lease-too-short",
        "{db}[[accounts]]\n{acc}[[columns]]\n{col}[publisher]\nlease_seconds = 1\n",
        "publisher.lease_seconds",
    ),
    (
        "campaign-backwards",
        "{db}[[accounts]]\n{acc}[[columns]]\n{col}"
        "[[campaigns]]\nname = 'x'\nstart = 2024-02-01\nend = 2024-01-01\n",
        "campaigns[0].end",
    ),
    (
        "port-too-big",
        "{db}[[accounts]]\n{acc}[[columns]]\n{col}[web]\nport = 70000\n",
        "web.port",
    ),
    (
        "empty-secret-in-file",
        "{db}[[accounts]]\nname = 'main'\nappid = 'wx1'\nsecret = ''\n[[columns]]\n{col}",
        "accounts[0].secret",
    ),
    (
        "negative-cooldown",
        "{db}[[accounts]]\n{acc}[[columns]]\n{col}cooldown_days = -1\n",
        "columns[0].cooldown_days",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_a_bad_config_file_is_one_line_and_creates_no_database(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = text.format(db=database_section(tmp_path), acc=GOOD_ACCOUNT, col=GOOD_COLUMN)
    path = config_file(tmp_path, body)
    result = run_cli(capsys, "--config", str(path), "db", "upgrade")
    assert result.code == 1 and result.out == ""
    assert result.line.startswith("error: ") and expected in result.line
    assert SECRET not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_a_secret_not_set_stops_only_the_commands_that_use_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        f"{database_section(tmp_path)}[[accounts]]\nname = 'main'\nappid = 'wx1'\n"
        f"secret_env = 'BOT_TEST_NO_SUCH_VAR'\napi_base = 'http://127.0.0.1:9'\n"
        f"[[columns]]\n{GOOD_COLUMN}"
    )
    path = config_file(tmp_path, body)
    assert run_cli(capsys, "--config", str(path), "db", "upgrade").code == 0
    assert run_cli(capsys, "--config", str(path), "queue", "list").code == 0
    # A command that calls the platform needs the secret, and says which variable to set.
    sync = run_cli(capsys, "--config", str(path), "sync")
    assert sync.code == 1 and sync.line.startswith("error: ")
    assert "BOT_TEST_NO_SUCH_VAR is not set" in sync.line


def test_a_config_that_is_not_utf8_or_not_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gbk = tmp_path / "gbk.toml"
    # (学习平台 alone happens to be valid UTF-8 in GBK; 团区委 is not)
    gbk.write_bytes((good_config(tmp_path) + 'author = "团区委"\n').encode("gbk"))
    result = run_cli(capsys, "--config", str(gbk), "db", "upgrade")
    assert result.code == 1 and "gbk.toml" in result.line and "not valid TOML" in result.line
    folder = run_cli(capsys, "--config", str(tmp_path), "queue", "list")
    assert folder.code == 1 and "cannot read" in folder.line
    assert not (tmp_path / "bot.db").exists()


# --- command-line arguments against a working project ---------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project with its schema and a one-line catalogue; yields the config path."""
    tmp = tmp_path_factory.mktemp("bad-inputs")
    (tmp / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    path = config_file(tmp, good_config(tmp))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, SECRET)
        assert main(["--config", str(path), "db", "upgrade"]) == 0
        assert main(["--config", str(path), "catalogue", "import", str(tmp / "catalogue.csv")]) == 0
    yield path


BAD_ARGUMENTS: list[tuple[str, list[str], str]] = [
    # "tomorrow", "06:15" and "明天 8:00" are times people type; these are not.
    ("at-word", ["draft", "--column", "学习平台", "--at", "someday"], "'someday'"),
    ("at-empty", ["draft", "--column", "学习平台", "--at", ""], "not a date or time"),
    ("at-impossible-date", ["draft", "--column", "学习平台", "--at", "2024-13-45"], "2024-13-45"),
    ("unknown-column", ["draft", "--column", "不存在"], "不存在"),
    ("report-bad-day", ["report", "--from", "2024-02-30", "--to", "2024-03-01"], "2024-02-30"),
    ("report-backwards", ["report", "--from", "2024-03-01", "--to", "2024-02-01"], "before"),
    ("report-bad-period", ["report", "--period", "2024-13"], "2024-13"),
    ("report-no-period", ["report"], "--from"),
    ("report-bad-timezone", ["report", "--period", "2024", "--timezone", "Mars/Base"], "Mars/Base"),
    (
        "report-unknown-column",
        ["report", "--from", "2024-01-01", "--to", "2024-01-31", "--column", "不存在"],
        "不存在",
    ),
    ("log-since-word", ["log", "--since", "lately"], "'lately'"),
    ("unknown-kind", ["catalogue", "list", "--kind", "planet"], "planet"),
    ("import-missing-file", ["catalogue", "import", "/nonexistent/目录.csv"], "目录.csv"),
    ("unknown-post", ["queue", "show", "999999"], "999999"),
    ("token-unknown-user", ["token", "create", "nobody"], "nobody"),
]


@pytest.mark.parametrize(
    ("args", "expected"), [c[1:] for c in BAD_ARGUMENTS], ids=[c[0] for c in BAD_ARGUMENTS]
)
def test_bad_arguments_are_one_line_and_change_nothing(
    args: list[str], expected: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = content(project.parent / "bot.db")
    result = run_cli(capsys, "--config", str(project), *args)
    assert result.code == 1 and result.out == ""
    assert result.line.startswith("error: ") and expected in result.line
    assert content(project.parent / "bot.db") == before


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("sheet.xlsx", b"PK\x03\x04", "not an Excel workbook"),
        ("sheet.xls", b"\xd0\xcf\x11\xe0", "unsupported file type '.xls'"),
        ("empty.csv", b"", "empty"),
        ("object.json", b'{"id": "x"}', "array"),
        ("bad-kind.csv", "id,kind,title\nx-1,exhibit,好\nx-2,planet,坏\n".encode("gbk"), ":3"),
    ],
)
def test_bad_catalogue_files_import_nothing(
    name: str,
    data: bytes,
    expected: str,
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = content(project.parent / "bot.db")
    path = tmp_path / name
    path.write_bytes(data)
    result = run_cli(capsys, "--config", str(project), "catalogue", "import", str(path))
    assert result.code == 1 and name in result.line and expected in result.line
    assert content(project.parent / "bot.db") == before


def test_a_short_password_creates_no_user(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = content(project.parent / "bot.db")
    monkeypatch.setenv("BOT_NEW_PASSWORD", "short")
    result = run_cli(capsys, "--config", str(project), "user", "add", "eve", "--role", "admin")
    assert result.code == 1 and "password" in result.line and "short" not in result.line
    assert content(project.parent / "bot.db") == before


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--port", "99999"],
        ["simulator", "--port", "0x50"],
        ["log", "--limit", "0"],
        ["queue", "list", "--status", "bogus"],
    ],
    ids=["serve-port", "simulator-port", "log-limit", "status"],
)
def test_out_of_range_options_are_usage_errors(
    args: list[str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = content(project.parent / "bot.db")
    result = run_cli(capsys, "--config", str(project), *args)
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines()[-1].startswith("bot ")  # argparse's "bot …: error: …"
    assert content(project.parent / "bot.db") == before


def test_a_post_whose_cover_cannot_be_read_fails_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A local cover outside the allowed directories fails the attempt (no API call) instead
    of escaping the publisher as a bug and being retried every tick."""
    body = good_config(tmp_path).replace(
        'secret_env = "', 'api_base = "http://127.0.0.1:9"\nsecret_env = "'
    )
    path = config_file(tmp_path, body)
    assert run_cli(capsys, "--config", str(path), "db", "upgrade").code == 0
    outside = tmp_path / "elsewhere" / "cover.jpg"
    outside.parent.mkdir()
    Image.new("RGB", (470, 200)).save(outside, "JPEG")
    asyncio.run(_insert_queued_post(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", outside))
    result = run_cli(
        capsys, "--config", str(path), "publish", "--due", "--json", "--max-wait", "20"
    )
    assert result.code == 0, result.err
    (post,) = json.loads(result.out)
    assert post["status"] == "failed" and post["attempts"] == 1
    assert "cover" in post["error"] and "\n" not in post["error"]


async def _insert_queued_post(url: str, cover: Path) -> None:
    engine = db.open_engine(url)
    now = datetime.now(UTC)
    new = post_store.NewPost(
        column="学习平台",
        account="main",
        title="封面读不到",
        author="",
        digest="",
        markdown="",
        content_html="<p>正文</p>",
        content_source_url="",
        cover=str(cover),
        delivery="publish",
        status=PostStatus.QUEUED,
        resources=[],
        scheduled_for=now,
    )
    try:
        async with engine.begin() as conn:
            await post_store.create(conn, new, now=now)
    finally:
        await engine.dispose()


# --- the JSON API and the callback, through the real web app --------------------------------


@dataclass
class Web:
    rig: WebRig
    post_id: int

    @property
    def database(self) -> Path:
        return self.rig.tmp / "bot.db"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def web(
    tmp_path_factory: pytest.TempPathFactory, web_template: Template
) -> AsyncIterator[Web]:
    """The web app on a real database and the simulator, with one queued post."""
    tmp = tmp_path_factory.mktemp("bad-web")
    cover = tmp / "cover.jpg"
    Image.new("RGB", (470, 200), (30, 90, 160)).save(cover, "JPEG")
    async with web_rig(tmp, cover, web_template) as rig:
        await rig.import_catalogue()
        response = await rig.client.post(
            "/api/posts",
            json={"column": "快讯", "resources": ["exhibit-001"], "at": "2030-01-01T08:00"},
            headers=rig.bearer("editor"),
        )
        assert response.status == 201, await response.text()
        yield Web(rig, (await response.json())["id"])


async def one_line_error(response: ClientResponse) -> str:
    body = await response.json()
    assert set(body) <= {"error", "findings"}, body
    assert isinstance(body["error"], str) and "\n" not in body["error"], body
    return body["error"]


BAD_API_CALLS: list[tuple[str, str, str, Any, int, str]] = [
    # (id, method, path with {id}, body (bytes: raw), status, what the error says)
    ("not-json", "POST", "/api/posts", b"{column: oops", 400, "not valid JSON"),
    ("json-array", "POST", "/api/posts", [{"column": "快讯"}], 400, "JSON object"),
    ("column-number", "POST", "/api/posts", {"column": 5}, 400, "column"),
    ("unknown-column", "POST", "/api/posts", {"column": "不存在"}, 400, "不存在"),
    ("at-word", "POST", "/api/posts", {"column": "快讯", "at": "someday"}, 400, "someday"),
    (
        "resources-numbers",
        "POST",
        "/api/posts",
        {"column": "快讯", "resources": [1]},
        400,
        "resources",
    ),
    (
        "unknown-resource",
        "POST",
        "/api/posts",
        {"column": "快讯", "resources": ["nope-9"]},
        404,
        "nope-9",
    ),
    ("reschedule-word", "POST", "/api/posts/{id}/reschedule", {"at": "nope"}, 400, "nope"),
    ("title-number", "PATCH", "/api/posts/{id}", {"title": 5}, 400, "title"),
    ("title-too-long", "PATCH", "/api/posts/{id}", {"title": "长" * 201}, 400, "title"),
    ("approve-queued", "POST", "/api/posts/{id}/approve", {}, 409, "review"),
    ("unknown-post", "POST", "/api/posts/99999/cancel", {}, 404, "99999"),
    ("report-bad-day", "GET", "/api/report?from=2024-99-01&to=2024-12-01", None, 400, "2024-99-01"),
    ("status-bogus", "GET", "/api/posts?status=bogus", None, 400, "bogus"),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "expected"),
    [c[1:] for c in BAD_API_CALLS],
    ids=[c[0] for c in BAD_API_CALLS],
)
async def test_bad_api_payloads_are_refused_in_one_line_and_change_nothing(
    method: str, path: str, body: Any, status: int, expected: str, web: Web
) -> None:
    before = content(web.database)
    kwargs: dict[str, Any] = {"headers": web.rig.bearer("admin")}
    if isinstance(body, bytes):
        kwargs["data"] = body
        kwargs["headers"] = {**kwargs["headers"], "Content-Type": "application/json"}
    elif body is not None:
        kwargs["json"] = body
    response = await web.rig.client.request(method, path.format(id=web.post_id), **kwargs)
    assert response.status == status, await response.text()
    assert expected in await one_line_error(response)
    assert content(web.database) == before


@pytest.mark.asyncio(loop_scope="module")
async def test_a_bad_catalogue_upload_imports_nothing(web: Web) -> None:
    before = content(web.database)
    bad = "id,kind,title\nnew-1,exhibit,新展馆\nnew-2,exhibit,\n".encode("gbk")
    response = await web.rig.client.post(
        "/api/catalogue/import",
        data={"file": _named(bad, "new-exhibits.csv")},
        headers=web.rig.bearer("editor"),
    )
    assert response.status == 422
    (outcome,) = await response.json()  # one outcome per file, saying which and why
    assert outcome["created"] == outcome["updated"] == 0
    error = outcome["error"]
    assert "\n" not in error and "new-exhibits.csv:3" in error and "title" in error
    assert content(web.database) == before


def _named(data: bytes, name: str) -> Any:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def signed(token: str = CALLBACK_TOKEN, **extra: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), "98765"  # pushes older than 5 minutes are refused
    query = {"timestamp": timestamp, "nonce": nonce}
    query["signature"] = url_signature(token, timestamp, nonce)
    query.update(extra)
    return query


def publish_event_xml() -> str:
    return render_event(
        PublishJobFinish("gh_51a0000000001", "oSIM", 1714000000, "2247483999", 0, "AID-1")
    )


BAD_CALLBACKS: list[
    tuple[str, str, Callable[[], dict[str, str]] | dict[str, str], bytes, int, str]
] = [
    # (id, account, query, body, status, what the error says)
    ("wrong-signature", "main", lambda: signed(token="not-the-token"), b"", 403, "signature"),
    ("no-nonce", "main", {"timestamp": "1", "signature": "x"}, b"", 400, "nonce"),
    ("unknown-account", "nobody", lambda: signed(), b"", 404, "no callback here"),
    (
        "doctype-entity",
        "main",
        lambda: signed(),
        b'<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><ToUserName>&a;</ToUserName></xml>',
        400,
        "DOCTYPE",
    ),
    (
        "oversize",
        "main",
        lambda: signed(),
        b"<xml>" + b"a" * (70 * 1024) + b"</xml>",
        413,
        "Too Large",
    ),
    ("not-utf8", "main", lambda: signed(), "<xml>坏</xml>".encode("gbk"), 400, "UTF-8"),
    ("malformed-xml", "main", lambda: signed(), b"<xml><ToUserName>", 400, "well-formed"),
    (
        "safe-mode-without-key",
        "main",
        lambda: signed(encrypt_type="aes", msg_signature="x"),
        b"<xml><Encrypt>abc</Encrypt></xml>",
        400,
        "aes_key",
    ),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("account", "query", "body", "status", "expected"),
    [c[1:] for c in BAD_CALLBACKS],
    ids=[c[0] for c in BAD_CALLBACKS],
)
async def test_bad_callback_pushes_are_refused_and_record_nothing(
    account: str,
    query: Callable[[], dict[str, str]] | dict[str, str],
    body: bytes,
    status: int,
    expected: str,
    web: Web,
) -> None:
    query = query() if callable(query) else query  # signed now: stale pushes are refused
    before = content(web.database)
    payload = body or publish_event_xml().encode("utf-8")
    response = await web.rig.client.post(
        f"/callback/{account}", params=query, data=payload, headers={"Content-Type": "text/xml"}
    )
    assert response.status == status, await response.text()
    assert expected in await one_line_error(response)
    assert content(web.database) == before


@pytest.mark.asyncio(loop_scope="module")
async def test_url_verification_with_a_wrong_signature_does_not_echo(web: Web) -> None:
    query = {**signed(token="not-the-token"), "echostr": "echo-me-123"}
    response = await web.rig.client.get("/callback/main", params=query)
    assert response.status == 403
    assert "echo-me-123" not in await one_line_error(response)
