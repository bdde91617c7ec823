"""The Markdown WeChat editors write, rendered instead of reaching readers as literal text:
footnotes, task lists, strike-through, raw HTML (sanitised), and tables at phone width."""

from __future__ import annotations

import re
from pathlib import Path

from bot.content.checks import check_body
from bot.content.render import NOTES_HEADING, REFERENCES_HEADING, render_markdown, render_post
from bot.content.sanitize import text_content

FOOTNOTES = (
    "Here's a simple footnote,[^1] and a link to [百度](https://www.baidu.com).\n\n"
    "再来一个[^note]。\n\n"
    "[^1]: This is the first footnote.\n"
    "[^note]: 第二个**注释**。\n"
)


def test_footnotes_become_numbered_notes_with_no_literal_marker_left() -> None:
    html = render_markdown(FOOTNOTES)
    text = text_content(html)
    assert "[^" not in text
    assert "footnote,[注1]" in text and "再来一个[注2]" in text
    assert text.index(NOTES_HEADING) < text.index(REFERENCES_HEADING)
    assert "[注1] This is the first footnote." in text and "[注2] 第二个注释。" in text
    assert 'href="#' not in html and "id=" not in html  # no in-page anchors
    assert [f for f in check_body(FOOTNOTES, html) if f.severity == "error"] == []


def test_a_footnote_without_its_note_is_refused() -> None:
    markdown = "正文[^9]。\n"
    findings = check_body(markdown, render_markdown(markdown))
    assert [(f.code, f.severity) for f in findings if f.code.startswith("markdown")] == [
        ("markdown.footnote", "error")
    ]


def test_task_lists_and_strike_through_render() -> None:
    html = render_markdown("- [ ] 报名\n- [x] 签到\n\n~~旧的~~新的\n")
    assert "☐ 报名" in text_content(html) and "☑ 签到" in text_content(html)
    assert "<input" not in html and "<s>旧的</s>" in html


def test_raw_html_is_kept_sanitised_and_what_is_dropped_is_named() -> None:
    markdown = (
        '<div style="text-align:center;color:#c0392b">欢迎关注</div>\n\n'
        "<style>p { color: red }</style>\n\n"
        "正文<font color=red>红字</font>\n"
    )
    html = render_markdown(markdown)
    assert '<section style="text-align:center;color:#c0392b">欢迎关注</section>' in html
    assert "&lt;div" not in html and "color: red" not in html and "红字" in html
    found = {(f.code, f.severity, f.excerpt) for f in check_body(markdown, html)}
    assert ("markdown.html_refused", "error", "<style>") in found
    assert ("markdown.html_dropped", "warning", "<font>") in found


def test_table_figures_stay_whole_and_a_wide_table_scrolls() -> None:
    html = render_markdown(
        "|序号|单词数|比例|备注|\n| :-: | :-: | :-: | --- |\n"
        "|0|3837|3.5%|https://example.com/a/very/long/path|\n|1|4120|7.67万元|无|\n"
    )
    assert re.search(r'<section style="overflow-x:auto;max-width:100%"><table', html)
    for figure in ("3837", "3.5%", "4120", "7.67万元"):
        cell = re.search(rf'<td style="([^"]*)">{re.escape(figure)}</td>', html)
        assert cell and "white-space:nowrap" in cell.group(1), figure
        assert "word-break:normal" in cell.group(1)
    assert re.search(r'<td style="[^"]*text-align:center[^"]*">3837</td>', html)


def test_an_image_beside_the_template_is_found_there(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "posts").mkdir()
    Image.new("RGB", (8, 4)).save(tmp_path / "posts" / "banner.png")
    (tmp_path / "posts" / "post.md.j2").write_text(
        '{% set title = "本地图片测试" %}\n![横幅](banner.png)\n\n正文。\n'
        "![远程](https://example.org/x.png)\n![别处](media/other.png)\n",
        encoding="utf-8",
    )
    rendered = render_post("posts/post.md.j2", templates_dir=tmp_path, context={})
    assert rendered.image_sources == (
        str((tmp_path / "posts" / "banner.png").resolve()),
        "https://example.org/x.png",
        "media/other.png",  # not beside the template: left for the configuration's folder
    )


def test_a_catalogue_title_over_the_limit_is_blamed_on_the_resource(tmp_path: Path) -> None:
    import pytest

    from bot.domain.errors import ContentRejectedError
    from bot.domain.models import Resource

    (tmp_path / "post.md.j2").write_text("{% set title = resource.title %}正文\n", "utf-8")
    long = Resource(id="r9", kind="platform", title="很长的标题" * 8)
    with pytest.raises(ContentRejectedError, match=r"resource 'r9' \(its catalogue title\)"):
        render_post("post.md.j2", templates_dir=tmp_path, context={"resource": long})
    (tmp_path / "own.md.j2").write_text('{% set title = "模板" * 20 %}正文\n', "utf-8")
    with pytest.raises(ContentRejectedError, match=r"template own\.md\.j2"):
        render_post("own.md.j2", templates_dir=tmp_path, context={"resource": long})


def test_inline_code_keeps_its_spaces() -> None:
    assert "<code" in render_markdown("`a  <  b`")
    assert "a&nbsp;&nbsp;&lt;&nbsp;&nbsp;b</code>" in render_markdown("`a  <  b`")


def test_syntax_other_editors_render_and_we_do_not_is_refused() -> None:
    for markdown in (
        "==重点==内容",
        "::: tip\n提示\n:::",
        "[TOC]\n\n正文",
        "$$E=mc^2$$",
        "> [!NOTE]\n> 注意",
    ):
        found = check_body(markdown, render_markdown(markdown))
        assert [f.code for f in found if f.severity == "error"] == ["markdown.unsupported"], (
            markdown
        )
