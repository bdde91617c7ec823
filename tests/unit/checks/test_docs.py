"""docs/checks.md lists every code the checks can report, with its family and severity."""

from __future__ import annotations

import re
from pathlib import Path

from bot.content.checks import CODES, FAMILIES

DOC = Path(__file__).resolve().parents[3] / "docs" / "checks.md"


def documented() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `([a-z_.]+)` \| (\w+) \| (\w+) \|", DOC.read_text("utf-8"), re.M)
    return {code: (family, severity) for code, family, severity in rows}


def test_every_code_is_documented_with_its_family_and_severity() -> None:
    expected = {code: (family, severity) for code, (family, severity, _) in CODES.items()}
    assert documented() == expected


def test_every_family_is_a_module_with_codes_in_both_languages() -> None:
    for family in FAMILIES:
        assert family.__doc__, family.__name__
        for code, (severity, what) in family.CODES.items():
            assert severity in ("error", "warning", "fixed"), code
            assert what.en and what.zh and what.en != what.zh, code
