"""Links and images: a link readers follow must be a well-formed http(s) URL; images must be
uploaded to the platform (it drops outside ones); a link outside WeChat cannot be opened
from an article; the cover must be a local file or an http(s) URL."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

from bot.content.checks.findings import Finding, Hit, Text, capped, place, whole
from bot.content.sanitize import is_uploaded_image, is_weixin_link, start_tags

FAMILY = "links"
CODES = {
    "link.invalid": ("error", Text(
        "a link that is not a well-formed http(s) URL", "链接不是有效的 http(s) 地址")),
    "link.outside": ("warning", Text(
        "a link outside WeChat: readers cannot open it from the article",
        "微信以外的链接：读者无法在文章中打开")),
    "image.outside": ("error", Text(
        "an image that is not uploaded to the platform", "图片未上传到平台")),
    "source_url.invalid": ("error", Text(
        "the source link is not a well-formed http(s) URL", "原文链接不是有效的 http(s) 地址")),
    "cover.missing": ("error", Text("the post has no cover image", "文章没有封面图")),
    "cover.invalid": ("error", Text(
        "the cover is neither a local path nor an http(s) URL", "封面既不是本地文件也不是 http(s) 地址")),
}  # fmt: skip

_PROBLEM_ZH = {
    "is empty": "为空",
    "contains spaces or control characters": "含有空格或控制字符",
    "cannot be parsed": "无法解析",
    "is not an http(s) link": "不是 http(s) 链接",
    "has no host": "缺少主机名",
    "has port 0": "端口为 0",
    "has an invalid host": "主机名无效",
    "is neither a local path nor an http(s) URL": "既不是本地路径也不是 http(s) 地址",
}
_FIX_LINK = Text("use a full https:// link", "请使用完整的 https:// 链接")


def problem_zh(problem: str) -> str:
    return _PROBLEM_ZH.get(problem, problem)


def shown(url: str) -> str:
    """A URL as people read it: percent-escapes of text decoded ("#前言", not "#%E5%89…")."""
    try:
        return unquote(url, errors="strict")[:80]
    except UnicodeDecodeError:
        return url[:80]


def check_html(html: str, prefixes: Sequence[str]) -> list[Finding]:
    hits: list[Hit] = []
    for tag, attrs, offset in start_tags(html):
        src, href = attrs.get("src", ""), attrs.get("href", "")
        if tag == "img" and not is_uploaded_image(src, prefixes):
            message = Text(
                f"image {shown(src)!r} is not uploaded; the platform drops outside images",
                f"图片“{shown(src)}”未上传到平台，平台会丢弃外部图片",
            )
            fix = Text(
                "use a local image or one that can be downloaded", "请使用本地图片或可下载的图片"
            )
            hits.append(Hit("error", "image.outside", offset, offset + len(src), message, fix))
        elif tag == "a" and link_problem(href):
            problem = link_problem(href)
            message = Text(
                f"link {shown(href)!r} {problem}", f"链接“{shown(href)}”{problem_zh(problem)}"
            )
            hits.append(Hit("error", "link.invalid", offset, offset, message, _FIX_LINK))
        elif tag == "a" and not is_weixin_link(href):
            message = Text(
                f"link {shown(href)!r} is not a WeChat article; readers cannot open it",
                f"链接“{shown(href)}”不是微信文章，读者无法打开",
            )
            fix = Text("it is listed as a reference at the end", "它会作为参考链接列在文末")
            hits.append(Hit("warning", "link.outside", offset, offset, message, fix))
    return capped(place(html, "content", hit) for hit in hits)


@functools.cache
def _markdown_parser() -> MarkdownIt:
    from mdit_py_plugins.footnote import footnote_plugin

    # As the renderer reads it: "[^1]: note" is a footnote, not a link definition.
    return MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin)


def check_markdown(markdown: str) -> list[Finding]:
    out = []
    for block in _markdown_parser().parse(markdown):
        links = [t for t in block.children or () if t.type == "link_open"]
        for href in (str(token.attrGet("href") or "") for token in links):
            problem = link_problem(href)
            if problem:
                line = (block.map[0] + 1) if block.map else None
                message = Text(
                    f"link {shown(href)!r} {problem}"
                    + (
                        " (an in-page anchor: WeChat articles have none)"
                        if href.startswith("#")
                        else ""
                    ),
                    f"链接“{shown(href)}”{problem_zh(problem)}"
                    + ("（页内锚点：微信文章不支持）" if href.startswith("#") else ""),
                )
                finding = whole(
                    "error", "link.invalid", "markdown", message, shown(href), _FIX_LINK
                )
                out.append(_at_line(finding, line))
    return capped(out)


def _at_line(finding: Finding, line: int | None) -> Finding:
    import dataclasses

    return dataclasses.replace(finding, line=line, column=1 if line else None)


def check_source_url(url: str) -> list[Finding]:
    problem = link_problem(url) if url else ""
    if not problem:
        return []
    message = Text(f"the source link {problem}", f"原文链接{problem_zh(problem)}")
    return [whole("error", "source_url.invalid", "content_source_url", message, url, _FIX_LINK)]


def check_cover(cover: str) -> list[Finding]:
    """The cover is required by draft/add: a local path or an http(s) URL."""
    problem = ""
    if not cover.strip():
        message = CODES["cover.missing"][1]
        fix = Text("set a cover for the resource or the column", "请为资源或栏目设置封面")
        return [whole("error", "cover.missing", "cover", message, fix=fix)]
    if urlsplit(cover).scheme.lower() in ("http", "https"):
        problem = link_problem(cover)
    elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+:", cover):
        problem = "is neither a local path nor an http(s) URL"
    if problem:
        message = Text(f"the cover {problem}", f"封面{problem_zh(problem)}")
        return [whole("error", "cover.invalid", "cover", message, cover, _FIX_LINK)]
    return []


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
