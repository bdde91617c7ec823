"""Benchmark 1 (burst) and the soak, plus the pieces the other benchmarks share: the simulator
in its own process, a bench configuration, and reading results back from the store.

Burst: N accounts, each with a column and a schedule firing in the same minute. The service
(real Scheduler.open_due_slots, real Worker, real client, SQLite) against the simulator at
50 ms a call, compared with a sequential wechatpy script doing what a cron job does.

Soak: publishing for a while with faults and lost answers injected; counts duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot.app import open_services
from bot.config import PROJECT_ROOT, Config, PublisherConfig, parse_config
from bot.content.sample import DEFAULT_COVER, sample_catalogue_path
from bot.domain.models import PostStatus
from bot.engine.importing import import_file
from bot.engine.schedules import ScheduleSpec, WhenQueueEmpty
from bot.engine.scheduling import Scheduler
from bot.store import db
from bot.store import posts as post_store
from bot.store.tables import posts, publish_log

APPID, SECRET = "wxsim0000000000001", "simulator-secret"
# Every account shares the simulator's one app id, so its per-app quotas would pool over all
# accounts; the bench lifts them (the bot's own per-account budgets stay at their defaults).
BIG_QUOTAS = {
    p: 1_000_000
    for p in (
        "token",
        "draft/add",
        "draft/get",
        "freepublish/submit",
        "freepublish/get",
        "freepublish/batchget",
        "material/add_material",
        "media/uploadimg",
    )
}
QUOTA_PATHS = (
    "draft/add",
    "draft/get",
    "freepublish/submit",
    "freepublish/get",
    "freepublish/batchget",
)
FINAL = {"published", "failed", "cancelled"}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- the simulator in its own process ---------------------------------------------------


@contextlib.asynccontextmanager
async def simulator_process(**options: Any) -> AsyncIterator[str]:
    """Start ``python -m tests.bench.burst simulator`` (its own process, so it does not share
    a core or the GIL with the service being measured); yields its base URL."""
    cmd = [sys.executable, "-m", "tests.bench.burst", "simulator", json.dumps(options)]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=PROJECT_ROOT
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        url = line.decode().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"simulator did not start: {url!r}")
        yield url
    finally:
        proc.terminate()
        await proc.wait()


async def _serve_simulator(options: dict[str, Any]) -> None:
    from bot.account.simulator import SimulatorConfig, start_simulator

    quotas = {**BIG_QUOTAS, **options.pop("quotas", {})}
    running = await start_simulator(
        SimulatorConfig(appid=APPID, secret=SECRET, quotas=quotas, **options)
    )
    print(running.url, flush=True)
    # Stop when the parent goes away (its end of stdin closes), even if it was killed.
    await asyncio.to_thread(sys.stdin.read)
    await running.stop()


async def sim_state(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/_sim/state") as r:
        return dict(await r.json())


# --- configuration and store helpers ----------------------------------------------------


def bench_config(
    db_url: str,
    sim_urls: list[str],
    accounts: int,
    *,
    base: Path,
    publisher: PublisherConfig,
    callback_token: str = "",
    web_port: int = 0,
) -> Config:
    """``accounts`` accounts acc0… (account i on ``sim_urls[i % len]``), one column each."""
    account_rows: list[dict[str, Any]] = []
    for i in range(accounts):
        row: dict[str, Any] = {
            "name": f"acc{i}",
            "appid": APPID,
            "secret": SECRET,
            "api_base": sim_urls[i % len(sim_urls)],
            "timezone": "UTC",
        }
        if callback_token:
            row["token"] = callback_token
        account_rows.append(row)
    (base / "schedules").mkdir(parents=True, exist_ok=True)
    raw: dict[str, Any] = {
        "database": {"url": db_url},
        "accounts": account_rows,
        "columns": [
            {"name": f"col{i}", "account": f"acc{i}", "author": "团区委", "cooldown_days": 0}
            for i in range(accounts)
        ],
        "bot": {"schedules_dir": str(base / "schedules"), "media_dir": str(base / "media")},
    }
    if web_port:
        raw["web"] = {"host": "127.0.0.1", "port": web_port}
        raw["web"]["base_url"] = f"http://127.0.0.1:{web_port}"
    config = parse_config(raw)
    return replace(config, publisher=publisher, templates_dir=PROJECT_ROOT / "templates")


def publisher_settings(concurrency: int, *, poll_first: float, poll_max: float) -> PublisherConfig:
    return PublisherConfig(
        concurrency=concurrency,
        lease_seconds=120,
        max_attempts=8,
        poll_first_seconds=poll_first,
        poll_max_seconds=poll_max,
        reconcile_window_seconds=20.0,
        tick_seconds=0.2,
    )


async def prepare_db(url: str, config: Config) -> None:
    engine = db.open_engine(url)
    try:
        await db.upgrade(engine)
        await import_file(
            engine,
            sample_catalogue_path(),
            kinds=config.kinds,
            clock=lambda: datetime.now(UTC),
            media_dir=config.media_dir,
        )
    finally:
        await engine.dispose()


def new_post(i: int, *, due: datetime | None, title: str = "") -> post_store.NewPost:
    title = title or f"基层团组织学习 {i}"
    return post_store.NewPost(
        column=f"col{i}",
        account=f"acc{i}",
        title=title,
        author="团区委",
        digest="摘要",
        markdown="",
        content_html=f"<p>{title} 的正文：学习强国、青年大学习。</p>",
        content_source_url="https://www.xuexi.cn/",
        cover=str(DEFAULT_COVER),
        delivery="publish",
        status=PostStatus.QUEUED,
        resources=[],
        scheduled_for=due,
    )


async def wait_final(engine: Any, ids: list[int], limit_s: float) -> dict[int, str]:
    """Poll the store until every post is final (or needs a person); returns id → status."""
    deadline = time.monotonic() + limit_s
    while True:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.select(posts.c.id, posts.c.status, posts.c.needs_attention).where(
                    posts.c.id.in_(ids)
                )
            )
            state = {r.id: ("attention" if r.needs_attention else r.status) for r in rows}
        if all(s in FINAL or s == "attention" for s in state.values()):
            return state
        if time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.2)


async def first_submit_times(engine: Any) -> dict[int, datetime]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(publish_log.c.post_id, sa.func.min(publish_log.c.at))
            .where(publish_log.c.step == "freepublish/submit", publish_log.c.post_id.is_not(None))
            .group_by(publish_log.c.post_id)
        )
        out: dict[int, datetime] = {}
        for pid, at in rows:
            at = datetime.fromisoformat(at) if isinstance(at, str) else at
            out[int(pid)] = at.replace(tzinfo=UTC)
        return out


# --- the service's burst ----------------------------------------------------------------


def tuned_settings(concurrency: int = 32) -> PublisherConfig:
    """The settings the burst was first measured with (not the shipped defaults)."""
    return publisher_settings(concurrency, poll_first=1.0, poll_max=5.0)


async def service_burst(
    sim_url: str, accounts: int, settings: PublisherConfig, predraft: bool, base: Path
) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{base / 'burst.db'}"
    config = bench_config(url, [sim_url], accounts, base=base, publisher=settings)
    await prepare_db(url, config)
    # The service runs from a little before the slot, as a service does at 08:00: long
    # enough (inside the configured lead) to draft and stage the slot's posts, which it
    # starts at once. Its clock runs ahead so that moment is now instead of in up to a
    # minute; every timestamp (slot, log rows) is read on that same clock.
    lead = settings.stage_ahead_seconds
    ahead = min(lead, max(20.0, accounts * 0.4)) if lead > 0 else 0.5
    real = datetime.now(UTC)
    fire_at = (real + timedelta(seconds=ahead + 60)).replace(second=0, microsecond=0)
    shift = fire_at - real - timedelta(seconds=ahead)

    def clock() -> datetime:
        return datetime.now(UTC) + shift

    specs = [
        ScheduleSpec(
            name=f"burst-{i}",
            column=f"col{i}",
            timezone="UTC",
            grace_seconds=600,
            cron=f"{fire_at.minute} {fire_at.hour} * * *",
            when_queue_empty=WhenQueueEmpty.DRAFT,
        )
        for i in range(accounts)
    ]
    async with open_services(config, clock=clock, has_schedule=lambda _c: True) as svc:
        if predraft:
            async with svc.engine.begin() as conn:
                for i in range(accounts):
                    await post_store.create(conn, new_post(i, due=None), now=clock())
        scheduler = Scheduler(
            svc.engine,
            config,
            specs,
            clock,
            svc.drafting,
            svc.slot_opened,
            lead=timedelta(seconds=lead),
        )
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(svc.worker.run_forever(stop, tick=settings.tick_seconds)),
            asyncio.create_task(svc.stager.run_forever(stop, tick=settings.tick_seconds)),
        ]
        # The service's start-up pass (with a lead it opens the coming slot at once), then
        # the pass its alarm makes at the fire time.
        started = time.perf_counter()
        outcomes = await scheduler.open_due_slots(clock())
        slots_done = time.perf_counter() - started
        await asyncio.sleep(max(0.0, (fire_at - clock()).total_seconds()))
        at_slot = time.perf_counter()
        outcomes += await scheduler.open_due_slots(clock())
        ids = [pid for o in outcomes for pid in o.post_ids]
        states = await wait_final(svc.engine, ids, limit_s=max(120.0, accounts * 3.0))
        all_final = time.perf_counter() - at_slot
        stop.set()
        await asyncio.gather(*tasks)
        submits = await first_submit_times(svc.engine)
        staged = await staged_before(svc.engine, fire_at)
    late = [(submits[i] - fire_at).total_seconds() for i in ids if i in submits]
    return {
        "mode": "pre-drafted posts" if predraft else "drafted from the catalogue for the slot",
        "concurrency": settings.concurrency,
        "stage_ahead_s": lead,
        "service_started_before_slot_s": ahead,
        "slots_opened": len(ids),
        "staged_before_slot": staged,
        "published": sum(1 for s in states.values() if s == "published"),
        "not_published": {str(k): v for k, v in states.items() if v != "published"},
        "submitted": len(late),
        "p50_s": round(statistics.median(late), 3) if late else None,
        "p99_s": round(percentile(late, 99), 3) if late else None,
        "total_to_last_submit_s": round(max(late), 3) if late else None,
        "scheduler_pass_s": round(slots_done, 3),
        "total_to_all_published_s": round(all_final, 3),
    }


async def staged_before(engine: Any, moment: datetime) -> int:
    """Posts whose draft was made ahead before ``moment``."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(publish_log.c.post_id, publish_log.c.at).where(
                publish_log.c.step == "stage-ahead", publish_log.c.outcome == "ok"
            )
        )
        count = 0
        for _pid, at in rows:
            at = datetime.fromisoformat(at) if isinstance(at, str) else at
            count += at.replace(tzinfo=UTC) <= moment
        return count


