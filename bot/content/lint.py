"""Checks a post must pass before it may be queued: platform limits, encoding damage, pinyin
annotations, Traditional characters in a Simplified column, unfilled template variables,
leftover Markdown, outside images, broken links and a missing cover.

Errors block a post; warnings are shown to the editor. The split is by certainty: what is
damage for sure (U+FFFD, "锟斤拷", text that reads as Chinese once its bytes are re-decoded,
pinyin pasted behind characters, Traditional characters, ``{{ … }}`` left over, limits) is an
error; what only looks like damage (a stray ASCII '?' inside Chinese, a cluster of rare
characters and pinyin fragments, ** or # left in the text, links readers cannot click) is a
warning.

Decisions: the title limit is 32 characters (the platform's documented rule, an error); some
sources say 64 bytes, so over 64 UTF-8 bytes is a warning. Content is measured on the HTML
as sent: under 20,000 characters and under 1,000,000 UTF-8 bytes. ``content_source_url`` at
most 1,024 UTF-8 bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

import opencc
from markdown_it import MarkdownIt

from bot.content.sanitize import (
    UPLOADED_IMAGE_PREFIXES,
    is_uploaded_image,
    is_weixin_link,
    start_tags,
    text_content,
)

Severity = Literal["error", "warning"]

TITLE_CHARS = 32
TITLE_BYTES = 64
AUTHOR_CHARS = 16
DIGEST_CHARS = 128
CONTENT_CHARS = 20_000
CONTENT_BYTES = 1_000_000
SOURCE_URL_BYTES = 1024
MAX_ARTICLES = 8  # articles in one draft (draft/add)
MAX_PER_CODE = 20  # per field; the rest are summed up in one finding
EXCERPT_CONTEXT = 6


@dataclass(frozen=True)
class Finding:
    """One problem: ``position`` is a character offset into the field's text (None when the
    finding is about the field as a whole); ``line``/``column`` (1-based) for multi-line
    text."""

    severity: Severity
    code: str
    field: str
    position: int | None
    message: str
    excerpt: str = ""
    line: int | None = None
    column: int | None = None
    article: int | None = None  # 0-based, in a post of several articles; None otherwise

    @property
    def where(self) -> str:
        at = f"article {self.article + 1} " if self.article is not None else ""
        if self.line is not None:
            return f"{at}{self.field} {self.line}:{self.column}"
        if self.position is not None:
            return f"{at}{self.field} @{self.position}"
        return f"{at}{self.field}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# --- entry points ---------------------------------------------------------------------------


def check_post(
    title: str,
    author: str,
    digest: str,
    html: str,
    content_source_url: str,
    *,
    markdown: str = "",
    simplified_only: bool = True,
    uploaded_image_prefixes: Sequence[str] = UPLOADED_IMAGE_PREFIXES,
) -> list[Finding]:
    """Every check on a post. Text checks run on ``markdown`` when given (positions then
    point into what the editor edits), else on the HTML's visible text."""
    findings = _limits(title, author, digest, html, content_source_url)
    for text, field in ((title, "title"), (author, "author"), (digest, "digest")):
        findings += check_text(text, field, simplified_only=simplified_only)
    if markdown:
        findings += check_text(markdown, "markdown", simplified_only=simplified_only)
        findings += _markdown_links(markdown)
    else:
        findings += check_text(text_content(html), "content", simplified_only=simplified_only)
    findings += _leftover_markdown(html)
    findings += _html_images_and_links(html, uploaded_image_prefixes)
    problem = link_problem(content_source_url) if content_source_url else ""
    if problem:
        message = f"the source link {problem}"
        findings.append(_whole("error", "source_url.invalid", "content_source_url", message))
    return findings


def check_cover(cover: str) -> list[Finding]:
    """The cover is required by draft/add: a local path or an http(s) URL."""
    problem = ""
    if not cover.strip():
        return [_whole("error", "cover.missing", "cover", "the post has no cover image")]
    if urlsplit(cover).scheme.lower() in ("http", "https"):
        problem = link_problem(cover)
    elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+:", cover):
        problem = "is neither a local path nor an http(s) URL"
    if problem:
        return [_whole("error", "cover.invalid", "cover", f"the cover {problem}", cover)]
    return []


