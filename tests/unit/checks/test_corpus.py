"""Recall per kind of damage and false alarms on clean text, over the team's corpus
(tests/unit/checks/corpus.py), plus properties that hold for any sentence."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.checks import CODES, check_text
from tests.unit.checks.corpus import CLEAN, DAMAGED, SENTENCES, recall_table

MIN_RECALL = 0.95


def test_the_corpus_is_large_enough() -> None:
    assert sum(map(len, DAMAGED.values())) >= 150
    assert sum(map(len, CLEAN.values())) >= 100


def test_damage_is_refused_at_95_percent_and_no_clean_text_is_refused() -> None:
    damaged, false_errors = recall_table()
    lines = [f"{'kind':<16} caught warned total recall"]
    for kind, (caught, warned, total) in damaged.items():
        lines.append(f"{kind:<16} {caught:>6} {warned:>6} {total:>5} {caught / total:>6.0%}")
    caught = sum(c for c, _, _ in damaged.values())
    total = sum(t for _, _, t in damaged.values())
    lines.append(f"{'all':<16} {caught:>6} {'':>6} {total:>5} {caught / total:>6.0%}")
    print("\n".join(lines))  # the table of the report: pytest -s shows it
    assert caught / total >= MIN_RECALL, "\n".join(lines)
    assert {kind: texts for kind, texts in false_errors.items() if texts} == {}


def test_every_code_found_in_the_corpus_is_registered() -> None:
    for texts in (*DAMAGED.values(), *CLEAN.values()):
        for text in texts:
            for finding in check_text(text, "text"):
                assert finding.code in CODES, finding.code


# --- properties ------------------------------------------------------------------------------

sentence = st.sampled_from(SENTENCES)
cut = st.integers(min_value=1, max_value=20)


@given(sentence, cut)
def test_any_sentence_read_with_the_wrong_codec_is_an_error(text: str, at: int) -> None:
    for codec in ("gbk", "cp1252", "mac_roman"):
        garbled = text.encode("utf-8").decode(codec, errors="replace")
        assert "error" in {f.severity for f in check_text(garbled, "t")}, (codec, garbled)


@given(sentence, cut, st.sampled_from("\u200b\u2060\u00ad\ufeff"))
def test_an_invisible_character_anywhere_is_fixed(text: str, at: int, char: str) -> None:
    at = min(at, len(text) - 1)
    findings = check_text(text[:at] + char + text[at:], "t")
    assert "fixed" in {f.severity for f in findings}
    assert "error" not in {f.severity for f in findings}


@given(sentence, cut, st.sampled_from("\u202a\u202b\u202d\u202e\u2066\u2067\u2068\u200e\u200f"))
def test_a_direction_control_anywhere_is_an_error(text: str, at: int, char: str) -> None:
    at = min(at, len(text) - 1)
    findings = check_text(text[:at] + char + text[at:], "t")
    assert any(f.code == "invisible.bidi" and f.severity == "error" for f in findings)


@given(
    st.lists(sentence, min_size=1, max_size=4),
    st.lists(
        st.sampled_from(
            ["🎉", "👍🏽", "2024年2月4日", "7.67万元", "≥80%", "APP", "https://mp.weixin.qq.com/s/x1",
             "“学习”", "《团课》", "王堃", "陈喆", " ", "\n"]
        ),
        max_size=4,
    ),
)  # fmt: skip
@settings(max_examples=200)
def test_clean_sentences_with_names_numbers_emoji_and_links_never_give_an_error(
    parts: list[str], extras: list[str]
) -> None:
    text = "".join(p + e for p, e in zip(parts, [*extras, *[""] * len(parts)], strict=False))
    assert [f for f in check_text(text, "t") if f.severity == "error"] == []


@given(
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\ud800\udfff"), max_size=80)
)
@settings(max_examples=300)
def test_any_input_gives_findings_never_an_exception(text: str) -> None:
    for finding in check_text(text, "t"):
        assert finding.code in CODES and finding.severity in ("error", "warning", "fixed")
        finding.describe("zh")
        finding.to_dict("en")


@given(st.text(alphabet=string.ascii_letters + string.digits + " ,.;:!-()'", max_size=120))
def test_plain_english_prose_is_never_an_error(text: str) -> None:
    errors = [f for f in check_text(text, "t") if f.severity == "error"]
    # ASCII prose can only hold placeholders by accident ("XX", "TODO", "%s" are refused)
    assert all(f.code in ("placeholder.marker", "template.unfilled") for f in errors)


def test_the_import_shortcut_finds_exactly_the_errors_the_full_checks_find() -> None:
    from bot.content.checks import import_problem
    from tests.unit.checks import page_examples

    texts = [
        *(t for ts in (*DAMAGED.values(), *CLEAN.values()) for t in ts),
        *(t for _, t in page_examples.DAMAGED),
        *page_examples.CLEAN,
        *page_examples.STYLE,
    ]
    for text in texts:
        full = [
            f
            for f in check_text(text, "value", simplified_only=False)
            if f.severity == "error" and f.code != "escape.html_tag"
        ]
        found = import_problem(text)
        assert (found is None) == (not full), text
        if found is not None:
            assert (found.code, found.position) == (full[0].code, full[0].position), text
