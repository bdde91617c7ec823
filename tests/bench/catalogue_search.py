"""Benchmark (alone, not in ``make bench``: building the catalogues takes minutes): what one
catalogue search costs on SQLite with every row at the import limits (security review, N5).

Two catalogues of ``--rows`` resources (100,000 by default), each field as long as an import
allows (id and title 200 characters, summary 2,000):

- **worst**: every value one character repeated (的的的…), searched for 49 of it and one other
  (的…的了, ``SEARCH_CHARS`` long): LIKE tries the term at every position of every value and
  gets 49 characters in before it fails, and nothing matches, so every row is read.
- **ordinary**: varied Chinese text (common characters drawn from a seed), searched for a
  two-character word, with and without a kind: what a person's search costs.

For each: the search as it ran before the budget (``list_resources`` on a plain connection,
as ``bot.web.queries.catalogue`` read it) and as it runs now (``search_resources`` with
``SEARCH_SECONDS``: stopped at the budget). Wall time of one run for the unbudgeted worst
case (it is long), the slowest of three for the budgeted one, the median of five otherwise.

    python -m tests.bench.catalogue_search [--rows 100000] [--skip-unbudgeted-worst]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.catalogue import MAX_CHARS
from bot.store import catalogue as catalogue_store
from bot.store import db
from bot.store.budget import OverBudgetError
from bot.store.tables import resources
from bot.web.queries import SEARCH_CHARS, SEARCH_SECONDS

KINDS = ("platform", "exhibit", "course", "lesson", "article")
CHUNK = 2_000
PAGE = 51  # the catalogue page asks for one more than it shows
WORST_CHAR = "的"
WORST_TERM = WORST_CHAR * (SEARCH_CHARS - 1) + "了"
ORDINARY_TERM = "团课"
COMMON = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"


def worst_rows(count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield _row(
            WORST_CHAR * (MAX_CHARS["id"] - 6) + f"{i:06d}",
            KINDS[i % len(KINDS)],
            WORST_CHAR * MAX_CHARS["title"],
            WORST_CHAR * MAX_CHARS["summary"],
        )


def ordinary_rows(count: int, seed: int = 5) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)

    def words(n: int) -> str:
        return "".join(rng.choices(COMMON, k=n))

    for i in range(count):
        rid = f"res-{i:06d}-" + "".join(rng.choices("abcdefghijklmnop", k=MAX_CHARS["id"] - 11))
        yield _row(
            rid, KINDS[i % len(KINDS)], words(MAX_CHARS["title"]), words(MAX_CHARS["summary"])
        )


def _row(rid: str, kind: str, title: str, summary: str) -> dict[str, Any]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "id": rid,
        "kind": kind,
        "title": title,
        "summary": summary,
        "url": "",
        "cover": "",
        "tags": [],
        "source": "bench",
        "created_at": now,
        "updated_at": now,
    }


async def fill(engine: AsyncEngine, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            async with engine.begin() as conn:
                await conn.execute(resources.insert(), batch)
            batch = []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(resources.insert(), batch)


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        found = await fn()
    except OverBudgetError:
        return time.perf_counter() - started, "stopped"
    return time.perf_counter() - started, f"{len(found)} rows"


async def measure(
    engine: AsyncEngine, term: str, kinds: list[str], runs: int, *, budgeted: bool
) -> dict[str, Any]:
    async def unbudgeted() -> Any:
        async with engine.connect() as conn:
            return await catalogue_store.list_resources(conn, kinds=kinds, search=term, limit=PAGE)

    async def with_budget() -> Any:
        return await catalogue_store.search_resources(
            engine, seconds=SEARCH_SECONDS, kinds=kinds, search=term, limit=PAGE
        )

    results = [await timed(with_budget if budgeted else unbudgeted) for _ in range(runs)]
    seconds = [s for s, _ in results]
    return {
        "runs": runs,
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        "outcomes": sorted({o for _, o in results}),
    }


async def run(rows: int, skip_unbudgeted_worst: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rows": rows,
        "search_chars": SEARCH_CHARS,
        "search_seconds": SEARCH_SECONDS,
        "limits": MAX_CHARS,
    }
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        for name, make, term in (
            ("worst", worst_rows, WORST_TERM),
            ("ordinary", ordinary_rows, ORDINARY_TERM),
        ):
            engine = db.open_engine(f"sqlite+aiosqlite:///{Path(tmp) / name}.db")
            try:
                await db.upgrade(engine)
                started = time.perf_counter()
                await fill(engine, make(rows))
                part: dict[str, Any] = {
                    "term": term,
                    "fill_s": round(time.perf_counter() - started, 1),
                }
                if name == "worst":
                    if not skip_unbudgeted_worst:
                        part["before"] = await measure(engine, term, [], 1, budgeted=False)
                    part["after"] = await measure(engine, term, [], 3, budgeted=True)
                else:
                    part["before"] = await measure(engine, term, [], 5, budgeted=False)
                    part["before_one_kind"] = await measure(
                        engine, term, ["course"], 5, budgeted=False
                    )
                    part["after"] = await measure(engine, term, [], 5, budgeted=True)
                out[name] = part
                print(json.dumps({name: part}, ensure_ascii=False), flush=True)
            finally:
                await engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.catalogue_search")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--skip-unbudgeted-worst", action="store_true", help="skip the long unbudgeted run"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args.rows, args.skip_unbudgeted_worst))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
