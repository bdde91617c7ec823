"""Checks on a whole post, with the seed document as the acceptance case."""

from __future__ import annotations

import dataclasses
from html import escape
from pathlib import Path

import pytest

from bot.account.limits import DEFAULT_LIMITS, PlatformLimits
from bot.content.checks import (
    MAX_PER_CODE,
    Finding,
    check_cover,
    check_post,
    check_text,
    link_problem,
)

SEED_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
SEED = (SEED_DIR / "000_e3da3c0fc4af76a1.txt").read_text(encoding="utf-8")
SEED_SIMPLIFIED = (SEED_DIR / "000_e3da3c0fc4af76a1.simplified.txt").read_text(encoding="utf-8")
# The simplified seed with its four damaged spans repaired (the shifted GBK realigned).
SEED_CLEANED = (SEED_DIR / "000_e3da3c0fc4af76a1.cleaned.txt").read_text(encoding="utf-8")
UPLOADED = "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0"


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def codes(findings: list[Finding], severity: str | None = None) -> set[str]:
    return {f.code for f in findings if severity is None or f.severity == severity}


def as_html(text: str) -> str:
    paragraphs = [line for line in text.splitlines() if line.strip()]
    return "<section>" + "".join(f"<p>{escape(p)}</p>" for p in paragraphs) + "</section>"


def seed_post(text: str, **changes: object) -> list[Finding]:
    title, _, body = text.partition("\n")
    arguments: dict[str, object] = {
        "title": title,
        "author": "团区委",
        "digest": "",
        "html": as_html(body),
        "content_source_url": "https://mp.weixin.qq.com/s/seed",
        "markdown": body,
    }
    arguments.update(changes)
    return check_post(**arguments)  # type: ignore[arg-type]


# --- the seed ---------------------------------------------------------------------------------


def test_the_seed_fails_with_findings_at_its_damaged_spots() -> None:
    findings = check_text(SEED, "content")
    assert errors(findings)
    by_code: dict[str, list[Finding]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)

    # pinyin annotations, e.g. "團(tuán)" in the headline
    first_annotation = by_code["annotation.pinyin"][0]
    assert first_annotation.severity == "error"
    assert first_annotation.position == SEED.index("(tuán)")
    assert "(tuán)" in first_annotation.message

    # Traditional characters with their Simplified form
    first_traditional = by_code["script.traditional"][0]
    assert first_traditional.severity == "error"
    assert first_traditional.position == SEED.index("主題") + 1
    assert "题" in first_traditional.message

    # the mojibake run
    run_start = SEED.index("?!叭轿弧闭覝")
    runs = [f for f in by_code["encoding.damaged_run"] if f.position == run_start]
    assert runs and "叭轿弧闭覝?zhǔn)" in runs[0].excerpt
    assert runs[0].line == 4 and runs[0].column == run_start - SEED.rindex("\n", 0, run_start)

    # every '?' inside Chinese text
    stray = {f.position for f in by_code["encoding.lost_char"]}
    for spot in ("同?!叭", "覝?zhǔn", "地?cái", "夜?!币", "貞?yīng", "求?!岸"):
        assert SEED.index(spot) + 1 in stray, spot
    assert SEED.index("02? 作者") + 2 not in stray  # a '?' after digits is not inside Chinese


def test_the_seed_as_a_post_is_refused() -> None:
    findings = seed_post(SEED)
    assert {"title.too_long", "annotation.pinyin", "script.traditional"} <= codes(findings, "error")
    assert {f.field for f in errors(findings)} >= {"title", "markdown"}


def test_the_simplified_seed_is_refused_for_its_remaining_damage() -> None:
    findings = check_text(SEED_SIMPLIFIED, "content")
    damaged = {(f.code, f.position) for f in errors(findings)}
    for spot, code in (
        ("?cái)", "encoding.damaged_run"),
        ("?!叭轿弧", "encoding.damaged_run"),
        ("叭轿弧闭覝", "encoding.gbk_shifted"),
        ("?!币曰", "encoding.damaged_run"),
    ):
        assert (code, SEED_SIMPLIFIED.index(spot)) in damaged, spot
    (shifted,) = [f for f in findings if f.code == "encoding.gbk_shifted"]
    assert "冉位”找" in shifted.message  # the realigned reading is offered as the repair
    allowed = {"encoding.damaged_run", "encoding.gbk_shifted", "encoding.lost_char"}
    assert {f.code for f in errors(findings)} <= allowed


