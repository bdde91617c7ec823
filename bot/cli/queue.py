"""``bot queue list|show|approve|reject|cancel|retry|preview``: posts and review actions."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from bot.cli.common import database, language, pad, print_json, read_config, say, services
from bot.domain.models import PostStatus

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Config
    from bot.domain.models import Post


def register(commands: Commands) -> None:
    queue = commands.add_parser("queue", help="posts and review actions")
    qc = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    ql = qc.add_parser("list", help="posts with their status")
    ql.add_argument("--status", choices=[s.value for s in PostStatus])
    ql.add_argument("--column")
    ql.add_argument("--json", action="store_true")
    ql.set_defaults(handler=cmd_queue_list)
    for action in ("approve", "cancel", "retry", "reject", "show"):
        qa = qc.add_parser(action, help=f"{action} a post")
        qa.add_argument("id", type=int)
        if action in ("approve", "reject"):
            qa.add_argument("--comment", default="")
        qa.add_argument("--json", action="store_true")
        qa.set_defaults(handler=cmd_queue_action, action=action)

    qp = qc.add_parser("preview", help="send a post to a reviewer's WeChat (mass/preview)")
    qp.add_argument("id", type=int)
    qp.add_argument("--openid", default="", help="default: the account's preview_openid")
    qp.set_defaults(handler=cmd_queue_preview)


async def cmd_queue_list(args: argparse.Namespace) -> int:
    from bot.shapes import account_tz, post_json
    from bot.store import posts as post_store

    config = read_config(args)
    statuses = [PostStatus(args.status)] if args.status else None
    async with database(config) as engine, engine.connect() as conn:
        items = await post_store.list_posts(conn, statuses=statuses, column=args.column)
    if args.json:
        print_json([post_json(p, config) for p in items])
    else:
        for p in items:
            tz = account_tz(config, p.account)
            due = (
                p.scheduled_for.astimezone(tz).isoformat(sep=" ", timespec="minutes")
                if p.scheduled_for
                else say(args, "next slot")
            )
            flag = " " + say(args, "NEEDS ATTENTION") if p.needs_attention else ""
            status = say(args, p.status.value)
            more = f" +{p.article_count - 1}" if p.article_count > 1 else ""  # 多图文
            cells = f"{p.id:>5} {pad(status, 10)} {pad(p.column, 10)} {pad(due, 22)}"
            print(f"{cells} {p.title}{more}{flag}")
        if not items:  # said on stderr: stdout stays the (empty) listing
            print(say(args, "No posts."), file=sys.stderr)
    return 0


async def cmd_queue_action(args: argparse.Namespace) -> int:
    from bot.shapes import post_json
    from bot.store import posts as post_store

    config = read_config(args)
    actor = f"cli:{getpass.getuser()}"
    async with services(config) as svc:
        review = svc.review
        if args.action == "approve":
            post = await review.approve(args.id, actor=actor, comment=args.comment)
        elif args.action == "reject":
            post = await review.reject(args.id, actor=actor, comment=args.comment)
        elif args.action == "cancel":
            post = await review.cancel(args.id, actor=actor)
        elif args.action == "retry":
            await svc.drafting.keep_copies_before_retry(args.id, actor=actor)  # see bot.web.actions
            post = await review.retry(args.id, actor=actor)
        else:
            async with svc.engine.connect() as conn:
                post = await post_store.get(conn, args.id)
    if args.json:
        print_json(post_json(post, config, with_content=args.action == "show"))
    elif args.action == "show":
        await _show(args, config, post)
    else:
        status = say(args, post.status.value)
        print(
            say(
                args,
                "post {id} is now {status}: {title}",
                id=post.id,
                status=status,
                title=post.title,
            )
        )
    return 0


async def _show(args: argparse.Namespace, config: Config, post: Post) -> None:
    """The post as a reviewer reads it: facts, the body, what the checks find, the history."""
    from bot.cli.log import entry_line
    from bot.content.checks import check_post
    from bot.i18n import translate_sentence
    from bot.shapes import account_tz
    from bot.store import log as log_store

    lang = language(args)
    tz = account_tz(config, post.account)
    due = (
        post.scheduled_for.astimezone(tz).isoformat(sep=" ", timespec="minutes")
        if post.scheduled_for
        else say(args, "next slot")
    )
    facts = [
        (say(args, "Post"), f"#{post.id} {post.title}"),
        (say(args, "Status"), say(args, post.status.value)),
        (say(args, "Column"), f"{post.column} ({post.account})"),
        (say(args, "Due"), due),
        (say(args, "Resources"), ", ".join(post.resource_ids) or say(args, "none")),
    ]
    if post.article_url:
        facts.append((say(args, "Article URL"), post.article_url))
    if post.error:
        facts.append((say(args, "Error message"), translate_sentence(lang, post.error)))
    for name, value in facts:
        print(say(args, "{name}: {value}", name=name, value=value))
    print(f"\n--- {say(args, 'Markdown')} ---\n{post.markdown.rstrip()}\n")
    findings = check_post(
        post.title,
        post.author,
        post.digest,
        post.content_html,
        post.content_source_url,
        markdown=post.markdown,
    )
    print(f"--- {say(args, 'Checks')} ---")
    for f in findings:
        print(f"{say(args, f.severity)}: {f.text(lang)}")
    if not findings:
        print(say(args, "no findings"))
    config_db = config.database_url
    from bot.store import db

    engine = db.open_engine(config_db)
    try:
        async with engine.connect() as conn:
            history = await log_store.list_entries(conn, post_ids=[post.id], limit=200)
    finally:
        await engine.dispose()
    print(f"\n--- {say(args, 'History')} ---")
    for entry in reversed(history):
        print(entry_line(args, config, entry))


async def cmd_queue_preview(args: argparse.Namespace) -> int:
    config = read_config(args)
    async with services(config) as svc:
        msg_id = await svc.send_preview(
            args.id, openid=args.openid, actor=f"cli:{getpass.getuser()}"
        )
    print(f"preview of post {args.id} sent (msg_id {msg_id or 'none'})")
    return 0
