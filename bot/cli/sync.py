"""``bot sync``: read the accounts' published lists from the platform."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from bot.cli.common import print_json, read_config, say, services

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    syn = commands.add_parser("sync", help="read the accounts' published lists from the platform")
    syn.add_argument("--max-calls", type=int, default=5)
    syn.add_argument("--json", action="store_true")
    syn.set_defaults(handler=cmd_sync)


async def cmd_sync(args: argparse.Namespace) -> int:
    from bot.engine.sync import sync_published

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
    shape = result.to_json() if hasattr(result, "to_json") else vars(result)
    if args.json:
        print_json(shape)
    else:
        print(json.dumps(shape, ensure_ascii=False))
    return 0