def check_push(titles: Sequence[str]) -> list[Finding]:
    """Limits of the whole draft (one push of 1 to 8 articles, wechat-api.md §3.1): the
    article count, and titles that tell the articles apart in the list view."""
    if not 1 <= len(titles) <= MAX_ARTICLES:
        message = f"a push holds 1 to {MAX_ARTICLES} articles, this one has {len(titles)}"
        return [_whole("error", "push.articles", "articles", message)]
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for i, title in enumerate(titles):
        if title in seen:
            message = f"the same title as article {seen[title] + 1}: readers cannot tell them apart"
            finding = _whole("warning", "push.same_title", "title", message, title)
            findings.append(dataclasses.replace(finding, article=i))
        seen.setdefault(title, i)
    return findings


def for_article(findings: Iterable[Finding], index: int) -> list[Finding]:
    """The findings of one article of a post of several, saying which article they are about."""
    return [dataclasses.replace(f, article=index) for f in findings]


def check_text(text: str, field: str, *, simplified_only: bool = True) -> list[Finding]:
    """Encoding damage, pinyin annotations, Traditional characters (when ``simplified_only``)
    and unfilled template variables in one field's text."""
    masked = _URL.sub(lambda m: " " * len(m.group()), text)  # URLs are not prose
    annotations = list(_pinyin_annotations(masked))
    hits = [
        *_replacement_chars(masked),
        *_garbage_runs(masked),
        *_reversible_mojibake(masked),
        *_stray_question_marks(masked),
        *_damaged_runs(masked),
        *annotations,
        *_pinyin_fragments(masked, [(hit.start, hit.end) for hit in annotations]),
        *(_traditional(masked) if simplified_only else ()),
        *_template_leftovers(text),
    ]
    hits.sort(key=lambda hit: hit.start)
    return _capped(_finding(text, field, hit) for hit in hits)


# --- limits -----------------------------------------------------------------------------------


def _limits(title: str, author: str, digest: str, html: str, source_url: str) -> list[Finding]:
    title_bytes, html_bytes = len(title.encode()), len(html.encode())
    url_bytes = len(source_url.encode())
    limits: list[tuple[bool, Severity, str, str, str]] = [
        (not title.strip(), "error", "title.empty", "title", "the title is empty"),
        (len(title) > TITLE_CHARS, "error", "title.too_long", "title",
         f"the title has {len(title)} characters; at most {TITLE_CHARS}"),
        (len(title) <= TITLE_CHARS and title_bytes > TITLE_BYTES, "warning",
         "title.bytes", "title", f"the title is {title_bytes} UTF-8 bytes; some sources say "
         f"the platform allows {TITLE_BYTES} (answer 45003 if so)"),
        (len(author) > AUTHOR_CHARS, "error", "author.too_long", "author",
         f"the author has {len(author)} characters; at most {AUTHOR_CHARS}"),
        (len(digest) > DIGEST_CHARS, "error", "digest.too_long", "digest",
         f"the digest has {len(digest)} characters; at most {DIGEST_CHARS}"),
        (not text_content(html).strip() and "<img" not in html, "error", "content.empty",
         "content", "the post has no content"),
        (len(html) >= CONTENT_CHARS, "error", "content.too_long", "content",
         f"the content is {len(html)} characters; under {CONTENT_CHARS} allowed"),
        (html_bytes >= CONTENT_BYTES, "error", "content.too_large", "content",
         f"the content is {html_bytes} bytes; under {CONTENT_BYTES} allowed"),
        (url_bytes > SOURCE_URL_BYTES, "error", "source_url.too_long", "content_source_url",
         f"the source link is {url_bytes} bytes; at most {SOURCE_URL_BYTES}"),
    ]  # fmt: skip
    failed = [(severity, code, field, text) for hit, severity, code, field, text in limits if hit]
    return [_whole(*arguments) for arguments in failed]


# --- character classes ------------------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef\u2014\u2018\u2019\u201c\u201d\u2026"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_LETTERS = f"a-zü{_TONED}ê"
_HAN_RE = re.compile(f"[{_HAN}]")
_URL = re.compile(r"\bhttps?://[^\s<>\"'()\[\]{}\u3000-\u303f\uff00-\uffef]+", re.I)
_FOREIGN_IN_HAN = re.compile(
    f"(?<=[{_HAN}])[\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u2500-\u257f\u2460-\u24ff]+(?=[{_HAN}])"
)


class Hit(NamedTuple):
    """A finding before it is placed in its field's text."""

    severity: Severity
    code: str
    start: int
    end: int
    message: str


def _hit(severity: Severity, code: str, match: re.Match[str], message: str) -> Hit:
    return Hit(severity, code, match.start(), match.end(), message)


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@functools.lru_cache(maxsize=8192)
def _gb2312_level(char: str) -> int:
    """1 for the 3,755 common characters of GB2312, 2 for its second level, 0 for anything
    outside it (Traditional characters are looked up by their Simplified form)."""
    for candidate in dict.fromkeys((char, _t2s().convert(char))):
        try:
            lead = candidate.encode("gb2312")[0]
        except UnicodeEncodeError:
            continue
        if 0xB0 <= lead <= 0xD7:
            return 1
        if 0xD8 <= lead <= 0xF7:
            return 2
    return 0


