"""Each family of checks on its own: what it reports, how sure, and what it leaves alone."""

from __future__ import annotations

import pytest

from bot.content.checks import (
    artefacts,
    encoding,
    escapes,
    fix_invisible,
    invisible,
    pinyin,
    placeholders,
    scripts,
    style,
)


def hits(family: object, text: str) -> list[tuple[str, str, str]]:
    return [(h.code, h.severity, text[h.start : h.end]) for h in family.check(text)]  # type: ignore[attr-defined]


def test_encoding_offers_the_repair_of_reversible_mojibake() -> None:
    (hit,) = encoding.check("前言：鍙傚姞娲诲姩")
    assert hit.code == "encoding.mojibake" and "参加活动" in hit.message.zh
    (hit,) = encoding.check("Ã¥â€ºÂ¢Ã¨Â¯Â¾")
    assert "团课" in hit.fix.zh and "twice" in hit.message.en


def test_encoding_realigns_a_gbk_stream_shifted_by_a_byte() -> None:
    found = [h for h in encoding.check("嗄曛驹刚叻�务队") if h.code == "encoding.gbk_shifted"]
    assert found and "年志愿者" in found[0].message.zh


def test_escapes_decode_what_they_find() -> None:
    assert hits(escapes, "&#22242;课") == [("escape.html_entity", "error", "&#22242;")]
    (hit,) = escapes.check("\\u56e2\\u8bfe")
    assert "团课" in hit.fix.zh
    assert list(escapes.check("A&B 与 R&D 部门，100% 完成")) == []


def test_invisible_fixes_are_exactly_what_fix_invisible_removes() -> None:
    text = "青年\u200b大学习\u00ad，\u00a0\u00a0\u00a0报名\u2028截止"
    assert {h.severity for h in invisible.check(text)} == {"fixed"}
    assert fix_invisible(text) == "青年大学习， 报名\n截止"
    assert fix_invisible(text, single_line=True) == "青年大学习， 报名 截止"
    assert list(invisible.check(fix_invisible(text))) == []


def test_emoji_joiners_and_variation_selectors_are_left_alone() -> None:
    assert list(invisible.check("👨\u200d👩\u200d👧 ❤️ 👍🏽 1️⃣")) == []


@pytest.mark.parametrize(
    ("text", "severity"),
    [("团(tuán)课(kè)", "error"), ("王堃（kūn）同志", "warning"), ("学习（xué xí）", "error")],
)
def test_pinyin_glosses_of_a_rare_name_character_are_warnings(text: str, severity: str) -> None:
    assert {h.severity for h in pinyin.check(text)} == {severity}


def test_scripts_tell_names_from_converted_sentences() -> None:
    assert {h.severity for h in scripts.check("香港青年協會")} == {"warning"}
    assert {h.severity for h in scripts.check("本次活動共吸引三百餘名志願者報名參加")} == {"error"}
    allowed = scripts.check("欢迎中華書局的编辑", allowed=["中華書局"])
    assert {h.code for h in allowed} == {"script.traditional_name"}


def test_placeholders_leave_maths_and_percentages_alone() -> None:
    assert list(placeholders.check("\\frac{1}{2}，完成率80%，E=mc^{2}，XXL号")) == []
    assert [h.code for h in placeholders.check("尊敬的{0}：欢迎%s")] == ["template.unfilled"] * 2


def test_artefacts_allow_a_quotation_over_several_paragraphs() -> None:
    assert list(artefacts.check("他说：“第一段。\n“第二段。”")) == []
    assert [h.code for h in artefacts.check("他说：“第一段。")] == ["artefact.unbalanced_marks"]


def test_style_is_only_ever_a_warning() -> None:
    found = style.check("团区委:开展主题教育,推动落实.２０２４年。。团 区 委 召 开")
    assert found and {h.severity for h in found} == {"warning"}
