"""The committed benchmark results and the documents made from them: every figure in the
README's benchmarks section and in docs/benchmarks.md is the committed file's, from one full
run, with its goal marked; and the benchmark runner times paired measurements in turns."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from tests.bench import results as bench_results
from tests.bench.report_latency import paired_medians
from tests.bench.run import BENCHMARKS, FULL, is_full, parse_args, sizes


@pytest.fixture(scope="module")
def committed() -> dict:
    return bench_results.load()


def test_the_committed_results_are_one_full_run_of_a_commit(committed: dict) -> None:
    assert committed["schema"] == bench_results.SCHEMA
    assert committed["mode"] == "full"
    assert re.fullmatch(r"[0-9a-f]{40}", committed["git"]["commit"])
    assert committed["git"]["dirty"] is False
    assert committed["settings"]["sizes"] == {**FULL, "tuned": True}
    ran = set(committed["results"])
    assert {"burst", "quota", "report", "memory", "soak"} <= ran
    assert not [name for name, raw in committed["results"].items() if "error" in raw]


def test_every_figure_with_a_goal_says_whether_it_was_met(committed: dict) -> None:
    figures = bench_results.figures_of(committed)
    assert len({f.key for f in figures}) == len(figures)
    for figure in figures:
        assert (figure.met is None) == (not figure.goal), figure
    assert any(f.headline for f in figures)


def test_the_documents_tables_are_made_from_the_committed_file(committed: dict) -> None:
    for path, text in bench_results.rendered(committed).items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} differs from docs/bench-results.json: run python -m tests.bench.results"
        )


def test_every_number_in_the_readmes_benchmarks_section_is_in_the_results_file(
    committed: dict,
) -> None:
    readme = bench_results.README.read_text(encoding="utf-8")
    start = readme.index("## Benchmarks")
    end = readme.find("\n## ", start + 1)
    section = readme[start : end if end != -1 else len(readme)]
    in_file = json.dumps(committed, ensure_ascii=False)
    numbers = re.findall(r"\d+(?:\.\d+)?", section)
    assert len(numbers) > 10
    missing = sorted({n for n in numbers if n not in in_file})
    assert not missing, f"numbers in the README that the results file does not hold: {missing}"


def test_only_a_full_run_may_replace_the_committed_results() -> None:
    full = parse_args([])
    assert is_full(full, sizes(full))
    for argv in (["--quick"], ["--only", "burst"], ["--accounts", "10"], ["--soak", "0"]):
        args = parse_args(argv)
        assert not is_full(args, sizes(args)), argv
    assert {b.selector for b in BENCHMARKS} >= {"burst", "quota", "report", "memory", "soak"}


def test_paired_timings_alternate_which_side_runs_first() -> None:
    order: list[str] = []

    async def first() -> None:
        order.append("a")

    async def second() -> None:
        order.append("b")

    asyncio.run(paired_medians(first, second, 4))
    assert order == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]  # warm-up, then AB BA
