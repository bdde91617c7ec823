"""Markdown that was not rendered and would reach readers as literal text: emphasis marks,
heading marks, links, fences, footnote references and definitions (``[^1]``), and the
syntax other WeChat editors add (``==mark==``, ``~~strike~~``, ``- [ ]`` task boxes,
``:::`` containers, ``[TOC]``, ``$$`` maths). Checked on the HTML's visible text, code
blocks left out."""

from __future__ import annotations

import re

from bot.content.checks.findings import Finding, Hit, Text, place
from bot.content.sanitize import text_content

FAMILY = "markdown"
CODES = {
    "markdown.leftover": ("warning", Text(
        "Markdown syntax that was not rendered shows as text",
        "未被渲染的 Markdown 标记会原样显示")),
    "markdown.footnote": ("error", Text(
        "a footnote ([^1]) that was not rendered shows as text",
        "未被渲染的脚注（[^1]）会原样显示")),
}  # fmt: skip

_LEFTOVER = (
    (re.compile(r"\*\*\S|\S\*\*"), "'**'"),
    (re.compile(r"(?<!\w)__\S|\S__(?!\w)"), "'__'"),
    (re.compile(r"```"), "'```'"),
    (re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]"), "a '#' heading marker"),
    (re.compile(r"!?\[[^\]\n]+\]\([^)\s]+\)"), "a [text](link)"),
    (re.compile(r"==[^=\s][^=\n]{0,80}=="), "'==' highlight marks"),
    (re.compile(r"~~[^~\s][^~\n]{0,80}~~"), "'~~' strike-through marks"),
    (re.compile(r"(?m)^\s*[-*+] \[[ xX]\] "), "a '- [ ]' task box"),
    (re.compile(r"(?m)^:::"), "a ':::' container"),
    (re.compile(r"\[TOC\]|\[\[toc\]\]", re.I), "a [TOC] marker"),
    (re.compile(r"\$\$"), "'$$' maths marks"),
)
_FOOTNOTE = re.compile(r"\[\^[^\]\s]{1,30}\]:?")


def check_html(html: str) -> list[Finding]:
    text = text_content(re.sub(r"<(pre|code)\b[^>]*>.*?</\1>", "", html, flags=re.S))
    out = []
    footnote = _FOOTNOTE.search(text)
    if footnote:
        message = Text(
            f"the footnote {footnote.group()!r} shows as text: footnotes were not rendered",
            f"脚注“{footnote.group()}”会原样显示：脚注没有被渲染",
        )
        fix = Text(
            "write the note in the text, or in a list at the end", "把注释写进正文或文末列表"
        )
        out.append(
            place(
                text, "content", Hit("error", "markdown.footnote", *footnote.span(), message, fix)
            )
        )
    for pattern, what in _LEFTOVER:
        match = pattern.search(text)
        if match:
            message = Text(
                f"{what} shows as text: Markdown that was not rendered",
                f"{what} 会原样显示：Markdown 没有被渲染",
            )
            fix = Text("check the Markdown syntax", "请检查 Markdown 语法")
            out.append(
                place(
                    text,
                    "content",
                    Hit("warning", "markdown.leftover", *match.span(), message, fix),
                )
            )
    return out
