"""The command line: ``bot [--config PATH] COMMAND …``.

Exit status 0 on success, 1 on a user error (one line on stderr), 2 on a usage error. With
``--json`` a command prints one JSON document on stdout and nothing else there.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config, find_config_path, load_config
from bot.domain.errors import BotError, ContentRejectedError, UserError
from bot.domain.models import PostStatus
from bot.domain.times import parse_when as parse_time

LOG_OUTCOMES = ("ok", "error", "unknown", "info")
Handler = Callable[[argparse.Namespace], Awaitable[int]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return asyncio.run(args.handler(args))
    except ContentRejectedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for finding in exc.findings:
            print(f"  {finding}", file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot",
        description="Publishing service for a WeChat official account: catalogue, drafts, "
        "review, schedules, publishing, the publish log and reports.",
    )
    parser.add_argument("--config", help="configuration file (default $BOT_CONFIG, ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    dbp = commands.add_parser("db", help="database schema")
    dbc = dbp.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    dbc.add_parser("upgrade", help="create or migrate the schema").set_defaults(
        handler=cmd_db_upgrade
    )

    cat = commands.add_parser("catalogue", help="the catalogue of learning resources")
    catc = cat.add_subparsers(dest="catalogue_command", metavar="ACTION", required=True)
    imp = catc.add_parser("import", help="import CSV, JSON, YAML or TOML files")
    imp.add_argument("files", nargs="+", type=Path)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=cmd_catalogue_import)
    lst = catc.add_parser("list", help="list the catalogue")
    lst.add_argument("--kind")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_catalogue_list)

    draft = commands.add_parser("draft", help="draft a post for a column and queue it")
    draft.add_argument("--column", required=True)
    draft.add_argument("--resource", nargs="+", default=[], metavar="ID")
    draft.add_argument("--at", help="'now' or an ISO 8601 time; default: the next slot")
    draft.add_argument("--preview", type=Path, help="also write the exact HTML to this file")
    draft.add_argument("--json", action="store_true")
    draft.set_defaults(handler=cmd_draft)

    queue = commands.add_parser("queue", help="posts and review actions")
    qc = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    ql = qc.add_parser("list", help="posts with their status")
    ql.add_argument("--status", choices=[s.value for s in PostStatus])
    ql.add_argument("--column")
    ql.add_argument("--json", action="store_true")
    ql.set_defaults(handler=cmd_queue_list)
    for action in ("approve", "cancel", "retry", "reject", "show"):
        qa = qc.add_parser(action, help=f"{action} a post")
        qa.add_argument("id", type=int)
        if action in ("approve", "reject"):
            qa.add_argument("--comment", default="")
        qa.add_argument("--json", action="store_true")
        qa.set_defaults(handler=cmd_queue_action, action=action)

    qp = qc.add_parser("preview", help="send a post to a reviewer's WeChat (mass/preview)")
    qp.add_argument("id", type=int)
    qp.add_argument("--openid", default="", help="default: the account's preview_openid")
    qp.set_defaults(handler=cmd_queue_preview)

    pub = commands.add_parser("publish", help="publish what is due")
    pub.add_argument("--due", action="store_true", required=True)
    pub.add_argument("--max-wait", type=float, default=900.0, help="seconds to wait for results")
    pub.add_argument("--json", action="store_true")
    pub.set_defaults(handler=cmd_publish_due)

    serve = commands.add_parser("serve", help="web admin, JSON API, scheduler and publisher")
    serve.add_argument("--demo", action="store_true", help="run the self-contained demo")
    serve.add_argument("--host")
    serve.add_argument("--port", type=port_number)
    serve.set_defaults(handler=cmd_serve)

    user = commands.add_parser("user", help="web users")
    uc = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    ua = uc.add_parser("add", help="create a user (password from $BOT_NEW_PASSWORD or a prompt)")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["editor", "reviewer", "admin"])
    ua.set_defaults(handler=cmd_user_add)

    token = commands.add_parser("token", help="API tokens")
    tc = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    tcr = tc.add_parser("create", help="print a new API token for a user")
    tcr.add_argument("name")
    tcr.set_defaults(handler=cmd_token_create)

    logp = commands.add_parser("log", help="the publish log")
    logp.add_argument("--since", help="ISO 8601 date or time")
    logp.add_argument(
        "--status",
        choices=[*LOG_OUTCOMES, *(s.value for s in PostStatus)],
        help="an outcome (ok, error, unknown, info), or the entries of posts now in this status",
    )
    logp.add_argument("--post", type=int)
    logp.add_argument("--limit", type=positive_int, default=1000)
    logp.add_argument("--json", action="store_true")
    logp.set_defaults(handler=cmd_log)

    rep = commands.add_parser("report", help="the figures a work report cites")
    rep.add_argument("--from", dest="from_", metavar="DATE")
    rep.add_argument("--to", metavar="DATE")
    rep.add_argument("--period", help="2024-01, 2024-Q1, 2024 or a campaign name")
    rep.add_argument("--column")
    rep.add_argument("--timezone")
    rep.add_argument("--format", choices=["text", "json", "csv", "md"], default="text")
    rep.set_defaults(handler=cmd_report)

    sim = commands.add_parser("simulator", help="the account-API simulator on its own")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=port_number, default=8081)
    sim.add_argument("--appid", default="wx-demo-appid")
    sim.add_argument("--secret", default="demo-secret")
    sim.add_argument("--latency-ms", type=int, default=0)
    sim.add_argument("--fault-rate", type=float, default=0.0)
    sim.add_argument("--lost-answer-rate", type=float, default=0.0)
    sim.add_argument("--publish-delay", type=float, default=2.0, help="seconds at status 1")
    sim.add_argument("--seed", type=int)
    sim.add_argument("--callback-url", default="")
    sim.add_argument("--callback-token", default="")
    sim.add_argument(
        "--quota",
        action="append",
        default=[],
        metavar="PATH=N",
        type=quota_override,
        help="a daily quota other than the platform's, e.g. freepublish/submit=1000",
    )
    sim.set_defaults(handler=cmd_simulator)

    sch = commands.add_parser("schedule", help="schedules and their slots")
    sc = sch.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    sl = sc.add_parser("list", help="schedules with their next fire times")
    sl.add_argument("--json", action="store_true")
    sl.set_defaults(handler=cmd_schedule_list)
    for action in ("pause", "resume"):
        sp = sc.add_parser(action, help=f"{action} a schedule")
        sp.add_argument("name")
        sp.set_defaults(handler=cmd_schedule_pause, paused=action == "pause")

    syn = commands.add_parser("sync", help="read the accounts' published lists from the platform")
    syn.add_argument("--max-calls", type=int, default=5)
    syn.add_argument("--json", action="store_true")
    syn.set_defaults(handler=cmd_sync)
    return parser


# --- helpers --------------------------------------------------------------------------------


def read_config(args: argparse.Namespace) -> Config:
    return load_config(find_config_path(args.config))


def quota_override(text: str) -> tuple[str, int]:
    """``PATH=N`` for ``bot simulator --quota``."""
    path, _, limit = text.partition("=")
    if not path or not limit.isdigit():
        raise argparse.ArgumentTypeError(f"expected PATH=N (e.g. draft/add=1000), got {text!r}")
    return path.removeprefix("/cgi-bin/"), int(limit)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, so a bad one is a usage error, not a traceback at bind."""
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (1-65535)")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def parse_when(text: str, tz: ZoneInfo) -> datetime:
    """See ``bot.domain.times.parse_when``; "now" is this moment."""
    return parse_time(text, tz=tz, now=datetime.now(UTC))


