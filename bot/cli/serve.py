"""``bot serve [--demo]``: web admin, JSON API, scheduler and publisher in one process."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import port_number

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="web admin, JSON API, scheduler and publisher")
    serve.add_argument("--demo", action="store_true", help="run the self-contained demo")
    serve.add_argument("--host")
    serve.add_argument("--port", type=port_number)
    serve.set_defaults(handler=cmd_serve)


async def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve

    return await serve(args)
