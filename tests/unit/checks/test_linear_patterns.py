"""Patterns rewritten to run in linear time (security review 3, S3) still find what they found.

Nothing here is timed (machines are noisy): the timing is ``python -m
tests.bench.content_patterns``, which prints the 25 k → 100 k ratio of every pattern in
``bot/content/**``. These tests hold the rewritten patterns to the old ones' matches on real
escapes and on any text made of the characters they look at."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.checks import check_text, encoding, escapes, markup, placeholders
from bot.content.checks.findings import Hit, Text, line_starts, place

# escapes._UNICODE as it was: O(n²) on a run of backslashes with no escape after it.
OLD_UNICODE = re.compile(
    r"(?:\\+(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}))+"
)

REAL_ESCAPES = [
    "\\u56e2\\u8bfe",  # JSON pasted as text
    '{"title": "\\u9752\\u5e74\\u5927\\u5b66\\u4e60"}',
    "\\\\u56e2\\\\u8bfe",  # escaped twice
    "b'\\xe5\\x9b\\xa2\\xe8\\xaf\\xbe'",  # Python bytes
    "\\U0001F600 and \\u{1F600}",  # Python's long escape and JavaScript's
    "团课\\u56e2 团课\\x41\\x42",
    "路径 C:\\Users\\x41 与 C:\\\\new\\\\u0041",
    "结尾的反斜杠 \\\\\\",
    "不完整的 \\u56e 与 \\x4 与 \\u{}",
    "\\\\\\\\\\\\\\\\\\u56e2 a long run, then an escape",
    "混合 \\u56e2\\\\x41\\U0001F600\\u{56e2}x",
]


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


def test_unicode_escapes_match_as_before_on_real_escapes() -> None:
    for text in REAL_ESCAPES:
        assert spans(escapes._UNICODE, text) == spans(OLD_UNICODE, text), text
    assert spans(escapes._UNICODE, REAL_ESCAPES[0]) == [(0, 12)]  # one finding for the run


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="\\\\\\uUx{}0123456789abcdefABCDEFg团 ", max_size=60))
def test_unicode_escapes_match_as_before_on_any_text_of_their_characters(text: str) -> None:
    assert spans(escapes._UNICODE, text) == spans(OLD_UNICODE, text)


def test_a_long_run_of_backslashes_is_no_escape_and_is_scanned_once() -> None:
    # The old pattern took minutes here (124 s at 100,000); the new one starts only at the
    # first backslash of a run, so each run costs one pass. The per-test timeout is the guard.
    run = "\\" * 100_000
    assert not escapes._UNICODE.search(run)
    assert not [f for f in check_text(run, "markdown") if f.code == "escape.unicode"]
    (hit,) = escapes.check(run + "u56e2")
    assert hit.code == "escape.unicode" and (hit.start, hit.end) == (0, 100_005)


# markup.check_html's code removal as it was: O(n²) on a run of "<pre>" never closed.
OLD_WITHOUT_CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.S)

REAL_HTML = [
    "<p>a</p><pre><code>x = [^1]</code></pre><p>b <code>[^2]</code> c</p>",
    '<section><pre style="a">one</pre>text<pre>two</pre></section>',
    "<pre>never closed <code>but this is</code> and <p>text</p>",
    '<pre title="<code>x</code>">unclosed</p>',
    "<prefix>not a pre</prefix><code >spaced</code ><code>x</code>",
    "<pre><pre>nested</pre></pre> after",
    "<code",
    "<pre<pre<pre>",
]


@pytest.mark.parametrize("html", REAL_HTML)
def test_code_is_removed_from_html_as_before(html: str) -> None:
    assert markup.without_code(html) == OLD_WITHOUT_CODE.sub("", html)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["<pre>", "</pre>", "<code>", "</code>", "<pre", ">", "<p>", "a", " "]),
        max_size=30,
    ).map("".join)
)
def test_code_is_removed_as_before_from_any_html_of_those_tags(html: str) -> None:
    assert markup.without_code(html) == OLD_WITHOUT_CODE.sub("", html)


def test_a_run_of_unclosed_pre_tags_is_scanned_once() -> None:
    html = "<pre>" * 100_000  # the old pattern: minutes (0.5 s at 5,000, 4.8 s at 20,000)
    assert markup.without_code(html) == html
    assert markup.check_html(html) == []


def _old_placeholder_spans(text: str) -> list[tuple[int, int]]:
    """placeholders.check's markers as they were found: every span scanned per marker."""
    taken: list[tuple[int, int]] = []
    for pattern in (placeholders._BRACKETED, placeholders._MARKERS):
        for match in pattern.finditer(text):
            if not any(s <= match.start() < e for s, e in taken):
                taken.append(match.span())
    return taken


def _placeholder_spans(text: str) -> list[tuple[int, int]]:
    hits = placeholders.check(text)
    return [(h.start, h.end) for h in hits if h.code == "placeholder.marker"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["【", "】", "[", "]", " ", "XX", "xxx", "TODO", "此处填写", "待补充", "a", "年"]
        ),
        max_size=25,
    ).map("".join)
)
def test_placeholders_are_found_as_before(text: str) -> None:
    assert _placeholder_spans(text) == _old_placeholder_spans(text)


def test_placeholders_in_real_text_are_found_as_before() -> None:
    for text in ("【此处填写姓名】与 XXX 和【 TODO 】", "- [ ] a\n" * 50, "[XX年] XX年 ____ □□"):
        assert _placeholder_spans(text) == _old_placeholder_spans(text), text


@pytest.mark.parametrize("text", ["", "no line break", "a\nb\n\nc", "\n\nx\n", "- [ ] a\n" * 9])
def test_a_hit_is_placed_on_the_same_line_and_column_with_the_line_starts(text: str) -> None:
    starts = line_starts(text)
    for start in range(len(text) + 1):
        hit = Hit("error", "x.y", start, start, Text("", ""))
        assert place(text, "f", hit, None, starts) == place(text, "f", hit), start


def _old_sentence(text: str, at: int) -> tuple[int, bool]:
    """encoding's sentence before a '?' as it was found: split and searched from the top."""
    sentence = re.split("[。！？!.\n]", text[:at])[-1]
    end = max(text.rfind(c, 0, at) for c in "。！？!.\n")
    return end, bool(encoding._QUESTION_WORDS.search(sentence))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["中", "?", "。", "!", ".", "\n", "吗", "是不", "是", "可不可", "以", "没"]
        ),
        max_size=30,
    ).map("".join)
)
def test_the_sentence_before_each_question_mark_is_read_as_before(text: str) -> None:
    asks = encoding._Asks(text)
    for at in range(len(text) + 1):
        assert asks.before(at) == _old_sentence(text, at), at


def test_a_long_sentence_of_question_marks_is_searched_once() -> None:
    text = "中?" * 50_000  # the old search: 9 s at 16,000 characters, O(n²)
    found = encoding.check(text)
    marks = {"encoding.lost_char", "encoding.stray_question_mark"}
    assert sum(1 for hit in found if hit.code in marks) == 49_999  # the last: "truncated"
