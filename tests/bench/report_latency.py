"""Benchmark 3: admin and report latency over a year of data (100 accounts, 100,000 posts,
1,000,000 publish-log rows by default) on SQLite and PostgreSQL.

Each service call (build_report for a year and a quarter, the queue's first page via
list_posts, the publish log page via list_entries) is timed against hand-written SQL that
fetches the same thing; the figure is the ratio of medians (goal: at most 1.5x).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config
from bot.engine.reporting import Period, build_report
from bot.store import db
from bot.store import log as log_store
from bot.store import posts as post_store
from bot.store import reports as report_store
from bot.store.reports import raw_sql_statement
from bot.store.tables import post_resources, posts, publish_log, resources
from tests.bench.burst import bench_config, publisher_settings

YEAR = 2025
KINDS = ("platform", "exhibit", "course", "lesson", "article")
STEPS = (
    "slot",
    "media/uploadimg",
    "material/add_material",
    "draft/add",
    "freepublish/submit",
    "freepublish/get",
    "transition",
    "draft/get",
    "freepublish/batchget",
    "transition",
)
CHUNK = 10_000
PAGE = 200
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"  # what .ci/run uses

RAW_POSTS_PAGE = sa.text("SELECT * FROM posts ORDER BY id DESC LIMIT :limit")
RAW_POST_RESOURCES = sa.text(
    "SELECT post_id, resource_id FROM post_resources WHERE post_id >= :low ORDER BY post_id"
)
RAW_LOG_PAGE = sa.text(
    "SELECT * FROM (SELECT * FROM publish_log ORDER BY id DESC LIMIT :limit) AS newest "
    "ORDER BY at, id"
)


async def load_year(engine: AsyncEngine, n_posts: int, n_log: int, accounts: int) -> float:
    """Bulk-insert a year of data with Core executemany in chunks; returns seconds taken."""
    started = time.perf_counter()
    t0 = datetime(YEAR, 1, 1, tzinfo=UTC)
    span = 365 * 86400
    async with engine.begin() as conn:
        await conn.execute(
            resources.insert(),
            [
                {"id": f"r{k}", "kind": KINDS[k % 5], "title": f"资源 {k}", "created_at": t0}
                | {"updated_at": t0}
                for k in range(500)
            ],
        )
    for low in range(0, n_posts, CHUNK):
        rows, links = [], []
        for pid in range(low + 1, min(n_posts, low + CHUNK) + 1):
            at = t0 + timedelta(seconds=(pid * 7919) % span)
            acc = pid % accounts
            failed = pid % 50 == 0
            rows.append(
                {
                    "id": pid,
                    "column_name": f"col{acc}",
                    "account": f"acc{acc}",
                    "title": f"第 {pid} 期 学习",
                    "status": "failed" if failed else "published",
                    "stage": "submitted",
                    "scheduled_for": at,
                    "created_at": at - timedelta(hours=2),
                    "updated_at": at,
                    "published_at": None if failed else at,
                    "error": "45009 quota" if failed else "",
                    "publish_id": f"p{pid}",
                }
            )
            links.append({"post_id": pid, "resource_id": f"r{pid % 500}", "kind": KINDS[pid % 5]})
        async with engine.begin() as conn:
            await conn.execute(posts.insert(), rows)
            await conn.execute(post_resources.insert(), links)
    per_post = max(1, n_log // max(1, n_posts))
    for low in range(0, n_log, CHUNK):
        entries = []
        for k in range(low, min(n_log, low + CHUNK)):
            pid = k // per_post + 1
            step = STEPS[k % len(STEPS)]
            api = "/" in step
            last = k % per_post == per_post - 1  # each post's last row: its final transition
            if last:
                step = "transition"
            to_status = ("failed" if pid % 50 == 0 else "published") if last else ""
            entries.append(
                {
                    "at": t0 + timedelta(seconds=(pid * 7919) % span + k % per_post),
                    "post_id": pid,
                    "account": f"acc{pid % accounts}",
                    "column_name": f"col{pid % accounts}",
                    "step": step,
                    "outcome": "ok",
                    "from_status": "publishing" if last else "",
                    "to_status": to_status,
                    "latency_ms": 50 if api and not last else None,
                    "errcode": 0 if api else None,
                }
            )
        async with engine.begin() as conn:
            await conn.execute(publish_log.insert(), entries)
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(sa.text("ANALYZE"))
            for table in ("posts", "publish_log"):
                await conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        else:
            await conn.execute(sa.text("ANALYZE"))
        await conn.commit()
    return time.perf_counter() - started


async def paired_medians(
    first: Callable[[], Awaitable[object]], second: Callable[[], Awaitable[object]], runs: int
) -> tuple[float, float]:
    """Median seconds of each of two calls, timed in turns: A B, then B A, and so on, so that
    neither always runs first (on warmer caches or a quieter machine) than the other."""
    await first()  # warm caches and statement compilation
    await second()
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(runs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            started = time.perf_counter()
            await (first, second)[which]()
            samples[which].append(time.perf_counter() - started)
    return statistics.median(samples[0]), statistics.median(samples[1])


def comparisons(engine: AsyncEngine, config: Config) -> dict[str, tuple[Any, Any]]:
    """name → (service call, raw SQL doing the same work)."""
    year = Period(date(YEAR, 1, 1), date(YEAR, 12, 31), str(YEAR), "year")
    quarter = Period(date(YEAR, 4, 1), date(YEAR, 6, 30), f"{YEAR}-Q2", "quarter")

    def report(period: Period) -> tuple[Any, Any]:
        async def service() -> object:
            return await build_report(engine, config, period)

        async def raw() -> object:
            start, end = period.window(config_tz(config))
            async with engine.connect() as conn:
                return (await conn.execute(raw_sql_statement(), {"start": start, "end": end})).all()

        return service, raw

    def aggregate(period: Period) -> tuple[Any, Any]:
        """The report's main aggregate alone: the store's query against the same SQL by hand."""

        async def service() -> object:
            start, end = period.window(config_tz(config))
            async with engine.connect() as conn:
                return await report_store.column_aggregate(conn, start, end, None)

        async def raw() -> object:
            start, end = period.window(config_tz(config))
            async with engine.connect() as conn:
                return (await conn.execute(raw_sql_statement(), {"start": start, "end": end})).all()

        return service, raw

    async def queue_service() -> object:
        async with engine.connect() as conn:
            return await post_store.list_posts(conn, limit=PAGE)

    async def queue_raw() -> object:
        async with engine.connect() as conn:
            page = (await conn.execute(RAW_POSTS_PAGE, {"limit": PAGE})).all()
            low = min(r.id for r in page) if page else 0
            return page, (await conn.execute(RAW_POST_RESOURCES, {"low": low})).all()

    async def log_service() -> object:
        async with engine.connect() as conn:
            return await log_store.list_entries(conn, limit=PAGE)

    async def log_raw() -> object:
        async with engine.connect() as conn:
            return (await conn.execute(RAW_LOG_PAGE, {"limit": PAGE})).all()

    return {
        "report_year": report(year),
        "report_quarter": report(quarter),
        "aggregate_year": aggregate(year),
        "queue_first_page": (queue_service, queue_raw),
        "log_page_200": (log_service, log_raw),
    }


def config_tz(config: Config) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(config.report_timezone)


async def bench_engine(url: str, n_posts: int, n_log: int, accounts: int, runs: int) -> dict:
    engine = db.open_engine(url)
    try:
        await db.upgrade(engine)
        load_s = await load_year(engine, n_posts, n_log, accounts)
        config = bench_config(
            url,
            ["http://127.0.0.1:9"],
            accounts,
            base=Path(tempfile.gettempdir()) / "bench-report",
            publisher=publisher_settings(4, poll_first=30, poll_max=1800),
        )
        out: dict[str, Any] = {"load_s": round(load_s, 1)}
        for name, (service, raw) in comparisons(engine, config).items():
            s, r = await paired_medians(service, raw, runs)
            out[name] = {
                "service_ms": round(s * 1000, 2),
                "raw_sql_ms": round(r * 1000, 2),
                "ratio": round(s / r, 2),
                "met": s / r <= 1.5,
            }
        return out
    finally:
        await engine.dispose()


async def run_report_latency(
    posts_n: int = 100_000, log_n: int = 1_000_000, accounts: int = 100, runs: int = 7
) -> dict[str, Any]:
    result: dict[str, Any] = {"posts": posts_n, "log_rows": log_n, "accounts": accounts}
    result["runs_per_median"] = runs
    result["timing_order"] = "service and raw SQL in turns: AB, BA, AB, …"
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'report.db'}"
        result["sqlite"] = await bench_engine(url, posts_n, log_n, accounts, runs)
    result["postgresql"] = await _postgres(posts_n, log_n, accounts, runs)
    return result


async def _postgres(posts_n: int, log_n: int, accounts: int, runs: int) -> dict[str, Any]:
    import pytest

    from tests.integration.pg import fresh_pg_database

    os.environ.setdefault("BOT_TEST_PG_URL", PG_DEFAULT)
    try:
        async with fresh_pg_database() as url:
            return await bench_engine(url, posts_n, log_n, accounts, runs)
    except pytest.skip.Exception as exc:
        return {"skipped": str(exc)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.report_latency")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    result = asyncio.run(run_report_latency(args.posts, args.log_rows, args.accounts, args.runs))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
