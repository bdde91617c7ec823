"""An example catalogue file in any format the importer reads, to hand out as a template
(``bot catalogue example FILE``, the admin's download). Spreadsheets (``.xlsx``, ``.csv``) use
the Chinese headers and kind names committees use; the other formats the English keys."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bot.content import workbook
from bot.content.catalogue import FIELDS, HEADERS, KIND_NAMES, TOML_TABLE
from bot.domain.errors import UserError
from bot.i18n import text as msg

EXAMPLE_FORMATS = (".xlsx", ".csv", ".json", ".yaml", ".yml", ".toml")

# One resource per built-in kind; covers left empty (a local image path or an http(s) URL).
EXAMPLE: tuple[dict[str, object], ...] = (
    {
        "id": "platform-zhtj",
        "kind": "platform",
        "title": "智慧团建",
        "summary": "共青团中央建设的团员和团组织管理信息系统，可在线办理组织关系转接。",
        "url": "https://zhtj.youth.cn/zhtj/",
        "cover": "",
        "tags": ["团务", "学习平台"],
    },
    {
        "id": "exhibit-gutian-site",
        "kind": "exhibit",
        "title": "古田会议会址",
        "summary": "位于龙岩市上杭县古田镇。1929年12月，红四军第九次党的代表大会在此召开。",
        "url": "",
        "cover": "",
        "tags": ["红色旧址", "龙岩"],
    },
    {
        "id": "course-party-history",
        "kind": "course",
        "title": "党史学习网上课程",
        "summary": "按专题讲述中国共产党的历史，每讲二十分钟左右。",
        "url": "https://www.xuexi.cn/",
        "cover": "",
        "tags": ["党史"],
    },
    {
        "id": "lesson-2024-05",
        "kind": "lesson",
        "title": "五四主题团课",
        "summary": "纪念五四运动，学习五四精神。",
        "url": "",
        "cover": "",
        "tags": ["主题团课"],
    },
    {
        "id": "article-volunteer",
        "kind": "article",
        "title": "青年志愿者在行动",
        "summary": "记录本区青年志愿者参与社区服务的故事。",
        "url": "",
        "cover": "",
        "tags": ["志愿服务"],
    },
)


def example_rows() -> list[list[str]]:
    """The example as a table: the Chinese header row, then one row per resource."""
    rows = [[HEADERS[name] for name in FIELDS]]
    for item in EXAMPLE:
        row = []
        for name in FIELDS:
            value = item[name]
            if name == "kind":
                value = KIND_NAMES[str(value)]
            elif isinstance(value, list):
                value = ";".join(value)
            row.append(str(value))
        rows.append(row)
    return rows


def write_example(path: Path) -> None:
    """Write the example to ``path`` in the format its suffix names.

    Raises ``UserError`` for a suffix the importer does not read.
    """
    suffix = path.suffix.lower()
    if suffix not in EXAMPLE_FORMATS:
        message = msg(
            "{path}: cannot write an example as {suffix} (formats: {known})",
            path=str(path),
            suffix=repr(path.suffix or "(none)"),
            known=list(EXAMPLE_FORMATS),
        )
        raise UserError(message)
    if suffix == ".xlsx":
        workbook.write_sheet(path, "资源目录", example_rows())
        return
    path.write_bytes(example_bytes(suffix))


def example_bytes(suffix: str) -> bytes:
    """The example in a text format (``.csv``: UTF-8 with a byte-order mark, which Excel opens
    correctly; the others UTF-8)."""
    if suffix == ".csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(example_rows())
        return out.getvalue().encode("utf-8-sig")
    items = [{k: v for k, v in item.items() if v not in ("", [])} for item in EXAMPLE]
    if suffix == ".json":
        return (json.dumps(items, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if suffix in (".yaml", ".yml"):
        import yaml  # on first use

        return yaml.safe_dump(items, allow_unicode=True, sort_keys=False).encode("utf-8")
    return _toml(items).encode("utf-8")


def _toml(items: list[dict[str, object]]) -> str:
    lines: list[str] = []
    for item in items:
        lines.append(f"[[{TOML_TABLE}]]")
        for key, value in item.items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        lines.append("")
    return "\n".join(lines)
