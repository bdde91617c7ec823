"""The benchmark results file and the tables made from it.

``make bench`` (a full run of every benchmark) writes ``docs/bench-results.json``, which is
committed; partial or ``--quick`` runs write ``var/bench/results.json`` unless told otherwise.
The file holds the commit measured, the machine, the settings, every benchmark's raw result
and a flat list of figures, each with its goal and whether the goal was met.

The figure tables in ``docs/benchmarks.md`` and in the README's benchmarks section are made
from the committed file only, between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``
markers; ``python -m tests.bench.results`` rewrites them, and a unit test fails when they
differ from what the committed file gives.

A benchmark registers in ``tests/bench/run.py`` with one ``Benchmark`` entry: a name, what it
runs, and a function turning its raw result into ``Figure`` rows.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT

COMMITTED = PROJECT_ROOT / "docs" / "bench-results.json"
SCRATCH = PROJECT_ROOT / "var" / "bench" / "results.json"
DOCS = PROJECT_ROOT / "docs" / "benchmarks.md"
README = PROJECT_ROOT / "README.md"
SCHEMA = 1

Value = float | int | str | None


@dataclass(frozen=True)
class Figure:
    """One number (or short text) a document may quote.

    ``key`` is stable across runs (``burst.service.p99_s``); ``goal`` says what is asked
    (``<= 2 s``), and ``met`` is True/False when there is a goal, None when there is none.
    ``settings`` says what the figure was measured with when that is not the shipped defaults
    (``tuned: concurrency 32, tick 0.2 s``); ``headline`` puts it in the README's table.
    """

    key: str
    label: str
    value: Value
    unit: str = ""
    goal: str = ""
    met: bool | None = None
    settings: str = ""
    headline: bool = False

    def measured(self) -> str:
        if self.value is None:
            return "—"
        joined = "" if self.unit in ("", "×", "%") else " "
        return f"{self.value}{joined}{self.unit}"


@dataclass(frozen=True)
class Benchmark:
    """A benchmark as ``make bench`` runs it.

    ``run`` gets the sizes (``run.FULL`` / ``run.QUICK`` plus flags) and returns the raw result
    (a JSON-able dict); ``figures`` turns that result into rows; ``group`` is the name
    ``--only`` selects (several benchmarks may share one); ``when`` skips it for some sizes.
    """

    name: str
    run: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
    figures: Callable[[dict[str, Any]], list[Figure]]
    group: str = ""
    when: Callable[[dict[str, Any]], bool] = field(default=lambda _sizes: True)

    @property
    def selector(self) -> str:
        return self.group or self.name


def met_text(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: ""}[met]


def git_commit() -> dict[str, Any]:
    """The commit measured, and whether the work tree had changes to tracked files."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "committed_at": git("log", "-1", "--format=%cI"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def figures_of(results: dict[str, Any]) -> list[Figure]:
    return [Figure(**row) for row in results.get("figures", [])]


def load(path: Path = COMMITTED) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def dump(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def figure_rows(figures: Iterable[Figure]) -> list[dict[str, Any]]:
    return [asdict(f) for f in figures]


# --- the tables --------------------------------------------------------------------------


def provenance(results: dict[str, Any]) -> str:
    git = results.get("git", {})
    machine = results.get("machine", {})
    commit = str(git.get("commit", ""))[:10] or "unknown"
    dirty = " (with uncommitted changes)" if git.get("dirty") else ""
    return (
        f"From `{results.get('file', 'docs/bench-results.json')}`: a {results.get('mode')} run "
        f"started {results.get('started')} on commit `{commit}`{dirty}, "
        f"{results.get('total_seconds')} s in all, {machine.get('cpus')} CPUs, Python "
        f"{machine.get('python')} ({machine.get('note', '')})."
    )


def full_table(results: dict[str, Any]) -> str:
    lines = [
        provenance(results),
        "",
        "| figure | measured | goal | | settings |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in figures_of(results):
        lines.append(
            f"| {f.label} | {f.measured()} | {f.goal or '—'} | {met_text(f.met)} | "
            f"{f.settings or 'shipped defaults'} |"
        )
    failed = [name for name, raw in results.get("results", {}).items() if "error" in raw]
    for name in failed:
        lines.append(
            f"| {name}: the benchmark failed | {results['results'][name]['error']} | | | |"
        )
    return "\n".join(lines)


def headline_table(results: dict[str, Any]) -> str:
    lines = [
        provenance(results),
        "",
        "| figure | measured | goal | |",
        "| --- | --- | --- | --- |",
    ]
    for f in figures_of(results):
        if f.headline:
            label = f"{f.label} ({f.settings})" if f.settings else f.label
            lines.append(f"| {label} | {f.measured()} | {f.goal or '—'} | {met_text(f.met)} |")
    return "\n".join(lines)


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- bench:{re.escape(name)} -->\n)(.*?\n)?(<!-- /bench:{re.escape(name)} -->)", re.S
    )


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the part between the ``bench:NAME`` markers replaced by ``body``."""
    if not _markers(name).search(text):
        raise ValueError(f"no <!-- bench:{name} --> … <!-- /bench:{name} --> markers")
    return _markers(name).sub(lambda m: m.group(1) + body + "\n" + m.group(3), text, count=1)


def section(text: str, name: str) -> str:
    """What stands between the ``bench:NAME`` markers of ``text``."""
    match = _markers(name).search(text)
    if match is None:
        raise ValueError(f"no <!-- bench:{name} --> markers")
    return (match.group(2) or "").removesuffix("\n")


def rendered(results: dict[str, Any]) -> dict[Path, str]:
    """What the two documents should contain, given ``results``."""
    return {
        DOCS: replace_section(DOCS.read_text(encoding="utf-8"), "figures", full_table(results)),
        README: replace_section(
            README.read_text(encoding="utf-8"), "headline", headline_table(results)
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.results",
        description="Rewrite the figure tables of docs/benchmarks.md and README.md from the "
        "committed results file.",
    )
    parser.add_argument("--results", type=Path, default=COMMITTED)
    parser.add_argument("--check", action="store_true", help="only say whether they differ")
    args = parser.parse_args(argv)
    results = load(args.results)
    stale = []
    for path, text in rendered(results).items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path.relative_to(PROJECT_ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