def services(config: Config, **kwargs: Any) -> Any:
    from bot.app import open_services

    return open_services(config, **kwargs)


# --- commands -------------------------------------------------------------------------------


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store import db

    config = read_config(args)
    engine = db.open_engine(config.database_url)
    try:
        await db.upgrade(engine)
        revision = await db.current_revision(engine)
    finally:
        await engine.dispose()
    print(f"database at revision {revision}", file=sys.stderr)
    return 0


async def cmd_catalogue_import(args: argparse.Namespace) -> int:
    from bot.engine.importing import import_file
    from bot.progress import Progress

    config = read_config(args)
    results = []
    async with services(config) as svc:
        for path in args.files:
            progress = Progress(f"importing {path.name}", enabled=not args.json)
            result = await import_file(
                svc.engine,
                path,
                kinds=config.kinds,
                clock=svc.clock,
                media_dir=config.media_dir,
                on_progress=progress.update,
            )
            progress.done()
            results.append(result)
            if not args.json:
                print(f"{path}: {result.created} created, {result.updated} updated")
    if args.json:
        print_json([{"file": r.file, "created": r.created, "updated": r.updated} for r in results])
    return 0


async def cmd_catalogue_list(args: argparse.Namespace) -> int:
    from bot.shapes import resource_json
    from bot.store import catalogue as catalogue_store

    config = read_config(args)
    if args.kind and args.kind not in config.kinds:
        raise UserError(f"unknown kind {args.kind!r} (known: {', '.join(config.kinds)})")
    async with services(config) as svc, svc.engine.connect() as conn:
        items = await catalogue_store.list_resources(conn, kinds=[args.kind] if args.kind else [])
    if args.json:
        print_json([resource_json(r) for r in items])
    else:
        for r in items:
            print(f"{r.id:<28} {r.kind:<9} {r.title}")
    return 0


