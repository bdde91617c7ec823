"""The command line: ``bot [--config PATH] COMMAND …``.

Exit status 0 on success, 1 on a user error (one line on stderr), 2 on a usage error. With
``--json`` a command prints one JSON document on stdout and nothing else there.

One module per command group adds its subparser and handlers (``register``); a handler imports
what it needs when it runs, so a command that neither renders nor calls the platform starts
without loading the rendering stack or the HTTP client.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bot.cli import (
    catalogue,
    check,
    db,
    draft,
    log,
    publish,
    queue,
    report,
    schedule,
    serve,
    simulator,
    sync,
    token,
    user,
)
from bot.cli.common import language, say
from bot.domain.errors import BotError, ContentRejectedError

# The order `bot --help` lists the commands in.
COMMAND_GROUPS = (
    db,
    catalogue,
    check,
    draft,
    queue,
    publish,
    serve,
    user,
    token,
    log,
    report,
    simulator,
    schedule,
    sync,
)


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
    if args.handler is not serve.cmd_serve:
        # A one-shot command has no loop to keep answering: its CPU work runs inline rather
        # than paying for worker processes it would use once.
        from bot.engine import offload

        offload.use(offload.Offload(mode="inline"))
    try:
        return asyncio.run(args.handler(args))
    except ContentRejectedError as exc:
        from bot.cli.check import print_rejection

        print_rejection(exc, args)
        return 1
    except BotError as exc:
        lang = language(args)
        print(say(args, "error: {message}", message=exc.in_language(lang)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`bot log | head`): nothing more to say, and no traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot",
        description="Publishing service for a WeChat official account: catalogue, drafts, "
        "review, schedules, publishing, the publish log and reports.",
    )
    parser.add_argument("--config", help="configuration file (default $BOT_CONFIG, ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    parser.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="language of what commands print (default $BOT_LANG, else zh); --json never changes",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser
