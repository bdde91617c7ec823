"""``bot db upgrade``: create or migrate the schema."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import read_config, say

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    dbp = commands.add_parser("db", help="database schema")
    dbc = dbp.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    dbc.add_parser("upgrade", help="create or migrate the schema").set_defaults(
        handler=cmd_db_upgrade
    )


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store import db

    config = read_config(args)
    engine = db.open_engine(config.database_url)
    try:
        await db.upgrade(engine)
        revision = await db.current_revision(engine)
    finally:
        await engine.dispose()
    print(say(args, "database at revision {revision}", revision=revision), file=sys.stderr)
    return 0