async def cmd_draft(args: argparse.Namespace) -> int:
    from bot.shapes import post_json

    config = read_config(args)
    column = config.column(args.column)
    tz = config.account(column.account).tz
    at = parse_when(args.at, tz) if args.at is not None else None
    async with services(config) as svc:
        draft = await svc.drafting.draft(
            column.name, resource_ids=args.resource, at=at, actor=f"cli:{getpass.getuser()}"
        )
    post = draft.post
    if args.preview:
        args.preview.write_text(post.content_html, encoding="utf-8")
    if args.json:
        shape = post_json(post, config, with_content=True)
        shape["findings"] = [str(f) for f in draft.findings]
        print_json(shape)
    else:
        print(f"post {post.id} [{post.status}] {post.title}")
        when = post.scheduled_for.astimezone(tz).isoformat() if post.scheduled_for else "next slot"
        print(f"  due: {when}")
        for finding in draft.findings:
            print(f"  {finding}")
    return 0


async def cmd_queue_list(args: argparse.Namespace) -> int:
    from bot.shapes import account_tz, post_json
    from bot.store import posts as post_store

    config = read_config(args)
    statuses = [PostStatus(args.status)] if args.status else None
    async with services(config) as svc, svc.engine.connect() as conn:
        items = await post_store.list_posts(conn, statuses=statuses, column=args.column)
    if args.json:
        print_json([post_json(p, config) for p in items])
    else:
        for p in items:
            tz = account_tz(config, p.account)
            due = (
                p.scheduled_for.astimezone(tz).isoformat(timespec="seconds")
                if p.scheduled_for
                else "next slot"
            )
            flag = " NEEDS ATTENTION" if p.needs_attention else ""
            print(f"{p.id:>5} {p.status:<10} {p.column:<8} {due:<26} {p.title}{flag}")
    return 0


async def cmd_queue_action(args: argparse.Namespace) -> int:
    from bot.shapes import post_json
    from bot.store import posts as post_store

    config = read_config(args)
    actor = f"cli:{getpass.getuser()}"
    async with services(config) as svc:
        review = svc.review
        if args.action == "approve":
            post = await review.approve(args.id, actor=actor, comment=args.comment)
        elif args.action == "reject":
            post = await review.reject(args.id, actor=actor, comment=args.comment)
        elif args.action == "cancel":
            post = await review.cancel(args.id, actor=actor)
        elif args.action == "retry":
            post = await review.retry(args.id, actor=actor)
        else:
            async with svc.engine.connect() as conn:
                post = await post_store.get(conn, args.id)
    if args.json:
        print_json(post_json(post, config, with_content=args.action == "show"))
    else:
        print(f"post {post.id} is now {post.status}: {post.title}")
    return 0


async def cmd_queue_preview(args: argparse.Namespace) -> int:
    config = read_config(args)
    async with services(config) as svc:
        msg_id = await svc.send_preview(
            args.id, openid=args.openid, actor=f"cli:{getpass.getuser()}"
        )
    print(f"preview of post {args.id} sent (msg_id {msg_id or 'none'})")
    return 0


async def cmd_publish_due(args: argparse.Namespace) -> int:
    from bot.shapes import post_json

    config = read_config(args)
    async with services(config) as svc:
        done = await svc.worker.run_due(max_wait=args.max_wait)
    if args.json:
        print_json([post_json(p, config) for p in done])
    else:
        if not done:
            print("nothing was due")
        for p in done:
            extra = (
                p.article_url
                or p.error
                or (f"next try {p.next_attempt_at.isoformat()}" if p.next_attempt_at else "")
            )
            print(f"post {p.id} {p.status}: {p.title} {extra}".rstrip())
    return 0


async def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve

    return await serve(args)


