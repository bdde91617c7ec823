"""The command line in Chinese (``--lang zh``, what it prints without ``$BOT_LANG``): the
example workbook, an import with a bad row, kinds, statuses, the log, ``queue show``."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

from openpyxl import load_workbook

from tests.e2e.conftest import (
    COLUMN,
    Project,
    project,  # noqa: F401 (a fixture)
    simulator,  # noqa: F401 (a fixture)
)


def test_a_committee_works_in_chinese(project: Project) -> None:  # noqa: F811
    assert project.run("db", "upgrade").code == 0
    workbook = project.root / "目录.xlsx"
    made = project.run("--lang", "zh", "catalogue", "example", str(workbook))
    assert made.code == 0, made.stderr
    assert "已写出" in made.stdout and "bot catalogue import" in made.stdout
    again = project.run("--lang", "zh", "catalogue", "example", str(workbook))
    assert again.code == 1 and "已存在" in again.stderr and "--force" in again.stderr

    book = load_workbook(workbook)
    book.worksheets[0]["B3"] = "星球"
    bad = project.root / "坏.xlsx"
    book.save(bad)
    refused = project.run("--lang", "zh", "catalogue", "import", str(bad))
    assert refused.code == 1 and refused.stdout == ""
    assert refused.stderr.startswith("错误：")
    assert "工作表 '资源目录'，第 3 行，B 列：字段“类型”：未知类型 '星球'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    imported = project.run("--lang", "zh", "catalogue", "import", str(workbook))
    assert imported.code == 0, imported.stderr
    assert "新增 5 条，更新 0 条" in imported.stdout
    listing = project.run("--lang", "zh", "catalogue", "list").stdout
    assert re.search(r"exhibit-gutian-site\s+展馆\s+古田会议会址", listing)
    # A cover drafting could not load is named under its row (review 6, M1).
    with closing(sqlite3.connect(project.root / "bot.db")) as con, con:
        con.execute(
            "UPDATE resources SET cover_problem = 'image x: the server answered 404' "
            "WHERE id = 'exhibit-gutian-site'"
        )
    listing = project.run("--lang", "zh", "catalogue", "list").stdout
    assert re.search(r"古田会议会址\n\s+封面无法加载：image x: the server answered 404\n", listing)

    drafted = project.run("draft", "--column", COLUMN, "--resource", "exhibit-gutian-site")
    assert drafted.code == 0, drafted.stderr
    queue = project.run("--lang", "zh", "queue", "list").stdout
    assert "排队中" in queue or "待审核" in queue
    shown = project.run("--lang", "zh", "queue", "show", "1")
    assert shown.code == 0, shown.stderr
    for part in (
        "状态：",
        "--- Markdown 正文 ---",
        "古田会议会址",
        "--- 检查结果 ---",
        "--- 历史记录 ---",
    ):
        assert part in shown.stdout, shown.stdout
    log = project.run("--lang", "zh", "log", "--since", "00:00")
    assert log.code == 0, log.stderr
    assert "创建" in log.stdout and "文章 1" in log.stdout
    wrong = project.run("--lang", "zh", "log", "--since", "昨天下午")
    assert wrong.code == 1 and wrong.stderr.startswith("错误：不是日期或时间")
