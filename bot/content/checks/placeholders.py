"""A template or a draft left unfinished: template code (``{{name}}``, ``${name}``, ``{0}``,
``%s``), marks people leave for themselves (``XXX同志``, ``【此处填写】``, ``【待补充】``,
``TODO：``, ``[请输入标题]``, ``（此处插入图片）``) and Word mail-merge fields (``«姓名»``).
Every one is an error: readers would see it."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from bot.content.checks.findings import Hit, Text

FAMILY = "placeholders"
CODES = {
    "template.unfilled": ("error", Text(
        "template code left in the text ({{ }}, {% %}, ${…}, {0}, %s)",
        "文中残留模板代码（{{ }}、{% %}、${…}、{0}、%s）")),
    "placeholder.marker": ("error", Text(
        "a placeholder left in the text (XXX, 【此处填写】, 【待补充】, TODO, «姓名»)",
        "文中残留占位符（XXX、【此处填写】、【待补充】、TODO、«姓名»）")),
}  # fmt: skip

_TEMPLATE = re.compile(
    r"\{\{.{0,200}?\}\}|\{%.{0,200}?%\}|\{#.{0,200}?#\}"
    r"|\$\{[^{}\n]{1,60}\}"
    r"|(?<![A-Za-z0-9_\\^}$])\{(?:\d{1,2}|[A-Za-z_][A-Za-z0-9_]{0,30})(?:[:!][^{}\n]{0,10})?\}"
    r"|(?<![A-Za-z0-9_%])%(?:\([A-Za-z_]\w*\))?[sd](?![A-Za-z])",
    re.S,
)
_WORDS = "此处|这里|待补充|待补|待填|待定|待完善|待确认|待更新|请输入|请填写|请在此|在此输入|填写|插入图片|插入|占位|TBD|TODO|placeholder"
_BRACKETED = re.compile(
    rf"[【\[（(〔［<＜]\s*[^】\]）)〕］>＞\n]{{0,12}}?(?:{_WORDS})[^】\]）)〕］>＞\n]{{0,16}}[】\]）)〕］>＞]",
    re.I,
)
_MARKERS = re.compile(
    r"(?<![A-Za-z])(?:X{2,}|x{3,}|×{2,}|[xX]{2}(?=[年月日时分号期届]))(?![A-Za-z])"
    r"|\b(?:TODO|FIXME|TBD)\b[:：]?"
    r"|«[\u3400-\u9fff]{1,10}»"
    r"|□{2,}|_{4,}|＿{2,}|【\s*】|\[\s*\]"
    r"|<<[\u3400-\u9fff]{1,10}>>|＜＜[\u3400-\u9fff]{1,10}＞＞"
    r"|[单点]击此处(?:输入|添加)|在此处?输入|此处(?:填写|输入|插入)"
)


_MAY_HOLD = re.compile(r"[{$%Xx×【\[［（(〔<＜«□_＿]|TODO|FIXME|TBD|此处", re.I)


def check(text: str) -> Iterator[Hit]:
    if not _MAY_HOLD.search(text):
        return
    for match in _TEMPLATE.finditer(text):
        message = Text(
            f"template code left in the text: {match.group()[:40]!r}",
            f"文中残留模板代码“{match.group()[:40]}”",
        )
        fix = Text("fill it in or delete it", "填入内容或删除")
        yield Hit("error", "template.unfilled", *match.span(), message, fix)
    # A marker inside a bracketed placeholder is the same finding. Bracketed spans come in
    # order and never overlap, so the one that may hold a marker is found by bisection (a
    # scan of every span per marker was O(n²): 50,000 characters of "- [ ] a" took 20 s).
    bracketed: list[tuple[int, int]] = []
    for match in _BRACKETED.finditer(text):
        bracketed.append(match.span())
        yield _placeholder(match)
    starts = [start for start, _ in bracketed]
    for match in _MARKERS.finditer(text):
        before = bisect.bisect_right(starts, match.start()) - 1
        if before >= 0 and match.start() < bracketed[before][1]:
            continue
        yield _placeholder(match)


def _placeholder(match: re.Match[str]) -> Hit:
    message = Text(
        f"a placeholder left in the text: {match.group()[:40]!r}",
        f"文中残留占位符“{match.group()[:40]}”",
    )
    fix = Text("write what belongs there", "填入实际内容")
    return Hit("error", "placeholder.marker", *match.span(), message, fix)
