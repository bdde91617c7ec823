"""``bot sync``: read the accounts' published lists from the platform."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import language, print_json, read_config, say, services

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    syn = commands.add_parser("sync", help="read the accounts' published lists from the platform")
    syn.add_argument("--max-calls", type=int, default=5)
    syn.add_argument("--json", action="store_true")
    syn.set_defaults(handler=cmd_sync)


async def cmd_sync(args: argparse.Namespace) -> int:
    from bot.engine.sync import sync_published
    from bot.i18n import translate_sentence

    config = read_config(args)
    if not args.json and sys.stderr.isatty():
        # A long read says it started; the summary follows when it ends.
        note = say(
            args, "reading the published lists (at most {n} calls per account)…", n=args.max_calls
        )
        print(note, file=sys.stderr, flush=True)
    async with services(config) as svc:
        result = await sync_published(
            svc.engine, config, svc.clients, clock=svc.clock, max_calls=args.max_calls
        )
    accounts = [{k: v for k, v in vars(a).items() if k != "listed"} for a in result.accounts]
    if args.json:
        print_json({"accounts": accounts})
    else:
        lang = language(args)
        for item in result.accounts:
            print(f"{item.account}: {translate_sentence(lang, item.summary())}")
    failed = [a for a in result.accounts if a.error]
    for item in failed:
        reason = translate_sentence(language(args), item.error)
        print(say(args, "error: {message}", message=f"{item.account}: {reason}"), file=sys.stderr)
    return 1 if failed else 0
