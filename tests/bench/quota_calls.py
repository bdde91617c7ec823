"""Benchmark 2: quota-limited calls (draft/add, draft/get, submit, freepublish/get,
freepublish/batchget) per published post, with the platform's PUBLISHJOBFINISH push going to
the real web app's /callback/{account} route, and with polling only.

Each account has its own simulator process (the simulator pushes to one callback URL), and
the counts are the simulators' own ``call_counts``, so nothing the bot logs is trusted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import open_services
from bot.store import posts as post_store
from tests.bench.burst import (
    QUOTA_PATHS,
    bench_config,
    new_post,
    prepare_db,
    publisher_settings,
    sim_state,
    simulator_process,
    wait_final,
)

CALLBACK_TOKEN = "bench-callback-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_mode(
    *,
    callback: bool,
    accounts: int,
    posts_per_account: int,
    publish_delay: float,
    poll_first: float,
    poll_max: float,
) -> dict[str, Any]:
    """Publish ``accounts * posts_per_account`` posts; count quota-limited calls per post."""
    port = free_port()
    sim_opts: dict[str, Any] = {"latency_ms": 50, "publish_delay_seconds": publish_delay}
    settings = publisher_settings(8, poll_first=poll_first, poll_max=poll_max)
    with tempfile.TemporaryDirectory(prefix="bench-quota-") as tmp:
        base = Path(tmp)
        url = f"sqlite+aiosqlite:///{base / 'quota.db'}"
        async with contextlib.AsyncExitStack() as stack:
            sim_urls = []
            for i in range(accounts):
                opts = dict(sim_opts, seed=100 + i)
                if callback:
                    opts["callback_url"] = f"http://127.0.0.1:{port}/callback/acc{i}"
                    opts["callback_token"] = CALLBACK_TOKEN
                sim_urls.append(await stack.enter_async_context(simulator_process(**opts)))
            config = bench_config(
                url,
                sim_urls,
                accounts,
                base=base,
                publisher=settings,
                callback_token=CALLBACK_TOKEN if callback else "",
                web_port=port,
            )
            await prepare_db(url, config)
            svc = await stack.enter_async_context(
                open_services(config, has_schedule=lambda _c: False)
            )
            if callback:
                await _start_web(stack, svc, port)
            ids = []
            async with svc.engine.begin() as conn:
                for n in range(posts_per_account):
                    for i in range(accounts):
                        post = new_post(i, due=svc.clock(), title=f"配额 {n} acc{i}")
                        ids.append(await post_store.create(conn, post, now=svc.clock()))
            stop = asyncio.Event()
            worker = asyncio.create_task(svc.worker.run_forever(stop, tick=settings.tick_seconds))
            states = await wait_final(svc.engine, ids, limit_s=60 + 10 * posts_per_account)
            stop.set()
            await worker
            counts: dict[str, int] = dict.fromkeys(QUOTA_PATHS, 0)
            for sim_url in sim_urls:
                calls = (await sim_state(sim_url)).get("call_counts", {})
                for path in QUOTA_PATHS:
                    counts[path] += int(calls.get(path, 0))
    published = sum(1 for s in states.values() if s == "published")
    total = sum(counts.values())
    return {
        "callback": callback,
        "posts": len(ids),
        "published": published,
        "calls": counts,
        "calls_per_published_post": round(total / published, 3) if published else None,
        "goal": 2.2 if callback else 3.5,
        "met": bool(published) and total / published <= (2.2 if callback else 3.5),
    }


async def _start_web(stack: contextlib.AsyncExitStack, svc: Any, port: int) -> None:
    """The real admin app (its /callback/{account} route) on ``port``, in this process."""
    from bot.web.app import build_web_app

    runner = web.AppRunner(build_web_app(svc), access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.TCPSite(runner, "127.0.0.1", port).start()


async def run_quota_calls(
    accounts: int = 4,
    posts_per_account: int = 5,
    publish_delay: float = 1.5,
    poll_first: float = 1.0,
    poll_max: float = 8.0,
) -> dict[str, Any]:
    """Three runs: callback; polling with a job that outlasts the first poll; polling with a
    job that is done by the first poll."""

    def mode(callback: bool, delay: float) -> Any:
        return run_mode(
            callback=callback,
            accounts=accounts,
            posts_per_account=posts_per_account,
            publish_delay=delay,
            poll_first=poll_first,
            poll_max=poll_max,
        )

    return {
        "settings": {
            "accounts": accounts,
            "posts_per_account": posts_per_account,
            "poll_first_s": poll_first,
            "poll_max_s": poll_max,
            "publish_delay_s": publish_delay,
            "first_poll_with_callback_s": poll_first * 4,
        },
        "with_callback": await mode(True, publish_delay),
        "polling_only": await mode(False, publish_delay),
        "polling_only_fast_job": await mode(False, poll_first / 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.quota_calls")
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--posts-per-account", type=int, default=5)
    parser.add_argument("--publish-delay", type=float, default=1.5)
    parser.add_argument("--poll-first", type=float, default=1.0)
    args = parser.parse_args()
    result = asyncio.run(
        run_quota_calls(args.accounts, args.posts_per_account, args.publish_delay, args.poll_first)
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
