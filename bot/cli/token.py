"""``bot token create``: API tokens."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import read_config, services

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    token = commands.add_parser("token", help="API tokens")
    tc = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    tcr = tc.add_parser("create", help="print a new API token for a user")
    tcr.add_argument("name")
    tcr.set_defaults(handler=cmd_token_create)


async def cmd_token_create(args: argparse.Namespace) -> int:
    from bot.web.users import create_api_token

    config = read_config(args)
    async with services(config) as svc:
        token = await create_api_token(svc.engine, args.name, now=svc.clock())
    print(token)
    return 0
