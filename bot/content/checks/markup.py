"""Markdown that was not rendered and would reach readers as literal text: emphasis marks,
heading marks, links, fences, footnote references and definitions (``[^1]``), and the
syntax other WeChat editors add (``==mark==``, ``~~strike~~``, ``- [ ]`` task boxes,
``:::`` containers, ``[TOC]``, ``$$`` maths). Checked on the HTML's visible text, code
blocks left out."""

from __future__ import annotations

import dataclasses
import re

from markdown_it import MarkdownIt

from bot.content.checks.findings import Finding, Hit, Text, place, whole
from bot.content.sanitize import text_content

FAMILY = "markdown"
CODES = {
    "markdown.leftover": ("warning", Text(
        "Markdown syntax that was not rendered shows as text",
        "未被渲染的 Markdown 标记会原样显示")),
    "markdown.html_dropped": ("warning", Text(
        "HTML the platform does not keep: its tags are removed, the text stays",
        "平台不保留的 HTML 标签：标签会被删除，文字保留")),
    "markdown.html_refused": ("error", Text(
        "a <style>, <script> or embedded frame the platform removes with its content",
        "平台会连同内容一起删除的 <style>、<script> 或内嵌框架")),
    "markdown.unsupported": ("error", Text(
        "syntax other editors render and this one does not (==mark==, :::, [TOC], $$, "
        "[!NOTE]): it would show as text", "本系统不渲染的语法（==高亮==、:::、[TOC]、$$、"
        "[!NOTE]），会原样显示")),
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
    (re.compile(r"~~[^~\s][^~\n]{0,80}~~"), "'~~' strike-through marks"),
    # [ \t]*, not \s*: under (?m) \s* crosses line ends, so each of N blank lines would scan
    # every blank line after it (quadratic: a 98 KB edit held a worker for minutes).
    (re.compile(r"(?m)^[ \t]*[-*+] \[[ xX]\] "), "a '- [ ]' task box"),
)
# Syntax other WeChat editors render and we do not: refused, so it never shows as text.
_UNSUPPORTED = (
    (re.compile(r"==[^=\s][^=\n]{0,80}=="), "'==' highlight marks", "用加粗（**…**）代替"),
    (re.compile(r"(?m)^:::"), "a ':::' container", "改用引用（> …）"),
    (re.compile(r"\[TOC\]|\[\[toc\]\]", re.I), "a [TOC] marker", "删除目录标记"),
    (re.compile(r"\$\$[^$]+\$\$|\$\$"), "'$$' maths", "把公式做成图片"),
    (re.compile(r"(?m)^[ \t]*\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.I),
     "a '[!NOTE]' alert", "删除提示标记，保留引用"),
)  # fmt: skip
_FOOTNOTE = re.compile(r"\[\^[^\]\s]{1,30}\]:?")
_CODE_OPENING = re.compile(r"<(pre|code)\b")


def without_code(html: str) -> str:
    """``html`` without its ``<pre>`` and ``<code>`` elements (each up to its first closing
    tag), in linear time: ``re.sub(r"<(pre|code)\b[^>]*>.*?</\1>", …)`` searched to the end of
    the text from every opening tag that is never closed, O(n²) on a run of them."""
    out: list[str] = []
    position, tag_end = 0, -1
    never_closed: set[str] = set()
    while (opening := _CODE_OPENING.search(html, position)) is not None:
        name = opening.group(1)
        if tag_end < opening.end():  # the next ">" is found once for a run of openers
            tag_end = html.find(">", opening.end())
            if tag_end < 0:
                break  # no ">" after it: no later tag can be whole either
        close = -1 if name in never_closed else html.find(f"</{name}>", tag_end + 1)
        if close < 0:  # kept, and so is every later one of its name
            never_closed.add(name)
            out.append(html[position : opening.end()])
            position = opening.end()
            continue
        out.append(html[position : opening.start()])
        position = close + len(name) + 3
    out.append(html[position:])
    return "".join(out)


def check_html(html: str) -> list[Finding]:
    text = text_content(without_code(html))
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
    for pattern, what, fix_zh in _UNSUPPORTED:
        match = pattern.search(text)
        if match:
            message = Text(
                f"{what} is not rendered here and would show as text",
                f"{what} 不会被渲染，会原样显示",
            )
            fix = Text("write it another way", fix_zh)
            hit = Hit("error", "markdown.unsupported", *match.span(), message, fix)
            out.append(place(text, "content", hit))
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


_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)")
_REFUSED_TAGS = {"style", "script", "iframe", "object", "embed", "frame", "frameset"}


def check_markdown_html(markdown: str) -> list[Finding]:
    """Raw HTML in the Markdown: tags the sanitiser drops (a warning, their text stays) and
    tags whose content is dropped with them (an error: styles must be inline)."""
    from bot.content.sanitize import ALLOWED_TAGS

    out: list[Finding] = []
    seen: set[str] = set()
    for token in _parser().parse(markdown):
        pieces = (
            [token]
            if token.type == "html_block"
            else [t for t in token.children or () if t.type == "html_inline"]
        )
        for piece in pieces:
            for match in _TAG.finditer(piece.content):
                tag = match.group(2).lower()
                if tag in ALLOWED_TAGS or tag in ("div", "input") or tag in seen:
                    continue
                seen.add(tag)
                line = (token.map[0] + 1) if token.map else None
                if tag in _REFUSED_TAGS:
                    message = Text(
                        f"<{tag}> is removed with its content by the platform",
                        f"<{tag}> 会被平台连同内容一起删除",
                    )
                    fix = Text("write styles inline (style=\"…\") on each element",
                               "请把样式直接写在元素的 style 属性里")  # fmt: skip
                    finding = whole(
                        "error", "markdown.html_refused", "markdown", message, f"<{tag}>", fix
                    )
                else:
                    message = Text(
                        f"<{tag}> is not kept by the platform: the tag is removed, its text stays",
                        f"平台不保留 <{tag}>：标签会被删除，文字保留",
                    )
                    fix = Text(
                        "use Markdown or a tag the platform keeps", "改用 Markdown 或平台支持的标签"
                    )
                    finding = whole(
                        "warning", "markdown.html_dropped", "markdown", message, f"<{tag}>", fix
                    )
                out.append(dataclasses.replace(finding, line=line, column=1 if line else None))
    return out


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")
