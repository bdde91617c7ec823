"""``bot user add``: web users."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from bot.cli.common import read_config, services
from bot.domain.errors import UserError

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    user = commands.add_parser("user", help="web users")
    uc = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    ua = uc.add_parser("add", help="create a user (password from $BOT_NEW_PASSWORD or a prompt)")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["editor", "reviewer", "admin"])
    ua.set_defaults(handler=cmd_user_add)


async def cmd_user_add(args: argparse.Namespace) -> int:
    from bot.web.users import create_user

    config = read_config(args)
    password = os.environ.get("BOT_NEW_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise UserError("no password: set $BOT_NEW_PASSWORD or run in a terminal")
        password = getpass.getpass(f"password for {args.name}: ")
    async with services(config) as svc:
        await create_user(svc.engine, args.name, args.role, password, now=svc.clock())
    print(f"user {args.name} ({args.role}) created", file=sys.stderr)
    return 0
