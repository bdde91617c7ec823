"""``bot publish --due``: one pass over what is due."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import language, print_json, read_config, say, services
from bot.domain.models import PostStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.cli.common import Commands
    from bot.domain.models import Post


def register(commands: Commands) -> None:
    pub = commands.add_parser("publish", help="publish what is due")
    pub.add_argument("--due", action="store_true", required=True)
    pub.add_argument("--max-wait", type=float, default=900.0, help="seconds to wait for results")
    pub.add_argument("--json", action="store_true")
    pub.set_defaults(handler=cmd_publish_due)


async def cmd_publish_due(args: argparse.Namespace) -> int:
    from bot.i18n import translate_sentence
    from bot.progress import Progress
    from bot.shapes import post_json

    config = read_config(args)
    progress = Progress(say(args, "publishing"), enabled=not args.json)
    async with services(config) as svc:
        await svc.drafting.keep_missing_copies()  # posts stored before covers were kept
        done = await svc.worker.run_due(
            max_wait=args.max_wait,
            on_progress=lambda posts: progress.show(tally(posts, lambda t: say(args, t))),
        )
    if done:
        progress.done()
    if args.json:
        print_json([post_json(p, config) for p in done])
    else:
        if not done:
            print(say(args, "nothing was due"))
        for p in done:
            lang = language(args)
            extra = p.article_url or translate_sentence(lang, p.error)
            if not extra and p.next_attempt_at:
                extra = say(args, "next try {at}", at=p.next_attempt_at.isoformat())
            status = say(args, p.status.value)
            line = say(args, "post {id} {status}: {title}", id=p.id, status=status, title=p.title)
            print(f"{line} {extra}".rstrip())
    return 0


def tally(posts: list[Post], said: Callable[[str], str] = str) -> str:
    """``3 published, 1 waiting for the platform, …``: the progress line of a pass (each
    state through ``said``, which gives it in the command's language)."""
    counts: dict[str, int] = {}
    for post in posts:
        if post.needs_attention:
            key = "need a person"
        elif post.status is PostStatus.PUBLISHING:
            key = "waiting for the platform"
        else:
            key = str(post.status)
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {said(key)}" for key, n in sorted(counts.items()))
