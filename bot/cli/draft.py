"""``bot draft``: draft a post for a column and queue it."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import language, parse_when, print_json, read_config, say, services

if TYPE_CHECKING:
    from bot.cli.common import Commands


def register(commands: Commands) -> None:
    draft = commands.add_parser("draft", help="draft a post for a column and queue it")
    draft.add_argument("--column", required=True)
    draft.add_argument("--resource", nargs="+", default=[], metavar="ID")
    draft.add_argument(
        "--at", help="now, 08:00, 明天 8:00 or 2024-05-01 08:00; default: the next slot"
    )
    draft.add_argument("--preview", type=Path, help="also write the exact HTML to this file")
    draft.add_argument(
        "--force",
        action="store_true",
        help="draft a resource the column featured within its cooldown",
    )
    draft.add_argument("--json", action="store_true")
    draft.set_defaults(handler=cmd_draft)


async def cmd_draft(args: argparse.Namespace) -> int:
    from bot.content.checks import describe, finding_dict
    from bot.shapes import post_json

    config = read_config(args)
    column = config.column(args.column)
    tz = config.account(column.account).tz
    at = parse_when(args.at, tz) if args.at is not None else None
    async with services(config) as svc:
        draft = await svc.drafting.draft(
            column.name,
            resource_ids=args.resource,
            at=at,
            actor=f"cli:{getpass.getuser()}",
            force=args.force,
        )
    post = draft.post
    if args.preview:
        args.preview.write_text(post.content_html, encoding="utf-8")
    if args.json:
        shape = post_json(post, config, with_content=True)
        shape["findings"] = [finding_dict(f, "en") for f in draft.findings]
        print_json(shape)
    else:
        status = say(args, post.status.value)
        print(
            say(args, "post {id} [{status}] {title}", id=post.id, status=status, title=post.title)
        )
        if post.article_count > 1:  # 多图文: each article of the push, the headline first
            for number, article in enumerate(post.articles, start=1):
                print(f"  {number}. {article.title}")
        when = (
            post.scheduled_for.astimezone(tz).isoformat(sep=" ", timespec="minutes")
            if post.scheduled_for
            else say(args, "next slot")
        )
        print("  " + say(args, "due: {when}", when=when))
        for finding in draft.findings:
            print(f"  {describe(finding, language(args))}")
    return 0
