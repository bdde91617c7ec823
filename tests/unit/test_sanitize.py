"""What survives sanitising: tags, attributes, CSS properties, image and link URLs."""

from __future__ import annotations

import pytest

from bot.content.sanitize import (
    is_http_url,
    is_uploaded_image,
    is_weixin_link,
    rewrite_start_tags,
    sanitize_html,
    start_tags,
    text_content,
    will_be_rehosted,
)


def test_script_and_style_elements_go_with_their_content() -> None:
    html = "<p>a</p><script>alert(1)</script><style>p{color:red}</style><p>b</p>"
    assert sanitize_html(html) == "<p>a</p><p>b</p>"


def test_class_id_and_event_attributes_are_dropped() -> None:
    html = '<p class="x" id="y" onclick="go()" onmouseover="go()" style="color: red">t</p>'
    assert sanitize_html(html) == '<p style="color:red">t</p>'


def test_tags_the_platform_does_not_keep_are_unwrapped() -> None:
    html = '<div><iframe src="https://x.example"></iframe><form><input>ok</form></div>'
    assert sanitize_html(html) == "ok"


def test_css_properties_outside_the_allowlist_are_dropped() -> None:
    html = (
        '<p style="position: absolute; transform: rotate(3deg); color: #333; '
        'background: url(https://evil.example/x.png); z-index: 9; font-size: 16px">t</p>'
    )
    assert sanitize_html(html) == '<p style="color:#333;font-size:16px">t</p>'


@pytest.mark.parametrize(
    "src",
    [
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "//evil.example/x.png",
        " covers/a.png",
        "",
    ],
)
def test_images_that_cannot_be_rehosted_are_removed_entirely(src: str) -> None:
    html = f'<p>x<img src="{src}" alt="a">y</p>'
    assert sanitize_html(html) == "<p>xy</p>"


def test_images_that_will_be_rehosted_stay() -> None:
    html = '<p><img src="https://example.com/a.png" alt="a"><img src="covers/b.png"></p>'
    assert sanitize_html(html) == html


def test_an_image_predicate_decides_which_images_stay() -> None:
    html = '<img src="https://mmbiz.qpic.cn/a"><img src="https://example.com/b.png">'
    cleaned = sanitize_html(html, img_src_allowed=is_uploaded_image)
    assert cleaned == '<img src="https://mmbiz.qpic.cn/a">'


def test_links_keep_only_absolute_http_hrefs_and_get_no_rel() -> None:
    html = (
        '<a href="javascript:alert(1)">a</a><a href="/relative">b</a>'
        '<a href="https://mp.weixin.qq.com/s/x">c</a>'
    )
    assert sanitize_html(html) == '<a>a</a><a>b</a><a href="https://mp.weixin.qq.com/s/x">c</a>'


def test_code_entities_and_br_survive() -> None:
    html = "<pre><code>a<br>&nbsp;&nbsp;b &lt; c</code></pre>"
    assert sanitize_html(html) == html


def test_rewrite_keeps_text_and_entities_verbatim_and_escapes_attributes() -> None:
    html = '<p title="x">a &amp; b&nbsp;&#169;<br>c</p>'

    def add_quote(tag: str, attrs: list[tuple[str, str | None]], ancestors: object) -> list:
        return [*attrs, ("data-x", 'say "hi" <now>')] if tag == "p" else attrs

    out = rewrite_start_tags(html, add_quote)
    assert (
        out == '<p title="x" data-x="say &quot;hi&quot; &lt;now&gt;">a &amp; b&nbsp;&#169;<br>c</p>'
    )


def test_rewrite_dropping_a_tag_keeps_its_content_and_drops_its_end_tag() -> None:
    html = "<section><span>keep</span> me</section><img src=x>"
    out = rewrite_start_tags(
        html, lambda tag, attrs, anc: None if tag in ("span", "img") else attrs
    )
    assert out == "<section>keep me</section>"


def test_rewrite_sees_open_ancestors() -> None:
    seen: dict[str, list[str]] = {}

    def record(tag: str, attrs: list, ancestors: object) -> list:
        seen[tag] = list(ancestors)  # type: ignore[call-overload]
        return attrs

    rewrite_start_tags("<section><ul><li><p>x<br>y</p></li></ul></section>", record)
    assert seen["p"] == ["section", "ul", "li"]
    assert seen["br"] == ["section", "ul", "li", "p"]


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://mp.weixin.qq.com/s/abc", True),
        ("http://MP.WEIXIN.QQ.COM/s?__biz=1", True),
        ("https://mp.weixin.qq.com.evil.example/s", False),
        ("https://mp.weixin.qq.com@evil.example/s", False),
        ("https://evil.example/?u=mp.weixin.qq.com", False),
        ("mp.weixin.qq.com/s/abc", False),
        ("javascript://mp.weixin.qq.com/%0aalert(1)", False),
    ],
)
def test_is_weixin_link(href: str, expected: bool) -> None:
    assert is_weixin_link(href) is expected


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("https://example.com/a.png", True),
        ("covers/封面.png", True),
        ("/srv/covers/a.png", True),
        ("//example.com/a.png", False),
        ("data:image/png;base64,AA", False),
        ("ftp://example.com/a.png", False),
        ("http://[::1", False),
    ],
)
def test_will_be_rehosted(src: str, expected: bool) -> None:
    assert will_be_rehosted(src) is expected


def test_is_http_url_needs_scheme_and_host() -> None:
    assert is_http_url("https://example.com")
    assert not is_http_url("https://")
    assert not is_http_url("example.com")


def test_start_tags_report_offsets_and_text_content_decodes_entities() -> None:
    html = '<p>a &amp; b</p>\n<p><img src="x.png" alt="A"></p>'
    tags = start_tags(html)
    assert [(tag, offset) for tag, _, offset in tags] == [("p", 0), ("p", 17), ("img", 20)]
    assert tags[2][1] == {"src": "x.png", "alt": "A"}
    assert html[20:24] == "<img"
    assert text_content(html) == "a & b\n\n\n"
