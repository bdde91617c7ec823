"""``bot user add`` and ``bot user passwd``: web users."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from bot.cli.common import read_config, say, services
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
    up = uc.add_parser(
        "passwd",
        help="set a user's password (from $BOT_NEW_PASSWORD or a prompt); ends their logins",
    )
    up.add_argument("name")
    up.set_defaults(handler=cmd_user_passwd)


def _new_password(name: str) -> str:
    password = os.environ.get("BOT_NEW_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise UserError("no password: set $BOT_NEW_PASSWORD or run in a terminal")
        password = getpass.getpass(f"password for {name}: ")
    return password


async def cmd_user_add(args: argparse.Namespace) -> int:
    from bot.web.users import create_user

    config = read_config(args)
    password = _new_password(args.name)
    async with services(config) as svc:
        await create_user(svc.engine, args.name, args.role, password, now=svc.clock())
    role = say(args, args.role)
    print(say(args, "user {name} ({role}) created", name=args.name, role=role), file=sys.stderr)
    return 0


async def cmd_user_passwd(args: argparse.Namespace) -> int:
    from bot.web.users import set_password

    config = read_config(args)
    password = _new_password(args.name)
    async with services(config) as svc:
        ended = await set_password(svc.engine, args.name, password)
    message = say(args, "password of {name} changed; {n} login(s) ended", name=args.name, n=ended)
    print(message, file=sys.stderr)
    return 0
