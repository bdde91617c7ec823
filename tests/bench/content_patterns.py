"""Benchmark: is every regular expression of the content layer linear in its input?

A pattern with a quantified group that can restart at every position of a long run (``\\\\+``
before an escape that never comes) backtracks over the rest of the run from each start:
O(n²), 124 s of a worker for 100,000 backslashes (security review 3, S3). This script finds
every compiled pattern in ``bot/content/**`` (plus the ones written inline), runs each over
runs of the characters it names and of the reviewer's units, and prints the time at
``--small`` and ``--large`` characters and their ratio. Linear: about large/small (4x for
25 k → 100 k); a ratio over ``--max-ratio`` (5x) is flagged and the exit status is 1.

A quick screen at 4 k / 16 k characters picks the candidates; only inputs that take a
measurable time there, or grow faster than the input, are timed at the full sizes.

Then ``--markdown`` times what one edit costs at the Markdown limit
(``bot.content.checks.limits.MARKDOWN_CHARS``): render, checks and the invisible-character fix,
one worker, for the reviewer's worst units.

    python -m tests.bench.content_patterns               # every pattern, 25 k → 100 k
    python -m tests.bench.content_patterns --markdown    # also render + checks at the limit
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import pkgutil
import re
import sys
import time
from collections.abc import Callable, Iterator

import bot.content
from bot.content import checks
from bot.content.checks import escapes, markup

# Patterns written inline (re.sub(r"…", …) in a function), which module attributes miss.
INLINE = {
    "render._render_code_inline": r" {2,}",
    "render._code_line": r"^ +| {2,}",
    "checks.escapes.check[bare]": r"[uU]\+?([0-9a-fA-F]{4})",
    "checks.escapes._decode_escapes": (
        r"(?<!\\)\\++(u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2}))"
    ),
    "checks.encoding.replacement": "\ufffd+",
    "checks.encoding.runs": r"[^\x00-\x7f]+(?:[\x20-\x7f]{1,2}[^\x00-\x7f]+)*",
    "checks.encoding.latin_run": r"[\u0080-\u00ff\u0152-\u2122]{4,}",
    "checks.pinyin.split": r"[\s'’]+",
    "checks.links.scheme": r"^[a-zA-Z][a-zA-Z0-9+.-]+:",
    "checks.links.numeric_host": r"[0-9.]+|[0-9a-f:]+",
}
# The security reviewer's units (/work/coord/sec3/mdbench.py) and a few of their neighbours.
REVIEWER_UNITS = (
    "\\", "\\*", "\\\\u", "\\u12", "[", "![", "[a", "[a](", "[a](<", "- [ ] a\n", "&", "&amp;",
    "&#1", "%E5", "%", "<", "<a ", "<div>", "<pre>", "<!--", "`", "```\n", "*", "_", "~", "$",
    "|", "|\n", "a", "中", " ", "\n", "  ", " \n", "\t", "a\u200b", "\u00a0", "\u202ea", "?",
    "中?", "u4e2d", "U+4e2d", "{{", "{", "${", "%s", "XXX", "【", "锟斤拷", "é", "Ã©", "a_b_",
    "ni3 ", "(ni3)", "中(", "中a", "a中", ":::\n", "> [!NOTE]\n", "[^1]", "\\n中",
)  # fmt: skip
META = set("\\^$.|?*+()[]{}")


def patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    """Every compiled ``str`` pattern bound at module level in ``bot/content/**``, then the
    inline ones."""
    seen: set[int] = set()
    for info in pkgutil.walk_packages(bot.content.__path__, "bot.content."):
        module = importlib.import_module(info.name)
        for name, value in sorted(vars(module).items()):
            wanted = isinstance(value, re.Pattern) and isinstance(value.pattern, str)
            if wanted and id(value) not in seen:
                seen.add(id(value))
                yield f"{info.name.removeprefix('bot.content.')}.{name}", value
    for name, source in INLINE.items():
        yield name, re.compile(source)


def units(pattern: re.Pattern[str]) -> list[str]:
    """Runs worth trying on ``pattern``: each literal character it names, alone and beside
    a letter, a space, a line break and a Chinese character, plus the reviewer's units."""
    literal = {c for c in pattern.pattern if c.isprintable() and c not in META} | {"\\"}
    found = dict.fromkeys(REVIEWER_UNITS)
    for c in sorted(literal):
        for unit in (c, c + "a", c + " ", c + "\n", c + "中", "a" + c):
            found.setdefault(unit)
    return list(found)


def functions() -> Iterator[tuple[str, Callable[[str], object], list[str]]]:
    """Every pattern (found by ``finditer``, what a check does; ``search`` and ``sub`` do no
    more) with the runs worth trying on it, then the functions that replaced a pattern and
    the text checks as a whole, on the reviewer's units."""
    for name, pattern in patterns():
        yield name, functools.partial(_find_all, pattern), units(pattern)
    whole: dict[str, Callable[[str], object]] = {
        "checks.markup.without_code": markup.without_code,
        "checks.escapes.check": lambda text: list(escapes.check(text, markup=True)),
        "checks.check_text[markdown]": lambda text: checks.check_text(text, "markdown"),
        "checks.fix_invisible": checks.fix_invisible,
    }
    for name, run in whole.items():
        yield name, run, list(REVIEWER_UNITS)


def _find_all(pattern: re.Pattern[str], text: str) -> None:
    for _ in pattern.finditer(text):
        pass


def cost(run: Callable[[str], object], text: str) -> float:
    """Seconds ``run`` takes on ``text``."""
    start = time.perf_counter()
    run(text)
    return time.perf_counter() - start


def run_patterns(small: int, large: int, max_ratio: float) -> Iterator[dict[str, object]]:
    """One row per (pattern or function, unit) that takes a measurable time: its time at
    ``small`` and ``large`` characters and the ratio. Linear: the ratio is at most
    ``max_ratio``, or the large input takes under a quarter of a second (below that, a
    shared machine's noise decides the ratio)."""
    for name, run, tried in functions():
        for unit in tried:
            quick = min(cost(run, unit * (16_000 // len(unit))) for _ in range(2))
            if quick < 0.002:
                continue  # a quadratic pattern takes far longer than this at 16 k
            base = min(cost(run, unit * (4_000 // len(unit))) for _ in range(2))
            if quick < 0.05 and quick < 6 * base:
                continue  # cheap and growing like the input: linear
            t_small = min(cost(run, unit * (small // len(unit))) for _ in range(3))
            t_large = min(cost(run, unit * (large // len(unit))) for _ in range(2))
            ratio = t_large / t_small if t_small else 0.0
            yield {
                "pattern": name, "unit": unit, "small_s": round(t_small, 4),
                "large_s": round(t_large, 4), "ratio": round(ratio, 1),
                "linear": ratio <= max_ratio or t_large < 0.25,
            }  # fmt: skip


def run_markdown(units_: tuple[str, ...]) -> list[dict[str, object]]:
    """Render + checks + fix of ``unit`` repeated up to the Markdown limit (one worker)."""
    from bot.content import render
    from bot.content.checks.limits import MARKDOWN_CHARS

    rows: list[dict[str, object]] = []
    for unit in units_:
        text = unit * (MARKDOWN_CHARS // len(unit))
        start = time.perf_counter()
        html = render.render_markdown(text)
        rendered = time.perf_counter() - start
        start = time.perf_counter()
        checks.check_post("t", "a", "d", html, "", markdown=text)
        checked = time.perf_counter() - start
        start = time.perf_counter()
        checks.fix_invisible(text)
        checks.fix_invisible(html)
        fixed = time.perf_counter() - start
        rows.append({
            "unit": unit, "chars": len(text), "html": len(html), "render_s": round(rendered, 2),
            "checks_s": round(checked, 2), "fix_s": round(fixed, 2),
            "total_s": round(rendered + checked + fixed, 2),
        })  # fmt: skip
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    return rows


MARKDOWN_UNITS = ("[", "![", "[a", "[a](", "[a](<", "- [ ] a\n", "\\", "&", "<a ", "\t- a\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=25_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--max-ratio", type=float, default=5.0)
    parser.add_argument("--markdown", action="store_true", help="also time an edit at the limit")
    args = parser.parse_args(argv)
    rows = []
    for row in run_patterns(args.small, args.large, args.max_ratio):
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)
    slow = [row for row in rows if not row["linear"]]
    print(
        f"{len(list(functions()))} patterns and functions, {len(rows)} timed, {len(slow)} not linear"
    )
    if args.markdown:
        run_markdown(MARKDOWN_UNITS)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