def test_the_cleaned_seed_passes_without_errors() -> None:
    assert errors(check_text(SEED_CLEANED, "content")) == []
    # Its 22-character headline is 68 UTF-8 bytes: over the 64 the platform may enforce.
    assert codes(seed_post(SEED_CLEANED), "error") == {"title.bytes"}
    roomy = PlatformLimits(title_bytes=0)
    assert errors(seed_post(SEED_CLEANED, limits=roomy)) == []
    # checks on the HTML's text
    assert errors(seed_post(SEED_CLEANED, markdown="", limits=roomy)) == []


def test_the_mojibake_excerpt_quotes_the_run_in_the_simplified_seed() -> None:
    findings = check_text(SEED_SIMPLIFIED, "content")
    excerpts = [f.excerpt for f in findings if f.code == "encoding.damaged_run"]
    assert any("增进认同?!叭轿弧闭覝?zhǔn)青年需求" in e for e in excerpts)


# --- limits -----------------------------------------------------------------------------------


def post(**changes: object) -> list[Finding]:
    arguments: dict[str, object] = {
        "title": "青年大学习",
        "author": "团区委",
        "digest": "网上主题团课。",
        "html": f'<section><p>正文</p><img src="{UPLOADED}"></section>',
        "content_source_url": "https://news.cyol.com/",
    }
    arguments.update(changes)
    return check_post(**arguments)  # type: ignore[arg-type]


def test_a_clean_post_has_no_findings() -> None:
    assert post() == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": ""}, "title.empty"),
        ({"title": "字" * 33}, "title.too_long"),
        ({"author": "作" * 9}, "author.too_long"),
        ({"digest": "摘" * 121}, "digest.too_long"),
        ({"title": "字" * 22}, "title.bytes"),
        ({"html": "<p>" + "文" * 20_000 + "</p>"}, "content.too_long"),
        ({"html": "<p></p>"}, "content.empty"),
        ({"content_source_url": "https://a.example/" + "x" * 1010}, "source_url.too_long"),
        ({"content_source_url": "news.cyol.com"}, "source_url.invalid"),
    ],
)
def test_platform_limits_are_errors(changes: dict[str, object], code: str) -> None:
    assert code in codes(post(**changes), "error")


def test_limits_at_the_boundary_pass() -> None:
    assert post(title="字" * 21 + "a", author="作" * 8, digest="摘" * 120) == []  # 64 bytes
    assert post(title="t" * 32) == []


def test_an_accounts_own_limits_apply() -> None:
    roomy = PlatformLimits(author_chars=16, title_bytes=0, digest_chars=128)
    assert post(title="字" * 32, author="作" * 16, digest="摘" * 128, limits=roomy) == []
    (finding,) = errors(post(author="作者名字超过八个字了", limits=DEFAULT_LIMITS))
    assert "10 characters" in finding.message and "45110" in finding.message


def test_content_over_one_megabyte_is_an_error() -> None:
    html = "<p>" + "x" * 19_000 + "</p>" + "<!--" + "é" * 500_000 + "-->"
    assert "content.too_large" in codes(post(html=html), "error")


# --- encoding damage --------------------------------------------------------------------------


def test_replacement_characters_and_garbage_runs_are_errors() -> None:
    assert "encoding.replacement_char" in codes(check_text("学习\ufffd平台", "t"), "error")
    assert "encoding.garbage_run" in codes(check_text("锟斤拷锟斤拷学习", "t"), "error")


@pytest.mark.parametrize("codec", ["gbk", "cp1252"])
def test_utf8_read_as_another_codec_is_an_error_with_the_repair(codec: str) -> None:
    garbled = "参加活动的是学习平台".encode().decode(codec, errors="ignore")
    findings = [f for f in check_text("前言：" + garbled, "t") if f.code == "encoding.mojibake"]
    assert findings and findings[0].severity == "error"
    assert "学习平" in findings[0].message
    assert findings[0].position is not None and findings[0].position >= 3


