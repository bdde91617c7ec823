"""The admin's languages: every string the templates and views translate has its Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from bot.web import i18n

WEB = Path(i18n.__file__).resolve().parent
CALL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
VIEW_CALL = re.compile(r"""translate\(\s*request,\s*(["'])(.+?)\1\s*\)""")


def _used() -> set[str]:
    found = set()
    for path in (WEB / "templates").glob("*.html"):
        found |= {m.group(2) for m in CALL.finditer(path.read_text(encoding="utf-8"))}
    for path in WEB.rglob("*.py"):
        found |= {m.group(2) for m in VIEW_CALL.finditer(path.read_text(encoding="utf-8"))}
    return found


def test_every_translated_string_has_chinese() -> None:
    used = _used()
    assert len(used) > 50
    missing = sorted(text for text in used if text not in i18n.ZH)
    assert not missing, missing


def test_translators() -> None:
    assert i18n.translator("zh")("Dashboard") == "概览"
    assert i18n.translator("en")("Dashboard") == "Dashboard"
    assert i18n.translator("zh")("not in the table") == "not in the table"


@pytest.mark.parametrize(
    ("path", "cookie", "default", "expected"),
    [
        ("/?lang=en", "", "zh", ("en", True)),
        ("/?lang=xx", "en", "zh", ("en", False)),
        ("/", "", "zh", ("zh", False)),
        ("/", "", "en", ("en", False)),
        ("/", "fr", "zh", ("zh", False)),
    ],
)
def test_choose_language(path: str, cookie: str, default: str, expected: tuple[str, bool]) -> None:
    headers = {"Cookie": f"lang={cookie}"} if cookie else {}
    request = make_mocked_request("GET", path, headers=headers)
    assert i18n.choose_language(request, default) == expected
