"""Checks a post or a catalogue row must pass: one module per family of damage, each a few
small checks returning findings, and this one registry that runs them.

Families: ``encoding`` (wrong codecs, lost and cut characters), ``escapes`` (HTML entities,
``\\uXXXX``, percent-encoding in text), ``invisible`` (zero-width, direction, private-use and
control characters), ``pinyin`` (annotations behind characters), ``scripts`` (Traditional
characters in a Simplified column), ``placeholders`` (template code and marks left in),
``artefacts`` (Word's leftovers), ``style`` (warnings only), ``limits`` (the platform's),
``links`` (links, images, the cover) and ``markdown`` (syntax that was not rendered).

Errors block a post; warnings are shown to the editor; ``fixed`` reports a change that is
safe and is made automatically (``fix_invisible``). Every code is listed in ``CODES`` and
documented in ``docs/checks.md`` (a test keeps the two in step)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from bot.account.limits import DEFAULT_LIMITS, PlatformLimits
from bot.content.checks import (
    artefacts,
    encoding,
    escapes,
    files,
    invisible,
    limits,
    links,
    markup,
    pinyin,
    placeholders,
    scripts,
    style,
)
from bot.content.checks import limits as checks_limits
from bot.content.checks.chars import URL, unusual
from bot.content.checks.findings import (
    MAX_PER_CODE,
    SEVERITIES,
    Finding,
    Hit,
    Severity,
    Text,
    capped,
    describe,
    finding_dict,
    line_starts,
    place,
)
from bot.content.checks.invisible import fix_invisible
from bot.content.checks.limits import check_push
from bot.content.checks.links import check_cover, link_problem
from bot.content.sanitize import UPLOADED_IMAGE_PREFIXES, text_content

__all__ = [
    "CODES",
    "FAMILIES",
    "MAX_PER_CODE",
    "SEVERITIES",
    "Finding",
    "Severity",
    "check_cover",
    "check_post",
    "check_push",
    "check_text",
    "describe",
    "errors",
    "finding_dict",
    "fix_invisible",
    "for_article",
    "link_problem",
]

FAMILIES = (
    encoding,
    escapes,
    invisible,
    pinyin,
    scripts,
    placeholders,
    artefacts,
    style,
    limits,
    links,
    markup,
    files,
)
CODES: dict[str, tuple[str, str, Text]] = {
    code: (family.FAMILY, severity, what)
    for family in FAMILIES
    for code, (severity, what) in family.CODES.items()
}

_LATIN = re.compile("[A-Za-z]")
# Every character or word an error of the text checks needs in otherwise plain text
# (common characters, ASCII, punctuation); tests/unit/checks/test_corpus.py holds it to that.
_MAY_HOLD_ERROR = re.compile(
    r"[?&\\%{$Xx×【\[［（(〔<＜«□_＿“”《》「」『』】）锟烫屯葺]|[A-Za-z]{2}|错误|此处"
    r"|[uU]\+?[0-9a-fA-F]{4}",
    re.I,
)
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>\n]*)?/?>")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A body with one of these is refused as it stands: its other checks wait for a shorter one.
_BODY_REFUSED = frozenset({"markdown.too_long", "content.too_long", "content.too_large"})
_CODE_SPANS = re.compile(r"(?ms)^[ \t]{0,3}(```|~~~).*?^[ \t]{0,3}\1[^\n]*$|`[^`\n]+`")


def check_text(
    text: str,
    field: str,
    *,
    simplified_only: bool = True,
    allowed_traditional: Sequence[str] = (),
    article: int | None = None,
    style_checks: bool = True,
) -> list[Finding]:
    """Every text check on one field's text (``style_checks=False``: leave out the style
    family, which only warns). URLs (and, in Markdown, code) are left out: they are not
    prose."""
    surrogates = list(encoding.surrogates(text))
    # A lone surrogate cannot be encoded: every other check sees a space in its place.
    text_ok = _SURROGATE.sub(" ", text) if surrogates else text
    masked = URL.sub(lambda m: " " * len(m.group()), text_ok)
    if field == "markdown":  # code and HTML tags are not prose
        masked = _HTML_TAG.sub(lambda m: " " * len(m.group()), masked)
        masked = _CODE_SPANS.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), masked)
    # Most text is plain (common characters, ASCII, punctuation): it cannot hold encoding
    # damage or pinyin, and skipping those checks makes a large import ten times faster.
    plain = not unusual().search(masked)
    hits: list[Hit] = [
        *surrogates,
        *(encoding.garbage_only(masked) if plain else encoding.check(masked)),
        *escapes.check(masked, markup=field == "markdown"),
        *invisible.check(text_ok),  # an invisible character in a URL is still one
        *(pinyin.check(masked) if not plain or _LATIN.search(masked) else ()),
        *(scripts.check(masked, allowed_traditional) if simplified_only else ()),
        *placeholders.check(masked),
        *artefacts.check(masked),
        *(style.check(masked) if style_checks else ()),
    ]
    hits.sort(key=lambda hit: (hit.start, hit.code))
    starts = line_starts(text) if len(hits) > 1 else None
    return capped(place(text, field, hit, article, starts) for hit in hits)


def check_post(
    title: str,
    author: str,
    digest: str,
    html: str,
    content_source_url: str,
    *,
    markdown: str = "",
    simplified_only: bool = True,
    allowed_traditional: Sequence[str] = (),
    uploaded_image_prefixes: Sequence[str] = UPLOADED_IMAGE_PREFIXES,
    article: int | None = None,
    limits: PlatformLimits = DEFAULT_LIMITS,
) -> list[Finding]:
    """Every check on one article. Text checks run on ``markdown`` when given (positions
    then point into what the editor edits), else on the HTML's visible text. ``limits``: the
    account's platform limits. A body over a limit (``markdown.too_long``,
    ``content.too_long``, ``content.too_large``) is not checked further: some of the body's
    checks cost O(n²) on a long run of ``[`` (the Markdown parser's link labels), and the
    editor must shorten it first anyway."""
    options = {"simplified_only": simplified_only, "allowed_traditional": allowed_traditional}
    findings = checks_limits.check(title, author, digest, html, content_source_url, limits)
    too_long = checks_limits.markdown_too_long(markdown)
    if too_long is not None:
        findings.append(too_long)
    for text, field in ((title, "title"), (author, "author"), (digest, "digest")):
        findings += check_text(text, field, **options)  # type: ignore[arg-type]
    if not any(f.code in _BODY_REFUSED for f in findings):
        findings += _check_body_text(markdown, html, options, uploaded_image_prefixes)
    findings += links.check_source_url(content_source_url)
    if article is not None:
        findings = [dataclasses.replace(f, article=article) for f in findings]
    return findings


def _check_body_text(
    markdown: str, html: str, options: dict[str, object], uploaded_image_prefixes: Sequence[str]
) -> list[Finding]:
    """The body's checks: its text (the Markdown when given), links, images and markup."""
    if markdown:
        findings = check_text(markdown, "markdown", **options)  # type: ignore[arg-type]
        findings += links.check_markdown(markdown)
        findings += markup.check_markdown_html(markdown)
    else:
        findings = check_text(text_content(html), "content", **options)  # type: ignore[arg-type]
    findings += markup.check_html(html)
    findings += links.check_html(html, uploaded_image_prefixes)
    return findings


def errors(findings: Iterable[object]) -> list[Finding]:
    return [f for f in findings if isinstance(f, Finding) and f.severity == "error"]


def import_problem(text: str) -> Finding | None:
    """The first error the text checks find in a catalogue value, or None. Whether
    Traditional characters are allowed depends on the column, so that check waits for
    drafting."""
    if not unusual().search(text) and not _MAY_HOLD_ERROR.search(text):
        return None  # most catalogue text: common characters and nothing any check looks at
    found = errors(check_text(text, "value", simplified_only=False, style_checks=False))
    # Markup kept as text is the pages' job to escape, and drafting refuses it in a post.
    found = [f for f in found if f.code != "escape.html_tag"]
    return found[0] if found else None


def check_body(markdown: str, html: str, *, article: int | None = None) -> list[Finding]:
    """The checks on a post's body alone (a Markdown file given to ``bot check``): the text,
    its links, Markdown left unrendered and the content limits. Images are not uploaded
    yet, so they are not checked here. Markdown over the limit gets that finding alone."""
    too_long = checks_limits.markdown_too_long(markdown)
    if too_long is not None:
        return [dataclasses.replace(too_long, article=article)]
    findings = check_text(markdown, "markdown", article=article)
    findings += links.check_markdown(markdown)
    findings += markup.check_markdown_html(markdown)
    findings += markup.check_html(html)
    findings += [
        f
        for f in limits.check("-", "", "", html, "")
        if f.code in ("content.too_long", "content.too_large", "content.empty")
    ]
    return findings


def has_surrogates(*texts: str) -> bool:
    """Whether any text holds a lone surrogate, which nothing after the checks can encode."""
    return any(_SURROGATE.search(text) for text in texts)


def for_article(findings: Iterable[Finding], index: int) -> list[Finding]:
    """The findings of one article of a post of several, saying which article they are about."""
    return [dataclasses.replace(f, article=index) for f in findings]