def _commonness(text: str) -> float:
    han = [c for c in text if _HAN_RE.match(c)]
    return sum(_gb2312_level(c) == 1 for c in han) / len(han) if han else 0.0


# --- encoding damage --------------------------------------------------------------------------


def _replacement_chars(text: str) -> Iterator[Hit]:
    message = "replacement characters (�): bytes were lost when the text was decoded"
    for match in re.finditer(r"[\ufffd\ud800-\udfff]+", text):
        yield _hit("error", "encoding.replacement_char", match, message)


def _garbage_runs(text: str) -> Iterator[Hit]:
    message = "'锟斤拷' is U+FFFD read as GBK: the text was damaged by a wrong encoding"
    for match in re.finditer(r"(?:锟斤拷)+", text):
        yield _hit("error", "encoding.garbage_run", match, message)
    message = "a run like '烫烫烫' is uninitialised memory shown as GBK"
    for match in re.finditer(r"烫{3,}|屯{3,}", text):
        yield _hit("warning", "encoding.garbage_run", match, message)


_REVERSIBLE_CODECS = ("gbk", "cp1252", "latin-1")


def _reversible_mojibake(text: str) -> Iterator[Hit]:
    """UTF-8 bytes that were decoded as GBK or Latin-1: encoding such a run back with that
    codec gives valid UTF-8 that reads better than the run itself ("鍙傚姞" → "参加")."""
    reported: list[tuple[int, int]] = []
    for run in re.finditer(r"[^\x00-\x7f]{2,}", text):
        for codec in _REVERSIBLE_CODECS:
            for start, end, repaired in _utf8_segments(run.group(), run.start(), codec):
                overlaps = any(start < e and s < end for s, e in reported)
                if overlaps or not _plausible_repair(text[start:end], repaired, codec):
                    continue
                reported.append((start, end))
                message = (
                    f"mojibake: UTF-8 read as {codec.upper()}; correctly it reads {repaired!r}"
                )
                yield Hit("error", "encoding.mojibake", start, end, message)


def _utf8_segments(run: str, offset: int, codec: str) -> Iterator[tuple[int, int, str]]:
    """Stretches of ``run`` whose ``codec`` bytes are valid multi-byte UTF-8, as (start, end)
    character offsets into the text and the decoded string."""
    data = bytearray()
    owner: list[int] = []  # byte index -> character index in run
    for index, char in enumerate(run):
        try:
            encoded = char.encode(codec)
        except UnicodeEncodeError:
            encoded = b"\x00"  # a character the codec cannot hold breaks any sequence
        data += encoded
        owner += [index] * len(encoded)
    i, first, decoded = 0, -1, ""
    while i <= len(data):
        length = _utf8_sequence_length(data, i)
        if length:
            first, decoded = (i if first < 0 else first), decoded + data[i : i + length].decode()
            i += length
            continue
        if first >= 0:
            yield offset + owner[first], offset + owner[i - 1] + 1, decoded
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
        han = _HAN_RE.findall(repaired)
        return len(han) >= 2 and _commonness(repaired) >= 0.5 > _commonness(source)
    # "Ã©", "å­¦ä¹ ": Latin-1 letters pairing up into UTF-8 do not occur in real text.
    return len(source) >= 2 and any(ord(c) > 0x7F for c in repaired)


_STRAY_QUESTION_MARK = re.compile(
    rf"(?<=[{_HAN}])\?(?=[{_HAN}{_CJK_PUNCT}{_PINYIN_LETTERS}A-Z]|!(?=[{_HAN}]))"
)


def _stray_question_marks(text: str) -> Iterator[Hit]:
    message = "an ASCII '?' inside Chinese text: usually a character lost to a wrong encoding"
    for match in _STRAY_QUESTION_MARK.finditer(text):
        yield _hit("warning", "encoding.stray_question_mark", match, message)


def _damage_signals(text: str) -> Iterator[tuple[int, int, bool]]:
    """Signs of damage as (start, end, strong). A strong sign (a stray '?', a pinyin
    fragment, U+FFFD, a Greek or kana letter between Chinese characters) is rare in sound
    text; a weak one (a character outside GB2312's common level) is normal in names."""
    for hit in (*_stray_question_marks(text), *_pinyin_fragments(text, [])):
        yield hit.start, hit.end, True
    for match in (*_FOREIGN_IN_HAN.finditer(text), *re.finditer("\ufffd", text)):
        yield match.start(), match.end(), True
    for match in _HAN_RE.finditer(text):
        if _gb2312_level(match.group()) != 1:
            yield match.start(), match.end(), False


