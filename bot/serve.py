"""``bot serve``: web admin, JSON API, scheduler and publisher in one process; ``--demo`` also
writes a demo configuration, starts the simulator in-process and loads the sample catalogue."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from bot.app import Services, local_place, open_services
from bot.config import PROJECT_ROOT, Config, find_config_path, load_config
from bot.domain.errors import UserError
from bot.engine import offload
from bot.i18n import translate
from bot.store import db

logger = logging.getLogger(__name__)

DEMO_DIR = Path("var/demo")
DEMO_SIM_PORT = 8089
DEMO_CALLBACK_TOKEN = "demo-callback-token"
DEMO_APPID = "wxdemo0000000001"
DEMO_SECRET = "demo-secret-for-the-simulator"


def demo_config_text(base: Path, port: int) -> str:
    """The demo's configuration: one account on the in-process simulator, the 学习平台 column
    (three articles a push), the 审核示范 column (review required, no schedule: the tour's
    approve step), the project's schedules (one fires every minute) and fast polling
    so the demo shows a published post within two minutes."""
    return f"""# Written by `bot serve --demo` on first start; edit freely, delete to regenerate.
[database]
url = "sqlite+aiosqlite:///{(base / "bot.db").resolve()}"

[[accounts]]
name = "demo"
appid = "{DEMO_APPID}"
secret = "{DEMO_SECRET}"          # the simulator's; a real account uses secret_env
api_base = "http://127.0.0.1:{DEMO_SIM_PORT}"
timezone = "Asia/Shanghai"
token = "{DEMO_CALLBACK_TOKEN}"   # callback token; a real account uses token_env

[[columns]]
name = "学习平台"
account = "demo"
author = "团区委"
kinds = ["platform", "exhibit", "lesson", "course"]
cooldown_days = 0
articles_per_post = 3             # 多图文: each push carries three articles, one per resource

# The tour's review step: a post drafted here waits for 通过 (approve) before it is queued.
# No schedule uses this column, so an approved post is published at once.
[[columns]]
name = "审核示范"
account = "demo"
author = "团区委"
cooldown_days = 0
require_review = true

[web]
allow_self_approval = true        # the demo has one user, who drafts and approves
host = "127.0.0.1"
port = {port}
base_url = "http://127.0.0.1:{port}"
session_key = "{secrets.token_urlsafe(32)}"   # the demo's; a real service uses session_key_env

[bot]
schedules_dir = "{(PROJECT_ROOT / "schedules").resolve()}"
templates_dir = "{(PROJECT_ROOT / "templates").resolve()}"

[publisher]
poll_first_seconds = 2
poll_max_seconds = 30
reconcile_window_seconds = 30
tick_seconds = 2
"""


def prepare_demo(port: int) -> Path:
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    path = DEMO_DIR / "config.toml"
    if not path.exists():
        path.write_text(demo_config_text(DEMO_DIR, port), encoding="utf-8")
    return path


def demo_password() -> str:
    """The demo admin's password, made once and kept beside the demo database."""
    path = DEMO_DIR / "admin-password.txt"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


@contextlib.asynccontextmanager
async def demo_simulator(config: Config) -> AsyncIterator[object]:
    from bot.account.simulator import SimulatorConfig, start_simulator

    account = config.accounts[0]
    sim = await start_simulator(
        # The strictest plausible platform (README, "Going live"), with one article published
        # by hand in the console whose title carries a raw control character.
        SimulatorConfig.for_profile(
            "realistic",
            console_articles=1,
            appid=account.appid,
            secret=account.secret.value,
            publish_delay_seconds=2.0,
            callback_url=f"{config.web.base_url}/callback/{account.name}",
            callback_token=account.token.value if account.token else "",
            seed=7,
        ),
        host="127.0.0.1",
        port=DEMO_SIM_PORT,
    )
    try:
        yield sim
    finally:
        await sim.stop()


