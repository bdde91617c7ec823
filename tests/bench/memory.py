"""Benchmark 4: resident memory of a ``bot serve`` subprocess, idle after start-up and after a
burst (one due post per account, published through the service's own publisher against the
simulator at 50 ms a call). Read from outside via /proc/<pid>/status (VmRSS now, VmHWM peak).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from subprocess import DEVNULL
from typing import Any

import aiohttp

from bot.config import PROJECT_ROOT
from bot.store import db
from bot.store import posts as post_store
from tests.bench.burst import APPID, SECRET, new_post, simulator_process, wait_final
from tests.bench.quota_calls import free_port

BOT = [sys.executable, "-m", "bot"]
IDLE_GOAL_MB = 80.0


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of ``pid`` in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def config_text(db_path: Path, sim_url: str, accounts: int, port: int, base: Path) -> str:
    lines = [
        f'[database]\nurl = "sqlite+aiosqlite:///{db_path}"\n',
        f'[bot]\nschedules_dir = "{base / "schedules"}"\n',
        f'[web]\nhost = "127.0.0.1"\nport = {port}\nbase_url = "http://127.0.0.1:{port}"\n',
        # Shipped defaults (every account at once) but for the polls, so the burst's posts
        # are published within seconds.
        "[publisher]\npoll_first_seconds = 1.0\npoll_max_seconds = 5.0\n",
    ]
    for i in range(accounts):
        lines.append(
            f'[[accounts]]\nname = "acc{i}"\nappid = "{APPID}"\nsecret = "{SECRET}"\n'
            f'api_base = "{sim_url}"\ntimezone = "UTC"\n'
        )
        lines.append(f'[[columns]]\nname = "col{i}"\naccount = "acc{i}"\nauthor = "团区委"\n')
    return "\n".join(lines)


async def wait_healthy(url: str, proc: asyncio.subprocess.Process, limit_s: float = 60) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < limit_s:
            if proc.returncode is not None:
                raise RuntimeError(f"bot serve exited with {proc.returncode}")
            try:
                async with session.get(f"{url}/healthz") as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("bot serve did not answer /healthz in time")


async def run_memory(accounts: int = 100, settle: float = 5.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        base = Path(tmp)
        (base / "schedules").mkdir()
        db_path = base / "serve.db"
        port = free_port()
        async with simulator_process(latency_ms=50, publish_delay_seconds=1.0, seed=3) as sim:
            cfg = base / "config.toml"
            cfg.write_text(config_text(db_path, sim, accounts, port, base), encoding="utf-8")
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            upgrade = await asyncio.create_subprocess_exec(
                *BOT, "--config", str(cfg), "db", "upgrade", env=env, stdout=DEVNULL
            )
            if await upgrade.wait() != 0:
                raise RuntimeError("bot db upgrade failed")
            proc = await asyncio.create_subprocess_exec(
                *BOT,
                "--config",
                str(cfg),
                "serve",
                cwd=PROJECT_ROOT,
                env=env,
                stdout=DEVNULL,
                stderr=DEVNULL,
            )
            try:
                startup = await wait_healthy(f"http://127.0.0.1:{port}", proc)
                await asyncio.sleep(settle)
                idle = proc_memory_mb(proc.pid)
                published = await _burst(f"sqlite+aiosqlite:///{db_path}", accounts)
                await asyncio.sleep(1.0)
                after = proc_memory_mb(proc.pid)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
    return {
        "accounts": accounts,
        "startup_to_healthz_s": round(startup, 2),
        "idle_mb": idle,
        "after_burst_mb": after,
        "burst_published": published,
        "idle_goal_mb": IDLE_GOAL_MB,
        "idle_met": idle.get("VmRSS", 1e9) <= IDLE_GOAL_MB,
    }


async def _burst(url: str, accounts: int) -> int:
    """One due post per account, written to the service's database; wait until published."""
    from datetime import UTC, datetime

    engine = db.open_engine(url)
    try:
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            ids = [
                await post_store.create(conn, new_post(i, due=now), now=now)
                for i in range(accounts)
            ]
        states = await wait_final(engine, ids, limit_s=max(120.0, accounts * 2.0))
        return sum(1 for s in states.values() if s == "published")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.memory")
    parser.add_argument("--accounts", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run_memory(args.accounts)), indent=2))


if __name__ == "__main__":
    main()
