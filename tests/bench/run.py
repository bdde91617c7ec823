"""``make bench``: runs every benchmark, writes var/bench/results.json and prints a summary.

``--quick`` is a smoke run with small sizes (under two minutes); without it the sizes are the
issue's (100 accounts, 100,000 posts, 1,000,000 log rows, 100,000 catalogue rows, 60 s soak).
Every size can be set on its own; the sizes used are written into the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT
from tests.bench.burst import run_burst, run_soak
from tests.bench.import_catalogue import run_import
from tests.bench.memory import run_memory
from tests.bench.quota_calls import run_quota_calls
from tests.bench.report_latency import run_report_latency

RESULTS = PROJECT_ROOT / "var" / "bench" / "results.json"
ALL = ("burst", "quota", "report", "memory", "import", "soak")

QUICK: dict[str, Any] = {
    "accounts": 10,
    "posts": 5_000,
    "log_rows": 50_000,
    "runs": 3,
    "rows": 5_000,
}
QUICK |= {"soak": 0.0, "quota_accounts": 2, "quota_posts": 2}
FULL: dict[str, Any] = {
    "accounts": 100,
    "posts": 100_000,
    "log_rows": 1_000_000,
    "runs": 7,
    "rows": 100_000,
}
FULL |= {"soak": 60.0, "quota_accounts": 4, "quota_posts": 5}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--only", nargs="+", choices=ALL, help="run only these benchmarks")
    parser.add_argument("--accounts", type=int, help="burst and memory: accounts")
    parser.add_argument("--concurrency", type=int, default=32, help="publisher concurrency")
    parser.add_argument("--posts", type=int, help="report: posts in the year")
    parser.add_argument("--log-rows", type=int, help="report: publish-log rows")
    parser.add_argument("--runs", type=int, help="report: timed runs per median")
    parser.add_argument("--rows", type=int, help="import: catalogue rows")
    parser.add_argument("--soak", type=float, help="soak seconds (0: skip)")
    parser.add_argument("--quota-accounts", type=int, help="quota: accounts")
    parser.add_argument("--quota-posts", type=int, help="quota: posts per account")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def sizes(args: argparse.Namespace) -> dict[str, Any]:
    chosen = dict(QUICK if args.quick else FULL)
    for key in chosen:
        value = getattr(args, key, None)
        if value is not None:
            chosen[key] = value
    chosen["concurrency"] = args.concurrency
    return chosen


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    size = sizes(args)
    wanted = set(args.only or ALL)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "sizes": size,
        "machine": machine(),
    }
    steps: list[tuple[str, Any]] = [
        ("burst", lambda: run_burst(size["accounts"], size["concurrency"], False)),
        ("burst_predrafted", lambda: run_burst(size["accounts"], size["concurrency"], True)),
        ("quota", lambda: run_quota_calls(size["quota_accounts"], size["quota_posts"])),
        (
            "report",
            lambda: run_report_latency(size["posts"], size["log_rows"], 100, size["runs"]),
        ),
        ("memory", lambda: run_memory(size["accounts"])),
        ("import", lambda: asyncio.to_thread(run_import, size["rows"])),
        ("soak", lambda: run_soak(size["soak"])),
    ]
    for name, step in steps:
        if name.split("_")[0] not in wanted or (name == "soak" and not size["soak"]):
            continue
        print(f"running {name}…", flush=True)
        started = time.perf_counter()
        try:
            results[name] = await step()
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name]["bench_seconds"] = round(time.perf_counter() - started, 1)
    return results


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "note": "shared machine; figures vary between runs",
    }


def summary(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, measured, goal) rows for the table."""
    rows: list[tuple[str, str, str]] = []
    for key in ("burst", "burst_predrafted"):
        b = results.get(key)
        if b and "service" in b:
            s, c = b["service"], b["cron_wechatpy"]
            label = f"{key} ({b['accounts']} accounts)"
            rows.append((f"{label} service p50/p99 s", f"{s['p50_s']} / {s['p99_s']}", ""))
            rows.append((f"{label} cron p50/p99 s", f"{c['p50_s']} / {c['p99_s']}", ""))
            rows.append(
                (
                    f"{label} ratio total / p99 (service/cron)",
                    f"{b.get('ratio_total_service_over_cron')} / "
                    f"{b.get('ratio_p99_service_over_cron')}",
                    "",
                )
            )
    q = results.get("quota")
    if q and "with_callback" in q:
        for mode in ("with_callback", "polling_only", "polling_only_fast_job"):
            m = q[mode]
            rows.append((f"quota calls/post {mode}", str(m["calls_per_published_post"]), _goal(m)))
    r = results.get("report")
    if r and "sqlite" in r:
        for engine in ("sqlite", "postgresql"):
            e = r[engine]
            if "skipped" in e or "error" in e:
                rows.append((f"report {engine}", e.get("skipped") or e.get("error", ""), ""))
                continue
            for name in (
                "report_year",
                "report_quarter",
                "aggregate_year",
                "queue_first_page",
                "log_page_200",
            ):
                f = e[name]
                measured = f"{f['service_ms']} ms vs {f['raw_sql_ms']} ms = {f['ratio']}x"
                rows.append((f"{engine} {name}", measured, "<= 1.5x " + _ok(f["met"])))
    m = results.get("memory")
    if m and "idle_mb" in m:
        rows.append(
            ("serve idle RSS MB", str(m["idle_mb"].get("VmRSS")), "<= 80 " + _ok(m["idle_met"]))
        )
        rows.append(("serve after burst RSS/peak MB", _rss(m["after_burst_mb"]), ""))
    i = results.get("import")
    if i and "wall_s" in i:
        rows.append(
            (f"import {i['rows']} rows", f"{i['wall_s']} s, peak {i['peak_rss_mb']} MB", "")
        )
    s = results.get("soak")
    if s and "duplicates" in s:
        rows.append((f"soak {s['seconds']} s, {s['posts']} posts", f"dupes {s['duplicates']}", "0"))
    for name, value in results.items():
        if isinstance(value, dict) and "error" in value:
            rows.append((f"{name} FAILED", value["error"][:70], ""))
    return rows


def _goal(m: dict[str, Any]) -> str:
    return f"<= {m['goal']} {_ok(m['met'])}"


def _ok(met: bool) -> str:
    return "met" if met else "NOT met"


def _rss(mb: dict[str, float]) -> str:
    return f"{mb.get('VmRSS')} / {mb.get('VmHWM')}"


def print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for figure, measured, goal in rows:
        print(f"{figure:<{widths[0]}}  {measured:<{widths[1]}}  {goal}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run_all(args))
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print()
    print_table(summary(results))
    print(f"\nresults: {args.output} ({results['total_seconds']} s)")
    return 1 if any(isinstance(v, dict) and "error" in v for v in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
