"""Rendering a post: Jinja2 template → Markdown → HTML → theme inlined → sanitised.

Templates (``templates/posts/*.md.j2``) write Markdown. Every ``{{ … }}`` output is escaped
for Markdown automatically (catalogue text cannot add links, images, emphasis or HTML); the
``md`` filter does the same explicitly and ``url`` makes a value safe inside ``(…)`` of a
link or image. Markup belongs in the template text, values in ``{{ }}``.

A template sets the post's fields with top-level ``{% set %}``, read back from the template
module after rendering:

- ``title`` (required unless the context has a ``resource`` with a title): at most 32
  characters, never cut; a longer one is refused.
- ``digest`` (optional; default: the resource's summary): cut to 120 characters (the platform's limit).
- ``source_url`` (optional; default: the resource's url): the post's "阅读原文" link.

The HTML follows the platform's rules: links to mp.weixin.qq.com stay links, any other link
becomes its text with a superscript ``[n]`` and a numbered "参考链接" list at the end; code
blocks carry ``<br>`` and ``&nbsp;`` instead of newlines and indentation; list items are
``<li><section>…</section></li>``.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jinja2
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from bot.account.limits import DEFAULT_LIMITS
from bot.content.checks.limits import markdown_too_long
from bot.content.sanitize import (
    Attrs,
    is_weixin_link,
    rewrite_start_tags,
    sanitize_html,
    start_tags,
)
from bot.content.theme import ROOT_MARKER, Theme, apply_theme, default_theme
from bot.domain.errors import ConfigError, ContentRejectedError

TITLE_LIMIT = 32
DIGEST_LIMIT = DEFAULT_LIMITS.digest_chars  # the platform's (bot.account.limits)
REFERENCES_HEADING = "参考链接"
NOTES_HEADING = "注释"


@dataclass(frozen=True)
class RenderedPost:
    title: str
    digest: str
    markdown: str  # what an editor edits in the admin
    html: str  # sanitised, images not yet re-hosted
    image_sources: tuple[str, ...]  # image refs as the loader receives them, in order
    content_source_url: str


class MarkdownText(str):
    """A string already safe to place in Markdown: not escaped again on output."""


# --- template stage -------------------------------------------------------------------------


def render_post(
    template_name: str,
    *,
    templates_dir: Path,
    context: Mapping[str, Any],
    theme: Theme | None = None,
    sandboxed: bool = True,
) -> RenderedPost:
    """Render ``template_name`` (a path under ``templates_dir``) with ``context``, in
    Jinja's sandbox unless ``sandboxed=False`` (templates are files people edit; the sandbox
    keeps them from reaching Python's internals).

    Raises ConfigError when the template does not exist, ContentRejectedError (naming the
    template, the line and the variable) for an undefined variable, a syntax error, a
    sandbox violation, an empty title or a title over 32 characters."""
    env = _environment(str(templates_dir), sandboxed)
    try:
        template = env.get_template(template_name)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"template {template_name!r} not found under {templates_dir}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ContentRejectedError(
            f"template {template_name}, line {exc.lineno}: {exc.message}"
        ) from None
    try:
        module = template.make_module(vars=dict(context))
        markdown = str(module)
        resource = _first_resource(context)
        title = _plain(_exported(module, "title", _field(resource, "title")))
        digest = make_digest(_plain(_exported(module, "digest", _field(resource, "summary"))))
        source_url = _plain(_exported(module, "source_url", _field(resource, "url")))
    except jinja2.UndefinedError as exc:
        line = _template_line(exc, template)
        raise ContentRejectedError(
            f"template {template_name}{line}: {exc.message} (an unfilled variable)"
        ) from None
    except SecurityError as exc:
        raise ContentRejectedError(
            f"template {template_name}: not allowed in a user template: {exc}"
        ) from None
    except (OverflowError, IndexError, KeyError, RecursionError, MemoryError, TypeError) as exc:
        # A template's own mistake (a huge range, a missing index, endless recursion):
        # the post is refused, the service goes on.
        raise ContentRejectedError(
            f"template {template_name}: it failed while rendering ({type(exc).__name__})"
        ) from None
    _check_title(title, template_name, resource)
    html = _images_beside_template(
        render_markdown(markdown, theme), Path(templates_dir) / template_name
    )
    return RenderedPost(
        title=title,
        digest=digest,
        markdown=markdown,
        html=html,
        image_sources=image_sources(html),
        content_source_url=source_url,
    )


MAX_TEMPLATE_VALUE = 1_000_000  # items or characters one * may make in a template
MAX_TEMPLATE_POWER = 1_000  # largest exponent a template's ** may take


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with ``*`` and ``**`` bounded: ``'a' * 10**9`` would allocate a
    gigabyte and ``9 ** (10**8)`` compute for minutes before any other check could object."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_TEMPLATE_POWER:
            raise SecurityError(f"a power above {MAX_TEMPLATE_POWER} is not allowed")
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                sequence = isinstance(sized, str | list | tuple) and isinstance(count, int)
                if sequence and len(sized) * count > MAX_TEMPLATE_VALUE:
                    raise SecurityError(
                        f"a value of more than {MAX_TEMPLATE_VALUE} items is not allowed"
                    )
        return super().call_binop(context, operator, left, right)


@functools.lru_cache(maxsize=16)
def _environment(templates_dir: str, sandboxed: bool) -> jinja2.Environment:
    cls = BoundedSandbox if sandboxed else jinja2.Environment
    env = cls(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML: escaping is for Markdown, done by finalize
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["md"] = markdown_text
    env.filters["url"] = markdown_url
    return env


def _finalize(value: object) -> object:
    if isinstance(value, MarkdownText):
        return value
    if value is None:
        return ""
    return escape_markdown(str(value))


_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
_LINE_START_MARKER = re.compile(r"^([ \t]*)([-+=]|\d+(?=[.)]))", re.M)


def escape_markdown(text: str) -> str:
    """Escape ``text`` so that Markdown shows it literally: no emphasis, code, links,
    images, autolinks, entities, tables, headings, lists or quotes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INLINE_SPECIAL.sub(r"\\\1", text)

    def marker(match: re.Match[str]) -> str:
        lead, mark = match.groups()
        if mark.isdigit():  # "1." / "1)" would start an ordered list: escape the dot
            return f"{lead}{mark}\\"
        return f"{lead}\\{mark}"

    return _LINE_START_MARKER.sub(marker, text)


