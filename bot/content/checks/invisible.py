"""Characters readers cannot see: zero-width and joiner characters, soft hyphens, runs of
no-break spaces and line separators (Word, web pages, chat apps), direction controls that
reorder what is shown (U+202E turns a phone number around), fillers used as padding,
private-use glyphs from icon fonts, Word's object placeholder and control characters.

Removing a zero-width space, a soft hyphen, a word joiner or a zero-width (non-)joiner
between Chinese characters, collapsing a run of no-break spaces, or turning a line
separator into a line break changes nothing a reader should see: those are fixed
(``fix_invisible``) and reported as ``fixed``. Direction controls, fillers, private-use and
control characters change what readers see or hide something: those are errors."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.content.checks.chars import HAN
from bot.content.checks.findings import Hit, Text

FAMILY = "invisible"
CODES = {
    "invisible.zero_width": ("fixed", Text(
        "a zero-width character (U+200B, U+2060, U+FEFF, or a joiner between Chinese "
        "characters): removed", "零宽字符（U+200B、U+2060、U+FEFF，或汉字之间的连接符）：已删除")),
    "invisible.soft_hyphen": ("fixed", Text(
        "a soft hyphen (U+00AD) from Word: removed", "Word 的软连字符（U+00AD）：已删除")),
    "invisible.nbsp_run": ("fixed", Text(
        "a run of no-break spaces (U+00A0) from Word or a web page: made one space",
        "连续的不换行空格（U+00A0）：已合并为一个空格")),
    "invisible.line_separator": ("fixed", Text(
        "a line or paragraph separator (U+2028/U+2029) from Word: made a line break",
        "Word 的行/段分隔符（U+2028/U+2029）：已改为换行")),
    "invisible.bidi": ("error", Text(
        "a text-direction control (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C): "
        "it can reorder what readers see", "文字方向控制符：会改变读者看到的字序")),
    "invisible.filler": ("error", Text(
        "a blank filler character (Hangul filler U+3164, braille blank) used as padding",
        "用作占位的空白填充字符（韩文填充符 U+3164、盲文空白等）")),
    "invisible.private_use": ("error", Text(
        "a private-use character (an icon font glyph, a Word Symbol bullet, an old GB18030 "
        "mapping): readers see a box", "私用区字符（图标字体、Word 符号项目符号、旧 GB18030 映射）：读者只会看到方框")),
    "invisible.object_replacement": ("error", Text(
        "U+FFFC, where Word had an embedded object", "U+FFFC：Word 中嵌入对象的位置，对象已丢失")),
    "invisible.control": ("error", Text(
        "a control character", "控制字符")),
}  # fmt: skip

_ZERO_WIDTH = re.compile(
    f"[\u200b\u2060\u180e\ufeff\u2061-\u2064]|(?<=[{HAN}\\s])[\u200c\u200d]+|[\u200c\u200d]+(?=[{HAN}])"
)
_NBSP_RUN = re.compile("\u00a0{2,}|(?<=\u3000)\u00a0|\u00a0(?=\u3000)")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]+")
_FILLER = re.compile("[\u3164\u115f\u1160\uffa0\u2800]+")
_PRIVATE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")


def _point(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(text))


_ANY = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xa0\xad\u061c\u115f\u1160\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2069\u2800\u3164\ue000-\uf8ff\ufeff\uffa0\ufffc"
    "\U000f0000-\U0010ffff]"
)


def check(text: str) -> Iterator[Hit]:
    if not _ANY.search(text):
        return
    for pattern, code in (
        (_ZERO_WIDTH, "invisible.zero_width"),
        (re.compile("\u00ad+"), "invisible.soft_hyphen"),
        (_NBSP_RUN, "invisible.nbsp_run"),
        (re.compile("[\u2028\u2029]"), "invisible.line_separator"),
        (_BIDI, "invisible.bidi"),
        (_FILLER, "invisible.filler"),
        (_PRIVATE, "invisible.private_use"),
        (re.compile("\ufffc+"), "invisible.object_replacement"),
        (_CONTROL, "invisible.control"),
    ):
        severity, what = CODES[code]
        for match in pattern.finditer(text):
            points = _point(match.group())
            message = Text(f"{what.en} ({points})", f"{what.zh}（{points}）")
            fix = NO_FIX if severity == "fixed" else _FIXES[code]
            yield Hit(severity, code, *match.span(), message, fix)  # type: ignore[arg-type]


NO_FIX = Text("", "")
_FIXES = {
    "invisible.bidi": Text("delete the direction control", "删除方向控制符"),
    "invisible.filler": Text("delete the filler or use a real space", "删除填充字符，或改用普通空格"),
    "invisible.private_use": Text(
        "replace the glyph with text or an emoji", "把该字符换成文字或表情"),
    "invisible.object_replacement": Text(
        "insert the image or object again, or delete the placeholder", "重新插入图片或对象，或删除占位符"),
    "invisible.control": Text("delete the control character", "删除控制字符"),
}  # fmt: skip


def fix_invisible(text: str, *, single_line: bool = False) -> str:
    """``text`` with what ``check`` reports as ``fixed`` repaired."""
    text = _ZERO_WIDTH.sub("", text)
    text = text.replace("\u00ad", "")
    text = _NBSP_RUN.sub(" ", text)
    return re.sub("[\u2028\u2029]", " " if single_line else "\n", text)