def _damaged_runs(text: str, gap: int = 6) -> Iterator[Hit]:
    """Mojibake that cannot be reversed (bytes were lost, or the text was converted again
    afterwards), like "?!叭轿弧闭覝?zhǔn": signs at most ``gap`` characters apart form a
    cluster, and a cluster with two strong signs is reported; rare characters only widen it."""
    cluster: list[tuple[int, int, bool]] = []
    for signal in [*sorted(_damage_signals(text)), (len(text) + gap + 1, 0, False)]:
        if cluster and signal[0] - max(end for _, end, _ in cluster) > gap:
            if sum(strong for _, _, strong in cluster) >= 2:
                start, end = cluster[0][0], max(end for _, end, _ in cluster)
                message = f"text that looks garbled by a wrong encoding: {text[start:end]!r}"
                yield Hit("warning", "encoding.damaged_run", start, end, message)
            cluster = []
        cluster.append(signal)


# --- annotations and scripts ------------------------------------------------------------------

_ANNOTATION = re.compile(
    rf"(?P<han>[{_HAN}])(?P<ann>[(（]\s*(?:[{_PINYIN_LETTERS}]+\s*)+[)）])", re.I
)
_PINYIN_SYLLABLE = f"[{_PINYIN_LETTERS}]{{0,5}}[{_TONED}][{_PINYIN_LETTERS}]{{0,5}}"
_FRAGMENT = re.compile(rf"(?<=[{_HAN}(（?])(?P<ann>[(（]?{_PINYIN_SYLLABLE}[)）])")


def _pinyin_annotations(text: str) -> Iterator[Hit]:
    for match in _ANNOTATION.finditer(text):
        annotation, han = match.group("ann"), match.group("han")
        if not re.search(f"[{_TONED}ü]", annotation):
            continue  # "(wechat)" after a character is English, not pinyin
        message = f"pinyin annotation {annotation} after {han}: remove it (a converter added it)"
        yield Hit("error", "annotation.pinyin", match.start("ann"), match.end("ann"), message)


def _pinyin_fragments(text: str, annotations: Sequence[tuple[int, int]]) -> Iterator[Hit]:
    for match in _FRAGMENT.finditer(text):
        start, end = match.span("ann")
        if any(s <= start and end <= e for s, e in annotations):
            continue
        if text[start] in "(（" and _ANNOTATION.match(text, max(0, start - 1)):
            continue
        message = f"a piece of pinyin {match.group('ann')!r} left in the text"
        yield Hit("warning", "annotation.pinyin_fragment", start, end, message)


def _traditional(text: str) -> Iterator[Hit]:
    """Characters that OpenCC's t2s changes (in context, so 乾隆 and 著名 stay) and that s2t
    leaves alone, i.e. characters that are Traditional forms. One outside GB2312 (the
    Simplified character set) is an error; one inside it (於, 後, 摺 …) can be a Simplified
    surname or term, so it is a warning."""
    converted = _t2s().convert(text)
    if len(converted) != len(text):
        converted = "".join(_t2s().convert(char) for char in text)
    flagged = [
        i
        for i, (char, simple) in enumerate(zip(text, converted, strict=True))
        if char != simple and _HAN_RE.match(char) and _s2t_keeps(char)
    ]
    for start, end in _runs(flagged):
        severity: Severity = "warning" if all(map(_in_gb2312, text[start:end])) else "error"
        message = (
            f"Traditional characters {text[start:end]!r} in a Simplified column; "
            f"Simplified: {converted[start:end]!r}"
        )
        yield Hit(severity, "script.traditional", start, end, message)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def _s2t_keeps(char: str) -> bool:
    return bool(_s2t().convert(char) == char)


