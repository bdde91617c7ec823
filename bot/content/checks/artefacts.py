"""What Word and WPS leave behind when text is pasted from them: field results that failed
("错误！未找到引用源。"), field codes (``HYPERLINK "http://…"``), and quotation or title marks
that were opened and never closed (or the text was cut after them)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.content.checks.findings import Hit, Text

FAMILY = "artefacts"
CODES = {
    "artefact.word_error": ("error", Text(
        "a Word field error (错误！未找到引用源。) pasted as text",
        "粘贴进来的 Word 域错误提示（如“错误！未找到引用源。”）")),
    "artefact.field_code": ("error", Text(
        "a Word field code (HYPERLINK \"…\", PAGEREF, MERGEFIELD) pasted as text",
        "粘贴进来的 Word 域代码（HYPERLINK \"…\"、PAGEREF、MERGEFIELD）")),
    "artefact.unbalanced_marks": ("error", Text(
        "quotation or title marks opened and never closed (or closed and never opened)",
        "引号或书名号不成对")),
}  # fmt: skip

_WORD_ERROR = re.compile(
    r"错误[!！]\s*(?:未找到引用源|未定义书签|超链接引用无效|文档中没有指定样式的文字|未指定文件名"
    r"|链接无效|不能从编辑域代码创建对象|公式不能以|找不到)[^。\n]{0,12}[。.]?"
    r"|Error!\s*(?:Reference source not found|Bookmark not defined|Hyperlink reference not valid"
    r"|No text of specified style in document)\.?",
    re.I,
)
_FIELD_CODE = re.compile(
    r"\b(?:HYPERLINK|PAGEREF|MERGEFIELD|INCLUDEPICTURE|MACROBUTTON|SEQ|TOC|REF|EMBED)\s+"
    r"(?:\\[a-z]\s+)*(?:\"[^\"\n]*\"|_[A-Za-z]+\d*|\\[a-z])"
    r"|\\\*\s*MERGEFORMAT|\bFORMTEXT\b|\bFORMCHECKBOX\b"
)
# Parentheses are left out: "1）" numbers a list, and "（…)" with an ASCII close is common.
_PAIRS = (("“", "”"), ("《", "》"), ("「", "」"), ("『", "』"), ("【", "】"))


_MAY_HOLD = re.compile("错误|Error|[A-Z]{3}|[“”《》「」『』【】（）]")


def check(text: str) -> Iterator[Hit]:
    if not _MAY_HOLD.search(text):
        return
    for pattern, code, fix in (
        (_WORD_ERROR, "artefact.word_error", Text(
            "delete it and insert the reference again", "删除后重新插入引用")),
        (_FIELD_CODE, "artefact.field_code", Text(
            "keep the field's text, delete the code", "保留域的文字，删除域代码")),
    ):  # fmt: skip
        for match in pattern.finditer(text):
            what = CODES[code][1]
            message = Text(
                f"{what.en}: {match.group()[:40]!r}", f"{what.zh}：“{match.group()[:40]}”"
            )
            yield Hit("error", code, *match.span(), message, fix)
    yield from _unbalanced(text)


def _unbalanced(text: str) -> Iterator[Hit]:
    for opening, closing in _PAIRS:
        depth, first_open = 0, -1
        for match in re.finditer(f"[{opening}{closing}]", text):
            if match.group() == opening:
                if depth == 0:
                    first_open = match.start()
                depth += 1
                continue
            if depth == 0:
                yield _unbalanced_hit(match.start(), opening, closing, opened=False)
                return
            depth -= 1
        if depth > 0 and not _paragraph_quotes(text, opening, closing):
            yield _unbalanced_hit(first_open, opening, closing, opened=True)


def _paragraph_quotes(text: str, opening: str, closing: str) -> bool:
    """A quotation over several paragraphs opens each paragraph and closes only the last:
    the counts then differ by the paragraphs in between, which is correct."""
    return opening == "“" and text.count(opening) > text.count(closing) > 0 and "\n" in text


def _unbalanced_hit(at: int, opening: str, closing: str, *, opened: bool) -> Hit:
    if opened:
        message = Text(
            f"{opening} is opened and never closed (the text may have been cut)",
            f"“{opening}”没有对应的“{closing}”（文字可能被截断）",
        )
        fix = Text(f"add the closing {closing}", f"补上“{closing}”")
    else:
        message = Text(f"{closing} closes nothing", f"“{closing}”前面没有对应的“{opening}”")
        fix = Text(f"add the opening {opening} or delete it", f"补上“{opening}”或删除")
    return Hit("error", "artefact.unbalanced_marks", at, at + 1, message, fix)
