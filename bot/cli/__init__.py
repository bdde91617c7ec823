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
from bot.i18n import translator

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
    speak(parser, _asked_language(sys.argv[1:] if argv is None else argv))
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


def _asked_language(argv: Sequence[str]) -> str:
    """The language before the arguments are parsed, for help and usage errors."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg.startswith("--lang="):
            return language(argparse.Namespace(lang=arg.partition("=")[2]))
        if arg == "--lang" and i + 1 < len(args):
            return language(argparse.Namespace(lang=args[i + 1]))
    return language(None)


def speak(parser: argparse.ArgumentParser, lang: str) -> None:
    """Help texts, and argparse's own words (usage, errors), in ``lang``.

    argparse looks its words up through gettext's ``_`` each time it prints one, so pointing
    its ``_`` at the table translates them; help texts are replaced on every action.
    """
    if lang != "zh":
        return
    said = translator(lang)
    argparse._ = said  # type: ignore[attr-defined]
    seen: set[int] = set()

    def walk(p: argparse.ArgumentParser) -> None:
        if id(p) in seen:
            return
        seen.add(id(p))
        if p.description:
            p.description = said(p.description)
        for group in p._action_groups:  # titled when the parser was made, before this
            if group.title:
                group.title = said(group.title)
        for action in p._actions:
            if action.help and action.help is not argparse.SUPPRESS:
                action.help = said(action.help)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if choice.help:
                        choice.help = said(choice.help)
                for sub in action.choices.values():
                    walk(sub)

    walk(parser)


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
