"""Encoding damage: bytes decoded with the wrong codec, decoded twice, decoded one byte out of
step, lost (U+FFFD, runs of '?'), cut short, or never initialised ("锟斤拷", "烫烫烫").

We keep our own GBK-aware checks rather than only ``ftfy``: ftfy knows the Western codecs but
not GBK, and GBK is where Chinese text gets damaged. Everything here is an error, except
signs that may be style (a single ASCII '?' inside Chinese) which are warnings."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence

from bot.content.checks.chars import (
    CJK_PUNCT,
    HAN,
    HAN_RE,
    PINYIN_LETTERS,
    TONED,
    commonness,
    gb2312_level,
)
from bot.content.checks.findings import Hit, Severity, Text

FAMILY = "encoding"
CODES = {
    "encoding.replacement_char": ("error", Text(
        "U+FFFD replacement characters: bytes were lost when the text was decoded",
        "出现替换字符（�）：文字在转码时已经丢失")),
    "encoding.surrogate": ("error", Text(
        "an unpaired surrogate: a broken character from a JSON or UTF-16 source",
        "出现孤立的代理码位：来自 JSON 或 UTF-16 的字符已损坏")),
    "encoding.garbage_run": ("error", Text(
        "'锟斤拷', '烫烫烫' and the like: lost or uninitialised bytes shown as GBK",
        "“锟斤拷”“烫烫烫”一类乱码：丢失或未初始化的字节被当作 GBK 显示")),
    "encoding.mojibake": ("error", Text(
        "text decoded with the wrong codec (UTF-8 read as GBK, Latin-1, cp1252, Mac Roman, "
        "GBK read as Latin-1, or encoded twice)",
        "乱码：文字用错了编码解读（UTF-8 被当作 GBK、Latin-1、cp1252、Mac Roman，GBK 被当作 "
        "Latin-1，或重复编码）")),
    "encoding.gbk_shifted": ("error", Text(
        "GBK bytes read one byte out of step", "GBK 字节错位一个字节后读出的乱码")),
    "encoding.question_run": ("error", Text(
        "a run of '?' where characters were lost (a non-Unicode database, emoji in utf8mb3)",
        "连续的问号：字符已丢失（非 Unicode 数据库，或 utf8mb3 存不下的表情）")),
    "encoding.truncated": ("error", Text(
        "text cut in the middle of a character or sentence",
        "文字在字符或句子中间被截断")),
    "encoding.damaged_run": ("error", Text(
        "text garbled by a wrong encoding that cannot be repaired automatically",
        "无法自动恢复的乱码")),
    "encoding.lost_char": ("error", Text(
        "a '?' inside Chinese text where nothing is asked: a character lost to a wrong "
        "encoding", "中文中夹着问号，但句子并非疑问：是转码时丢失的字符")),
    "encoding.stray_question_mark": ("warning", Text(
        "an ASCII '?' inside Chinese text: often a character lost to a wrong encoding",
        "中文中夹着半角问号：常是转码时丢失的字符")),
}  # fmt: skip

_RETYPE = Text("retype or re-export the text from its source", "请从原始来源重新复制或导出")


def _fix(repaired: str) -> Text:
    return Text(f"it should read {repaired!r}", f"应为“{repaired}”")


def check(text: str) -> Iterator[Hit]:
    yield from _lost(text)
    yield from _garbage_runs(text)
    mojibake = list(_reversible_mojibake(text))
    yield from mojibake
    taken = [(hit.start, hit.end) for hit in mojibake]
    yield from _latin_fragments(text, taken)
    yield from _gbk_shifted(text)
    yield from _question_runs(text)
    yield from _stray_question_marks(text)
    yield from _truncated(text)
    yield from _damaged_runs(text)
    yield from _unrelated_scripts(text)


def garbage_only(text: str) -> Iterator[Hit]:
    """The checks that plain text (common characters only) still needs: runs like "烫烫烫"
    are made of common characters."""
    yield from _garbage_runs(text)
    yield from _question_runs(text)


# --- lost characters ------------------------------------------------------------------------


def _lost(text: str) -> Iterator[Hit]:
    for match in re.finditer("\ufffd+", text):
        message = CODES["encoding.replacement_char"][1]
        yield Hit("error", "encoding.replacement_char", *match.span(), message, _RETYPE)


def surrogates(text: str) -> Iterator[Hit]:
    for match in re.finditer("[\ud800-\udfff]", text):
        point = f"U+{ord(match.group()):04X}"
        message = Text(
            f"an unpaired surrogate {point}: a broken character (JSON or UTF-16 source)",
            f"孤立的代理码位 {point}：字符已损坏（来自 JSON 或 UTF-16）",
        )
        yield Hit("error", "encoding.surrogate", *match.span(), message, _RETYPE)


_GARBAGE = re.compile(r"(?:锟斤拷|锟斤|斤拷)+|烫{3,}|屯{3,}|葺{3,}|[ÌÍÝ]{4,}")


_GARBAGE_CHARS = re.compile("[锟斤拷烫屯葺ÌÍÝ]")


def _garbage_runs(text: str) -> Iterator[Hit]:
    if not _GARBAGE_CHARS.search(text):
        return
    for match in _GARBAGE.finditer(text):
        message = Text(
            f"{match.group()[:9]!r}: lost or uninitialised bytes shown as GBK",
            f"“{match.group()[:9]}”是丢失或未初始化的字节被当作 GBK 显示的乱码",
        )
        yield Hit("error", "encoding.garbage_run", *match.span(), message, _RETYPE)


# --- reversible mojibake ---------------------------------------------------------------------

_REVERSIBLE_CODECS = ("gbk", "cp1252", "latin-1", "mac_roman")


def _reversible_mojibake(text: str) -> Iterator[Hit]:
    """UTF-8 bytes that were decoded as GBK, cp1252, Latin-1 or Mac Roman: encoding such a
    run back with that codec gives valid UTF-8 that reads better than the run itself
    ("鍙傚姞" → "参加"); GBK bytes decoded as Latin-1 ("ÍÅ¿ÎÍ¨Öª" → 团课通知). A repair that is
    itself such a run was encoded twice. Per run, the reading that explains most of it
    wins."""
    for run in re.finditer(r"[^\x00-\x7f]+(?:[\x20-\x7f]{1,2}[^\x00-\x7f]+)*", text):
        best: list[tuple[int, int, str, str]] = []
        for codec in _REVERSIBLE_CODECS:
            if not _may_hold_utf8(run.group(), codec):
                continue
            found = [
                (start, end, repaired, f"UTF-8 read as {codec.upper()}")
                for start, end, repaired in _utf8_segments(run.group(), run.start(), codec)
                if _plausible_repair(text[start:end], repaired, codec)
            ]
            if _covered(found) > _covered(best):
                best = found
        gbk = _gbk_from_latin(run.group(), run.start())
        if gbk and _covered([gbk]) >= _covered(best):
            best = [gbk]
        for start, end, repaired, how in best:
            repaired, times = _repair_again(repaired)
            twice = " (encoded twice)" if times else ""
            how_zh = (
                how.replace(" read as ", " 被当作 ") + " 读取" + ("（重复编码）" if times else "")
            )
            message = Text(
                f"mojibake: {how}{twice}; correctly it reads {repaired!r}",
                f"乱码：{how_zh}，原文应为“{repaired}”",
            )
            yield Hit("error", "encoding.mojibake", start, end, message, _fix(repaired))


_TWO_UTF8 = re.compile(rb"(?:[\xe0-\xef][\x80-\xbf]{2}){2}|(?:[\xc2-\xdf][\x80-\xbf]){2}")


def _may_hold_utf8(run: str, codec: str) -> bool:
    """A quick test before the slow one: two UTF-8 characters in a row somewhere."""
    return bool(_TWO_UTF8.search(run.encode(codec, errors="replace")))


def _covered(found: Sequence[tuple[int, int, str, str]]) -> int:
    return sum(end - start for start, end, _, _ in found)


def _gbk_from_latin(run: str, offset: int) -> tuple[int, int, str, str] | None:
    """GBK bytes shown as Latin-1 or cp1252."""
    match = re.search(r"[\u0080-\u00ff\u0152-\u2122]{4,}", run)
    if not match:
        return None
    for codec in ("latin-1", "cp1252"):
        try:
            repaired = match.group().encode(codec).decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if len(HAN_RE.findall(repaired)) >= 2 and commonness(repaired) >= 0.7:
            return offset + match.start(), offset + match.end(), repaired, "GBK read as Latin-1"
    return None


def _repair_again(text: str) -> tuple[str, int]:
    """Undo further layers of cp1252/Latin-1 double encoding."""
    times = 0
    while times < 3:
        for codec in ("cp1252", "latin-1"):
            try:
                again = text.encode(codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if again != text:
                text, times = again, times + 1
                break
        else:
            break
    return text, times


def _utf8_segments(run: str, offset: int, codec: str) -> Iterator[tuple[int, int, str]]:
    """Stretches of ``run`` whose ``codec`` bytes are valid multi-byte UTF-8, as (start, end)
    character offsets into the text and the decoded string (ASCII inside a stretch is
    kept)."""
    data = bytearray()
    owner: list[int] = []  # byte index -> character index in run
    for index, char in enumerate(run):
        try:
            encoded = char.encode(codec)
        except UnicodeEncodeError:
            encoded = b"\x00"  # a character the codec cannot hold breaks any sequence
        data += encoded
        owner += [index] * len(encoded)
    i, first, last, decoded = 0, -1, -1, ""
    while i <= len(data):
        length = _utf8_sequence_length(data, i)
        if length:
            first, decoded = (i if first < 0 else first), decoded + data[i : i + length].decode()
            i += length
            last = i
            continue
        if first >= 0 and i < len(data) and 0x20 <= data[i] < 0x7F:
            decoded += chr(data[i])  # a space or letter between two stretches
            i += 1
            continue
        if first >= 0:
            yield offset + owner[first], offset + owner[last - 1] + 1, decoded.rstrip()
            first, decoded = -1, ""
        i += 1


def _utf8_sequence_length(data: bytearray, i: int) -> int:
    """The length of the multi-byte UTF-8 character starting at ``i``, or 0."""
    if i >= len(data) or data[i] < 0xC2:
        return 0
    for length in (2, 3, 4):
        try:
            bytes(data[i : i + length]).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return length if i + length <= len(data) else 0
    return 0


def _plausible_repair(source: str, repaired: str, codec: str) -> bool:
    if codec == "gbk":
        # Real Chinese rarely forms valid UTF-8 when encoded as GBK, and never two
        # characters in a row that read better than the original.
        han = HAN_RE.findall(repaired)
        return len(han) >= 2 and commonness(repaired) >= 0.5 > commonness(source)
    # "Ã©", "å­¦ä¹ ": Latin letters pairing up into UTF-8 do not occur in real text.
    return len(source) >= 2 and any(ord(c) > 0x7F for c in repaired)


_CONT = (
    "\u00a0-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
    "\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\u00a0"
)
_LATIN_FRAGMENT = re.compile(f"[\u00c2-\u00f4][{_CONT}]{{1,3}}")


def _latin_fragments(text: str, taken: Sequence[tuple[int, int]]) -> Iterator[Hit]:
    """A UTF-8 lead byte and its continuation bytes read as Latin-1 that the repair above
    could not place, usually because the field was cut mid-character ("青年大学ä¹")."""
    for match in _LATIN_FRAGMENT.finditer(text):
        start, end = match.span()
        if any(s <= start < e for s, e in taken):
            continue
        message = Text(
            f"{match.group()!r} is part of a UTF-8 character read as Latin-1 "
            "(the text was cut or mis-decoded)",
            f"“{match.group()}”是被当作 Latin-1 读出的 UTF-8 字符残片（文字被截断或转码错误）",
        )
        yield Hit("error", "encoding.truncated", start, end, message, _RETYPE)


# --- GBK out of step ---------------------------------------------------------------------------

_GBK_RUN = re.compile(f"[{HAN}\u3000-\u303f\uff01-\uff5e\u2018-\u201d\u00b7\u2014\u2026]+")


def _gbk_shifted(text: str) -> Iterator[Hit]:
    """GBK bytes read one byte out of step ("叭轿弧闭覝" for 。"冉位"找): the decoder stays out
    of step until the next ASCII byte, so the damage is the end of a run of Chinese. Read
    one byte later, such a stretch turns into common characters and punctuation, while sound
    text turns into rare characters and breaks within a few characters."""
    for run in _GBK_RUN.finditer(text):
        found = _shifted_suffix(run.group())
        if found is None:
            continue
        offset, repaired = found
        start = run.start() + offset
        message = Text(
            f"GBK bytes read one byte out of step: {run.group()[offset:]!r} reads "
            f"{repaired!r} when realigned",
            f"GBK 字节错位的乱码：“{run.group()[offset:]}”对齐后应为“{repaired}”",
        )
        yield Hit("error", "encoding.gbk_shifted", start, run.end(), message, _fix(repaired))


def _shifted_suffix(run: str) -> tuple[int, str] | None:
    # Counts from the end, so each suffix's commonness costs nothing.
    han_from_end, common_from_end = [0], [0]
    for char in reversed(run):
        is_han = bool(HAN_RE.match(char))
        han_from_end.append(han_from_end[-1] + is_han)
        common_from_end.append(common_from_end[-1] + (is_han and gb2312_level(char) == 1))
    for length in range(min(len(run), 40), 2, -1):
        han = han_from_end[length]
        if han < 3 or common_from_end[length] > 0.8 * han:
            continue
        source = run[-length:]
        try:
            data = source.encode("gbk")
        except UnicodeEncodeError:
            continue
        repaired = _decode_prefix(data[1:])
        han_repaired = HAN_RE.findall(repaired)
        if (
            len(repaired) >= length - 2
            and len(han_repaired) >= 3
            and commonness(repaired) >= 0.95
            and all(gb2312_level(c) for c in han_repaired)
        ):
            return len(run) - length, repaired
    return None


def _decode_prefix(data: bytes) -> str:
    """The longest strict GBK reading of ``data``, allowing one dangling byte at the end."""
    try:
        return data.decode("gbk")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 1:
            return data[: exc.start].decode("gbk")
        return ""


# --- question marks ----------------------------------------------------------------------------

_QUESTION_RUN = re.compile(r"\?{3,}|(?<=[\u3400-\u9fff])\?{2}(?=[\u3400-\u9fff]|$)")


def _question_runs(text: str) -> Iterator[Hit]:
    if "??" not in text or not HAN_RE.search(text):
        return
    for match in _QUESTION_RUN.finditer(text):
        n = len(match.group())
        message = Text(
            f"{n} question marks in a row: characters (or emoji) lost when the text was "
            "stored in an encoding that could not hold them",
            f"连续 {n} 个问号：字符（或表情）在存入不支持它们的编码时丢失",
        )
        yield Hit("error", "encoding.question_run", *match.span(), message, _RETYPE)


def _looks_lost(text: str, at: int, sentence_end: int) -> bool:
    """A '?' where a character was lost rather than a question typed in ASCII: at the very
    start of a sentence's text, before a '!', or near an uncommon character (what bytes read
    in the wrong place turn into). ``sentence_end``: where the sentence before it ends (-1
    for none)."""
    sentence_start = sentence_end
    near = text[max(0, at - 6) : at + 7]
    return (
        at - sentence_start <= 2
        or text[at + 1 : at + 2] == "!"  # "?!叭轿": the seed's mark of a lost pair of bytes
        or bool(_PINYIN_AFTER.match(text, at + 1))  # "地?cái)": a character lost, its gloss left
        or any(bool(HAN_RE.match(c)) and gb2312_level(c) != 1 for c in near)
    )


_PINYIN_AFTER = re.compile(f"[{PINYIN_LETTERS}]{{1,6}}[)）]")
_QUESTION_WORDS = re.compile("[吗呢吧么嘛啥谁哪何几多怎否难没]|是不是|有没有|什么|能不能|可不可以")
_LOST_CHAR = Text(
    "a '?' inside Chinese text where nothing is asked: a character lost to a wrong encoding",
    "中文中夹着问号，但句子并非疑问：是转码时丢失的字符",
)
_STRAY_QUESTION_MARK = re.compile(
    rf"(?<=[{HAN}])\?(?=[{HAN}{CJK_PUNCT}{PINYIN_LETTERS}]|!(?=[{HAN}]))"
)


class _Asks:
    """Whether the sentence up to a position asks something (holds a question word), for
    positions in increasing order. Each sentence's text is searched once, from where the last
    search stopped: searching it from its start for every '?' was O(n²) on a long sentence
    of them (16,000 characters of "中?" took 9 s)."""

    _LONGEST_WORD = 4  # 可不可以

    def __init__(self, text: str) -> None:
        self.text = text
        self.ends = [match.start() for match in _SENTENCE_END.finditer(text)]
        self.sentence_end, self.asked, self.searched_to = -2, False, 0

    def before(self, at: int) -> tuple[int, bool]:
        """Where the sentence holding ``at`` starts (the position of the mark ending the
        one before it, -1 for none) and whether its text before ``at`` asks something."""
        count = bisect.bisect_left(self.ends, at)
        sentence_end = self.ends[count - 1] if count else -1
        if sentence_end != self.sentence_end:
            self.sentence_end, self.asked, self.searched_to = sentence_end, False, sentence_end + 1
        if not self.asked:
            start = max(sentence_end + 1, self.searched_to - self._LONGEST_WORD)
            self.asked = _QUESTION_WORDS.search(self.text, start, at) is not None
            self.searched_to = at
        return sentence_end, self.asked


_SENTENCE_END = re.compile("[。！？!.\n]")


def _stray_question_marks(text: str) -> Iterator[Hit]:
    """A '?' inside Chinese where the sentence asks nothing is a character the converter
    could not write (as in the seed); after a question word it may be an ASCII question
    mark, which is only style."""
    for match in re.finditer(rf"^\?(?=[{HAN}])", text):
        yield Hit("error", "encoding.lost_char", *match.span(), _LOST_CHAR, _RETYPE)
    asks = _Asks(text)
    for match in _STRAY_QUESTION_MARK.finditer(text):
        if match.start() > 0 and text[match.start() - 1 : match.start() + 2].count("?") > 1:
            continue  # part of a run, reported above
        sentence_end, asked = asks.before(match.start())
        if not asked and _looks_lost(text, match.start(), sentence_end):
            yield Hit("error", "encoding.lost_char", *match.span(), _LOST_CHAR, _RETYPE)
            continue
        yield Hit(
            "warning",
            "encoding.stray_question_mark",
            *match.span(),
            CODES["encoding.stray_question_mark"][1],
            Text("use '？' if it is a question; otherwise restore the lost character",
                 "若是问句请用全角“？”，否则请补回丢失的字符"),
        )  # fmt: skip


def _truncated(text: str) -> Iterator[Hit]:
    """A field that ends "…主题团?": a character cut at a byte limit and shown as '?'."""
    match = re.search(rf"(?<=[{HAN}])\?$", text.rstrip())
    if not match or text.rstrip().endswith("??"):
        return
    sentence = re.split("[。！？!.\n]", text.rstrip()[:-1])[-1]
    if _QUESTION_WORDS.search(sentence):
        return
    message = Text(
        "the text ends in '?' after a character that asks nothing: the field was cut and "
        "its last character lost",
        "文字以问号结尾但并非问句：字段被截断，末尾的字符已丢失",
    )
    yield Hit("error", "encoding.truncated", *match.span(), message, _RETYPE)


# --- letters of unrelated scripts ------------------------------------------------------------

# What GBK bytes turn into when read as UTF-8 with the invalid ones dropped: Latin
# Extended-B, Cyrillic beyond Russian's, Armenian, Hebrew points, Syriac and beyond. Greek,
# Cyrillic and IPA are left out (maths, names and phonetics use them).
# Greek and Cyrillic are left out (maths and names use them).
# Pinyin's tone letters (ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ ǹ, ɑ ɡ) sit in the same blocks and are left out too.
_UNRELATED = re.compile(
    "[\u017f-\u01cc\u01dd-\u01f8\u01fa-\u024f\u0460-\u052f\u0530-\u058f\u0591-\u05c7\u0700-\u07ff]"
)


def _unrelated_scripts(text: str) -> Iterator[Hit]:
    found = list(_UNRELATED.finditer(text))
    if len(found) < 2 or not (HAN_RE.search(text) or len(found) >= 3):
        return
    start, end = found[0].start(), found[-1].end()
    message = Text(
        f"letters of unrelated scripts ({text[start:end][:20]!r}): GBK text read as UTF-8",
        f"夹杂无关文字的字母（“{text[start:end][:20]}”）：GBK 文本被当作 UTF-8 读取",
    )
    yield Hit("error", "encoding.mojibake", start, end, message, _RETYPE)


# --- clusters of damage --------------------------------------------------------------------------

_FOREIGN_IN_HAN = re.compile(
    f"(?<=[{HAN}])[\u0370-\u03ff\u0400-\u04ff\u0530-\u058f\u0590-\u05ff\u3040-\u30ff\u2500-\u257f]+(?=[{HAN}])"
)
_PINYIN_SYLLABLE = f"[{PINYIN_LETTERS}]{{0,5}}[{TONED}][{PINYIN_LETTERS}]{{0,5}}"
_FRAGMENT = re.compile(rf"(?<=[{HAN}(（?])[(（]?{_PINYIN_SYLLABLE}[)）]")


def _damage_signals(text: str) -> Iterator[tuple[int, int, int]]:
    """Signs of damage as (start, end, kind): 2 for a sign that never occurs in sound text
    (a pinyin fragment after '?', a Greek or kana letter between Chinese characters,
    U+FFFD), 1 for a stray '?', 0 for a character outside GB2312's common level (normal
    in names)."""
    for match in _STRAY_QUESTION_MARK.finditer(text):
        yield match.start(), match.end(), 1
    for match in (*_FOREIGN_IN_HAN.finditer(text), *re.finditer("\ufffd", text)):
        yield match.start(), match.end(), 2
    for match in _FRAGMENT.finditer(text):
        if text[match.start() - 1 : match.start()] == "?":
            yield match.start(), match.end(), 2
    for match in HAN_RE.finditer(text):
        if gb2312_level(match.group()) != 1:
            yield match.start(), match.end(), 0


def _damaged_runs(text: str, gap: int = 6) -> Iterator[Hit]:
    """Mojibake that cannot be reversed (bytes were lost, or the text was converted again
    afterwards), like "?!叭轿弧闭覝?zhǔn": signs at most ``gap`` characters apart form a
    cluster. A cluster with a sign that never occurs in sound text and one more sign is an
    error; two stray '?' with rare characters between them are one too; two stray '?'
    alone are a warning."""
    cluster: list[tuple[int, int, int]] = []
    cluster_end = 0  # the furthest end in the cluster, kept as it grows (not recomputed: O(n²))
    for signal in [*sorted(_damage_signals(text)), (len(text) + gap + 1, 0, 0)]:
        if cluster and signal[0] - cluster_end > gap:
            kinds = [kind for _, _, kind in cluster]
            strong = sum(kind > 0 for kind in kinds)
            if strong >= 2:
                sure = 2 in kinds or (kinds.count(1) >= 2 and 0 in kinds)
                start, end = cluster[0][0], cluster_end
                message = Text(
                    f"text that looks garbled by a wrong encoding: {text[start:end]!r}",
                    f"疑似转码造成的乱码：“{text[start:end]}”",
                )
                severity: Severity = "error" if sure else "warning"
                yield Hit(severity, "encoding.damaged_run", start, end, message, _RETYPE)
            cluster, cluster_end = [], 0
        cluster.append(signal)
        cluster_end = max(cluster_end, signal[1])
