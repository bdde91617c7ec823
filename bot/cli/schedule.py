"""``bot schedule list|pause|resume``: schedules and their slots."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import print_json, read_config, say, services
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
        return 0
    zones = {s.name: s.tz for s in specs}
    for item in upcoming:
        if item.get("paused"):
            print(say(args, "{schedule} → {column}: paused", **item))
            continue
        tz = zones.get(item["schedule"])
        # In the schedule's own time zone: "08:00" reads as the cron says, not as UTC.
        times = [t.astimezone(tz).strftime("%Y-%m-%d %H:%M") for t in item.get("next", [])[:3]]
        zone = getattr(tz, "key", "")
        print(f"{item['schedule']} → {item['column']}: {', '.join(times)} ({zone})")
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
    done = "schedule {name} paused" if args.paused else "schedule {name} resumed"
    print(say(args, done, name=args.name), file=sys.stderr)
    return 0
