"""``bot simulator``: the account-API simulator on its own."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import port_number
from bot.domain.errors import UserError

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    sim = commands.add_parser("simulator", help="the account-API simulator on its own")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=port_number, default=8081)
    sim.add_argument(
        "--appid", default="wx-demo-appid", help="the app id it accepts: your config's appid"
    )
    sim.add_argument("--secret", default="demo-secret", help="the app secret it accepts")
    sim.add_argument("--latency-ms", type=int, default=0)
    sim.add_argument("--fault-rate", type=float, default=0.0)
    sim.add_argument("--lost-answer-rate", type=float, default=0.0)
    sim.add_argument("--publish-delay", type=float, default=2.0, help="seconds at status 1")
    sim.add_argument("--seed", type=int)
    sim.add_argument("--callback-url", default="")
    sim.add_argument("--callback-token", default="")
    sim.add_argument(
        "--quota",
        action="append",
        default=[],
        metavar="PATH=N",
        type=quota_override,
        help="a daily quota other than the platform's, e.g. freepublish/submit=1000",
    )
    sim.set_defaults(handler=cmd_simulator)


def quota_override(text: str) -> tuple[str, int]:
    """``PATH=N`` for ``bot simulator --quota``."""
    path, _, limit = text.partition("=")
    if not path or not limit.isdigit():
        raise argparse.ArgumentTypeError(f"expected PATH=N (e.g. draft/add=1000), got {text!r}")
    return path.removeprefix("/cgi-bin/"), int(limit)


async def cmd_simulator(args: argparse.Namespace) -> int:
    from bot.account.simulator import SimulatorConfig, run_forever

    config = SimulatorConfig(
        appid=args.appid,
        secret=args.secret,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        lost_answer_rate=args.lost_answer_rate,
        seed=args.seed,
        publish_delay_seconds=args.publish_delay,
        callback_url=args.callback_url,
        callback_token=args.callback_token,
        quotas=dict(args.quota),
    )
    try:
        await run_forever(config, args.host, args.port)
    except OSError as exc:  # the port is taken, or the host is not this machine's
        reason = exc.strerror or str(exc)
        raise UserError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    return 0
