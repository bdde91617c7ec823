"""Character classes and the character facts the check families share: what is Han, how
common a character is (GB2312's levels), and which characters are Traditional or
Simplified-only forms (OpenCC's tables)."""

from __future__ import annotations

import functools
import re

import opencc

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef\u2014\u2018\u2019\u201c\u201d\u2026"
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
TONED_UPPER = "ĀÁǍÀĒÉĚÈĪÍǏÌŌÓǑÒŪÚǓÙǕǗǙǛŃŇǸḾ"
PINYIN_LETTERS = f"a-zA-ZüÜ{TONED}{TONED_UPPER}êÊ"
HAN_RE = re.compile(f"[{HAN}]")
URL = re.compile(r"\bhttps?://[^\s<>\"'()\[\]{}\u3000-\u303f\uff00-\uffef]+", re.I)


def is_han(char: str) -> bool:
    return bool(HAN_RE.match(char))


@functools.cache
def t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.cache
def s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@functools.lru_cache(maxsize=16384)
def gb2312_level(char: str) -> int:
    """1 for the 3,755 common characters of GB2312, 2 for its second level, 0 for anything
    outside it (Traditional characters are looked up by their Simplified form)."""
    for candidate in dict.fromkeys((char, t2s().convert(char))):
        try:
            lead = candidate.encode("gb2312")[0]
        except UnicodeEncodeError:
            continue
        if 0xB0 <= lead <= 0xD7:
            return 1
        if 0xD8 <= lead <= 0xF7:
            return 2
    return 0


def commonness(text: str) -> float:
    """The share of ``text``'s Han characters that are in GB2312's common level (0 when it
    has none). Sound Chinese prose is above 0.9; bytes re-read in the wrong place are near
    0.6."""
    han = HAN_RE.findall(text)
    return sum(gb2312_level(c) == 1 for c in han) / len(han) if han else 0.0


def in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=16384)
def is_simplified_only(char: str) -> bool:
    """A character Traditional text never uses (团, 题, 习): it has another Traditional form
    and Big5, the Traditional character set, lacks it. 台, 后, 里 and 面 have other
    Traditional forms too, but are Traditional characters as well."""
    if not is_han(char) or s2t().convert(char) == char:
        return False
    try:
        char.encode("cp950")
    except UnicodeEncodeError:
        return True
    return False


@functools.lru_cache(maxsize=16384)
def s2t_keeps(char: str) -> bool:
    return bool(s2t().convert(char) == char)


@functools.cache
def common_han() -> str:
    """GB2312's 3,755 common characters, as one string (for a regex character class)."""
    chars = []
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.append(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


@functools.cache
def unusual() -> re.Pattern[str]:
    """A character sound everyday text is not made of: anything but printable ASCII (less
    '?'), whitespace, GB2312's common characters and common Chinese punctuation. Text
    without one cannot hold the encoding damage the checks look for (each kind needs a '?',
    a replacement character, a Latin-1 or other foreign letter, or an uncommon character)."""
    punctuation = "，。、；：！？“”‘’《》（）【】—…·「」『』〈〉￥％＋－"
    return re.compile(f"[^ ->@-~\t\n\r{common_han()}{punctuation}]")
