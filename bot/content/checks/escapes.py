"""Text that is still escaped for another medium: HTML entities copied from a web page or a
CMS export (``&amp;``, ``&#22242;``), JSON or Python escapes (``\\u56e2``, ``b'\\xe5'``) and
percent-encoding (``%E5%9B%A2``) pasted as text. Readers would see the escape, so each is an
error whose fix is the decoded text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import unquote

from bot.content.checks.findings import Hit, Text

FAMILY = "escapes"
CODES = {
    "escape.html_entity": ("error", Text(
        "an HTML entity (&amp;, &nbsp;, &#22242;) in text: readers would see it as typed",
        "文字中有 HTML 实体（&amp;、&nbsp;、&#22242; 等），读者会原样看到")),
    "escape.unicode": ("error", Text(
        "a \\uXXXX or \\xXX escape in text: JSON or code pasted without decoding",
        "文字中有 \\uXXXX 或 \\xXX 转义：JSON 或代码未解码就粘贴了")),
    "escape.html_tag": ("error", Text(
        "an HTML tag (<p>, <br>) in a plain-text field: readers would see it as typed",
        "纯文本字段中的 HTML 标签（<p>、<br>），读者会原样看到")),
    "escape.percent": ("error", Text(
        "percent-encoded text (%E5%9B%A2) outside a link", "链接以外出现百分号编码（%E5%9B%A2）")),
}  # fmt: skip

_ENTITY = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
    r"|&(?:amp|nbsp|lt|gt|quot|ldquo|rdquo|lsquo|rsquo|mdash|ndash|hellip|middot)(?![;A-Za-z0-9])"
)
# A match starts only at the first backslash of a run and takes the run whole (``\\++`` gives
# nothing back): on a run with no escape after it, the old ``\\+`` backed off one backslash at
# a time from every start, O(n²) (100,000 backslashes held a worker 124 s).
_UNICODE = re.compile(
    r"(?<!\\)(?:\\++(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}))+"
)
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){2,}")
# "\u56e2\u8bfe" whose backslashes a later step ate: "u56e2u8bfe" (CJK code points only).
_BARE_ESCAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:[uU]\+?(?:[34][0-9a-fA-F]{3}|[5-9][0-9a-fA-F]{3})){2,}(?![0-9a-fA-F])"
)
_LITERAL_NEWLINE = re.compile(
    r"\\[nrt](?=[\u3400-\u9fff（“《【])|(?<=[\u3400-\u9fff。，！？”》】])\\[nrt]"
)
_HTML_TAG = re.compile(
    r"</?(?:p|br|div|span|strong|b|i|em|a|img|section|h[1-6]|ul|ol|li|font|table|tr|td)\b[^<>\n]{0,200}>",
    re.I,
)


def check(text: str, *, markup: bool = False) -> Iterator[Hit]:
    """``markup``: the text is Markdown, where HTML tags are markup, not damage."""
    if not markup and "<" in text:
        for match in _HTML_TAG.finditer(text):
            message = Text(
                f"the HTML tag {match.group()[:30]} is shown as typed in this field",
                f"此字段中的 HTML 标签 {match.group()[:30]} 会原样显示",
            )
            fix = Text("delete the tag, keep the text", "删除标签，保留文字")
            yield Hit("error", "escape.html_tag", *match.span(), message, fix)
    for match in _BARE_ESCAPES.finditer(text):
        decoded = "".join(
            chr(int(h, 16)) for h in re.findall(r"[uU]\+?([0-9a-fA-F]{4})", match.group())
        )
        message = Text(
            f"{match.group()[:24]} looks like \\u escapes that lost their backslashes; it stands "
            f"for {decoded!r}",
            f"“{match.group()[:24]}”像是丢了反斜杠的 \\u 转义，代表“{decoded}”",
        )
        yield Hit(
            "error",
            "escape.unicode",
            *match.span(),
            message,
            Text(f"write {decoded!r}", f"改为“{decoded}”"),
        )
    if "&" not in text and "\\" not in text and "%" not in text:
        return
    for match in _LITERAL_NEWLINE.finditer(text):
        message = Text(
            f"a literal {match.group()} (an escaped line break or tab) in the text",
            f"文中出现字面的 {match.group()}（转义的换行或制表符）",
        )
        fix = Text("make it a real line break, or delete it", "改成真正的换行，或删除")
        yield Hit("error", "escape.unicode", *match.span(), message, fix)
    for match in _ENTITY.finditer(text):
        decoded = html.unescape(
            match.group() if match.group().endswith(";") else match.group() + ";"
        )
        if decoded == match.group():
            continue  # not an entity HTML knows
        shown = {"\xa0": "空格", " ": "空格"}.get(decoded, decoded)
        message = Text(
            f"the HTML entity {match.group()} is shown as typed; it stands for {decoded!r}",
            f"HTML 实体 {match.group()} 会原样显示，它代表“{shown}”",
        )
        fix = Text(f"write {decoded!r} instead", f"改为“{shown}”")
        yield Hit("error", "escape.html_entity", *match.span(), message, fix)
    for match in _UNICODE.finditer(text):
        decoded = _decode_escapes(match.group())
        message = Text(
            f"the escape {match.group()[:24]} is shown as typed; it stands for {decoded!r}",
            f"转义序列 {match.group()[:24]} 会原样显示，它代表“{decoded}”",
        )
        fix = Text(f"write {decoded!r} instead", f"改为“{decoded}”")
        yield Hit("error", "escape.unicode", *match.span(), message, fix)
    for match in _PERCENT.finditer(text):
        decoded = unquote(match.group(), errors="strict") if _utf8(match.group()) else ""
        if not decoded or decoded.isascii():
            continue
        message = Text(
            f"percent-encoded text {match.group()[:24]} stands for {decoded!r}",
            f"百分号编码 {match.group()[:24]} 代表“{decoded}”",
        )
        fix = Text(f"write {decoded!r} instead", f"改为“{decoded}”")
        yield Hit("error", "escape.percent", *match.span(), message, fix)


def _utf8(encoded: str) -> bool:
    try:
        unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def _decode_escapes(escaped: str) -> str:
    """``\\u56e2\\\\u8bfe`` → 团课; bytes escapes are read as UTF-8 (``\\xe5\\x9b\\xa2``)."""
    out = ""
    data = bytearray()
    for part in re.finditer(
        r"(?<!\\)\\++(u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2}))",
        escaped,
    ):
        if part.group(5):
            data.append(int(part.group(5), 16))
            continue
        if data:
            out += data.decode("utf-8", errors="replace")
            data.clear()
        point = int(part.group(2) or part.group(3) or part.group(4), 16)
        out += chr(point) if point <= 0x10FFFF else "\ufffd"
    if data:
        out += data.decode("utf-8", errors="replace")
    return out
