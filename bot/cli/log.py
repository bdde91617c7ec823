"""``bot log``: the publish log."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import database, parse_when, positive_int, print_json, read_config
from bot.domain.models import PostStatus

if TYPE_CHECKING:
    from bot.cli.common import Commands

LOG_OUTCOMES = ("ok", "error", "unknown", "info")


def register(commands: Commands) -> None:
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


async def cmd_log(args: argparse.Namespace) -> int:
    from bot.shapes import account_tz, log_json
    from bot.store import log as log_store

    config = read_config(args)
    since = parse_when(args.since, ZoneInfo(config.report_timezone)) if args.since else None
    async with database(config) as engine, engine.connect() as conn:
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
