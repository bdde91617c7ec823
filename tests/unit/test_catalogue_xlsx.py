"""Catalogues as committees keep them: Excel workbooks, Chinese headers and kind names."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.content.catalogue import read_catalogue
from bot.content.catalogue_example import EXAMPLE, EXAMPLE_FORMATS, write_example
from bot.domain.errors import ImportFileError, UserError
from bot.domain.models import BUILTIN_KINDS

KINDS = BUILTIN_KINDS
CHINESE_HEADER = ["编号", "类型", "标题", "简介", "链接", "封面", "标签"]


def workbook(path: Path, rows: list[list[object]], *, title: str = "资源目录") -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    second = book.create_sheet("说明")  # only the first sheet is read
    second.append(["这张表不是目录"])
    book.save(path)
    return path


def error(path: Path) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        read_catalogue(path, kinds=KINDS)
    return caught.value


def test_xlsx_with_chinese_headers_and_kinds_imports(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "目录.xlsx",
        [
            [],  # a blank first row, as a title row left empty
            CHINESE_HEADER,
            [1001, "平台", "智慧团建", "团员管理", "https://zhtj.youth.cn/", None, "团务；平台"],
            ["ex-2", "展馆", " 古田会议会址 ", datetime(2024, 5, 1), None, None, None],
            [None, None, None, None, None, None, None],
            ["c-3", "course", "网上团课", 12.5, None, None, "课程"],
        ],
    )
    items = read_catalogue(path, kinds=KINDS)
    assert [(r.id, r.kind, r.title) for r in items] == [
        ("1001", "platform", "智慧团建"),
        ("ex-2", "exhibit", "古田会议会址"),
        ("c-3", "course", "网上团课"),
    ]
    assert items[0].tags == ("团务", "平台")
    assert items[1].summary == "2024-05-01"
    assert items[2].summary == "12.5"
    assert [r.source for r in items] == ["目录.xlsx:3", "目录.xlsx:4", "目录.xlsx:6"]


def test_xlsx_error_names_sheet_row_and_column_in_either_language(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "目录.xlsx",
        [CHINESE_HEADER, ["a", "平台", "甲"], ["b", "星球", "乙"]],
    )
    caught = error(path)
    assert str(caught) == (
        f"{path}: sheet '资源目录', row 3, column B: field 'kind': unknown kind '星球' "
        "(known: platform, exhibit, course, lesson, article)"
    )
    assert caught.in_language("zh") == (
        f"{path}：工作表 '资源目录'，第 3 行，B 列：字段“类型”：未知类型 '星球'"
        "（可用：平台、展馆、课程、团课、文章）"
    )
    assert caught.fields == {
        "path": str(path),
        "line": 3,
        "field": "kind",
        "sheet": "资源目录",
        "column": "B",
    }


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([["编号", "类型"]], "sheet '资源目录', row 1: missing required column 'title'"),
        (
            [["来源单位", "类型", "标题"]],
            "row 1: unknown column '来源单位' (known: id, kind, title,",
        ),
        ([["编号", "类型", "标题", "标题"]], "row 1: column '标题' appears twice"),
        (
            [CHINESE_HEADER[:3], ["a", "平台", "甲", "多出来的"]],
            "sheet '资源目录', row 2, column D: a value but no header",
        ),
        ([[None], [None]], "sheet '资源目录': the sheet is empty (no header row)"),
        ([CHINESE_HEADER[:3], ["a", "平台", "甲"], ["a", "平台", "乙"]], "duplicate id 'a'"),
    ],
)
def test_bad_workbooks_are_refused_with_one_line(
    tmp_path: Path, rows: list[list[object]], expected: str
) -> None:
    message = str(error(workbook(tmp_path / "c.xlsx", rows)))
    assert expected in message and "\n" not in message


def test_a_missing_workbook_is_not_called_a_bad_one(tmp_path: Path) -> None:
    message = str(error(tmp_path / "missing.xlsx"))
    assert message == f"{tmp_path / 'missing.xlsx'}: cannot read: No such file or directory"


def test_a_file_that_is_not_a_workbook_says_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old .xls renamed")
    assert "save it as .xlsx" in str(error(path))
    old = tmp_path / "c.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert "save the file as Excel (.xlsx) or CSV" in str(error(old))
    assert "请另存为 Excel（.xlsx）或 CSV" in error(old).in_language("zh")


def test_chinese_headers_in_csv_and_keys_in_json(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_bytes("编号,类别,名称,标签\r\nx,团课,主题团课,a;b\r\n".encode("gbk"))
    [item] = read_catalogue(csv, kinds=KINDS)
    assert (item.id, item.kind, item.title, item.tags) == ("x", "lesson", "主题团课", ("a", "b"))
    data = [{"编号": "y", "类型": "文章", "标题": "一篇文章", "标签": ["t"]}]
    js = tmp_path / "c.json"
    js.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    [item] = read_catalogue(js, kinds=KINDS)
    assert (item.id, item.kind, item.tags) == ("y", "article", ("t",))


def test_the_same_field_under_two_names_is_refused(tmp_path: Path) -> None:
    js = tmp_path / "c.json"
    js.write_text(json.dumps([{"id": "y", "编号": "z", "kind": "平台", "title": "T"}]), "utf-8")
    assert "field 'id' appears twice" in str(error(js))


@pytest.mark.parametrize("suffix", EXAMPLE_FORMATS)
def test_the_example_file_reads_back_in_every_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"example{suffix}"
    write_example(path)
    items = read_catalogue(path, kinds=KINDS)
    assert [(r.id, r.kind, r.title, r.tags) for r in items] == [
        (e["id"], e["kind"], e["title"], tuple(e["tags"]))  # type: ignore[arg-type]
        for e in EXAMPLE
    ]
    assert {r.kind for r in items} == set(KINDS)


def test_the_spreadsheet_example_has_chinese_headers(tmp_path: Path) -> None:
    write_example(tmp_path / "e.csv")
    header = (tmp_path / "e.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "编号,类型,标题,简介,链接,封面,标签"
    with pytest.raises(UserError) as caught:
        write_example(tmp_path / "e.txt")
    assert "cannot write an example as '.txt'" in str(caught.value)


def test_a_remarks_column_is_read_past(tmp_path: Path) -> None:
    """备注 and 序号 are in every committee's sheet and hold no resource data."""
    path = workbook(
        tmp_path / "c.xlsx",
        [["序号", "编号", "类型", "标题", "备注"], [1, "a", "平台", "甲", "下周再核对链接"]],
    )
    [item] = read_catalogue(path, kinds=KINDS)
    assert (item.id, item.kind, item.title, item.summary) == ("a", "platform", "甲", "")
    csv = tmp_path / "c.csv"
    csv.write_text("编号,类型,标题,备注\na,平台,甲,随便写\n", encoding="utf-8")
    assert read_catalogue(csv, kinds=KINDS)[0].title == "甲"
    js = tmp_path / "c.json"
    js.write_text(json.dumps([{"id": "a", "kind": "平台", "title": "甲", "备注": "x"}]), "utf-8")
    assert read_catalogue(js, kinds=KINDS)[0].id == "a"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda xml: xml[: len(xml) // 2], "that can be read"),  # cut off mid-element
        (lambda xml: b'<?xml version="1.0"?><workbook>&undefined;</workbook>', "that can be read"),
        (
            lambda xml: (
                b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">'
                b'<!ENTITY b "&a;&a;&a;&a;">]><workbook>&b;</workbook>'
            ),
            "the workbook has no sheet",
        ),
    ],
)
def test_a_workbook_with_broken_xml_is_refused_not_a_crash(
    tmp_path: Path, damage: Callable[[bytes], bytes], expected: str
) -> None:
    """Broken XML inside the zip (security re-check N7): openpyxl's parse error while it opens
    the file is a user's bad file, one line, never an HTTP 500."""
    good = workbook(tmp_path / "good.xlsx", [CHINESE_HEADER[:3], ["a", "平台", "甲"]])
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, damage(data) if item.filename == "xl/workbook.xml" else data)
    message = str(error(bad))
    assert expected in message and "\n" not in message


def test_a_stray_cell_far_below_is_refused_without_walking_a_million_rows(
    tmp_path: Path,
) -> None:
    """Security re-checks 3 and 4, S5: one cell at XFD1048576 made a 1 KB workbook walk every
    empty row up to it (26–70 s of the import lane)."""
    path = workbook(tmp_path / "目录.xlsx", [CHINESE_HEADER, ["zhtj", "平台", "智慧团建"]])
    book = __import__("openpyxl").load_workbook(path)
    book.worksheets[0]["XFD1048576"] = "x"
    book.save(path)
    refused = error(path)
    assert "rows 3 to 10003 are empty and the sheet goes on" in refused.message
    assert "第 3 行到第 10003 行都是空行" in refused.in_language("zh")


def test_a_sheet_longer_than_any_catalogue_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.content import workbook as workbook_module

    monkeypatch.setattr(workbook_module, "MAX_SHEET_ROWS", 30)
    rows = [CHINESE_HEADER] + [[f"r{i}", "平台", f"资源{i}"] for i in range(40)]
    refused = error(workbook(tmp_path / "长.xlsx", rows))
    assert "the sheet goes on past row 30" in refused.message
