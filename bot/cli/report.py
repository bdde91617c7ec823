"""``bot report``: the figures a work report cites."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import language, read_config, services

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    rep = commands.add_parser("report", help="the figures a work report cites")
    rep.add_argument("--from", dest="from_", metavar="DATE")
    rep.add_argument("--to", metavar="DATE")
    rep.add_argument("--period", help="2024-01, 2024-Q1, 2024 or a campaign name")
    rep.add_argument("--column")
    rep.add_argument("--timezone")
    rep.add_argument("--format", choices=["text", "json", "csv", "md"], default="text")
    rep.set_defaults(handler=cmd_report)


async def cmd_report(args: argparse.Namespace) -> int:
    from bot.engine.reporting import build_report, format_report, resolve_period

    config = read_config(args)
    period = resolve_period(config, from_=args.from_, to=args.to, period=args.period)
    async with services(config) as svc:
        report = await build_report(
            svc.engine, config, period, column=args.column, timezone=args.timezone
        )
    text = format_report(
        report, args.format, templates_dir=config.templates_dir, lang=language(args)
    )
    sys.stdout.write(text)
    return 0
