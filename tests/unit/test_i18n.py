"""The admin's languages: every string the templates and views translate has its Chinese."""

from __future__ import annotations

import argparse
import ast
import re
import string
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from bot import i18n as table
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


def test_each_key_lives_in_one_area() -> None:
    owners: dict[str, list[str]] = {}
    for area, entries in table.TABLES.items():
        for english in entries:
            owners.setdefault(english, []).append(area)
    twice = {english: areas for english, areas in owners.items() if len(areas) > 1}
    assert not twice, f"strings defined in more than one bot/i18n/zh module: {twice}"
    assert len(table.ZH) == sum(len(entries) for entries in table.TABLES.values())


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_chinese_keeps_the_fields_of_the_english() -> None:
    wrong = {
        english: chinese
        for english, chinese in table.ZH.items()
        if _fields(english) != _fields(chinese)
    }
    assert not wrong, wrong


def test_text_renders_in_each_language() -> None:
    inner = table.text("draft")
    outer = table.Text("{status}: {n}", {"status": inner, "n": 3})
    assert outer.render("en") == "draft: 3"
    assert str(outer) == "draft: 3"
    assert table.translate("zh", "draft") == "草稿"
    assert table.translate("zh", "{status}: {n}", status=inner, n=3) == "草稿: 3"


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


def _sentences_in_code() -> dict[str, str]:
    """Each English string the code passes to ``bot.i18n``'s ``text``/``Text``/``translate``
    or to the command line's ``say`` (under whatever name it imports them), with where."""
    found: dict[str, str] = {}
    root = Path(table.__file__).resolve().parent.parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: dict[str, int] = {}  # local name -> index of the English argument
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.i18n":
                for alias in node.names:
                    if alias.name in ("text", "Text"):
                        names[alias.asname or alias.name] = 0
                    elif alias.name == "translate":
                        names[alias.asname or alias.name] = 1
            if isinstance(node, ast.ImportFrom) and node.module == "bot.cli.common":
                for alias in node.names:
                    if alias.name == "say":  # say(args, "English", **fields)
                        names[alias.asname or alias.name] = 1
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            index = names.get(node.func.id)
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found[arg.value] = f"{path.relative_to(root)}:{node.lineno}"
    return found


def test_every_sentence_in_the_code_has_chinese() -> None:
    used = _sentences_in_code()
    assert len(used) > 40
    missing = {english: where for english, where in used.items() if english not in table.ZH}
    assert not missing, "add these to a module of bot/i18n/zh/: " + repr(missing)


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("created by web:admin", "由 admin（网页） 创建"),
        ("stage submitted", "阶段：已提交"),
        ("published [event]", "已发布（推送通知）"),
        ("by web:admin; 可以发布", "操作人 admin（网页）；可以发布"),
        ("answer lost; looking for it", "没有收到应答，正在查找结果"),
        (
            "draft/add: errcode 40007: invalid media_id (unknown, temporary, deleted or "
            "already-published draft)",
            "draft/add：错误码 40007：media_id 无效（未知、临时、已删除或已发布的草稿）",
        ),
        ("no post with id 12", "没有编号为 12 的文章"),
        (
            "schedule=m fire_at=2026-11-30T00:00:00+00:00 local=2026-11-30T08:00:00+08:00 "
            "late=1.5s posts=18 (queue empty; drafted post 18 (waits for review))",
            "发布计划=m 触发时间=2026-11-30T00:00:00+00:00 本地时间=2026-11-30T08:00:00+08:00 "
            "延迟=1.5秒 文章=18（队列为空；起草了文章 18（等待审核））",
        ),
        ("something nobody wrote a template for", "something nobody wrote a template for"),
    ],
)
def test_stored_sentences_are_matched_against_the_templates(english: str, chinese: str) -> None:
    assert table.translate_sentence("zh", english) == chinese
    assert table.translate_sentence("en", english) == english


def _help_texts() -> set[str]:
    from bot.cli import build_parser

    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        if parser.description:
            found.add(parser.description)
        for action in parser._actions:
            if action.help and action.help is not argparse.SUPPRESS:
                found.add(action.help)
            if isinstance(action, argparse._SubParsersAction):
                found.update(c.help for c in action._choices_actions if c.help)
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    return found


def test_every_help_text_of_the_command_line_has_chinese() -> None:
    texts = _help_texts()
    assert len(texts) > 40
    missing = sorted(t for t in texts if t not in table.ZH)
    assert not missing, "add these to bot/i18n/zh/cli_help.py: " + repr(missing)


def test_log_details_show_times_as_the_page_does() -> None:
    from bot.web.render import local_times

    text = "计划时间 2026-11-30T00:00:00+00:00；下次尝试 2026-11-30T01:28:00.5Z；编号 2026-1"
    assert local_times(text, "Asia/Shanghai") == (
        "计划时间 2026-11-30 08:00:00；下次尝试 2026-11-30 09:28:00；编号 2026-1"
    )