# --- the cron-job baseline: wechatpy, one account after the other -------------------------


def cron_script(sim_url: str, accounts: int) -> dict[str, Any]:
    """What a cron job with wechatpy does: per account a token, a cover upload, draft/add and
    submit, with blocking calls one after the other. Lateness is from the script's start (the
    slot) to the answer of each submit."""
    from wechatpy import WeChatClient

    class SimClient(WeChatClient):
        API_BASE_URL = f"{sim_url}/cgi-bin/"

        def fetch_access_token(self) -> Any:  # wechatpy hard-codes the real host here
            return self._fetch_access_token(
                url=f"{sim_url}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": SECRET},
            )

    cover = DEFAULT_COVER.read_bytes()
    started = time.perf_counter()
    late: list[float] = []
    for i in range(accounts):
        client = SimClient(APPID, SECRET)  # its own token store: a token per account
        thumb = client.material.add("thumb", ("cover.jpg", io.BytesIO(cover)))
        title = f"基层团组织学习 {i}"
        article = {
            "title": title,
            "author": "团区委",
            "digest": "摘要",
            "content": f"<p>{title} 的正文：学习强国、青年大学习。</p>",
            "content_source_url": "https://www.xuexi.cn/",
            "thumb_media_id": thumb["media_id"],
        }
        draft = client.post("draft/add", data={"articles": [article]})
        client.post("freepublish/submit", data={"media_id": draft["media_id"]})
        late.append(time.perf_counter() - started)
    return {
        "submitted": len(late),
        "p50_s": round(statistics.median(late), 3),
        "p99_s": round(percentile(late, 99), 3),
        "total_to_last_submit_s": round(late[-1], 3),
    }


