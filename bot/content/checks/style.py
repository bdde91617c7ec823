"""Style, not damage: ASCII punctuation inside Chinese sentences, full-width digits and
letters, doubled punctuation, characters spaced out by a PDF copy. Warnings only."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.content.checks.chars import HAN
from bot.content.checks.findings import Hit, Text

FAMILY = "style"
CODES = {
    "style.ascii_punctuation": ("warning", Text(
        "ASCII punctuation inside Chinese sentences", "中文句子中用了半角标点")),
    "style.fullwidth_alnum": ("warning", Text(
        "full-width digits or letters (２０２４, ＡＰＰ)", "全角数字或字母（２０２４、ＡＰＰ）")),
    "style.doubled_punctuation": ("warning", Text(
        "doubled punctuation (。。, ，，)", "重复的标点（。。、，，）")),
    "style.spaced_out": ("warning", Text(
        "characters spaced out one by one (a PDF copy)", "逐字隔开的文字（从 PDF 复制）")),
}  # fmt: skip

_ASCII_PUNCT = re.compile(f"(?<=[{HAN}])[,:;](?=[{HAN}])|(?<=[{HAN}])\\.(?=$|\\s|[{HAN}])")
_FULLWIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
_DOUBLED = re.compile("([。，、；：])\\1+")
_SPACED = re.compile(f"[{HAN}](?: [{HAN}]){{3,}}")


def check(text: str) -> Iterator[Hit]:
    for pattern, code, fix in (
        (_ASCII_PUNCT, "style.ascii_punctuation", Text(
            "use full-width punctuation (，：；。)", "改用全角标点（，：；。）")),
        (_FULLWIDTH, "style.fullwidth_alnum", Text(
            "use ordinary digits and letters", "改用半角数字和字母")),
        (_DOUBLED, "style.doubled_punctuation", Text("keep one", "只保留一个")),
        (_SPACED, "style.spaced_out", Text("remove the spaces", "删除字间空格")),
    ):  # fmt: skip
        what = CODES[code][1]
        for match in pattern.finditer(text):
            message = Text(
                f"{what.en}: {match.group()[:20]!r}", f"{what.zh}：“{match.group()[:20]}”"
            )
            yield Hit("warning", code, *match.span(), message, fix)
