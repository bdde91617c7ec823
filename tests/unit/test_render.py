"""Rendering: the template stage, Markdown to platform HTML, themes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.content.render import (
    REFERENCES_HEADING,
    escape_markdown,
    image_sources,
    make_digest,
    render_markdown,
    render_post,
)
from bot.content.sanitize import start_tags
from bot.content.theme import Theme, apply_theme, default_theme, load_theme, theme_from_mapping
from bot.domain.errors import ConfigError, ContentRejectedError
from bot.domain.models import Resource

PROJECT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def platform_resource(**changes: object) -> Resource:
    resource = Resource(
        id="qnddx",
        kind="platform",
        title="青年大学习",
        summary="共青团中央推出的网上主题团课。每期围绕一个主题，以短视频讲授。",
        url="https://news.cyol.com/gb/channels/index.html",
        cover="covers/青年大学习.png",
        tags=("网上团课", "理论学习"),
    )
    return resource.replace(**changes)


def context(*resources: Resource) -> dict[str, object]:
    chosen = list(resources) or [platform_resource()]
    return {
        "column": {"name": "学习平台", "author": "团区委"},
        "resource": chosen[0],
        "resources": chosen,
        "now": None,
    }


def write_template(tmp_path: Path, text: str, name: str = "t.md.j2") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


# --- the default template ---------------------------------------------------------------------


def test_default_template_renders_a_chinese_post_from_one_resource() -> None:
    post = render_post("posts/default.md.j2", templates_dir=PROJECT_TEMPLATES, context=context())
    assert post.title == "青年大学习"
    assert post.digest == "共青团中央推出的网上主题团课。每期围绕一个主题，以短视频讲授。"
    assert post.content_source_url == "https://news.cyol.com/gb/channels/index.html"
    assert post.image_sources == ("covers/青年大学习.png",)
    for heading in ("## 青年大学习", "### 资源简介", "### 如何使用", "### 学习链接"):
        assert heading in post.markdown
    assert "注册或登录" in post.markdown  # the platform kind's usage hint
    assert "关键词：网上团课、理论学习" in post.markdown
    # the resource link became a numbered reference with the URL as plain text
    assert "青年大学习<sup" in post.html
    assert REFERENCES_HEADING in post.html
    assert "[1] https://news.cyol.com/gb/channels/index.html" in post.html
    assert "<a " not in post.html
    assert re.search(r'<h2 style="[^"]*font-size', post.html)


def test_default_template_with_several_resources_titles_the_column() -> None:
    second = platform_resource(id="zhtj", title="智慧团建", kind="exhibit", cover="", url="")
    post = render_post(
        "posts/default.md.j2",
        templates_dir=PROJECT_TEMPLATES,
        context=context(platform_resource(), second),
    )
    assert post.title == "学习平台｜本期推荐2项学习资源"
    assert "## 智慧团建" in post.markdown and "数字展馆" in post.markdown
    assert post.image_sources == ("covers/青年大学习.png",)


def test_default_template_without_cover_summary_or_url() -> None:
    bare = platform_resource(summary="", url="", cover="", tags=())
    post = render_post(
        "posts/default.md.j2", templates_dir=PROJECT_TEMPLATES, context=context(bare)
    )
    assert post.image_sources == ()
    assert post.content_source_url == ""
    assert post.digest == ""
    assert "资源简介" not in post.markdown and "学习链接" not in post.markdown


# --- the template stage -----------------------------------------------------------------------


def test_an_unfilled_variable_names_the_variable_the_template_and_the_line(
    tmp_path: Path,
) -> None:
    templates = write_template(tmp_path, "{% set title = 'x' %}\n## 标题\n\n{{ speaker }}\n")
    with pytest.raises(ContentRejectedError) as caught:
        render_post("t.md.j2", templates_dir=templates, context=context())
    message = str(caught.value)
    assert "'speaker' is undefined" in message
    assert "t.md.j2" in message
    assert "line 4" in message


def test_a_missing_attribute_is_an_unfilled_variable_too(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "{{ resource.speaker }}")
    with pytest.raises(ContentRejectedError, match="speaker"):
        render_post("t.md.j2", templates_dir=templates, context=context())


def test_an_undefined_title_is_reported_even_though_set_does_not_fail(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "{% set title = resource.headline %}正文")
    with pytest.raises(ContentRejectedError, match="headline"):
        render_post("t.md.j2", templates_dir=templates, context=context())


def test_a_title_over_32_characters_is_refused_not_cut(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "{% set title = resource.title %}正文")
    long_title = "字" * 33
    with pytest.raises(ContentRejectedError, match="33 characters"):
        render_post(
            "t.md.j2",
            templates_dir=templates,
            context=context(platform_resource(title=long_title)),
        )
    post = render_post(
        "t.md.j2", templates_dir=templates, context=context(platform_resource(title="字" * 32))
    )
    assert post.title == "字" * 32


def test_the_title_falls_back_to_the_resource_title(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "正文")
    post = render_post("t.md.j2", templates_dir=templates, context=context())
    assert post.title == "青年大学习"
    with pytest.raises(ContentRejectedError, match="no title"):
        render_post("t.md.j2", templates_dir=templates, context={})


def test_template_sets_digest_and_source_url(tmp_path: Path) -> None:
    templates = write_template(
        tmp_path,
        "{% set title = '自定标题' %}{% set digest = '自定摘要' %}"
        "{% set source_url = 'https://mp.weixin.qq.com/s/x' %}正文",
    )
    post = render_post("t.md.j2", templates_dir=templates, context=context())
    assert (post.title, post.digest, post.content_source_url) == (
        "自定标题",
        "自定摘要",
        "https://mp.weixin.qq.com/s/x",
    )


def test_a_long_summary_becomes_a_digest_within_120_characters(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "正文")
    summary = "这是一段很长的资源简介" * 20
    post = render_post(
        "t.md.j2", templates_dir=templates, context=context(platform_resource(summary=summary))
    )
    assert len(post.digest) == 120  # the platform's limit (bot.account.limits)
    assert post.digest.endswith("…")


def test_missing_template_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.md\.j2"):
        render_post("nope.md.j2", templates_dir=tmp_path, context=context())
    with pytest.raises(ConfigError, match=r"'\.\./outside\.md\.j2' not found under"):
        render_post("../outside.md.j2", templates_dir=tmp_path, context=context())


def test_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "正文\n{% if %}\n")
    with pytest.raises(ContentRejectedError, match="line 2"):
        render_post("t.md.j2", templates_dir=templates, context=context())


def test_a_sandboxed_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "{{ resource.__class__.__name__ }}")
    plain = render_post("t.md.j2", templates_dir=templates, context=context(), sandboxed=False)
    assert "Resource" in plain.markdown
    # the sandbox is the default: drafting uses it
    with pytest.raises(ContentRejectedError, match=r"access to attribute '__class__'.* is unsafe"):
        render_post("t.md.j2", templates_dir=templates, context=context())


def test_catalogue_text_cannot_inject_markup(tmp_path: Path) -> None:
    templates = write_template(tmp_path, "## {{ resource.title }}\n\n{{ resource.summary }}\n")
    evil = platform_resource(
        title="**粗** <b>x</b>",
        summary=(
            "<script>alert(1)</script> [点我](javascript:alert(1)) "
            "![i](https://evil.example/t.png)\n# 不是标题\n- 不是列表\n1. 也不是\n&amp; `code`"
        ),
    )
    post = render_post("t.md.j2", templates_dir=templates, context=context(evil))
    tags = {tag for tag, _, _ in start_tags(post.html)}
    assert tags <= {"section", "h2", "p"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in post.html
    assert "**粗** &lt;b&gt;x&lt;/b&gt;" in post.html
    assert "# 不是标题" in post.html and "1. 也不是" in post.html
    assert "&amp;amp; `code`" in post.html
    assert post.image_sources == ()


def test_md_and_url_filters(tmp_path: Path) -> None:
    templates = write_template(
        tmp_path,
        "{{ resource.title | md }} [链接]({{ resource.url | url }}) ![图]({{ resource.cover | url }})",
    )
    odd = platform_resource(
        title="a_b*c", url="https://example.com/a b(c)", cover="covers/封面 1.png"
    )
    post = render_post("t.md.j2", templates_dir=templates, context=context(odd))
    assert post.markdown.startswith("a\\_b\\*c ")
    assert "(https://example.com/a%20b%28c%29)" in post.markdown
    assert "[1] https://example.com/a%20b%28c%29" in post.html
    assert post.image_sources == ("covers/封面 1.png",)


def test_escape_markdown_covers_block_markers() -> None:
    assert escape_markdown("- a\n+ b\n10. c\n  = d") == "\\- a\n\\+ b\n10\\. c\n  \\= d"
    assert escape_markdown("# h [x](y) <a> `c` *e* _f_ | ~") == (
        "\\# h \\[x\\](y) \\<a\\> \\`c\\` \\*e\\* \\_f\\_ \\| \\~"
    )


# --- digest ---------------------------------------------------------------------------------


def test_make_digest_keeps_short_text_and_collapses_whitespace() -> None:
    assert make_digest("  一段\n简介  ") == "一段 简介"


def test_make_digest_cuts_at_a_sentence_end_in_the_second_half() -> None:
    text = "甲" * 100 + "。" + "乙" * 100
    assert make_digest(text) == "甲" * 100 + "。"


def test_make_digest_cuts_mid_text_with_an_ellipsis_not_inside_a_latin_word() -> None:
    text = "学习 " + " ".join(["platform"] * 30)
    digest = make_digest(text)
    assert len(digest) <= 120 and digest.endswith("platform…")
    assert make_digest("字" * 200) == "字" * 119 + "…"


# --- Markdown to HTML -------------------------------------------------------------------------


def test_outside_links_become_numbered_references_weixin_links_stay() -> None:
    html = render_markdown(
        "见[官网](https://a.example/x)和[文章](https://mp.weixin.qq.com/s/abc)，"
        "再看[官网](https://a.example/x)与[别处](https://b.example/)。<https://c.example/>"
    )
    assert "官网<sup" in html and ">[1]</sup>" in html and ">[2]</sup>" in html
    assert html.count(">[1]</sup>") == 2  # the same URL keeps its number
    assert '<a href="https://mp.weixin.qq.com/s/abc"' in html
    assert "a.example" not in html.split(REFERENCES_HEADING)[0]
    references = html.split(REFERENCES_HEADING)[1]
    assert "[1] https://a.example/x" in references and "[2] https://b.example/" in references
    assert "https://c.example/" in html and "[3]" not in html  # an autolink stays text


def test_code_blocks_use_br_and_nbsp_instead_of_newlines_and_indentation() -> None:
    html = render_markdown("```python\ndef f():\n    return 1 < 2\n\n\tpass\n```\n")
    code = re.search(r"<pre[^>]*><code[^>]*>(.*?)</code></pre>", html, re.S)
    assert code is not None
    body = code.group(1)
    assert "\n" not in body
    assert body == (
        "def f():<br>&nbsp;&nbsp;&nbsp;&nbsp;return 1 &lt; 2<br><br>&nbsp;&nbsp;&nbsp;&nbsp;pass"
    )


def test_list_items_are_wrapped_in_sections() -> None:
    html = render_markdown("- 一\n- 二\n\n1. 三\n")
    assert len(re.findall(r"<li[^>]*><section[^>]*>[一二三]</section></li>", html)) == 3


def test_tables_keep_their_alignment_after_the_theme() -> None:
    html = render_markdown("|名称|次数|\n|:-|-:|\n|团课|4|\n")
    assert re.search(r'<td style="[^"]*border[^"]*text-align:right">4</td>', html)


def test_raw_html_in_markdown_is_sanitised_like_the_rest() -> None:
    html = render_markdown(
        '<img src="https://evil.example/x.png" onerror="x()">正文'
        '<div style="color:red;position:fixed" onclick="y()">红</div><script>z()</script>'
    )
    assert "onerror" not in html and "onclick" not in html and "z()" not in html
    assert "position" not in html and "<script" not in html
    # a <div> becomes a <section> (which the platform keeps) with its allowed styles
    assert '<section style="color:red">红</section>' in html
    # the image is an ordinary image: re-hosted (or refused) like one written in Markdown
    assert image_sources(html) == ("https://evil.example/x.png",)


def test_a_line_break_between_chinese_characters_is_no_space() -> None:
    html = render_markdown("第一行\n第二行\nlast line\nnext")
    assert "第一行第二行" in html and "last line\nnext" in html


def test_the_output_has_no_class_id_style_or_script() -> None:
    html = render_markdown("```js\nx\n```\n\n# 标题\n\n正文")
    for tag, attrs, _ in start_tags(html):
        assert tag not in ("style", "script")
        assert not {"class", "id"} & set(attrs)


def test_image_sources_decode_local_paths_but_not_urls() -> None:
    html = render_markdown("![a](covers/封面.png) ![b](https://x.example/a%20b.png)")
    assert image_sources(html) == ("covers/封面.png", "https://x.example/a%20b.png")


# --- themes -----------------------------------------------------------------------------------


def test_theme_rules_merge_element_then_descendant_then_own_style() -> None:
    theme = theme_from_mapping(
        {
            "name": "t",
            "root": "color: #111",
            "styles": {"p": "margin: 1px; color: red", "blockquote p": "color: blue"},
        },
        where="test",
    )
    html = '<section data-post-root><p style="text-align: right">a</p><blockquote><p>b</p></blockquote></section>'
    styled = apply_theme(html, theme)
    assert styled.startswith('<section style="color: #111;">')
    assert '<p style="margin: 1px; color: red; text-align: right;">a</p>' in styled
    assert '<blockquote><p style="margin: 1px; color: blue;">b</p></blockquote>' in styled


def test_render_markdown_uses_a_given_theme() -> None:
    theme = Theme(name="plain", element={"p": (("color", "green"),)})
    assert render_markdown("正文", theme) == '<section><p style="color:green">正文</p>\n</section>'


@pytest.mark.parametrize(
    ("styles", "complaint"),
    [
        ({"p": "position: fixed"}, "position"),
        ({"p": "color: red; transform: none"}, "transform"),
        ({"p": "background-color: url(https://x/y.png)"}, "not allowed"),
        ({"p.note": "color: red"}, "selectors"),
        ({"p": "color red"}, "property: value"),
    ],
)
def test_a_theme_the_platform_would_mangle_is_refused(
    styles: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigError, match=complaint):
        theme_from_mapping({"name": "bad", "styles": styles}, where="theme bad.toml")


def test_load_theme_reports_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_theme(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_theme(broken)


def test_the_default_theme_loads_and_styles_the_common_elements() -> None:
    theme = default_theme()
    assert theme.name == "default"
    for tag in ("h2", "h3", "p", "blockquote", "img", "pre", "code", "table", "li"):
        assert theme.style_for(tag, ["section"]), tag
