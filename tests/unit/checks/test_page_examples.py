"""The review's page of damage kinds, example by example, through the text checks. (The same
examples go through bot draft and the API's edit in tests/integration/test_check_surfaces.py.)"""

from __future__ import annotations

import pytest

from bot.content.checks import check_text
from tests.unit.checks.page_examples import CLEAN, DAMAGED, FIXABLE, STYLE


def severities(text: str) -> set[str]:
    return {f.severity for f in check_text(text, "text")}


@pytest.mark.parametrize(
    ("kind", "text"), DAMAGED, ids=[f"{k}-{i}" for i, (k, _) in enumerate(DAMAGED)]
)
def test_damage_is_refused(kind: str, text: str) -> None:
    found = severities(text)
    assert "error" in found or (kind in FIXABLE and "fixed" in found), (text, found)


@pytest.mark.parametrize("text", STYLE)
def test_style_is_a_warning(text: str) -> None:
    assert severities(text) == {"warning"}


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_passes_without_errors(text: str) -> None:
    assert "error" not in severities(text)


def test_bidi_controls_are_errors_even_where_other_invisible_characters_are_fixed() -> None:
    findings = check_text("青年\u200b大学习\u202e123\u202c", "title")
    assert {(f.code, f.severity) for f in findings} == {
        ("invisible.zero_width", "fixed"),
        ("invisible.bidi", "error"),
    }
