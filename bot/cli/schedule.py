"""``bot schedule list|pause|resume``: schedules and their slots."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import print_json, read_config, services
from bot.domain.errors import UserError

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    sch = commands.add_parser("schedule", help="schedules and their slots")
    sc = sch.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    sl = sc.add_parser("list", help="schedules with their next fire times")
    sl.add_argument("--json", action="store_true")
    sl.set_defaults(handler=cmd_schedule_list)
    for action in ("pause", "resume"):
        sp = sc.add_parser(action, help=f"{action} a schedule")
        sp.add_argument("name")
        sp.set_defaults(handler=cmd_schedule_pause, paused=action == "pause")


async def cmd_schedule_list(args: argparse.Namespace) -> int:
    from bot.engine.schedules import load_schedules
    from bot.engine.scheduling import Scheduler

    config = read_config(args)
    specs = load_schedules(config)
    async with services(config) as svc:
        scheduler = Scheduler(svc.engine, config, specs, svc.clock, svc.drafting, lambda: None)
        upcoming = await scheduler.upcoming(5)
    shaped = [{**item, "next": [t.isoformat() for t in item.get("next", [])]} for item in upcoming]
    if args.json:
        print_json(shaped)
    else:
        for item in shaped:
            state = " (paused)" if item.get("paused") else ""
            print(f"{item['schedule']}{state} → {item['column']}: {', '.join(item['next'][:3])}")
    return 0


async def cmd_schedule_pause(args: argparse.Namespace) -> int:
    from bot.engine.schedules import load_schedules
    from bot.engine.scheduling import Scheduler

    config = read_config(args)
    specs = load_schedules(config)
    if args.name not in {s.name for s in specs}:
        raise UserError(f"no schedule named {args.name!r}")
    async with services(config) as svc:
        scheduler = Scheduler(svc.engine, config, specs, svc.clock, svc.drafting, lambda: None)
        await scheduler.set_paused(args.name, args.paused)
    print(f"schedule {args.name} {'paused' if args.paused else 'resumed'}", file=sys.stderr)
    return 0
