"""Findings about a whole file given to ``bot check``: it cannot be read, it is not in an
encoding we read, or a catalogue row is malformed (the importer's own refusal)."""

from __future__ import annotations

from bot.content.checks.findings import Text

FAMILY = "files"
CODES = {
    "file.unreadable": ("error", Text(
        "the file cannot be read, or its kind is not known", "文件无法读取，或文件类型未知")),
    "file.encoding": ("error", Text(
        "the file is not valid UTF-8 (or mixes encodings)", "文件不是有效的 UTF-8（或混用了编码）")),
    "catalogue.invalid": ("error", Text(
        "a catalogue row the importer refuses (missing field, unknown kind, bad link …)",
        "导入时会被拒绝的目录行（缺字段、未知类型、链接无效等）")),
    "render.refused": ("error", Text(
        "the column's template cannot draft a post from this row",
        "栏目模板无法用这一行生成文章")),
}  # fmt: skip
