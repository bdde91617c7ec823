"""Pinyin that a converter or a 注音 tool put behind characters: "团(tuán)", "团[tuán]",
"团【tuán】", "团 (tuán)", "团(tuan2)", "团(TUÁN)", or glued on as "团tuán课kè".

A converter glosses every character (or every uncommon one); an author glosses one rare
character in a name so readers can say it ("王堃（kūn）"). So glosses of at most two distinct
characters, each outside GB2312's common level, are a warning; anything else is an error."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bot.content.checks.chars import HAN, PINYIN_LETTERS, TONED, TONED_UPPER, gb2312_level
from bot.content.checks.findings import Hit, Text

FAMILY = "annotations"
CODES = {
    "annotation.pinyin": ("error", Text(
        "pinyin a converter put behind characters", "注音工具在汉字后加上的拼音")),
    "annotation.pinyin_gloss": ("warning", Text(
        "a pinyin gloss after a rare character (fine in a name; check it is meant)",
        "生僻字后的拼音注音（人名中可以保留，请确认是有意为之）")),
    "annotation.pinyin_fragment": ("warning", Text(
        "a piece of pinyin left in the text", "文中残留的拼音片段")),
}  # fmt: skip

_ALL_TONED = TONED + TONED_UPPER
_SYLLABLE_TONED = f"[{PINYIN_LETTERS}]{{0,5}}[{_ALL_TONED}][{PINYIN_LETTERS}]{{0,5}}"
_SYLLABLE_NUMBERED = "[a-zA-ZüÜv]{1,6}[1-5]"
_SYLLABLE_PLAIN = f"[{PINYIN_LETTERS}]{{1,6}}[1-5]?"
_OPEN, _CLOSE = r"[(（\[【〔［]", r"[)）\]】〕］]"
_ANNOTATION = re.compile(
    rf"(?P<han>[{HAN}])(?P<ann>[ \u3000]?{_OPEN}\s*(?:{_SYLLABLE_PLAIN}[\s'’]*)+{_CLOSE})"
)
_GLUED = re.compile(rf"(?<=[{HAN}])(?P<ann>{_SYLLABLE_TONED})(?=[{HAN}，。、；：！？\s]|$)")
_FRAGMENT = re.compile(rf"(?<=[{HAN}(（?])(?P<ann>[(（]?{_SYLLABLE_TONED}[)）])")


def _rare(char: str) -> bool:
    """Outside GB2312's common level as written (昇 is rare, though its Simplified 升 is not)."""
    try:
        lead = char.encode("gb2312")[0]
    except UnicodeEncodeError:
        return True
    return not 0xB0 <= lead <= 0xD7 or gb2312_level(char) != 1


def _is_pinyin(annotation: str) -> bool:
    """Tone marks, or tone numbers on every syllable: English in brackets has neither."""
    inner = _inner(annotation)
    if re.search(f"[{_ALL_TONED}üÜ]", inner):
        return True
    syllables = re.split(r"[\s'’]+", inner)
    return all(re.fullmatch(_SYLLABLE_NUMBERED, s) for s in syllables if s)


def _inner(annotation: str) -> str:
    return re.sub(rf"^[ \u3000]?{_OPEN}|{_CLOSE}$", "", annotation).strip()


_INITIALS = [
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "zh",
    "ch",
    "sh",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
]
_FINALS = [
    "a",
    "o",
    "e",
    "i",
    "u",
    "v",
    "ai",
    "ei",
    "ui",
    "ao",
    "ou",
    "iu",
    "ie",
    "ve",
    "er",
    "an",
    "en",
    "in",
    "un",
    "vn",
    "ang",
    "eng",
    "ing",
    "ong",
    "ia",
    "iao",
    "ian",
    "iang",
    "iong",
    "ua",
    "uo",
    "uai",
    "uan",
    "uang",
    "ue",
]
_SYLLABLES = frozenset(
    [i + f for i in _INITIALS for f in _FINALS] + _FINALS + ["ng", "hm", "m", "n"]
)


def _plain_pinyin(annotation: str) -> bool:
    """Toneless pinyin ("(tuan)"): every word a syllable of Mandarin, lower case."""
    words = re.split(r"[\s'’]+", _inner(annotation))
    return bool(words) and all(w in _SYLLABLES for w in words if w) and any(words)


def check(text: str) -> Iterator[Hit]:
    found = list(_ANNOTATION.finditer(text))
    glosses = [m for m in found if _is_pinyin(m.group("ann"))]
    # Toneless glosses ("团(tuan)课(ke)") count when there are several: one English word
    # in brackets may happen to spell a syllable, a converter's run of them does not.
    plain = [m for m in found if m not in glosses and _plain_pinyin(m.group("ann"))]
    if len(plain) >= 2:
        glosses = sorted([*glosses, *plain], key=lambda m: m.start())
    glued = list(_GLUED.finditer(text))
    # One name may be glossed wherever it appears (title, body, link text): count the
    # distinct glossed characters, not the glosses.
    glossed = {
        (m.group("han"), m.group("ann").strip(" \u3000()（）[]【】").lower()) for m in glosses
    }
    names_only = len(glossed) <= 2 and not glued and all(_rare(han) for han, _ in glossed)
    for match in glosses:
        annotation, han = match.group("ann").strip(), match.group("han")
        if names_only:
            message = Text(
                f"pinyin gloss {annotation} after the rare character {han}: fine in a name",
                f"生僻字“{han}”后的拼音注音 {annotation}：人名中可以保留",
            )
            yield Hit("warning", "annotation.pinyin_gloss", *match.span("ann"), message)
            continue
        message = Text(
            f"pinyin annotation {annotation} after {han}: a converter added it",
            f"“{han}”后的拼音注音 {annotation}：是注音工具加上的",
        )
        fix = Text(f"delete {annotation}", f"删除 {annotation}")
        yield Hit("error", "annotation.pinyin", *match.span("ann"), message, fix)
    for match in glued:
        message = Text(
            f"pinyin {match.group('ann')!r} glued behind a character: a converter added it",
            f"汉字后紧贴的拼音“{match.group('ann')}”：是注音工具加上的",
        )
        fix = Text(f"delete {match.group('ann')!r}", f"删除“{match.group('ann')}”")
        yield Hit("error", "annotation.pinyin", *match.span("ann"), message, fix)
    yield from _fragments(text, [m.span("ann") for m in (*glosses, *glued)])


def _fragments(text: str, taken: Sequence[tuple[int, int]]) -> Iterator[Hit]:
    for match in _FRAGMENT.finditer(text):
        start, end = match.span("ann")
        if any(s <= start < e or s < end <= e for s, e in taken):
            continue
        message = Text(
            f"a piece of pinyin {match.group('ann')!r} left in the text",
            f"文中残留的拼音片段“{match.group('ann')}”",
        )
        fix = Text("delete it", "删除它")
        yield Hit("warning", "annotation.pinyin_fragment", start, end, message, fix)
