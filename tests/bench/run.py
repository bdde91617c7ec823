"""``make bench``: runs every benchmark, writes the results file and prints a summary.

A full run (``make bench``) writes ``docs/bench-results.json``, which is committed and is the
only source of the figures in ``docs/benchmarks.md`` and the README (``python -m
tests.bench.results`` rewrites their tables from it). ``--quick``, ``--only`` or a size flag
make a partial run, written to ``var/bench/results.json`` unless ``--output`` says otherwise.

``--quick`` is a smoke run with small sizes; without it the sizes are the issue's (100
accounts, 100,000 posts, 1,000,000 log rows, 100,000 catalogue rows, 60 s soak). Every size can
be set on its own; the sizes used are written into the results. Publisher settings are the
shipped defaults unless a figure says otherwise.

To add a benchmark: write its ``run_…`` coroutine (returning a JSON-able dict) and a function
turning that dict into ``Figure`` rows, and add a ``Benchmark`` to ``BENCHMARKS`` below.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import PublisherConfig
from tests.bench.burst import run_burst, run_soak, tuned_settings
from tests.bench.import_catalogue import run_import
from tests.bench.loop_latency import run_loop_latency
from tests.bench.memory import run_memory
from tests.bench.pipeline import BACKLOG_GOAL_S, CLI_GOAL_S, run_pipeline
from tests.bench.quota_calls import run_quota_calls
from tests.bench.report_latency import run_report_latency
from tests.bench.results import (
    COMMITTED,
    SCHEMA,
    SCRATCH,
    Benchmark,
    Figure,
    dump,
    figure_rows,
    git_commit,
    met_text,
)
from tests.bench.scaleout import run_scaleout

QUICK: dict[str, Any] = {
    "accounts": 10,
    "posts": 5_000,
    "log_rows": 50_000,
    "runs": 3,
    "rows": 5_000,
}
QUICK |= {"soak": 0.0, "quota_accounts": 2, "quota_posts": 2, "backlog_posts": 5}
FULL: dict[str, Any] = {
    "accounts": 100,
    "posts": 100_000,
    "log_rows": 1_000_000,
    "runs": 7,
    "rows": 100_000,
}
FULL |= {"soak": 60.0, "quota_accounts": 4, "quota_posts": 5}
BACKLOG_POSTS = 30  # the backlog; a quick run takes QUICK's


# Goals, as the issues state them.
BURST_P99_GOAL_S = 2.0  # slot to freepublish/submit, 100 accounts, default configuration
BURST_SPEEDUP_GOAL = 10.0  # × the sequential wechatpy loop, in the same run
REPORT_RATIO_GOAL = 1.5  # service ÷ hand-written SQL fetching the same rows
IDLE_RSS_GOAL_MB = 80.0
TUNED = "tuned: concurrency 32, tick 0.2 s, first poll 1 s, reconcile window 20 s"


# --- figures from each benchmark's raw result ----------------------------------------------


def burst_figures(key: str, what: str, *, headline: bool, settings: str = "") -> Any:
    def figures(b: dict[str, Any]) -> list[Figure]:
        s, c = b["service"], b["cron_wechatpy"]
        n = b["accounts"]
        speedup = round(c["p99_s"] / s["p99_s"], 2) if s.get("p99_s") else None
        return [
            Figure(
                f"{key}.service.p99_s",
                f"burst, {n} accounts, {what}: service p99 slot → submit",
                s["p99_s"],
                "s",
                f"≤ {BURST_P99_GOAL_S} s",
                # A post never submitted is not in the percentiles: then the goal is not met.
                s["submitted"] == s["slots_opened"]
                and s["p99_s"] is not None
                and s["p99_s"] <= BURST_P99_GOAL_S,
                headline=headline,
                settings=settings,
            ),
            Figure(f"{key}.service.p50_s", "same, service p50", s["p50_s"], "s", settings=settings),
            Figure(
                f"{key}.service.published",
                "same, posts published of the slots opened",
                f"{s['published']} of {s['slots_opened']}",
                settings=settings,
            ),
            Figure(
                f"{key}.service.all_published_s",
                "same, slot → every post published",
                s["total_to_all_published_s"],
                "s",
                settings=settings,
            ),
            Figure(
                f"{key}.cron.p99_s",
                f"burst, {n} accounts, {what}: sequential wechatpy loop p99 (same run)",
                c["p99_s"],
                "s",
                headline=headline,
            ),
            Figure(
                f"{key}.speedup_p99",
                f"burst, {n} accounts, {what}: wechatpy loop p99 ÷ service p99 (same run)",
                speedup,
                "×",
                f"≥ {BURST_SPEEDUP_GOAL}×",
                speedup is not None and speedup >= BURST_SPEEDUP_GOAL,
                headline=headline,
                settings=settings,
            ),
        ]

    return figures


QUOTA_MODES = {
    "with_callback": "with the callback",
    "polling_only": "polling only, job outlasts the first poll",
    "polling_only_fast_job": "polling only, job done by the first poll",
}


def quota_figures(q: dict[str, Any]) -> list[Figure]:
    settings = q["settings"]
    note = (
        f"first poll {settings['poll_first_s']} s, poll max {settings['poll_max_s']} s, "
        f"{settings['accounts']} accounts × {settings['posts_per_account']} posts"
    )
    return [
        Figure(
            f"quota.{mode}.calls_per_post",
            f"quota-limited calls per published post, {label}",
            q[mode]["calls_per_published_post"],
            "",
            f"≤ {q[mode]['goal']}",
            bool(q[mode]["met"]),
            settings=note,
            headline=True,
        )
        for mode, label in QUOTA_MODES.items()
    ]


REPORT_COMPARISONS = {
    "report_year": ("whole report for a year (4 queries + objects) ÷ its aggregate SQL", True),
    "report_quarter": ("whole report for a quarter ÷ its aggregate SQL", False),
    "aggregate_year": (
        "the report's aggregate query ÷ the same SQL written by hand (a noise-floor check)",
        False,
    ),
    "queue_first_page": ("queue first page (200) ÷ raw SQL", False),
    "log_page_200": ("publish log page (200) ÷ raw SQL", False),
}


def report_figures(r: dict[str, Any]) -> list[Figure]:
    out: list[Figure] = []
    sizes = f"{r['posts']} posts, {r['log_rows']} log rows"
    for engine in ("sqlite", "postgresql"):
        e = r[engine]
        if "skipped" in e or "error" in e:
            out.append(Figure(f"report.{engine}", f"report on {engine}", "skipped: " + str(e)))
            continue
        for name, (label, headline) in REPORT_COMPARISONS.items():
            f = e[name]
            out.append(
                Figure(
                    f"report.{engine}.{name}.ratio",
                    f"{engine}: {label} ({f['service_ms']} ms vs {f['raw_sql_ms']} ms)",
                    f["ratio"],
                    "×",
                    f"≤ {REPORT_RATIO_GOAL}×",
                    bool(f["met"]),
                    settings=sizes,
                    headline=headline,
                )
            )
    return out


def memory_figures(m: dict[str, Any]) -> list[Figure]:
    n = m["accounts"]
    return [
        Figure(
            "memory.idle_rss_mb",
            f"`bot serve` idle RSS, {n} accounts",
            m["idle_mb"].get("VmRSS"),
            "MB",
            f"≤ {IDLE_RSS_GOAL_MB} MB",
            m["idle_mb"].get("VmRSS", 1e9) <= IDLE_RSS_GOAL_MB,
            headline=True,
        ),
        Figure(
            "memory.after_burst_rss_mb",
            f"`bot serve` RSS after a {n}-post burst",
            m["after_burst_mb"].get("VmRSS"),
            "MB",
            headline=True,
        ),
        Figure(
            "memory.after_burst_peak_mb",
            "same, peak (VmHWM)",
            m["after_burst_mb"].get("VmHWM"),
            "MB",
        ),
    ]


def pipeline_figures(p: dict[str, Any]) -> list[Figure]:
    b = p["backlog"]
    published = b["outcomes"].get("published", 0)
    settings = f"simulator 50 ms a call, jobs of {b['job_seconds']} s, no callback"
    out = [
        Figure(
            "backlog.publish_due_wall_s",
            f"one `bot publish --due` pass, {b['posts']} due posts of one account",
            b["wall_s"],
            "s",
            f"≤ {BACKLOG_GOAL_S:g} s, all published",
            b["wall_s"] <= BACKLOG_GOAL_S and published == b["posts"],
            settings=settings,
            headline=True,
        ),
        Figure("backlog.published", "same, posts published", f"{published} of {b['posts']}"),
    ]
    for command, seconds in p["cli_start_s"].items():
        out.append(
            Figure(
                f"cli.start_s.{command.replace(' ', '_').strip('-')}",
                f"`bot {command}` start to exit (median of {p['cli_runs']})",
                seconds,
                "s",
                f"≤ {CLI_GOAL_S} s",
                seconds <= CLI_GOAL_S,
                settings=f"load average {p['load_average']}" if p.get("load_average") else "",
                headline=command != "log",
            )
        )
    return out


def scaleout_figures(s: dict[str, Any]) -> list[Figure]:
    if "skipped" in s:
        return [Figure("scaleout", "burst on two `bot serve` over PostgreSQL", s["skipped"])]
    n = s["accounts"]
    settings = "two `bot serve` processes, one PostgreSQL database, shipped defaults"
    return [
        Figure(
            "scaleout.p99_s",
            f"burst, {n} accounts, two `bot serve` on PostgreSQL: p99 slot → submit",
            s["p99_s"],
            "s",
            f"≤ {BURST_P99_GOAL_S} s",
            s["p99_s"] is not None
            and s["p99_s"] <= BURST_P99_GOAL_S
            and s["submitted"] == s["slot_posts"] == n,
            settings=settings,
            headline=True,
        ),
        Figure("scaleout.p50_s", "same, p50", s["p50_s"], "s", settings=settings),
        Figure(
            "scaleout.published",
            "same, posts published of the slot's",
            f"{s['published']} of {s['slot_posts']}",
        ),
        Figure(
            "scaleout.healthz_p99_ms",
            "same, `/healthz` p99 from 5 s before the slot to 10 s after",
            s["healthz_p99_ms"],
            "ms",
            "≤ 100 ms",
            s["healthz_p99_ms"] is not None and s["healthz_p99_ms"] <= 100,
            settings=settings,
        ),
    ]


def import_figures(i: dict[str, Any]) -> list[Figure]:
    return [
        Figure("import.wall_s", f"catalogue import, {i['rows']} GBK rows", i["wall_s"], "s"),
        Figure("import.peak_rss_mb", "same, peak RSS", i["peak_rss_mb"], "MB"),
    ]


def soak_figures(s: dict[str, Any]) -> list[Figure]:
    faults = s["faults_met"]
    return [
        Figure(
            "soak.duplicates",
            f"soak {s['seconds']} s, 15% faults + 15% lost answers: posts published twice",
            s["duplicates"],
            "",
            "0",
            s["duplicates"] == 0,
            headline=True,
        ),
        Figure(
            "soak.posts",
            "same, posts (their outcomes)",
            f"{s['posts']} ({', '.join(f'{k} {v}' for k, v in sorted(s['outcomes'].items()))})",
        ),
        Figure(
            "soak.faults_met",
            "same, faults met: unclear outcomes / error answers / reconcile steps",
            f"{faults['unknown_outcome_calls']} / {faults['error_calls']} / "
            f"{faults['reconcile_steps']}",
        ),
    ]


def loop_figures(r: dict[str, Any]) -> list[Figure]:
    n, rows, ms = r["accounts"], r["rows"], r["healthz_ms"]
    what = f"a year's report over {n} accounts, a {rows}-row import and a {n}-post burst at once"
    return [
        Figure(
            "loop.healthz_p99_ms",
            f"/healthz p99 while {what}",
            ms["p99"],
            "ms",
            f"≤ {r['p99_goal_ms']} ms",
            bool(r["p99_met"]),
            headline=True,
        ),
        Figure(
            "loop.healthz_max_ms",
            "same, slowest answer",
            ms["max"],
            "ms",
            "≤ 1000 ms",
            bool(r["max_met"]),
        ),
        Figure(
            "loop.page_p99_ms",
            "same, an editor's queue page (`GET /api/posts?limit=20`) p99",
            r["page_ms"]["p99"],
            "ms",
        ),
        Figure(
            "loop.page_max_ms",
            "same, the queue page's slowest answer",
            r["page_ms"]["max"],
            "ms",
            "≤ 1000 ms",
            bool(r["page_max_met"]),
        ),
    ]


# --- the benchmarks ------------------------------------------------------------------------

_ORDER = random.Random()


def _burst(predraft: bool, settings: PublisherConfig | None = None) -> Any:
    async def run(size: dict[str, Any]) -> dict[str, Any]:
        return await run_burst(
            size["accounts"], predraft, settings, service_first=_ORDER.random() < 0.5
        )

    return run


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "burst",
        _burst(False),
        burst_figures("burst", "drafted from the catalogue for the slot", headline=True),
    ),
    Benchmark(
        "burst_predrafted",
        _burst(True),
        burst_figures("burst_predrafted", "pre-drafted", headline=False),
        group="burst",
    ),
    Benchmark(
        "burst_tuned",
        _burst(False, tuned_settings()),
        burst_figures(
            "burst_tuned", "drafted from the catalogue for the slot", headline=False, settings=TUNED
        ),
        group="burst",
        when=lambda size: size["tuned"],
    ),
    Benchmark(
        "quota",
        lambda size: run_quota_calls(size["quota_accounts"], size["quota_posts"]),
        quota_figures,
    ),
    Benchmark(
        "report",
        lambda size: run_report_latency(size["posts"], size["log_rows"], 100, size["runs"]),
        report_figures,
    ),
    Benchmark(
        "pipeline",
        lambda size: run_pipeline(size.get("backlog_posts", BACKLOG_POSTS)),
        pipeline_figures,
    ),
    Benchmark("scaleout", lambda size: run_scaleout(size["accounts"]), scaleout_figures),
    Benchmark("memory", lambda size: run_memory(size["accounts"]), memory_figures),
    Benchmark(
        "loop",
        lambda size: run_loop_latency(size["accounts"], size["rows"]),
        loop_figures,
    ),
    Benchmark("import", lambda size: asyncio.to_thread(run_import, size["rows"]), import_figures),
    Benchmark(
        "soak",
        lambda size: run_soak(size["soak"]),
        soak_figures,
        when=lambda size: size["soak"] > 0,
    ),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    groups = sorted({b.selector for b in BENCHMARKS})
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--only", nargs="+", choices=groups, help="run only these benchmarks")
    parser.add_argument("--accounts", type=int, help="burst and memory: accounts")
    parser.add_argument("--posts", type=int, help="report: posts in the year")
    parser.add_argument("--log-rows", type=int, help="report: publish-log rows")
    parser.add_argument("--runs", type=int, help="report: timed runs per median")
    parser.add_argument("--rows", type=int, help="import: catalogue rows")
    parser.add_argument("--soak", type=float, help="soak seconds (0: skip)")
    parser.add_argument("--quota-accounts", type=int, help="quota: accounts")
    parser.add_argument("--quota-posts", type=int, help="quota: posts per account")
    parser.add_argument(
        "--tuned",
        action=argparse.BooleanOptionalAction,
        help="also run the burst with the tuned settings (default: in a full run)",
    )
    parser.add_argument("--seed", type=int, help="seed of the random timing order")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"results file (default: {COMMITTED.name} in docs/ for a full run, else {SCRATCH})",
    )
    return parser.parse_args(argv)


def sizes(args: argparse.Namespace) -> dict[str, Any]:
    chosen = dict(QUICK if args.quick else FULL)
    for key in chosen:
        value = getattr(args, key, None)
        if value is not None:
            chosen[key] = value
    chosen["tuned"] = args.tuned if args.tuned is not None else not args.quick
    return chosen


def is_full(args: argparse.Namespace, size: dict[str, Any]) -> bool:
    """A run of every benchmark at the full sizes: the only kind that may replace the
    committed results."""
    return not args.quick and not args.only and all(size[k] == v for k, v in FULL.items())


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    size = sizes(args)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    _ORDER.seed(seed)
    wanted = set(args.only or {b.selector for b in BENCHMARKS})
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "mode": "full" if is_full(args, size) else ("quick" if args.quick else "partial"),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_commit(),
        "machine": machine(),
        "settings": {
            "sizes": size,
            "publisher_defaults": asdict(PublisherConfig()),
            "timing_order_seed": seed,
        },
        "results": {},
        "figures": [],
    }
    for bench in BENCHMARKS:
        if bench.selector not in wanted or not bench.when(size):
            continue
        print(f"running {bench.name}…", flush=True)
        started = time.perf_counter()
        try:
            raw = await bench.run(size)
            figures = bench.figures(raw)
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            raw, figures = {"error": f"{type(exc).__name__}: {exc}"}, []
        raw["bench_seconds"] = round(time.perf_counter() - started, 1)
        results["results"][bench.name] = raw
        results["figures"].extend(figure_rows(figures))
    return results


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "note": "shared machine; figures vary between runs",
    }


def print_table(results: dict[str, Any]) -> None:
    rows = [
        (f["label"], f"{f['value']} {f['unit']}".strip(), f"{f['goal']} {met_text(f['met'])}")
        for f in results["figures"]
    ]
    rows += [
        (f"{name} FAILED", raw["error"][:70], "")
        for name, raw in results["results"].items()
        if "error" in raw
    ]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(2)]
    for figure, measured, goal in rows:
        print(f"{figure:<{widths[0]}}  {measured:<{widths[1]}}  {goal.replace('**', '')}")


def failed(results: dict[str, Any]) -> list[str]:
    """Why the run must exit non-zero: a benchmark that broke, or a post published twice."""
    out = [f"{name}: {raw['error']}" for name, raw in results["results"].items() if "error" in raw]
    out += [
        f"{f['key']} = {f['value']}"
        for f in results["figures"]
        if f["key"] == "soak.duplicates" and f["met"] is False
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run_all(args))
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    output = args.output or (COMMITTED if results["mode"] == "full" else SCRATCH)
    dump(results, output)
    print()
    print_table(results)
    print(f"\nresults: {output} ({results['total_seconds']} s, {results['mode']} run)")
    if results["mode"] == "full" and output == COMMITTED:
        print("then: python -m tests.bench.results  (rewrites the tables in the docs)")
    problems = failed(results)
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