def markdown_text(value: object) -> MarkdownText:
    """The ``md`` filter: ``value`` escaped for Markdown."""
    return MarkdownText(escape_markdown("" if value is None else str(value)))


_URL_UNSAFE = re.compile(r"[\s<>()\\\"'`\[\]]")


def markdown_url(value: object) -> MarkdownText:
    """The ``url`` filter: ``value`` safe inside ``(…)`` of a Markdown link or image."""
    text = "" if value is None else str(value).strip()
    return MarkdownText(_URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), text))


def _first_resource(context: Mapping[str, Any]) -> object:
    resource = context.get("resource")
    if resource is None:
        resources = context.get("resources") or ()
        resource = resources[0] if resources else None
    return resource


def _field(obj: object, name: str) -> object:
    if obj is None:
        return ""
    if isinstance(obj, Mapping):
        return obj.get(name, "")
    return getattr(obj, name, "")


def _exported(module: object, name: str, default: object) -> object:
    value = getattr(module, name, None)
    return default if value is None else value


def _plain(value: object) -> str:
    """A field's text with whitespace collapsed (str() raises for an undefined value)."""
    return " ".join(str(value).split())


def _template_line(exc: BaseException, template: jinja2.Template) -> str:
    """The template line an error came from (make_module does not rewrite tracebacks, so
    map the compiled code's line back through the template's debug info)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if template.filename and frame.filename == template.filename and frame.lineno:
            return f", line {template.get_corresponding_lineno(frame.lineno)}"
    return ""


def _check_title(title: str, template_name: str, resource: object = None) -> None:
    if not title:
        raise ContentRejectedError(f"template {template_name}: the post has no title")
    if len(title) > TITLE_LIMIT:
        # Name what the editor has to change: the catalogue's title when the template took
        # it as it is, else the template.
        source = f"template {template_name}"
        if resource is not None and title == _plain(_field(resource, "title")):
            source = f"resource {_field(resource, 'id')!r} (its catalogue title)"
        raise ContentRejectedError(
            f"{source}: the title has {len(title)} characters, the platform "
            f"allows {TITLE_LIMIT}: {title!r}"
        )


_SENTENCE_END = "。！？；!?;"
_TRAILING_SOFT = " ，,、：:；;"


def make_digest(text: str, limit: int = DIGEST_LIMIT) -> str:
    """``text`` within ``limit`` characters: cut after the last sentence end when one lies
    in the second half, else at ``limit - 1`` characters (not inside a Latin word) plus …"""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    window = text[:limit]
    cut = max(window.rfind(mark) for mark in _SENTENCE_END)
    if cut >= limit // 2:
        return window[: cut + 1]
    body = text[: limit - 1]
    if body[-1].isascii() and body[-1].isalnum() and text[limit - 1].isalnum():
        space = body.rfind(" ")
        if space >= limit // 2:
            body = body[:space]
    return body.rstrip(_TRAILING_SOFT) + "…"


# --- Markdown stage -------------------------------------------------------------------------


def render_markdown(markdown: str, theme: Theme | None = None) -> str:
    """Markdown (as an editor edits it) → the sanitised HTML the platform receives, before
    images are re-hosted. Raw HTML (a template's, or an editor's) is kept and sanitised, so
    a post drafted from a template renders the same after an edit.

    Raises ContentRejectedError (finding ``markdown.too_long``) for Markdown over
    ``MARKDOWN_CHARS`` characters, before any parsing: every path that renders an article
    (drafting, an edit, ``bot check``) passes here."""
    check_markdown_size(markdown)
    # markdown-it keeps its own "references" (link definitions) in env: use another key.
    outside_links = _References()
    body = _markdown_parser().render(markdown, {"outside_links": outside_links})
    html = f"<section {ROOT_MARKER}>{body}{outside_links.html()}</section>"
    return sanitize_html(apply_theme(html, theme or default_theme()))


def check_markdown_size(markdown: str) -> None:
    """Raises ContentRejectedError, with the finding naming the length and the limit, when
    ``markdown`` is over ``MARKDOWN_CHARS`` characters."""
    finding = markdown_too_long(markdown)
    if finding is not None:
        raise ContentRejectedError(finding.message, [finding])


def _images_beside_template(html: str, template: Path) -> str:
    """A relative image path a template names is read from the template's own folder
    (``![横幅](banner.png)`` beside ``templates/post.md.j2``), as people expect; a path that
    is not there keeps its meaning (the configuration's folder)."""
    folder = template.parent

    def resolve(tag: str, attrs: Attrs, ancestors: Sequence[str]) -> Attrs:
        if tag != "img":
            return attrs
        out = []
        for name, value in attrs:
            if name == "src" and value and not urlsplit(value).scheme:
                ref = image_ref(value)
                beside = folder / ref
                if not Path(ref).is_absolute() and beside.is_file():
                    value = quote(str(beside.resolve()), safe="/")
            out.append((name, value))
        return out

    return rewrite_start_tags(html, resolve) if "<img" in html else html


def image_sources(html: str) -> tuple[str, ...]:
    """The images of ``html`` as the loader receives them (local paths percent-decoded)."""
    refs = (image_ref(attrs.get("src", "")) for tag, attrs, _ in start_tags(html) if tag == "img")
    return tuple(dict.fromkeys(ref for ref in refs if ref))


def image_ref(src: str) -> str:
    """What to load for an ``<img src>``: URLs as they are, local paths percent-decoded
    (markdown-it percent-encodes spaces and non-ASCII names)."""
    if urlsplit(src).scheme:
        return src
    return unquote(src)


class _References:
    """Numbers outside links in order of first use; one number per distinct URL."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.open: list[int | None] = []

    def number(self, href: str) -> int:
        return self.numbers.setdefault(href, len(self.numbers) + 1)

    def html(self) -> str:
        if not self.numbers:
            return ""
        items = "".join(
            f"<p>[{n}] {htmllib.escape(href, quote=False)}</p>" for href, n in self.numbers.items()
        )
        return f"<hr><h4>{REFERENCES_HEADING}</h4>{items}"


@functools.cache
def _markdown_parser() -> MarkdownIt:
    from mdit_py_plugins.footnote import footnote_plugin

    # Raw HTML a template writes is kept and then cleaned by the sanitiser like everything
    # else (catalogue values are escaped, so they never become HTML); the checks name what
    # the cleaning drops. Footnotes, task lists and ~~strike~~ are what WeChat editors such
    # as doocs/md write: rendered here, never left as literal text.
    md = (
        MarkdownIt("commonmark", {"html": True})
        .enable("table")
        .enable("strikethrough")
        .use(footnote_plugin)
    )
    md.core.ruler.after("inline", "task_boxes", _task_boxes)
    md.add_render_rule("footnote_ref", _render_footnote_ref)
    md.add_render_rule("footnote_block_open", _render_footnote_block_open)
    md.add_render_rule("footnote_block_close", _render_nothing)
    md.add_render_rule("footnote_open", _render_footnote_open)
    md.add_render_rule("footnote_close", _render_nothing)
    md.add_render_rule("footnote_anchor", _render_nothing)
    md.add_render_rule("paragraph_open", _render_paragraph_open)
    md.add_render_rule("html_inline", _render_html_inline)
    md.add_render_rule("html_block", _render_html_block)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.add_render_rule("td_open", _render_cell_open)
    md.add_render_rule("th_open", _render_cell_open)
    md.add_render_rule("fence", _render_code)
    md.add_render_rule("code_block", _render_code)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("link_close", _render_link_close)
    md.add_render_rule("list_item_open", _render_list_item_open)
    md.add_render_rule("list_item_close", _render_list_item_close)
    md.add_render_rule("softbreak", _render_softbreak)
    md.add_render_rule("code_inline", _render_code_inline)
    return md


def _render_code(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # The draft API drops newlines inside code: lines become <br>, indentation &nbsp;.
    lines = tokens[idx].content.rstrip("\n").split("\n")
    return "<pre><code>" + "<br>".join(_code_line(line) for line in lines) + "</code></pre>\n"


def _render_code_inline(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Spaces that matter in code ("a  <  b") would collapse in HTML: runs become &nbsp;.
    escaped = htmllib.escape(tokens[idx].content, quote=False)
    return "<code>" + re.sub(r" {2,}", lambda m: "&nbsp;" * len(m.group()), escaped) + "</code>"


def _code_line(line: str) -> str:
    escaped = htmllib.escape(line.expandtabs(4), quote=False)
    return re.sub(r"^ +| {2,}", lambda m: "&nbsp;" * len(m.group()), escaped)


def _render_link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    references: _References = env["outside_links"]
    if is_weixin_link(href):
        references.open.append(None)
        return self.renderToken(tokens, idx, options, env)
    # An autolink already shows its URL: keep it as text without a reference.
    references.open.append(0 if token.markup == "autolink" else references.number(href))
    return ""


def _render_link_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    references: _References = env["outside_links"]
    number = references.open.pop() if references.open else None
    if number is None:
        return self.renderToken(tokens, idx, options, env)
    return f"<sup>[{number}]</sup>" if number else ""


def _render_list_item_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return self.renderToken(tokens, idx, options, env) + "<section>"


def _render_list_item_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "</section>" + self.renderToken(tokens, idx, options, env)


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


def _render_softbreak(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A line break between two Chinese characters is not a space in Chinese text.
    before = tokens[idx - 1].content[-1:] if idx > 0 else ""
    after = tokens[idx + 1].content[:1] if idx + 1 < len(tokens) else ""
    if before and after and _CJK.match(before) and _CJK.match(after):
        return ""
    return "\n"


# --- footnotes, task lists, tables ------------------------------------------------------------


def _render_nothing(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return ""


def _footnote_number(token: Token) -> int:
    return int((token.meta or {}).get("id", 0)) + 1


def _render_footnote_ref(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # No in-page anchors in an article: a marker readers find again in the notes below.
    return f"<sup>[注{_footnote_number(tokens[idx])}]</sup>"


def _render_footnote_block_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f"<hr><h4>{NOTES_HEADING}</h4>"


def _render_footnote_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    env["footnote_label"] = f"[注{_footnote_number(tokens[idx])}] "
    return ""


def _render_paragraph_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    label = env.pop("footnote_label", "")
    return self.renderToken(tokens, idx, options, env) + label


_TASK_BOX = re.compile(r'^<input class="task-list-item-checkbox"[^>]*>$')
_TASK_MARK = re.compile(r"\[[ xX]][ \t\n\v\f\r]+")
_BOXES = {
    "[ ] ": '<input class="task-list-item-checkbox" disabled="disabled" type="checkbox">',
    "[x] ": '<input class="task-list-item-checkbox" checked="checked" disabled="disabled" '
    'type="checkbox">',
}


def _task_boxes(state: StateCore) -> None:
    """A list item starting ``[ ]`` or ``[x]`` gets a box before its text (drawn ☐ / ☑ by
    ``_render_html_inline``), as mdit_py_plugins' ``tasklists`` does. That plugin also
    searched back from every item for its list, to set a class the platform drops: O(n²) in
    the items (100,000 characters of ``- [ ] a`` took 48 s to render)."""
    tokens = state.tokens
    for i in range(2, len(tokens) - 1):
        inline = tokens[i]
        if (
            inline.type == "inline"
            and tokens[i - 1].type == "paragraph_open"
            and tokens[i - 2].type == "list_item_open"
            and inline.children
            and _TASK_MARK.match(inline.content)
        ):
            box = Token("html_inline", "", 0)
            box.content = _BOXES.get(inline.content[:4].replace("X", "x"), "")
            inline.children.insert(0, box)
            inline.children[1].content = inline.children[1].content[3:]
            inline.content = inline.content[3:]


def _render_html_inline(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    content = tokens[idx].content
    if _TASK_BOX.match(content):  # the platform drops <input>: a box readers can see
        return "☑" if 'checked="checked"' in content else "☐"
    return _html_written(content)


def _render_html_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _html_written(tokens[idx].content)


_DIV = re.compile(r"<(/?)div\b", re.I)


def _html_written(content: str) -> str:
    """HTML a template or an editor wrote: a <div> (which the platform drops) becomes a
    <section> so its inline style is kept; the sanitiser cleans the rest."""
    return _DIV.sub(r"<\1section", content)


def _render_table_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A table wider than a phone scrolls sideways instead of breaking figures apart.
    return '<section style="overflow-x:auto;max-width:100%">' + self.renderToken(
        tokens, idx, options, env
    )


def _render_table_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return self.renderToken(tokens, idx, options, env) + "</section>"


_FIGURE = re.compile(
    r"^[\s\d.,:%‰+\-−~～/()（）年月日万亿元个次场期篇]*\d[\s\d.,:%‰+\-−~～/()（）年月日万亿元个次场期篇]*$"
)


def _render_cell_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # The post's root breaks words anywhere (long Chinese lines): a cell keeps words and
    # figures whole, and a figure on one line ("3837", "3.5%", "7.67万元").
    inline = tokens[idx + 1] if idx + 1 < len(tokens) else None
    style = "word-break:normal;overflow-wrap:normal"
    if inline is not None and _FIGURE.match(inline.content or ""):
        style += ";white-space:nowrap"
    token = tokens[idx]
    existing = str(token.attrGet("style") or "")
    token.attrSet("style", f"{style};{existing}" if existing else style)
    return self.renderToken(tokens, idx, options, env)
