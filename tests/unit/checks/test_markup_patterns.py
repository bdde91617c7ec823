"""The markup family's patterns: still find what they look for, and none can scan across
line ends from every line start (``(?m)^\\s*``), which made a text of many blank lines
quadratic — a 98 KB edit of empty table rows held an offload worker for minutes (security
re-check N9)."""

from __future__ import annotations

import re

from bot.content.checks import markup


def _patterns() -> list[re.Pattern[str]]:
    found = []
    for table in (markup._LEFTOVER, markup._UNSUPPORTED):
        for row in table:
            found.append(row[0])
    return found


def test_no_pattern_scans_across_lines_from_every_line_start() -> None:
    for pattern in _patterns():
        if pattern.flags & re.MULTILINE:
            assert r"^\s" not in pattern.pattern, pattern.pattern


def test_indented_task_boxes_and_alerts_are_still_found() -> None:
    codes = [f.code for f in markup.check_html("<section><p>说明</p><p>  - [ ] 待办</p></section>")]
    assert "markdown.leftover" in codes
    codes = [f.code for f in markup.check_html("<section><p>\t[!NOTE] 提示</p></section>")]
    assert "markdown.unsupported" in codes


def test_many_blank_lines_are_one_pass() -> None:
    # Quadratic before the fix (about 10^10 steps for this text); linear now.
    text = "<section><p>x" + "\n" * 200_000 + "x</p></section>"
    assert markup.check_html(text) == []
