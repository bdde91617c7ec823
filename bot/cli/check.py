"""``bot check``: check catalogue and Markdown files without storing anything."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import language, print_json

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.domain.errors import ContentRejectedError


def register(commands: Commands) -> None:
    check = commands.add_parser(
        "check", help="check catalogue and Markdown files without storing anything"
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--column", help="check rows as this column would draft them")
    check.add_argument("--json", action="store_true")
    check.add_argument(
        "--lang",
        choices=["zh", "en"],
        default=argparse.SUPPRESS,  # keeps `bot --lang en check …` too
        help="language of the messages (default zh)",
    )
    check.set_defaults(handler=cmd_check)


async def cmd_check(args: argparse.Namespace) -> int:
    import asyncio

    from bot.config import find_config_path, load_config
    from bot.engine.checking import check_files, has_errors

    config = None
    path = find_config_path(args.config)
    if args.column or args.config or path.exists():
        config = load_config(path)
    column = config.column(args.column) if config and args.column else None
    findings = await asyncio.to_thread(check_files, args.files, config, column)
    lang = language(args)
    if args.json:  # JSON never changes with the language: message_zh is there too
        print_json([f.to_dict("en") for f in findings])
    else:
        for finding in findings:
            print(finding.describe(lang))
    return 1 if has_errors(findings) else 0


def print_rejection(exc: ContentRejectedError, args: argparse.Namespace) -> None:
    """A post the checks refused: with ``--json`` ``{"error", "findings"}`` on stdout, else the
    reason and one readable line per finding on stderr."""
    import sys

    from bot.content.checks import describe, finding_dict

    lang = language(args)
    if getattr(args, "json", False):
        findings = [finding_dict(f, "en") for f in exc.findings]
        print_json({"error": str(exc), "findings": findings})
        return
    print(f"error: {exc}", file=sys.stderr)
    for finding in exc.findings:
        print(f"  {describe(finding, lang)}", file=sys.stderr)
