"""Traditional characters in a Simplified column: a Traditional source pasted in, or a
converter run the wrong way ("主题教育學習平台").

The law allows Traditional characters in quotations of inscriptions, in the names of works,
shops and organisations that are registered that way, and in surnames (於) and place names
(乾县). So a Traditional run is only an error when it is damage for sure: it sits in the same
clause as Simplified-only characters, or there is a lot of it (a paragraph). Inside quotation
or title marks, in a name the column allows, or as a short run of a name among neutral
characters ("香港青年協會"), it is a warning; a form that GB2312 itself contains (於, 後) is a
warning too."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bot.content.checks.chars import (
    HAN_RE,
    in_gb2312,
    is_han,
    is_simplified_only,
    s2t_keeps,
    t2s,
)
from bot.content.checks.findings import Hit, Severity, Text

FAMILY = "scripts"
CODES = {
    "script.traditional": ("error", Text(
        "Traditional characters in a Simplified column", "简体栏目中出现繁体字")),
    "script.traditional_name": ("warning", Text(
        "Traditional characters in a quotation, a title or a name (allowed; check they are "
        "meant)", "引文、书名或名称中的繁体字（允许使用，请确认是有意为之）")),
}  # fmt: skip

_QUOTED = re.compile(
    r"“[^“”\n]{1,40}”|「[^「」\n]{1,40}」|『[^『』\n]{1,40}』|《[^《》\n]{1,40}》|〈[^〈〉\n]{1,40}〉|\"[^\"\n]{1,40}\""
)
_CLAUSE_END = re.compile(r"[，。；：！？、,.;:!?\n（）()“”「」《》『』\s]")
MAX_NAME_CHARS = 8  # Traditional characters in one field that may still be names
MAX_NAME_CLAUSE = 12  # a clause longer than a name is a sentence
MAX_NAME_TRADITIONAL = 4  # Traditional characters in one clause that may still be a name
MAX_NAME_RUNS = 2  # separate Traditional runs (outside quotation marks) that may be names


def check(text: str, allowed: Sequence[str] = ()) -> Iterator[Hit]:
    converted = t2s().convert(text)
    if len(converted) != len(text):
        converted = "".join(t2s().convert(char) for char in text)
    flagged = [
        i
        for i, (char, simple) in enumerate(zip(text, converted, strict=True))
        if char != simple and is_han(char) and s2t_keeps(char)
    ]
    if not flagged:
        return
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    allowed_spans = [
        (m.start(), m.end()) for name in allowed if name for m in re.finditer(re.escape(name), text)
    ]
    runs = list(_runs(flagged))
    loose = [
        (s, e)
        for s, e in runs
        if not any(qs <= s and e <= qe for qs, qe in (*quoted, *allowed_spans))
    ]
    # Names are one or two runs; a slogan or sentence in Traditional has more.
    lots = len(flagged) > MAX_NAME_CHARS or len(loose) > MAX_NAME_RUNS
    for start, end in runs:
        run, simple = text[start:end], converted[start:end]
        inside = any(s <= start and end <= e for s, e in (*quoted, *allowed_spans))
        left, right = _clause(text, start, end)
        in_clause = sum(left <= i < right for i in flagged)
        name_like = (
            not lots
            and right - left <= MAX_NAME_CLAUSE
            and in_clause <= MAX_NAME_TRADITIONAL
            and not _mixed_clause(text, start, end)
        )
        severity: Severity
        if inside or (name_like and len(run) <= 4):
            severity, code = "warning", "script.traditional_name"
            message = Text(
                f"Traditional characters {run!r} in a quotation, title or name; in Simplified "
                f"{simple!r}",
                f"引文、书名或名称中的繁体字“{run}”（简体为“{simple}”）：若非有意请改为简体",
            )
        elif all(map(in_gb2312, run)) and not lots:
            severity, code = "warning", "script.traditional"
            message = Text(
                f"{run!r} may be a Traditional form ({simple!r}), or a surname or term",
                f"“{run}”可能是繁体（简体为“{simple}”），也可能是姓氏或专名",
            )
        else:
            severity, code = "error", "script.traditional"
            message = Text(
                f"Traditional characters {run!r} in a Simplified column; Simplified: {simple!r}",
                f"简体栏目中出现繁体字“{run}”，简体为“{simple}”",
            )
        fix = Text(f"write {simple!r}", f"改为“{simple}”")
        yield Hit(severity, code, start, end, message, fix)


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around [start, end): between punctuation, quotation marks or spaces."""
    left = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
    right_match = _CLAUSE_END.search(text, end)
    return left, right_match.start() if right_match else len(text)


def _mixed_clause(text: str, start: int, end: int) -> bool:
    """A Simplified-only character in the same clause as the run: one text in two scripts."""
    left, right = _clause(text, start, end)
    clause = text[left:start] + text[end:right]
    return any(is_simplified_only(c) for c in clause if HAN_RE.match(c))


def _runs(indexes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Consecutive indexes as (start, end) ranges."""
    start = 0
    for position, index in enumerate(indexes):
        if position + 1 == len(indexes) or indexes[position + 1] != index + 1:
            yield indexes[start], index + 1
            start = position + 1