async def cmd_user_add(args: argparse.Namespace) -> int:
    from bot.web.users import create_user

    config = read_config(args)
    password = os.environ.get("BOT_NEW_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise UserError("no password: set $BOT_NEW_PASSWORD or run in a terminal")
        password = getpass.getpass(f"password for {args.name}: ")
    async with services(config) as svc:
        await create_user(svc.engine, args.name, args.role, password, now=svc.clock())
    print(f"user {args.name} ({args.role}) created", file=sys.stderr)
    return 0


async def cmd_token_create(args: argparse.Namespace) -> int:
    from bot.web.users import create_api_token

    config = read_config(args)
    async with services(config) as svc:
        token = await create_api_token(svc.engine, args.name, now=svc.clock())
    print(token)
    return 0


async def cmd_log(args: argparse.Namespace) -> int:
    from bot.shapes import account_tz, log_json
    from bot.store import log as log_store

    config = read_config(args)
    since = parse_when(args.since, ZoneInfo(config.report_timezone)) if args.since else None
    async with services(config) as svc, svc.engine.connect() as conn:
        entries = await log_store.list_entries(
            conn,
            since=since,
            post_status=args.status if args.status not in LOG_OUTCOMES else None,
            outcome=args.status if args.status in LOG_OUTCOMES else None,
            post_ids=[args.post] if args.post else None,
            limit=args.limit,
        )
    if args.json:
        print_json([log_json(e, config) for e in entries])
    else:
        for e in entries:
            code = f" errcode={e.errcode}" if e.errcode not in (None, 0) else ""
            ms = f" {e.latency_ms}ms" if e.latency_ms is not None else ""
            move = f" {e.from_status}->{e.to_status}" if e.to_status else ""
            post = f"post {e.post_id}" if e.post_id else "-"
            print(
                f"{e.at.astimezone(account_tz(config, e.account)).isoformat(timespec='seconds')}"
                f" {post:<9} {e.step:<20} {e.outcome:<7}{move}{code}{ms}"
                f" {e.detail}".rstrip()
            )
    return 0


async def cmd_report(args: argparse.Namespace) -> int:
    from bot.engine.reporting import build_report, format_report, resolve_period

    config = read_config(args)
    period = resolve_period(config, from_=args.from_, to=args.to, period=args.period)
    async with services(config) as svc:
        report = await build_report(
            svc.engine, config, period, column=args.column, timezone=args.timezone
        )
    sys.stdout.write(format_report(report, args.format, templates_dir=config.templates_dir))
    return 0


async def cmd_simulator(args: argparse.Namespace) -> int:
    from bot.account.simulator import SimulatorConfig, run_forever

    config = SimulatorConfig(
        appid=args.appid,
        secret=args.secret,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        lost_answer_rate=args.lost_answer_rate,
        seed=args.seed,
        publish_delay_seconds=args.publish_delay,
        callback_url=args.callback_url,
        callback_token=args.callback_token,
        quotas=dict(args.quota),
    )
    await run_forever(config, args.host, args.port)
    return 0


async def cmd_schedule_list(args: argparse.Namespace) -> int:
    from bot.engine.schedules import load_schedules
    from bot.engine.scheduling import Scheduler

    config = read_config(args)
    specs = load_schedules(config)
    async with services(config) as svc:
        scheduler = Scheduler(svc.engine, config, specs, svc.clock, svc.drafting, lambda: None)
        upcoming = await scheduler.upcoming(5)
    shaped = [{**item, "next": [t.isoformat() for t in item.get("next", [])]} for item in upcoming]
    if args.json:
        print_json(shaped)
    else:
        for item in shaped:
            state = " (paused)" if item.get("paused") else ""
            print(f"{item['schedule']}{state} → {item['column']}: {', '.join(item['next'][:3])}")
    return 0


async def cmd_schedule_pause(args: argparse.Namespace) -> int:
    from bot.engine.schedules import load_schedules
    from bot.engine.scheduling import Scheduler

    config = read_config(args)
    specs = load_schedules(config)
    if args.name not in {s.name for s in specs}:
        raise UserError(f"no schedule named {args.name!r}")
    async with services(config) as svc:
        scheduler = Scheduler(svc.engine, config, specs, svc.clock, svc.drafting, lambda: None)
        await scheduler.set_paused(args.name, args.paused)
    print(f"schedule {args.name} {'paused' if args.paused else 'resumed'}", file=sys.stderr)
    return 0


async def cmd_sync(args: argparse.Namespace) -> int:
    from bot.engine.sync import sync_published

    config = read_config(args)
    async with services(config) as svc:
        result = await sync_published(
            svc.engine, config, svc.clients, clock=svc.clock, max_calls=args.max_calls
        )
    shape = result.to_json() if hasattr(result, "to_json") else vars(result)
    if args.json:
        print_json(shape)
    else:
        print(json.dumps(shape, ensure_ascii=False))
    return 0
