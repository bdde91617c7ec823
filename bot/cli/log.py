"""``bot log``: the publish log."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import (
    database,
    language,
    pad,
    parse_when,
    positive_int,
    print_json,
    read_config,
    say,
)
from bot.domain.models import PostStatus

if TYPE_CHECKING:
    from bot.cli.common import Commands

LOG_OUTCOMES = ("ok", "error", "unknown", "info")


def register(commands: Commands) -> None:
    logp = commands.add_parser("log", help="the publish log")
    logp.add_argument("--since", help="a date or time: 06:15, today, 2024-05-01 08:00, …")
    logp.add_argument(
        "--status",
        choices=[*LOG_OUTCOMES, *(s.value for s in PostStatus)],
        help="an outcome (ok, error, unknown, info), or the entries of posts now in this status",
    )
    logp.add_argument("--post", type=int)
    logp.add_argument("--limit", type=positive_int, default=1000)
    logp.add_argument("--json", action="store_true")
    logp.set_defaults(handler=cmd_log)


def one_line(text: str) -> str:
    """``text`` as one line: a newline or other control character in a comment shows as an
    escape, so no entry can print what looks like another entry."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


async def cmd_log(args: argparse.Namespace) -> int:
    from bot.shapes import log_json
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
            print(entry_line(args, config, e))
        if not entries:  # said on stderr: stdout stays the (empty) listing
            print(say(args, "No entries."), file=sys.stderr)
    return 0


def entry_line(args: argparse.Namespace, config: object, e: object) -> str:
    """One log entry as a line, in the command's language (step, outcome, statuses, detail)."""
    from bot.i18n import translate_sentence
    from bot.shapes import account_tz

    lang = language(args)
    at = e.at.astimezone(account_tz(config, e.account)).isoformat(timespec="seconds")  # type: ignore[attr-defined, arg-type]
    code = f" errcode={e.errcode}" if e.errcode not in (None, 0) else ""  # type: ignore[attr-defined]
    ms = say(args, " {n} ms", n=e.latency_ms) if e.latency_ms is not None else ""  # type: ignore[attr-defined]
    move = ""
    if e.to_status:  # type: ignore[attr-defined]
        before = say(args, e.from_status) if e.from_status else ""  # type: ignore[attr-defined]
        move = f" {before}->{say(args, e.to_status)}"  # type: ignore[attr-defined]
    post = say(args, "post {id}", id=e.post_id) if e.post_id else "-"  # type: ignore[attr-defined]
    step = say(args, e.step)  # type: ignore[attr-defined]
    outcome = say(args, e.outcome)  # type: ignore[attr-defined]
    detail = one_line(translate_sentence(lang, e.detail))  # type: ignore[attr-defined]
    line = f"{at} {pad(post, 9)} {pad(step, 20)} {pad(outcome, 8)}{move}{code}{ms} {detail}"
    return line.rstrip()
