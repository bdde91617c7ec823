"""The Markdown size limit in the content layer: the render refuses a body over
``MARKDOWN_CHARS`` before parsing it, and the checks do not re-parse a body that a limit
already refuses (the parser's link labels cost O(n²) on a run of ``[``)."""

from __future__ import annotations

import pytest

from bot.content import render
from bot.content.checks import check_body, check_post
from bot.content.checks.limits import MARKDOWN_CHARS, markdown_too_long
from bot.domain.errors import ContentRejectedError


def test_the_limit_leaves_room_over_the_platforms_html_limit() -> None:
    assert 40_000 <= MARKDOWN_CHARS <= 50_000
    assert markdown_too_long("a" * MARKDOWN_CHARS) is None


def test_the_render_refuses_markdown_over_the_limit_before_parsing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def parser() -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(render, "_markdown_parser", parser)
    with pytest.raises(ContentRejectedError) as refused:
        render.render_markdown("[" * (MARKDOWN_CHARS + 7))
    (finding,) = refused.value.findings
    assert finding.code == "markdown.too_long" and finding.severity == "error"
    assert str(refused.value) == finding.message
    assert f"{MARKDOWN_CHARS + 7} characters" in finding.message
    assert f"上限 {MARKDOWN_CHARS}" in finding.message_zh


def test_check_post_gives_the_limit_alone_for_the_body_over_it() -> None:
    markdown = "團(tuán)" + "[" * MARKDOWN_CHARS  # Traditional and pinyin: not looked at
    findings = check_post("标题", "作者", "", "<p>x</p>", "", markdown=markdown, article=2)
    assert {f.code for f in findings} == {"markdown.too_long"}
    assert all(f.article == 2 for f in findings)
    assert [f.code for f in check_body(markdown, "")] == ["markdown.too_long"]


def test_check_post_skips_the_body_checks_when_the_html_is_over_the_platforms_limit() -> None:
    html = "<p>" + "团(tuán)课" * 3_000 + "</p>"
    findings = check_post("团(tuán)课", "", "", html, "", markdown="团(tuán)课" * 3_000)
    assert "content.too_long" in {f.code for f in findings}
    # the title is still checked, the body waits until it is short enough
    assert [f.field for f in findings if f.code == "annotation.pinyin"] == ["title"]
