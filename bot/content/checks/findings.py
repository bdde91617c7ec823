"""Findings as data: what a check found, where, how sure it is, what to do about it, in
Chinese and English. How a finding looks is the surface's job (``describe`` for a line of
text, ``to_dict`` for JSON); nothing here is meant to be shown through ``repr``."""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

Severity = Literal["error", "warning", "fixed"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "fixed")
LANGUAGES = ("zh", "en")
MAX_PER_CODE = 20  # per field; the rest are summed up in one finding
EXCERPT_CONTEXT = 6

_SEVERITY_ZH = {"error": "错误", "warning": "提醒", "fixed": "已修正"}


class Text(NamedTuple):
    """One message in both languages."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


NO_TEXT = Text("", "")


@dataclass(frozen=True)
class Finding:
    """One problem. ``position`` is a character offset into the field's text (None when the
    finding is about the field as a whole); ``line``/``column`` (1-based) for multi-line
    text, or the catalogue file's line for a row. ``article`` is the article's index in a
    post of several (0-based; None for a one-article post or a catalogue row)."""

    severity: Severity
    code: str
    field: str
    position: int | None
    message: str  # English
    excerpt: str = ""
    line: int | None = None
    column: int | None = None
    message_zh: str = ""
    fix: str = ""  # English: what to do about it
    fix_zh: str = ""
    article: int | None = None

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang`` ("zh" or "en")."""
        return (self.message_zh or self.message) if lang == "zh" else self.message

    def suggestion(self, lang: str = "zh") -> str:
        return (self.fix_zh or self.fix) if lang == "zh" else self.fix

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"{self.field} {self.line}:{self.column or 1}"
        if self.position is not None:
            return f"{self.field} @{self.position}"
        return self.field

    def describe(self, lang: str = "zh") -> str:
        """One readable line: severity, code, field and place, message and what to do."""
        severity = _SEVERITY_ZH[self.severity] if lang == "zh" else self.severity
        article = ""
        if self.article is not None:
            article = f"第{self.article + 1}篇 " if lang == "zh" else f"article {self.article + 1} "
        line = f"{severity} {self.code} [{article}{self.where}]: {self.text(lang)}"
        if self.excerpt and self.excerpt not in line:
            line += f" «{self.excerpt}»"
        fix = self.suggestion(lang)
        if fix:
            line += f"（{fix}）" if lang == "zh" else f" ({fix})"
        return line

    def __str__(self) -> str:
        return self.describe("zh")

    def to_dict(self, lang: str = "en") -> dict[str, object]:
        """A JSON object: every field, with ``message`` and ``fix`` in ``lang`` and both
        languages under ``message_en``/``message_zh`` and ``fix_en``/``fix_zh``."""
        return {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "article": self.article,
            "position": self.position,
            "line": self.line,
            "column": self.column,
            "excerpt": self.excerpt,
            "message": self.text(lang),
            "message_en": self.message,
            "message_zh": self.message_zh or self.message,
            "fix": self.suggestion(lang),
            "fix_en": self.fix,
            "fix_zh": self.fix_zh or self.fix,
        }


def finding_dict(finding: object, lang: str = "en") -> dict[str, object]:
    """``finding`` as a JSON object; anything that is not a Finding becomes a message."""
    if isinstance(finding, Finding):
        return finding.to_dict(lang)
    return {"code": "other", "severity": "error", "field": "", "message": str(finding)}


def describe(finding: object, lang: str = "zh") -> str:
    return finding.describe(lang) if isinstance(finding, Finding) else str(finding)


class Hit(NamedTuple):
    """A finding before it is placed in its field's text: [start, end) character offsets."""

    severity: Severity
    code: str
    start: int
    end: int
    message: Text
    fix: Text = NO_TEXT


def line_starts(text: str) -> list[int]:
    """Where each line after the first starts: ``place`` bisects it rather than counting line
    breaks from the top for every hit (O(n²) for a long text with a hit on every line)."""
    return [match.end() for match in re.finditer("\n", text)]


def place(
    text: str,
    field: str,
    hit: Hit,
    article: int | None = None,
    starts: Sequence[int] | None = None,
) -> Finding:
    """``hit`` placed in ``text``: an excerpt around it, and line:column for multi-line text.
    ``starts``: ``line_starts(text)``, when many hits are placed in one text."""
    start, end = hit.start, hit.end
    excerpt = text[max(0, start - EXCERPT_CONTEXT) : end + EXCERPT_CONTEXT].replace("\n", " ")
    line = column = None
    if starts:
        before = bisect.bisect_right(starts, start)
        line, column = before + 1, start - (starts[before - 1] if before else 0) + 1
    elif starts is None and "\n" in text:
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Finding(
        hit.severity,
        hit.code,
        field,
        start,
        hit.message.en,
        visible(excerpt),
        line,
        column,
        hit.message.zh,
        hit.fix.en,
        hit.fix.zh,
        article,
    )


def whole(
    severity: Severity,
    code: str,
    field: str,
    message: Text,
    excerpt: str = "",
    fix: Text = NO_TEXT,
) -> Finding:
    """A finding about a field as a whole."""
    return Finding(
        severity,
        code,
        field,
        None,
        message.en,
        visible(excerpt[:80]),
        message_zh=message.zh,
        fix=fix.en,
        fix_zh=fix.zh,
    )


def visible(text: str) -> str:
    """``text`` with invisible, control and direction characters shown as <U+XXXX>, so an
    excerpt can neither hide them nor reorder the line it is printed on."""
    out = []
    for char in text:
        code = ord(char)
        if (
            code < 0x20
            or 0x7F <= code < 0xA0
            or char in "\u00ad\u061c\u115f\u1160\u180e\u3164\uffa0\ufeff\ufffc"
            or 0x200B <= code <= 0x200F
            or 0x2028 <= code <= 0x202E
            or 0x2060 <= code <= 0x206F
            or 0xD800 <= code <= 0xDFFF
            or 0xE000 <= code <= 0xF8FF
            or code >= 0xF0000
        ):
            out.append(f"<U+{code:04X}>")
        else:
            out.append(char)
    return "".join(out)


def capped(findings: Iterable[Finding]) -> list[Finding]:
    """At most MAX_PER_CODE findings per (article, field, code); the rest become one
    summary."""
    findings = list(findings)
    total = Counter((f.article, f.field, f.code) for f in findings)
    kept: Counter[tuple[int | None, str, str]] = Counter()
    out: list[Finding] = []
    for finding in findings:
        key = (finding.article, finding.field, finding.code)
        kept[key] += 1
        if kept[key] <= MAX_PER_CODE:
            out.append(finding)
        elif kept[key] == MAX_PER_CODE + 1:
            more = total[key] - MAX_PER_CODE
            out.append(
                dataclasses.replace(
                    finding,
                    message=f"… and {more} more like this",
                    message_zh=f"……同类问题还有 {more} 处",
                    excerpt="",
                    position=None,
                    line=None,
                    column=None,
                )
            )
    return out
