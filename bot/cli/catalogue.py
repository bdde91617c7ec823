"""``bot catalogue import|list``: the catalogue of learning resources."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import database, print_json, read_config, services
from bot.domain.errors import UserError

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    cat = commands.add_parser("catalogue", help="the catalogue of learning resources")
    catc = cat.add_subparsers(dest="catalogue_command", metavar="ACTION", required=True)
    imp = catc.add_parser("import", help="import CSV, JSON, YAML or TOML files")
    imp.add_argument("files", nargs="+", type=Path)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=cmd_catalogue_import)
    lst = catc.add_parser("list", help="list the catalogue")
    lst.add_argument("--kind")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_catalogue_list)


async def cmd_catalogue_import(args: argparse.Namespace) -> int:
    from bot.engine.importing import import_file
    from bot.progress import Progress

    config = read_config(args)
    results = []
    async with services(config) as svc:
        for path in args.files:
            progress = Progress(f"importing {path.name}", enabled=not args.json)
            result = await import_file(
                svc.engine,
                path,
                kinds=config.kinds,
                clock=svc.clock,
                media_dir=config.media_dir,
                on_progress=progress.update,
                cover_dirs=[path.parent, config.media_dir, config.templates_dir],
            )
            progress.done()
            results.append(result)
            if not args.json:
                print(f"{path}: {result.created} created, {result.updated} updated")
    if args.json:
        print_json([{"file": r.file, "created": r.created, "updated": r.updated} for r in results])
    return 0


async def cmd_catalogue_list(args: argparse.Namespace) -> int:
    from bot.shapes import resource_json
    from bot.store import catalogue as catalogue_store

    config = read_config(args)
    if args.kind and args.kind not in config.kinds:
        raise UserError(f"unknown kind {args.kind!r} (known: {', '.join(config.kinds)})")
    async with database(config) as engine, engine.connect() as conn:
        items = await catalogue_store.list_resources(conn, kinds=[args.kind] if args.kind else [])
    if args.json:
        print_json([resource_json(r) for r in items])
    else:
        for r in items:
            print(f"{r.id:<28} {r.kind:<9} {r.title}")
    return 0