def _runs(indexes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Consecutive indexes as (start, end) ranges."""
    start = 0
    for position, index in enumerate(indexes):
        if position + 1 == len(indexes) or indexes[position + 1] != index + 1:
            yield indexes[start], index + 1
            start = position + 1


def _template_leftovers(text: str) -> Iterator[Hit]:
    pattern = r"\{\{.{0,200}?\}\}|\{%.{0,200}?%\}|\{#.{0,200}?#\}"
    for match in re.finditer(pattern, text, re.S):
        message = f"template code left in the text: {match.group()!r}"
        yield _hit("error", "template.unfilled", match, message)


# --- HTML -------------------------------------------------------------------------------------

_LEFTOVER_MARKDOWN = (
    (re.compile(r"\*\*\S|\S\*\*"), "'**'"),
    (re.compile(r"(?<!\w)__\S|\S__(?!\w)"), "'__'"),
    (re.compile(r"```"), "'```'"),
    (re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]"), "a '#' heading marker"),
    (re.compile(r"!?\[[^\]\n]+\]\([^)\s]+\)"), "a [text](link)"),
)


def _leftover_markdown(html: str) -> list[Finding]:
    text = text_content(re.sub(r"<(pre|code)\b[^>]*>.*?</\1>", "", html, flags=re.S))
    out = []
    for pattern, what in _LEFTOVER_MARKDOWN:
        match = pattern.search(text)
        if match:
            message = f"{what} shows as text: Markdown that was not rendered"
            out.append(
                _finding(text, "content", _hit("warning", "markdown.leftover", match, message))
            )
    return out


def _html_images_and_links(html: str, prefixes: Sequence[str]) -> list[Finding]:
    hits: list[Hit] = []
    for tag, attrs, offset in start_tags(html):
        src, href = attrs.get("src", ""), attrs.get("href", "")
        if tag == "img" and not is_uploaded_image(src, prefixes):
            message = f"image {src[:80]!r} is not uploaded; the platform drops outside images"
            hits.append(Hit("error", "image.outside", offset, offset + len(src), message))
        elif tag == "a" and link_problem(href):
            message = f"link {href[:80]!r} {link_problem(href)}"
            hits.append(Hit("error", "link.invalid", offset, offset, message))
        elif tag == "a" and not is_weixin_link(href):
            message = f"link {href[:80]!r} is not a WeChat article; readers cannot open it"
            hits.append(Hit("warning", "link.outside", offset, offset, message))
    return _capped(_finding(html, "content", hit) for hit in hits)


@functools.cache
def _markdown_parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _markdown_links(markdown: str) -> list[Finding]:
    out = []
    for block in _markdown_parser().parse(markdown):
        links = [t for t in block.children or () if t.type == "link_open"]
        for href in (str(token.attrGet("href") or "") for token in links):
            problem = link_problem(href)
            if problem:
                line = (block.map[0] + 1) if block.map else None
                message = f"link {href[:80]!r} {problem}"
                out.append(Finding("error", "link.invalid", "markdown", None, message, href, line))
    return _capped(out)


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def link_problem(url: str) -> str:
    """What is wrong with ``url`` as a link readers follow ("" when nothing): a syntax check,
    no network."""
    if not url:
        return "is empty"
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        return "cannot be parsed"
    if parts.scheme.lower() not in ("http", "https"):
        return "is not an http(s) link"
    if not host:
        return "has no host"
    if port == 0:
        return "has port 0"
    if host.startswith("[") or re.fullmatch(r"[0-9.]+|[0-9a-f:]+", host):
        return "" if _is_ip(host) else "has an invalid host"
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return "has an invalid host"
    labels = ascii_host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        return "has an invalid host"
    if labels[-1].isdigit():
        return "has an invalid host"
    return ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


# --- findings ---------------------------------------------------------------------------------


def _finding(text: str, field: str, hit: Hit) -> Finding:
    """``hit`` placed in ``text``: an excerpt around it, and line:column for multi-line text."""
    start, end = hit.start, hit.end
    excerpt = text[max(0, start - EXCERPT_CONTEXT) : end + EXCERPT_CONTEXT].replace("\n", " ")
    line = column = None
    if "\n" in text:
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Finding(hit.severity, hit.code, field, start, hit.message, excerpt, line, column)


def _whole(severity: Severity, code: str, field: str, message: str, excerpt: str = "") -> Finding:
    return Finding(severity, code, field, None, message, excerpt[:80])


def _capped(findings: Iterable[Finding]) -> list[Finding]:
    """At most MAX_PER_CODE findings per (field, code); the rest become one summary."""
    findings = list(findings)
    total = Counter((finding.field, finding.code) for finding in findings)
    kept: Counter[tuple[str, str]] = Counter()
    out: list[Finding] = []
    for finding in findings:
        key = (finding.field, finding.code)
        kept[key] += 1
        if kept[key] <= MAX_PER_CODE:
            out.append(finding)
        elif kept[key] == MAX_PER_CODE + 1:
            message = f"… and {total[key] - MAX_PER_CODE} more like this"
            summary = dataclasses.replace(finding, message=message, excerpt="")
            out.append(dataclasses.replace(summary, position=None, line=None, column=None))
    return out
