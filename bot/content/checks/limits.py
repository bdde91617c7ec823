"""The platform's limits on a post's fields. Title, author and digest limits are the
account's (``bot.account.limits``, which gives the evidence for each): by default a title
over 32 characters or 64 UTF-8 bytes, an author over 8 characters and a digest over 120 are
errors, each naming the errcode the platform would answer. Content is measured on the HTML as
sent: under 20,000 characters and under 1,000,000 UTF-8 bytes. ``content_source_url`` at
most 1,024 UTF-8 bytes.

An article's Markdown is refused over ``MARKDOWN_CHARS`` before it is rendered or checked:
the parser's link labels cost O(n²) on a run of ``[`` (a library's, so bounded, not fixed), and
no body that fits the platform's 20,000 characters of HTML comes near it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.account.limits import DEFAULT_LIMITS, PlatformLimits
from bot.content.checks.findings import Finding, Severity, Text, whole
from bot.content.sanitize import text_content

FAMILY = "limits"
TITLE_CHARS = DEFAULT_LIMITS.title_chars
TITLE_BYTES = DEFAULT_LIMITS.title_bytes
AUTHOR_CHARS = DEFAULT_LIMITS.author_chars
DIGEST_CHARS = DEFAULT_LIMITS.digest_chars
CONTENT_CHARS = 20_000
CONTENT_BYTES = 1_000_000
SOURCE_URL_BYTES = 1024
# Markdown is shorter than its HTML (no inline styles), so twice and a half the platform's
# HTML limit leaves room for comments, link definitions and blank lines. At this size the
# worst input measured (50,000 ``![``) costs 2.1 s of one worker in render and checks, and
# 19,800 ``![`` (just under the HTML limit, so fully checked) 3.5 s; 100,000 took 63 s
# (tests/bench/content_patterns.py --markdown).
MARKDOWN_CHARS = 50_000
MAX_ARTICLES = 8  # articles in one draft (draft/add)

CODES = {
    "title.empty": ("error", Text("the title is empty", "标题为空")),
    "title.too_long": ("error", Text(
        f"the title is over {TITLE_CHARS} characters", f"标题超过 {TITLE_CHARS} 个字")),
    "title.bytes": ("error", Text(
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
    "markdown.too_long": ("error", Text(
        f"the body's Markdown is over {MARKDOWN_CHARS} characters: it is not rendered or checked",
        f"正文 Markdown 超过 {MARKDOWN_CHARS} 个字符：不予渲染和检查")),
    "source_url.too_long": ("error", Text(
        f"the source link is over {SOURCE_URL_BYTES} bytes",
        f"原文链接超过 {SOURCE_URL_BYTES} 字节")),
    "push.articles": ("error", Text(
        f"a push holds 1 to {MAX_ARTICLES} articles", f"一次推送须有 1 到 {MAX_ARTICLES} 篇文章")),
    "push.same_title": ("warning", Text(
        "two articles of one push with the same title", "同一次推送中两篇文章标题相同")),
}  # fmt: skip


def markdown_too_long(markdown: str) -> Finding | None:
    """The finding refusing a body whose Markdown is over ``MARKDOWN_CHARS`` characters, or
    None. Cheap: callers ask before rendering or checking, which cost more than linear time."""
    if len(markdown) <= MARKDOWN_CHARS:
        return None
    message = Text(
        f"the body's Markdown is {len(markdown)} characters, over the limit of {MARKDOWN_CHARS}",
        f"正文 Markdown 有 {len(markdown)} 个字符，超过上限 {MARKDOWN_CHARS}",
    )
    fix = Text("split the post or shorten it", "请拆分或缩短正文")
    return whole("error", "markdown.too_long", "markdown", message, fix=fix)


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


def check(
    title: str,
    author: str,
    digest: str,
    html: str,
    source_url: str,
    platform: PlatformLimits = DEFAULT_LIMITS,
) -> list[Finding]:
    """``platform``: the account's limits."""
    title_chars, byte_limit = platform.title_chars, platform.title_bytes
    author_chars, digest_chars = platform.author_chars, platform.digest_chars
    title_bytes, html_bytes = (
        len(title.encode("utf-8", "surrogatepass")),
        len(html.encode("utf-8", "surrogatepass")),
    )
    url_bytes = len(source_url.encode("utf-8", "surrogatepass"))
    limits: list[tuple[bool, Severity, str, str, Text, Text]] = [
        (not title.strip(), "error", "title.empty", "title", Text(
            "the title is empty", "标题为空"), Text("write a title", "请填写标题")),
        (len(title) > title_chars, "error", "title.too_long", "title", Text(
            f"the title has {len(title)} characters; the platform refuses more than "
            f"{title_chars} (errcode 45003)",
            f"标题有 {len(title)} 个字，平台最多接受 {title_chars} 个（超出时返回 45003）"),
         Text("shorten the title", "请缩短标题")),
        (len(title) <= title_chars and 0 < byte_limit < title_bytes, "error", "title.bytes",
         "title", Text(
            f"the title is {title_bytes} UTF-8 bytes (a Chinese character is 3); the platform "
            f"refuses more than {byte_limit} (errcode 45003)",
            f"标题有 {title_bytes} 个 UTF-8 字节（一个汉字占 3 个），平台最多接受 {byte_limit} 个"
            f"（超出时返回 45003）"),
         Text("shorten the title, or set title_bytes in the account's [accounts.limits]",
              "请缩短标题，或在账号的 [accounts.limits] 中设置 title_bytes")),
        (len(author) > author_chars, "error", "author.too_long", "author", Text(
            f"the author has {len(author)} characters; the platform refuses more than "
            f"{author_chars} (errcode 45110)",
            f"作者名有 {len(author)} 个字，平台最多接受 {author_chars} 个（超出时返回 45110）"),
         Text("shorten the author", "请缩短作者名")),
        (len(digest) > digest_chars, "error", "digest.too_long", "digest", Text(
            f"the digest has {len(digest)} characters; the platform refuses more than "
            f"{digest_chars} (errcode 45004)",
            f"摘要有 {len(digest)} 个字，平台最多接受 {digest_chars} 个（超出时返回 45004）"),
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
