"""The platform's limits on a post's fields. The title limit is 32 characters (the
platform's documented rule, an error); some sources say 64 bytes, so over 64 UTF-8 bytes is
a warning. Content is measured on the HTML as sent: under 20,000 characters and under
1,000,000 UTF-8 bytes. ``content_source_url`` at most 1,024 UTF-8 bytes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.content.checks.findings import Finding, Severity, Text, whole
from bot.content.sanitize import text_content

FAMILY = "limits"
TITLE_CHARS = 32
TITLE_BYTES = 64
AUTHOR_CHARS = 16
DIGEST_CHARS = 128
CONTENT_CHARS = 20_000
CONTENT_BYTES = 1_000_000
SOURCE_URL_BYTES = 1024
MAX_ARTICLES = 8  # articles in one draft (draft/add)

CODES = {
    "title.empty": ("error", Text("the title is empty", "标题为空")),
    "title.too_long": ("error", Text(
        f"the title is over {TITLE_CHARS} characters", f"标题超过 {TITLE_CHARS} 个字")),
    "title.bytes": ("warning", Text(
        f"the title is over {TITLE_BYTES} UTF-8 bytes", f"标题超过 {TITLE_BYTES} 个 UTF-8 字节")),
    "author.too_long": ("error", Text(
        "the author is over the platform's limit", "作者名超过平台限制")),
    "digest.too_long": ("error", Text(
        f"the digest is over {DIGEST_CHARS} characters", f"摘要超过 {DIGEST_CHARS} 个字")),
    "content.empty": ("error", Text("the post has no content", "正文为空")),
    "content.too_long": ("error", Text(
        f"the content (HTML as sent) is {CONTENT_CHARS} characters or more",
        f"正文（发送的 HTML）达到 {CONTENT_CHARS} 个字符")),
    "content.too_large": ("error", Text(
        f"the content is {CONTENT_BYTES} bytes or more", f"正文达到 {CONTENT_BYTES} 字节")),
    "source_url.too_long": ("error", Text(
        f"the source link is over {SOURCE_URL_BYTES} bytes",
        f"原文链接超过 {SOURCE_URL_BYTES} 字节")),
    "push.articles": ("error", Text(
        f"a push holds 1 to {MAX_ARTICLES} articles", f"一次推送须有 1 到 {MAX_ARTICLES} 篇文章")),
    "push.same_title": ("warning", Text(
        "two articles of one push with the same title", "同一次推送中两篇文章标题相同")),
}  # fmt: skip


def check_push(titles: Sequence[str]) -> list[Finding]:
    """Limits of the whole draft (one push of 1 to 8 articles, wechat-api.md §3.1): the
    article count, and titles that tell the articles apart in the list view."""
    if not 1 <= len(titles) <= MAX_ARTICLES:
        message = Text(
            f"a push holds 1 to {MAX_ARTICLES} articles, this one has {len(titles)}",
            f"一次推送须有 1 到 {MAX_ARTICLES} 篇文章，这次有 {len(titles)} 篇",
        )
        return [whole("error", "push.articles", "articles", message)]
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for i, title in enumerate(titles):
        if title in seen:
            message = Text(
                f"the same title as article {seen[title] + 1}: readers cannot tell them apart",
                f"与第 {seen[title] + 1} 篇标题相同，读者无法区分",
            )
            fix = Text("give each article its own title", "请为每篇文章取不同的标题")
            finding = whole("warning", "push.same_title", "title", message, title, fix)
            findings.append(dataclasses.replace(finding, article=i))
        seen.setdefault(title, i)
    return findings


def check(title: str, author: str, digest: str, html: str, source_url: str) -> list[Finding]:
    title_bytes, html_bytes = (
        len(title.encode("utf-8", "surrogatepass")),
        len(html.encode("utf-8", "surrogatepass")),
    )
    url_bytes = len(source_url.encode("utf-8", "surrogatepass"))
    limits: list[tuple[bool, Severity, str, str, Text, Text]] = [
        (not title.strip(), "error", "title.empty", "title", Text(
            "the title is empty", "标题为空"), Text("write a title", "请填写标题")),
        (len(title) > TITLE_CHARS, "error", "title.too_long", "title", Text(
            f"the title has {len(title)} characters; at most {TITLE_CHARS}",
            f"标题有 {len(title)} 个字，最多 {TITLE_CHARS} 个"),
         Text("shorten the title", "请缩短标题")),
        (len(title) <= TITLE_CHARS and title_bytes > TITLE_BYTES, "warning", "title.bytes",
         "title", Text(
            f"the title is {title_bytes} UTF-8 bytes; some sources say the platform allows "
            f"{TITLE_BYTES} (answer 45003 if so)",
            f"标题有 {title_bytes} 个 UTF-8 字节；有资料说平台只允许 {TITLE_BYTES} 个（超出时返回 45003）"),
         Text("shorten the title if the platform refuses it", "若平台拒绝请缩短标题")),
        (len(author) > AUTHOR_CHARS, "error", "author.too_long", "author", Text(
            f"the author has {len(author)} characters; at most {AUTHOR_CHARS}",
            f"作者名有 {len(author)} 个字，最多 {AUTHOR_CHARS} 个"),
         Text("shorten the author", "请缩短作者名")),
        (len(digest) > DIGEST_CHARS, "error", "digest.too_long", "digest", Text(
            f"the digest has {len(digest)} characters; at most {DIGEST_CHARS}",
            f"摘要有 {len(digest)} 个字，最多 {DIGEST_CHARS} 个"),
         Text("shorten the digest", "请缩短摘要")),
        (not text_content(html).strip() and "<img" not in html, "error", "content.empty",
         "content", Text("the post has no content", "正文为空"), Text("write the body", "请填写正文")),
        (len(html) >= CONTENT_CHARS, "error", "content.too_long", "content", Text(
            f"the content is {len(html)} characters of HTML (with its inline styles); under "
            f"{CONTENT_CHARS} allowed",
            f"正文的 HTML（含内联样式）有 {len(html)} 个字符，须少于 {CONTENT_CHARS} 个"),
         Text("split the post or shorten it", "请拆分或缩短正文")),
        (html_bytes >= CONTENT_BYTES, "error", "content.too_large", "content", Text(
            f"the content is {html_bytes} bytes; under {CONTENT_BYTES} allowed",
            f"正文有 {html_bytes} 字节，须少于 {CONTENT_BYTES} 字节"),
         Text("split the post or shorten it", "请拆分或缩短正文")),
        (url_bytes > SOURCE_URL_BYTES, "error", "source_url.too_long", "content_source_url",
         Text(f"the source link is {url_bytes} bytes; at most {SOURCE_URL_BYTES}",
              f"原文链接有 {url_bytes} 字节，最多 {SOURCE_URL_BYTES} 字节"),
         Text("use a shorter link", "请换用较短的链接")),
    ]  # fmt: skip
    return [
        whole(severity, code, field, message, fix=fix)
        for hit, severity, code, field, message, fix in limits
        if hit
    ]