async def run_burst(
    accounts: int,
    predraft: bool,
    settings: PublisherConfig | None = None,
    *,
    service_first: bool | None = None,
) -> dict[str, Any]:
    """The service's burst and the wechatpy loop's, each against a fresh simulator, in an
    order drawn at random (``service_first`` fixes it), so neither always runs on a machine
    warmed (or loaded) by the other. ``settings`` default to the shipped ``PublisherConfig()``."""
    settings = settings or PublisherConfig()
    if service_first is None:
        service_first = random.random() < 0.5
    sim = {"latency_ms": 50, "publish_delay_seconds": 1.0, "seed": 1}

    async def service_side(tmp: Path) -> dict[str, Any]:
        async with simulator_process(**sim) as sim_url:
            return await service_burst(sim_url, accounts, settings, predraft, tmp)

    async def cron_side() -> dict[str, Any]:
        async with simulator_process(**sim) as sim_url:
            return await asyncio.to_thread(cron_script, sim_url, accounts)

    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        if service_first:
            service = await service_side(Path(tmp))
            baseline = await cron_side()
        else:
            baseline = await cron_side()
            service = await service_side(Path(tmp))
    result: dict[str, Any] = {
        "accounts": accounts,
        "publisher": asdict(settings),
        "shipped_defaults": settings == PublisherConfig(),
        "order": ["service", "cron_wechatpy"] if service_first else ["cron_wechatpy", "service"],
        "simulator": sim,
        "service": service,
        "cron_wechatpy": baseline,
    }
    if service["total_to_last_submit_s"] and service["p99_s"]:
        result["ratio_total_service_over_cron"] = round(
            service["total_to_last_submit_s"] / baseline["total_to_last_submit_s"], 3
        )
        result["ratio_p99_service_over_cron"] = round(service["p99_s"] / baseline["p99_s"], 3)
    return result


