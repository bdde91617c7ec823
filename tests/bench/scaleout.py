"""Scale-out: the 08:00 burst served by two ``bot serve`` processes sharing one PostgreSQL
database, with the shipped defaults, as an operator would run them.

N accounts (default 100), each with a column and a schedule firing at the same minute (real
time: the first minute boundary at least 45 s away), ``when_queue_empty = "draft"`` over the
sample catalogue, the simulator in its own process at 50 ms a call. Both processes start
then, inside the stage-ahead lead, so their start-up passes open the slot, draft and stage
its posts (each slot once between them); at the fire time the posts are submitted. Lateness =
first ``freepublish/submit`` row minus the fire time. Meanwhile ``/healthz`` of both
processes is asked every 50 ms from 5 s before the fire time to 10 s after it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import DEVNULL
from typing import Any

import aiohttp

from bot.config import PROJECT_ROOT
from bot.content.sample import sample_catalogue_path
from bot.store import db
from tests.bench.burst import (
    APPID,
    SECRET,
    first_submit_times,
    percentile,
    simulator_process,
    wait_final,
)
from tests.bench.memory import wait_healthy
from tests.bench.quota_calls import free_port
from tests.bench.report_latency import PG_DEFAULT

BOT = [sys.executable, "-m", "bot"]


def config_text(url: str, sim_url: str, accounts: int, port: int, base: Path) -> str:
    lines = [
        f'[database]\nurl = "{url}"\n',
        f'[bot]\nschedules_dir = "{base / "schedules"}"\nmedia_dir = "{base / "media"}"\n',
        f'[web]\nhost = "127.0.0.1"\nport = {port}\nbase_url = "http://127.0.0.1:{port}"\n',
    ]
    for i in range(accounts):
        lines.append(
            f'[[accounts]]\nname = "acc{i}"\nappid = "{APPID}"\nsecret = "{SECRET}"\n'
            f'api_base = "{sim_url}"\ntimezone = "UTC"\n'
        )
        lines.append(
            f'[[columns]]\nname = "col{i}"\naccount = "acc{i}"\nauthor = "团区委"\n'
            "cooldown_days = 0\n"
        )
    return "\n".join(lines)


def schedules_text(accounts: int, fire_at: datetime) -> str:
    return "\n".join(
        f'[[schedule]]\nname = "burst-{i}"\ncolumn = "col{i}"\n'
        f'cron = "{fire_at.minute} {fire_at.hour} * * *"\ntimezone = "UTC"\n'
        'when_queue_empty = "draft"\n'
        for i in range(accounts)
    )


async def run_scaleout(accounts: int = 100) -> dict[str, Any]:
    import pytest

    from tests.integration.pg import fresh_pg_database

    os.environ.setdefault("BOT_TEST_PG_URL", PG_DEFAULT)
    try:
        async with fresh_pg_database() as url:
            return await _run(url, accounts)
    except pytest.skip.Exception as exc:
        return {"skipped": str(exc)}


async def _run(url: str, accounts: int) -> dict[str, Any]:
    sim = {"latency_ms": 50, "publish_delay_seconds": 1.0, "seed": 5}
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
        base = Path(tmp)
        (base / "schedules").mkdir()
        now = datetime.now(UTC)
        fire_at = (now + timedelta(seconds=45 + 60)).replace(second=0, microsecond=0)
        (base / "schedules" / "burst.toml").write_text(
            schedules_text(accounts, fire_at), encoding="utf-8"
        )
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        async with simulator_process(**sim) as sim_url:
            ports = [free_port(), free_port()]
            configs = []
            for n, port in enumerate(ports):
                cfg = base / f"config{n}.toml"
                cfg.write_text(config_text(url, sim_url, accounts, port, base), encoding="utf-8")
                configs.append(cfg)
            await _bot(env, configs[0], "db", "upgrade")
            await _bot(env, configs[0], "catalogue", "import", str(sample_catalogue_path()))
            procs = [
                await asyncio.create_subprocess_exec(
                    *BOT,
                    "--config",
                    str(cfg),
                    "serve",
                    cwd=base,
                    env=env,
                    stdout=DEVNULL,
                    stderr=DEVNULL,
                )
                for cfg in configs
            ]
            started_before_s = (fire_at - datetime.now(UTC)).total_seconds()
            try:
                for proc, port in zip(procs, ports, strict=True):
                    await wait_healthy(f"http://127.0.0.1:{port}", proc)
                health = asyncio.create_task(_healthz(ports, fire_at))
                engine = db.open_engine(url)
                try:
                    await asyncio.sleep(max(0.0, (fire_at - datetime.now(UTC)).total_seconds()))
                    ids = await _slot_posts(engine, accounts, fire_at)
                    states = await wait_final(engine, ids, limit_s=max(120.0, accounts * 2.0))
                    submits = await first_submit_times(engine)
                    staged = await _count_steps(engine, "stage-ahead", fire_at)
                finally:
                    await engine.dispose()
                latencies = await health
            finally:
                for proc in procs:
                    if proc.returncode is None:
                        proc.send_signal(signal.SIGTERM)
                for proc in procs:
                    try:
                        await asyncio.wait_for(proc.wait(), 20)
                    except TimeoutError:
                        proc.kill()
                        await proc.wait()
    late = [(submits[i] - fire_at).total_seconds() for i in ids if i in submits]
    return {
        "accounts": accounts,
        "processes": 2,
        "database": "postgresql",
        "simulator": sim,
        "publisher": "shipped defaults",
        "started_before_slot_s": round(started_before_s, 1),
        "slot_posts": len(ids),
        "staged_before_slot": staged,
        "published": sum(1 for s in states.values() if s == "published"),
        "submitted": len(late),
        "p50_s": round(statistics.median(late), 3) if late else None,
        "p99_s": round(percentile(late, 99), 3) if late else None,
        "healthz_requests": len(latencies),
        "healthz_p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "healthz_max_ms": round(max(latencies), 1) if latencies else None,
    }


async def _bot(env: dict[str, str], config: Path, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *BOT,
        "--config",
        str(config),
        *args,
        cwd=config.parent,
        env=env,
        stdout=DEVNULL,
        stderr=DEVNULL,
    )
    if await proc.wait() != 0:
        raise RuntimeError(f"bot {' '.join(args)} failed")


async def _slot_posts(engine: Any, accounts: int, fire_at: datetime) -> list[int]:
    """The posts the slot at ``fire_at`` took or drafted (waits up to 30 s for all)."""
    import sqlalchemy as sa

    from bot.store.tables import posts

    deadline = time.monotonic() + 30
    while True:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.select(posts.c.id).where(posts.c.scheduled_for == fire_at))
            ids = [int(r[0]) for r in rows]
        if len(ids) >= accounts or time.monotonic() > deadline:
            return ids
        await asyncio.sleep(0.5)


async def _count_steps(engine: Any, step: str, before: datetime) -> int:
    import sqlalchemy as sa

    from bot.store.tables import publish_log

    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(sa.func.count()).where(
                publish_log.c.step == step,
                publish_log.c.outcome == "ok",
                publish_log.c.at <= before,
            )
        )
        return int(rows.scalar_one())


async def _healthz(ports: list[int], fire_at: datetime) -> list[float]:
    """Milliseconds of each /healthz answer, every 50 ms per process, around the fire time."""
    start = fire_at - timedelta(seconds=5)
    await asyncio.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()))
    end = fire_at + timedelta(seconds=10)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        while datetime.now(UTC) < end:
            for port in ports:
                t = time.perf_counter()
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                        await r.read()
                except aiohttp.ClientError:
                    continue
                latencies.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.05)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scaleout")
    parser.add_argument("--accounts", type=int, default=100)
    args = parser.parse_args()
    os.chdir(PROJECT_ROOT)
    print(json.dumps(asyncio.run(run_scaleout(args.accounts)), indent=2))


if __name__ == "__main__":
    main()
