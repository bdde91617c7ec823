"""What the platform keeps of a post's HTML: the tag, attribute and CSS-property allowlists,
which image and link URLs may stay, and the one re-serialising pass that rewrites start tags.

The draft API drops ``<style>``, ``<script>``, ``class`` and ``id`` and some CSS properties
(``position``, ``transform`` …); body images must come from ``media/uploadimg``. Cleaning to
exactly that here means the admin previews what readers will see.
"""

from __future__ import annotations

import html as htmllib
from collections.abc import Callable, Sequence
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

from bot.domain.errors import ContentRejectedError
from bot.domain.links import is_platform_article_url

UPLOADED_IMAGE_PREFIXES = ("http://mmbiz.qpic.cn/", "https://mmbiz.qpic.cn/")

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre",
        "s", "section", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}

# Layout-only properties survive the platform; positioning, transforms and anything that can
# carry a url() (background, list-style, border-image) are left out on purpose.
ALLOWED_CSS_PROPERTIES = frozenset(
    {
        "background-color", "border", "border-bottom", "border-collapse", "border-color",
        "border-left", "border-radius", "border-right", "border-style", "border-top",
        "border-width", "box-sizing", "color", "display", "font-family", "font-size",
        "font-style", "font-weight", "height", "letter-spacing", "line-height",
        "list-style-type", "margin", "margin-bottom", "margin-left", "margin-right",
        "margin-top", "max-width", "min-width", "overflow-wrap", "overflow-x", "padding",
        "padding-bottom", "padding-left", "padding-right", "padding-top", "text-align",
        "text-decoration", "text-indent", "vertical-align", "white-space", "width",
        "word-break", "word-wrap",
    }
)  # fmt: skip

VOID_TAGS = frozenset({"br", "hr", "img", "wbr", "col", "area", "input", "meta", "link"})

Attrs = list[tuple[str, str | None]]
# (tag, attributes, open ancestors outermost first) -> new attributes, or None to drop the tag
StartTagRewrite = Callable[[str, Attrs, Sequence[str]], Attrs | None]


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host: the only kind of link a post may carry."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def is_weixin_link(href: str) -> bool:
    """Links to WeChat articles are the ones the platform keeps clickable."""
    return is_platform_article_url(href.strip())


def is_uploaded_image(src: str, prefixes: Sequence[str] = UPLOADED_IMAGE_PREFIXES) -> bool:
    return src.startswith(tuple(prefixes))


def will_be_rehosted(src: str) -> bool:
    """An image the re-hosting step can load: an http(s) URL or a local path (no scheme, no
    host). ``data:``, ``file:``, ``javascript:`` and protocol-relative URLs are refused."""
    if not src.strip() or src.strip() != src:
        return False
    try:
        parts = urlsplit(src)
    except ValueError:
        return False
    if parts.scheme == "" and parts.netloc == "":
        return True
    return is_http_url(src)


def sanitize_html(html: str, *, img_src_allowed: Callable[[str], bool] = will_be_rehosted) -> str:
    """Clean ``html`` to what the platform keeps. An ``<img>`` whose src is not allowed is
    removed entirely, and so is the href of a link that is not absolute http(s)."""

    def keep(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src":
            return value if img_src_allowed(value) else None
        if tag == "a" and attr == "href":
            return value if is_http_url(value) else None
        return value

    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=keep,
        strip_comments=True,
        link_rel=None,
        url_schemes={"http", "https"},
        filter_style_properties=set(ALLOWED_CSS_PROPERTIES),
    )
    return rewrite_start_tags(cleaned, _drop_srcless_images)


def _drop_srcless_images(tag: str, attrs: Attrs, ancestors: Sequence[str]) -> Attrs | None:
    if tag == "img" and not any(name == "src" and value for name, value in attrs):
        return None
    return attrs


def rewrite_start_tags(html: str, rewrite: StartTagRewrite) -> str:
    """Re-serialise well-formed HTML (markdown-it's or nh3's output), letting ``rewrite``
    change each start tag's attributes; returning None drops a void tag, or a non-void tag
    together with its end tag (its content stays). Text and entities pass through verbatim."""
    writer = _Rewriter(rewrite)
    writer.feed(html)
    writer.close()
    return "".join(writer.out)


MAX_NESTING = 200  # elements open at once; real posts nest a handful


class _Rewriter(HTMLParser):
    def __init__(self, rewrite: StartTagRewrite) -> None:
        # Keep character references as written: &nbsp; in code blocks must stay an entity.
        super().__init__(convert_charrefs=False)
        self.rewrite = rewrite
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, kept)
        self.names: list[str] = []  # the stack's tags, kept beside it: no copy per tag

    def handle_starttag(self, tag: str, attrs: Attrs) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: Attrs) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: Attrs, *, closed: bool) -> None:
        # The rewrite reads the ancestors during the call only; building a list per tag
        # made deeply nested input quadratic (30,000 unclosed <b> held the loop for a minute).
        new = self.rewrite(tag, list(attrs), self.names)
        if new is not None:
            self.out.append(_start_tag(tag, new))
        if not closed and tag not in VOID_TAGS:
            if len(self.stack) >= MAX_NESTING:
                raise ContentRejectedError(
                    f"the HTML is nested more than {MAX_NESTING} elements deep"
                )
            self.stack.append((tag, new is not None))
            self.names.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        kept = True
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                kept = self.stack[depth][1]
                del self.stack[depth:]
                del self.names[depth:]
                break
        if kept:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")


def _start_tag(tag: str, attrs: Attrs) -> str:
    parts = [tag]
    for name, value in attrs:
        parts.append(name if value is None else f'{name}="{htmllib.escape(value, quote=True)}"')
    return "<" + " ".join(parts) + ">"


def start_tags(html: str) -> list[tuple[str, dict[str, str], int]]:
    """Every start tag as (tag, attributes, character offset): for checks and tests."""
    finder = _TagFinder()
    finder.feed(html)
    finder.close()
    return finder.tags


def text_content(html: str) -> str:
    """The text a reader sees (entities decoded), block ends as newlines."""
    finder = _TagFinder()
    finder.feed(html)
    finder.close()
    return "".join(finder.text)


_BLOCK_TAGS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "section", "tr", "br"}
)


class _TagFinder(HTMLParser):
    """Collects start tags with their character offsets, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str], int]] = []
        self.text: list[str] = []
        self._line_starts = [0]

    def feed(self, data: str) -> None:
        # getpos() answers (line, column); keep where each line starts to turn it into an offset
        for line in data.split("\n")[:-1]:  # HTMLParser counts "\n" only
            self._line_starts.append(self._line_starts[-1] + len(line) + 1)
        super().feed(data)

    def handle_starttag(self, tag: str, attrs: Attrs) -> None:
        line, column = self.getpos()
        self.tags.append(
            (tag, {k: v or "" for k, v in attrs}, self._line_starts[line - 1] + column)
        )
        if tag == "br":
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