def test_classic_mojibake_examples() -> None:
    for garbled, meaning in (("鍙傚姞", "参加"), ("鐨勬槸", "的是")):
        (finding,) = [f for f in check_text(garbled, "t") if f.code == "encoding.mojibake"]
        assert meaning in finding.message


def test_real_chinese_is_not_mojibake() -> None:
    text = "共青团中央推出的网上主题团课学习平台，每期围绕一个主题，以短视频形式讲授。锟斤"
    assert "encoding.mojibake" not in codes(check_text(text, "t"))
    assert "encoding.mojibake" not in codes(check_text("Café crème, naïve façade", "t"))


def test_a_question_mark_inside_chinese_is_a_lost_character_unless_something_is_asked() -> None:
    findings = check_text("徘?委召开全体会议 and what? 你好吗?", "t")
    assert [(f.code, f.severity, f.position) for f in findings] == [
        ("encoding.lost_char", "error", 1)
    ]
    # mid-sentence, among common characters, it may be a question typed in ASCII: style
    findings = check_text("还在犹豫?赶快报名", "t")
    assert [(f.code, f.severity) for f in findings] == [("encoding.stray_question_mark", "warning")]
    findings = check_text("你去不去呢?我们一起去", "t")
    assert [(f.code, f.severity) for f in findings] == [("encoding.stray_question_mark", "warning")]
    assert check_text("链接 https://例子.cn/学习?id=1 见文末", "t") == []


def test_rare_characters_in_names_are_not_a_damaged_run() -> None:
    text = "还有问题吗?没有了。朱镕基、王喆、李堃同志参加。"
    assert codes(check_text(text, "t")) == {"encoding.stray_question_mark"}
    assert check_text("朱镕基、王喆、李堃、陶喆同志参加。", "t") == []


def test_a_greek_letter_between_chinese_characters_counts_as_damage() -> None:
    findings = check_text("收集提案?!岸嗲馈敝η嗄瓿砷", "t")
    assert "encoding.damaged_run" in codes(findings, "error")


def test_two_stray_question_marks_alone_are_only_a_warning() -> None:
    findings = check_text("是吗?好的?我们走", "t")
    assert errors(findings) == []
    assert "encoding.damaged_run" in codes(findings, "warning")


# --- annotations and scripts ------------------------------------------------------------------


def test_pinyin_annotations_are_errors_but_english_in_brackets_is_not() -> None:
    findings = check_text("团(tuán)员使用微信(WeChat)学习（xué xí）", "t")
    annotations = [f for f in findings if f.code == "annotation.pinyin"]
    assert [(f.position, f.severity) for f in annotations] == [(1, "error"), (22, "error")]
    assert not [f for f in findings if f.position == 12]  # "(WeChat)" after 信


def test_pinyin_fragments_are_warnings_and_after_a_lost_character_damage() -> None:
    findings = check_text("找zhǔn)青年", "t")
    assert "annotation.pinyin_fragment" in codes(findings, "warning")
    assert errors(findings) == []
    # after a '?' (a character lost), as in the seed: the run is damage
    damaged = check_text("找?zhǔn)青年", "t")
    assert "encoding.damaged_run" in codes(damaged, "error")


def test_traditional_characters_report_the_simplified_form() -> None:
    (finding,) = check_text("加强團結協作", "t")
    assert finding.code == "script.traditional" and finding.severity == "error"
    assert finding.position == 2
    assert "'團結協'" in finding.message and "'团结协'" in finding.message


def test_context_keeps_simplified_words_that_share_traditional_characters() -> None:
    assert check_text("乾隆年间，著名学者显著进步，哪吒与蒜薹", "t") == []


def test_a_traditional_form_inside_gb2312_is_only_a_warning() -> None:
    findings = check_text("後来", "t")
    assert [(f.code, f.severity) for f in findings] == [("script.traditional", "warning")]


def test_traditional_is_allowed_when_the_column_is_not_simplified_only() -> None:
    assert check_text("團結", "t", simplified_only=False) == []


def test_unfilled_template_code_is_an_error() -> None:
    findings = check_text("你好 {{ resource.title }} 与 {% if x %}", "markdown")
    assert [f.code for f in findings] == ["template.unfilled", "template.unfilled"]
    assert findings[0].position == 3


