"""The command line starts quickly because each command imports what it needs when it runs:
building the parser (what ``bot --help`` and every command do first) loads no database,
HTTP, rendering or simulator code. Checked by what is imported, not by timing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "aiohttp",
    "jinja2",
    "markdown_it",
    "PIL",
    "bot.account.simulator",
    "bot.app",
)


def imported_after(code: str) -> dict[str, bool]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_building_the_parser_imports_nothing_heavy() -> None:
    loaded = imported_after("from bot.cli import build_parser\nbuild_parser().format_help()")
    assert not any(loaded.values()), loaded


def test_the_simulators_help_still_lists_its_variants() -> None:
    from bot.cli import build_parser

    parser = build_parser()
    [sub] = [a for a in parser._subparsers._group_actions if a.dest == "command"]  # type: ignore[union-attr]
    help_text = sub.choices["simulator"].format_help()
    assert "variants (documented / realistic):" in help_text


def test_the_catalogue_reader_loads_excel_and_yaml_support_on_first_use() -> None:
    # bot serve imports the catalogue reader at start; openpyxl and PyYAML cost its idle
    # memory several megabytes for files most days never bring.
    probe = (
        "import json, sys\nimport bot.content.catalogue, bot.content.catalogue_example\n"
        "print(json.dumps({m: m in sys.modules for m in ('openpyxl', 'yaml')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == {"openpyxl": False, "yaml": False}