async def seed_demo(svc: object, config: Config) -> None:
    """Load the sample catalogue (if the catalogue is empty) and the demo admin user."""
    from bot.content.sample import sample_catalogue_path
    from bot.engine.importing import import_file
    from bot.store import catalogue as catalogue_store
    from bot.web.users import create_user, user_exists

    engine = svc.engine  # type: ignore[attr-defined]
    clock = svc.clock  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        empty = await catalogue_store.count(conn) == 0
    if empty:
        await import_file(
            engine,
            sample_catalogue_path(),
            kinds=config.kinds,
            clock=clock,
            media_dir=config.media_dir,
        )
    if not await user_exists(engine, "admin"):
        await create_user(engine, "admin", "admin", demo_password(), now=clock())


async def serve(args: argparse.Namespace) -> int:
    from bot.engine.schedules import load_schedules
    from bot.engine.scheduling import Scheduler
    from bot.web.app import build_web_app

    config_path = prepare_demo(args.port or 8080) if args.demo else find_config_path(args.config)
    config = load_config(config_path)
    host = args.host or config.web.host
    port = args.port or config.web.port
    specs = load_schedules(config)
    engine = db.open_engine(config.database_url)
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async with contextlib.AsyncExitStack() as stack:
        if args.demo:
            await stack.enter_async_context(demo_simulator(config))
        svc = await stack.enter_async_context(
            open_services(
                config, has_schedule=lambda column: any(s.column == column for s in specs)
            )
        )
        if args.demo:
            await seed_demo(svc, config)
        scheduler = Scheduler(
            svc.engine,
            config,
            specs,
            svc.clock,
            svc.drafting,
            svc.slot_opened,
            lead=timedelta(seconds=config.publisher.stage_ahead_seconds),
        )
        await svc.worker.release_dead_leases(local_place())
        app = build_web_app(svc, scheduler=scheduler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        announce(config, host, port, demo=args.demo, lang=_language(args))
        tasks = [
            asyncio.create_task(offload.current().warm(), name="offload-warm-up"),
            asyncio.create_task(scheduler.run(stop), name="scheduler"),
            asyncio.create_task(
                _publishing(svc, stop, tick=config.publisher.tick_seconds), name="publisher"
            ),
        ]
        await stop.wait()
        print(translate(_language(args), "stopping…"), file=sys.stderr)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    offload.close()
    return 0


async def _publishing(svc: Services, stop: asyncio.Event, *, tick: float) -> None:
    """The publisher and the stager, once posts stored before covers were kept with their post
    have their copies (a minute at most: publishing never fetches a cover itself). Whatever
    goes wrong there, publishing starts."""
    try:
        await svc.drafting.keep_missing_copies()
    except Exception:
        logger.exception("keeping the covers of earlier posts failed")
    await asyncio.gather(
        svc.worker.run_forever(stop, tick=tick), svc.stager.run_forever(stop, tick=tick)
    )


def _language(args: argparse.Namespace) -> str:
    from bot.cli.common import language

    return language(args)


def announce(config: Config, host: str, port: int, *, demo: bool, lang: str = "en") -> None:
    url = f"http://{host}:{port}/"
    lines = [translate(lang, "admin: {url}", url=url)]
    if demo:
        password = DEMO_DIR / "admin-password.txt"
        lines.append(
            translate(
                lang,
                "log in as: admin / {password}  (password kept in {file})",
                password=demo_password(),
                file=password,
            )
        )
        config_path = DEMO_DIR / "config.toml"
        lines.append(
            translate(
                lang,
                "config: {path}  — try: .venv/bin/bot --config {path} log",
                path=config_path,
            )
        )
    else:
        lines.append(translate(lang, "log in with a user made by `bot user add NAME --role admin`"))
    lines.append(translate(lang, "Ctrl-C stops the service."))
    print("\n".join(lines), file=sys.stderr, flush=True)
