"""Benchmarks of issue 14 beside the burst: a backlog through one ``bot publish --due`` pass,
and how fast the command line starts.

Backlog: one account with N due posts (default 30), the simulator in its own process at
50 ms a call with publish jobs of 3 s and no callback, the shipped publisher defaults, and
one ``bot publish --due`` as a subprocess: its wall time and what it published.

CLI start: ``bot --help``, ``bot queue list`` and ``bot log`` as subprocesses on a database
with the backlog's posts and log in it, each the median of several runs (wall time from
spawn to exit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT
from bot.store import db
from bot.store import posts as post_store
from tests.bench.burst import APPID, SECRET, new_post, simulator_process

BACKLOG_GOAL_S = 90.0
CLI_GOAL_S = 0.5
CLI_COMMANDS = (("--help",), ("queue", "list"), ("log",))


def bot_command() -> list[str]:
    """The installed ``bot`` script beside this interpreter (what a user runs), else ``-m``."""
    script = Path(sys.executable).parent / "bot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def write_config(base: Path, sim_url: str) -> Path:
    config = base / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{base / "bot.db"}"\n\n'
        f'[bot]\nschedules_dir = "{base / "schedules"}"\n\n'
        f'[[accounts]]\nname = "acc0"\nappid = "{APPID}"\nsecret = "{SECRET}"\n'
        f'api_base = "{sim_url}"\ntimezone = "UTC"\n\n'
        '[[columns]]\nname = "col0"\naccount = "acc0"\nauthor = "团区委"\n',
        encoding="utf-8",
    )
    (base / "schedules").mkdir(exist_ok=True)
    return config


def run_bot(
    config: Path, *args: str, timeout: float = 600
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [*bot_command(), "--config", str(config), *args],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return time.perf_counter() - started, done


async def add_due_posts(config: Path, count: int) -> None:
    engine = db.open_engine(f"sqlite+aiosqlite:///{config.parent / 'bot.db'}")
    try:
        async with engine.begin() as conn:
            now = datetime.now(UTC)
            for i in range(count):
                await post_store.create(
                    conn, new_post(0, due=now, title=f"积压第{i + 1:02d}篇"), now=now
                )
    finally:
        await engine.dispose()


async def run_pipeline(
    posts: int = 30, job_seconds: float = 3.0, cli_runs: int = 5
) -> dict[str, Any]:
    sim = {"latency_ms": 50, "publish_delay_seconds": job_seconds, "seed": 3}
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        base = Path(tmp)
        async with simulator_process(**sim) as sim_url:
            config = write_config(base, sim_url)
            _, upgraded = await asyncio.to_thread(run_bot, config, "db", "upgrade")
            if upgraded.returncode != 0:
                raise RuntimeError(f"bot db upgrade failed: {upgraded.stderr.strip()}")
            await add_due_posts(config, posts)
            wall, done = await asyncio.to_thread(run_bot, config, "publish", "--due", "--json")
            if done.returncode != 0:
                raise RuntimeError(f"bot publish --due failed: {done.stderr.strip()[-300:]}")
            result = json.loads(done.stdout)
            backlog = {
                "posts": posts,
                "job_seconds": job_seconds,
                "simulator": sim,
                "callback": False,
                "publisher": "shipped defaults",
                "wall_s": round(wall, 2),
                "outcomes": _counts([str(p["status"]) for p in result]),
            }
            cli = {
                " ".join(args): await asyncio.to_thread(_median_start, config, args, cli_runs)
                for args in CLI_COMMANDS
            }
    load = [round(x, 2) for x in os.getloadavg()]
    return {"backlog": backlog, "cli_start_s": cli, "cli_runs": cli_runs, "load_average": load}


def _median_start(config: Path, args: tuple[str, ...], runs: int) -> float:
    times = []
    for _ in range(runs):
        wall, done = run_bot(config, *args, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"bot {' '.join(args)} failed: {done.stderr.strip()}")
        times.append(wall)
    return round(statistics.median(times), 3)


def _counts(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.pipeline")
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--job-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    os.chdir(PROJECT_ROOT)
    result = asyncio.run(run_pipeline(args.posts, args.job_seconds))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