# --- HTML -------------------------------------------------------------------------------------


def test_leftover_markdown_in_the_html_text_is_a_warning() -> None:
    html = "<p>**加粗** 与 [链接](https://a.example)</p><pre><code>**code**</code></pre>"
    findings = [f for f in post(html=html) if f.code == "markdown.leftover"]
    assert {f.severity for f in findings} == {"warning"}
    messages = " ".join(f.message for f in findings)
    assert "'**'" in messages and "[text](link)" in messages
    assert not [
        f
        for f in post(html="<p>正文</p><pre><code>**x**</code></pre>")
        if f.code == "markdown.leftover"
    ]


def test_outside_images_are_errors() -> None:
    html = '<p>正文</p><img src="https://example.com/a.png"><img src="https://mmbiz.qpic.cn/x/0">'
    findings = [f for f in post(html=html) if f.code == "image.outside"]
    assert len(findings) == 1 and findings[0].severity == "error"
    assert findings[0].position == html.index('<img src="https://example.com')
    assert post(html=html, uploaded_image_prefixes=("https://",)) == []


def test_links_invalid_ones_are_errors_outside_ones_warnings() -> None:
    html = (
        '<p><a href="https://mp.weixin.qq.com/s/a">好</a>'
        '<a href="https://example.com/b">外</a><a href="https://bad_host/">坏</a></p>'
    )
    found = {(f.code, f.severity) for f in post(html=html) if f.code.startswith("link.")}
    assert found == {("link.outside", "warning"), ("link.invalid", "error")}


def test_broken_links_in_the_markdown_are_errors() -> None:
    markdown = "见[官网](https://exa_mple.com/x)与[好](https://example.com/)和[相对](page.html)"
    findings = [f for f in post(markdown=markdown) if f.code == "link.invalid"]
    assert len(findings) == 2 and all(f.field == "markdown" for f in findings)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://example.com/a?b=1#c", ""),
        ("http://例子.中国/路径", ""),
        ("http://192.0.2.1:8080/", ""),
        ("https://[2001:db8::1]/", ""),
        ("", "is empty"),
        ("https://exa mple.com", "spaces"),
        ("ftp://example.com", "not an http"),
        ("https:///path", "no host"),
        ("https://localhost/", "invalid host"),
        ("https://-bad.example/", "invalid host"),
        ("https://example.123/", "invalid host"),
        ("https://999.1.1.1/", "invalid host"),
        ("https://example.com:99999/", "cannot be parsed"),
        ("https://[::1/", "cannot be parsed"),
    ],
)
def test_link_problem(url: str, problem: str) -> None:
    result = link_problem(url)
    assert (problem in result) if problem else result == ""
    assert bool(result) == bool(problem)


@pytest.mark.parametrize(
    ("cover", "code"),
    [("", "cover.missing"), ("  ", "cover.missing"), ("ftp://x.example/a.jpg", "cover.invalid"),
     ("https://", "cover.invalid")],
)  # fmt: skip
def test_check_cover_refuses(cover: str, code: str) -> None:
    (finding,) = check_cover(cover)
    assert (finding.code, finding.severity, finding.field) == (code, "error", "cover")


@pytest.mark.parametrize("cover", ["covers/a.jpg", "/srv/covers/a.jpg", "https://a.example/c.jpg"])
def test_check_cover_accepts(cover: str) -> None:
    assert check_cover(cover) == []


# --- findings ---------------------------------------------------------------------------------


def test_findings_are_frozen_and_say_where() -> None:
    (finding,) = check_text("第一行\n第二行團结", "markdown")
    assert (finding.position, finding.line, finding.column) == (7, 2, 4)
    assert finding.where == "markdown 2:4"
    assert finding.excerpt == "一行 第二行團结"  # six characters of context, newlines as spaces
    assert finding.to_dict()["code"] == "script.traditional"
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "x"  # type: ignore[misc]


def test_many_findings_of_one_kind_are_summed_up() -> None:
    findings = check_text("好團" * 30, "t")
    assert len(findings) == MAX_PER_CODE + 1
    assert findings[-1].position is None and "10 more" in findings[-1].message
