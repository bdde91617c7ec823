"""A rig for the web tests: a real SQLite database, the simulator on loopback, the real
services, the web app served by aiohttp's TestServer, and one user per role."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.account.simulator import RunningSimulator, SimulatorConfig, start_simulator
from bot.app import Services, open_services
from bot.config import PublisherConfig, parse_config
from bot.store import db
from bot.web.app import build_web_app
from bot.web.users import create_api_token, create_user

CALLBACK_TOKEN = "callback-token-for-tests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 letters and digits
APPID = "wxsim0000000000001"
PASSWORD = "correct horse battery"
ROLES = ("editor", "reviewer", "admin")
FAST = PublisherConfig(
    concurrency=2,
    lease_seconds=30,
    poll_first_seconds=0.2,
    poll_max_seconds=1.0,
    reconcile_window_seconds=1.0,
    tick_seconds=0.2,
)

CATALOGUE_CSV = (
    "id,kind,title,summary,url,tags\n"
    "exhibit-001,exhibit,数字展馆一号,一座线上展馆的简介。,https://example.org/e1,展馆;线上\n"
    "exhibit-002,exhibit,数字展馆二号,另一座线上展馆的简介。,https://example.org/e2,展馆\n"
    "course-001,course,网上团课第一讲,一门课程的简介。,https://example.org/c1,团课\n"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebRig:
    services: Services
    sim: RunningSimulator
    client: TestClient[web.Request, web.Application]
    app: web.Application
    tokens: dict[str, str]
    tmp: Path

    @property
    def url(self) -> str:
        return str(self.client.make_url("/"))

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def csrf(self, path: str = "/login") -> str:
        response = await self.client.get(path)
        return csrf_from(await response.text())

    async def login(self, role: str, password: str = PASSWORD) -> str:
        """Log the client in as the user of ``role``; returns the session's CSRF token."""
        token = await self.csrf("/login")
        response = await self.client.post(
            "/login",
            data={"name": role, "password": password, "csrf_token": token, "next": "/"},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        return await self.csrf("/")

    async def logout(self) -> None:
        self.client.session.cookie_jar.clear()

    async def import_catalogue(self, role: str = "editor") -> None:
        response = await self.client.post(
            "/api/catalogue/import",
            data={"file": _named(CATALOGUE_CSV.encode("utf-8"), "catalogue.csv")},
            headers=self.bearer(role),
        )
        assert response.status == 200, await response.text()


def _named(data: bytes, name: str) -> Any:
    import io

    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def write_config(
    tmp: Path,
    sim_url: str,
    cover: Path,
    *,
    aes: bool = False,
    extra_columns: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    schedules = tmp / "schedules"
    schedules.mkdir(exist_ok=True)
    (schedules / "web.toml").write_text(
        '[[schedule]]\nname = "morning"\ncolumn = "学习平台"\ncron = "0 8 * * *"\n'
        'posts_per_slot = 1\nwhen_queue_empty = "skip"\n',
        encoding="utf-8",
    )
    account: dict[str, Any] = {
        "name": "main",
        "appid": APPID,
        "secret": "simulator-secret",
        "api_base": sim_url,
        "token": CALLBACK_TOKEN,
    }
    if aes:
        account["aes_key"] = AES_KEY
    return {
        "database": {"url": f"sqlite+aiosqlite:///{tmp / 'bot.db'}"},
        "accounts": [account],
        "columns": [
            {
                "name": "学习平台",
                "account": "main",
                "author": "团区委",
                "cover": str(cover),
                "require_review": True,
                "cooldown_days": 0,
            },
            {
                "name": "快讯",
                "account": "main",
                "author": "团区委",
                "cover": str(cover),
                "cooldown_days": 0,
            },
            *extra_columns,
        ],
        "web": {"session_key": "a test session key"},
        "bot": {"schedules_dir": str(schedules)},
    }


@dataclass(frozen=True)
class Template:
    """A migrated database with one user (and API token) per role, copied for each test:
    password hashing at the recommended cost is slow, and every test needs the users."""

    path: Path
    tokens: dict[str, str]


async def _build_template(path: Path) -> dict[str, str]:
    engine = db.open_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await db.upgrade(engine)
        for role in ROLES:
            await create_user(engine, role, role, PASSWORD, now=utc_now())
        return {r: await create_api_token(engine, r, now=utc_now()) for r in ROLES}
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", name="web_template")
def template_fixture(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("web-template") / "bot.db"
    tokens = asyncio.run(_build_template(path))
    return Template(path, tokens)


@contextlib.asynccontextmanager
async def web_rig(
    tmp: Path,
    cover: Path,
    template: Template,
    *,
    aes: bool = False,
    extra_columns: Sequence[dict[str, Any]] = (),
) -> AsyncIterator[WebRig]:
    sim = await start_simulator(
        SimulatorConfig(appid=APPID, secret="simulator-secret", publish_delay_seconds=0.2, seed=3)
    )
    try:
        raw = write_config(tmp, sim.url, cover, aes=aes, extra_columns=extra_columns)
        config = replace(parse_config(raw, path=tmp / "config.toml"), publisher=FAST)
        shutil.copyfile(template.path, tmp / "bot.db")
        async with open_services(config, clock=utc_now) as services:
            tokens = dict(template.tokens)
            app = build_web_app(services)
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                yield WebRig(services, sim, client, app, tokens, tmp)
            finally:
                await client.close()
    finally:
        await sim.stop()


# The fixtures test modules import (under other names, so the tests' parameters shadow nothing).


@pytest.fixture(name="rig")
async def rig_fixture(
    tmp_path: Path, cover_file: Path, web_template: Template
) -> AsyncIterator[WebRig]:
    async with web_rig(tmp_path, cover_file, web_template) as value:
        yield value


@pytest.fixture(name="safe_rig")
async def safe_rig_fixture(
    tmp_path: Path, cover_file: Path, web_template: Template
) -> AsyncIterator[WebRig]:
    """The account in safe mode (an EncodingAESKey is configured)."""
    async with web_rig(tmp_path, cover_file, web_template, aes=True) as value:
        yield value