# --- soak ---------------------------------------------------------------------------------


async def run_soak(seconds: float, accounts: int = 4) -> dict[str, Any]:
    """Publish continuously for ``seconds`` with 15% faults and 15% lost answers, let every
    post settle, and count posts that appear more than once on the simulator's published list
    (must be 0)."""
    sim = {"latency_ms": 20, "publish_delay_seconds": 0.5, "seed": 7}
    sim |= {"fault_rate": 0.15, "lost_answer_rate": 0.15, "slow_seconds": 1.5}
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        base = Path(tmp)
        url = f"sqlite+aiosqlite:///{base / 'soak.db'}"
        settings = replace(
            publisher_settings(8, poll_first=0.5, poll_max=2.0), reconcile_window_seconds=5.0
        )
        async with simulator_process(**sim) as sim_url:
            config = bench_config(url, [sim_url], accounts, base=base, publisher=settings)
            await prepare_db(url, config)
            async with open_services(config, has_schedule=lambda _c: False) as svc:
                stop = asyncio.Event()
                worker = asyncio.create_task(svc.worker.run_forever(stop, tick=0.2))
                ids = await _feed(svc, accounts, seconds)
                states = await wait_final(svc.engine, ids, limit_s=90)
                stop.set()
                await worker
                faults = await _fault_rows(svc.engine)
            state = await sim_state(sim_url)
    titles = [str(a.get("title", "")) for a in state.get("published", [])]
    dupes = sum(n - 1 for n in _counts(titles).values() if n > 1)
    tally = _counts(list(states.values()))
    return {
        "seconds": seconds,
        "accounts": accounts,
        "simulator": sim,
        "posts": len(ids),
        "outcomes": tally,
        "published_on_simulator": len(titles),
        "faults_met": faults,
        "duplicates": dupes,
    }


async def _feed(svc: Any, accounts: int, seconds: float) -> list[int]:
    """For ``seconds``, keep two unfinished posts per account (a steady load the publisher can
    follow, instead of an ever-growing queue); returns every post's id."""
    ids: list[int] = []
    owner: dict[int, int] = {}  # post id → account index
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        states = await wait_final(svc.engine, ids, limit_s=0) if ids else {}
        busy = _counts([str(owner[i]) for i, s in states.items() if s not in FINAL])
        async with svc.engine.begin() as conn:
            for i in range(accounts):
                for _ in range(2 - busy.get(str(i), 0)):
                    post = new_post(i, due=svc.clock(), title=f"soak {n} acc{i}")
                    pid = await post_store.create(conn, post, now=svc.clock())
                    ids.append(pid)
                    owner[pid] = i
                    n += 1
        svc.worker.wake.set()
        await asyncio.sleep(0.5)
    return ids


async def _fault_rows(engine: Any) -> dict[str, int]:
    """How often the faults were met: API calls with an unclear outcome, calls answered with
    an error, and reconciliation steps."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(publish_log.c.step, publish_log.c.outcome, sa.func.count()).group_by(
                publish_log.c.step, publish_log.c.outcome
            )
        )
        out = {"unknown_outcome_calls": 0, "error_calls": 0, "reconcile_steps": 0}
        for step, outcome, n in rows:
            if step == "reconcile":
                out["reconcile_steps"] += int(n)
            elif "/" in step and outcome == "unknown":
                out["unknown_outcome_calls"] += int(n)
            elif "/" in step and outcome == "error":
                out["error_calls"] += int(n)
        return out


def _counts(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.burst")
    sub = parser.add_subparsers(dest="what", required=True)
    sim = sub.add_parser("simulator", help="(internal) serve a simulator, print its URL")
    sim.add_argument("options", help="SimulatorConfig fields as JSON")
    burst = sub.add_parser("burst")
    burst.add_argument("--accounts", type=int, default=100)
    burst.add_argument(
        "--concurrency",
        type=int,
        help="the tuned settings with this concurrency (default: shipped)",
    )
    burst.add_argument("--predraft", action="store_true")
    soak = sub.add_parser("soak")
    soak.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    runner: Callable[[], Any]
    if args.what == "simulator":
        runner = lambda: _serve_simulator(json.loads(args.options))  # noqa: E731
    elif args.what == "burst":
        tuned = tuned_settings(args.concurrency) if args.concurrency else None
        runner = lambda: run_burst(args.accounts, args.predraft, tuned)  # noqa: E731
    else:
        runner = lambda: run_soak(args.seconds)  # noqa: E731
    result = asyncio.run(runner())
    if result is not None:
        print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
