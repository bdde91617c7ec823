"""``bot simulator``: the account-API simulator on its own."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from bot.cli.common import port_number
from bot.domain.errors import UserError

if TYPE_CHECKING:
    from bot.cli.common import Commands


def _with_epilog(parser: argparse.ArgumentParser) -> str:
    parser.epilog = parser.epilog or variants_epilog()
    return argparse.ArgumentParser.format_help(parser)


def variants_epilog() -> str:
    """What ``bot simulator --help`` says about the profiles and variants."""
    from bot.account.simulator.config import PROFILES, VARIANTS

    lines = [
        "The platform behaves in ways its documentation does not settle; each such behaviour",
        "is a variant (--variant NAME=VALUE, repeatable). A profile sets all of them:",
        "  documented  what the docs say (the default)",
        "  realistic   the strictest plausible choice of each (the demo runs on it)",
        "",
        "variants (documented / realistic):",
    ]
    for name, meaning in VARIANTS.items():
        documented, realistic = (_shown(PROFILES[p].get(name, True)) for p in PROFILES)
        lines.append(f"  {name} ({documented} / {realistic})")
        lines.append(
            textwrap.fill(meaning, width=88, initial_indent=" " * 6, subsequent_indent=" " * 6)
        )
    lines += [
        "",
        "e.g. bot simulator --profile realistic --variant draft_removal=job_end",
        "GET /_sim/state shows the profile and every variant in effect.",
    ]
    return "\n".join(lines)


def _shown(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def register(commands: Commands) -> None:
    sim = commands.add_parser(
        "simulator",
        help="the account-API simulator on its own",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The epilog reads the simulator's tables, which import the simulator (and aiohttp):
    # made when this help is shown, not whenever any command builds the parser.
    sim.format_help = lambda: _with_epilog(sim)  # type: ignore[method-assign]
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
        "--profile",
        choices=["documented", "realistic"],
        default="documented",
        help="how the platform's unsettled behaviours go (see below)",
    )
    sim.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=variant_argument,
        help="one behaviour other than the profile's, e.g. draft_removal=job_end",
    )
    sim.add_argument(
        "--console-articles",
        type=int,
        default=0,
        metavar="N",
        help="articles published by hand in the console, with a raw control character each",
    )
    sim.add_argument(
        "--quota",
        action="append",
        default=[],
        metavar="PATH=N",
        type=quota_override,
        help="a daily quota other than the platform's, e.g. freepublish/submit=1000",
    )
    sim.set_defaults(handler=cmd_simulator)


def variant_argument(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` for ``bot simulator --variant``."""
    from bot.account.simulator.config import variant_override

    try:
        return variant_override(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def quota_override(text: str) -> tuple[str, int]:
    """``PATH=N`` for ``bot simulator --quota``."""
    path, _, limit = text.partition("=")
    if not path or not limit.isdigit():
        raise argparse.ArgumentTypeError(f"expected PATH=N (e.g. draft/add=1000), got {text!r}")
    return path.removeprefix("/cgi-bin/"), int(limit)


async def cmd_simulator(args: argparse.Namespace) -> int:
    from bot.account.simulator import SimulatorConfig, run_forever

    config = SimulatorConfig.for_profile(
        args.profile,
        **dict(args.variant),
        console_articles=max(0, args.console_articles),
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
