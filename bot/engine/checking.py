"""``bot check``: catalogue files (row by row, as a column would draft them) and Markdown
files (as post bodies) through the same checks as drafting, storing nothing and calling
nothing. Every problem becomes a finding tied to a file and a line; no input, however
damaged, raises."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import ColumnConfig, Config
from bot.content.checks import Finding, check_body, check_cover, check_text, has_surrogates
from bot.content.checks.findings import Text, whole
from bot.domain.errors import BotError, ContentRejectedError
from bot.domain.models import BUILTIN_KINDS, Resource

MARKDOWN_SUFFIXES = (".md", ".markdown")
DEFAULT_TEMPLATE = "posts/default.md.j2"


@dataclass(frozen=True)
class FileFinding:
    """A finding in a file: ``line`` is the file's line (the row's first line for a
    catalogue row), ``id`` the catalogue row's id (None for a Markdown file)."""

    file: str
    line: int | None
    id: str | None
    finding: Finding

    @property
    def severity(self) -> str:
        return self.finding.severity

    def to_dict(self, lang: str = "zh") -> dict[str, object]:
        return (
            {"file": self.file, "line": self.line, "id": self.id}
            | {k: v for k, v in self.finding.to_dict(lang).items() if k != "line"}
            | {"field_line": self.finding.line}
        )

    def describe(self, lang: str = "zh") -> str:
        """``FILE:LINE: error|warning|fixed CODE: message`` and where in the field."""
        f = self.finding
        where = [f"{'字段' if lang == 'zh' else 'field'} {f.field}"]
        if self.id is not None:
            where.insert(0, f"id {self.id}")
        if f.article is not None:
            where.append(f"第{f.article + 1}篇" if lang == "zh" else f"article {f.article + 1}")
        if f.column is not None and self.id is None:
            where.append(f"第{f.column}列" if lang == "zh" else f"column {f.column}")
        elif f.position is not None:
            where.append(f"第{f.position + 1}字" if lang == "zh" else f"character {f.position + 1}")
        text = f"{self.file}:{self.line or 1}: {f.severity} {f.code}: {f.text(lang)}"
        text += f" [{', '.join(where)}]"
        if f.excerpt and f.excerpt not in text:
            text += f" «{f.excerpt}»"
        fix = f.suggestion(lang)
        if fix:
            text += f"（{fix}）" if lang == "zh" else f" ({fix})"
        return text


def check_files(
    paths: Sequence[Path], config: Config | None, column: ColumnConfig | None
) -> list[FileFinding]:
    out: list[FileFinding] = []
    for path in paths:
        try:
            if path.suffix.lower() in MARKDOWN_SUFFIXES:
                out += _markdown_file(path)
            else:
                out += _catalogue_file(path, config, column)
        except Exception as exc:  # a finding, never a traceback: the file is named
            message = Text(f"the file could not be checked: {exc}", f"文件无法检查：{exc}")
            out.append(_at(path, None, None, whole("error", "file.unreadable", "file", message)))
    return out


def _at(path: Path, line: int | None, row_id: str | None, finding: Finding) -> FileFinding:
    return FileFinding(str(path), line, row_id, finding)


# --- Markdown ------------------------------------------------------------------------------


def _markdown_file(path: Path) -> list[FileFinding]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        message = Text(f"cannot read: {exc.strerror or exc}", f"无法读取：{exc.strerror or exc}")
        return [_at(path, None, None, whole("error", "file.unreadable", "file", message))]
    try:
        markdown = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = Text(
            f"line {line} is not valid UTF-8; save the file as UTF-8",
            f"第 {line} 行不是有效的 UTF-8，请把文件存为 UTF-8",
        )
        finding = whole("error", "file.encoding", "file", message)
        return [_at(path, line, None, finding)]
    markdown = markdown.replace("\r\n", "\n")
    from bot.content import render

    try:
        html = render.render_markdown(markdown)
    except ContentRejectedError as exc:  # over the Markdown limit: said per file, not rendered
        return [_at(path, 1, None, f) for f in exc.findings if isinstance(f, Finding)]
    findings = check_body(markdown, html)
    return [_at(path, f.line or 1, None, f) for f in findings]


# --- catalogue -----------------------------------------------------------------------------


def _catalogue_file(
    path: Path, config: Config | None, column: ColumnConfig | None
) -> list[FileFinding]:
    from bot.content.catalogue import iter_catalogue

    kinds = config.kinds if config is not None else BUILTIN_KINDS
    out: list[FileFinding] = []
    try:
        for resource in iter_catalogue(path, kinds=kinds, text_checks=False):
            out += _resource(path, resource, config, column)
    except BotError as exc:
        line = exc.fields.get("line")
        message = Text(exc.in_language("en"), exc.in_language("zh"))
        field = str(exc.fields.get("field") or "row")
        code = (
            "file.encoding"
            if "encoding" in str(exc) or "UTF-8" in str(exc)
            else "catalogue.invalid"
        )
        finding = whole("error", code, field, message)
        out.append(_at(path, line if isinstance(line, int) else None, None, finding))
    return out


def _row_line(resource: Resource) -> int | None:
    match = re.search(r":(\d+)$", resource.source)
    return int(match.group(1)) if match else None


def _resource(
    path: Path, resource: Resource, config: Config | None, column: ColumnConfig | None
) -> list[FileFinding]:
    line = _row_line(resource)
    findings: list[Finding] = []
    for field, value in (
        ("title", resource.title),
        ("summary", resource.summary),
        ("tags", "；".join(resource.tags)),
    ):
        allowed = column.traditional_allowed if column else ()
        findings += check_text(value, field, allowed_traditional=allowed)
    if not has_surrogates(resource.title, resource.summary):  # else nothing can render it
        findings += _as_drafted(resource, config, column)
    return [_at(path, line, resource.id, f) for f in findings]


def _as_drafted(
    resource: Resource, config: Config | None, column: ColumnConfig | None
) -> list[Finding]:
    """The post the column would draft from this row alone: the limits, the links, the
    Markdown and the cover (the text itself was checked field by field above)."""
    from bot.content import checks, render
    from bot.content.render import TITLE_LIMIT
    from bot.domain.errors import ContentRejectedError

    if len(resource.title) > TITLE_LIMIT:
        message = Text(
            f"the title has {len(resource.title)} characters; at most {TITLE_LIMIT}",
            f"标题有 {len(resource.title)} 个字，最多 {TITLE_LIMIT} 个",
        )
        fix = Text("shorten the title", "请缩短标题")
        return [whole("error", "title.too_long", "title", message, resource.title, fix)]
    template = column.template if column else DEFAULT_TEMPLATE
    templates_dir = config.templates_dir if config else _default_templates_dir()
    context: dict[str, Any] = {
        "column": {
            "name": column.name if column else "",
            "author": column.author if column else "",
        },
        "resource": resource,
        "resources": [resource],
        "now": datetime.now(UTC),
    }
    try:
        rendered = render.render_post(template, templates_dir=templates_dir, context=context)
    except ContentRejectedError as exc:
        message = Text(str(exc), str(exc))
        return [whole("error", "render.refused", "template", message)]
    author = column.author if column else ""
    found = checks.check_post(
        rendered.title,
        author,
        rendered.digest,
        rendered.html,
        rendered.content_source_url,
        markdown=rendered.markdown,
    )
    keep = {"title.too_long", "title.bytes", "author.too_long", "digest.too_long",
            "content.too_long", "content.too_large", "source_url.too_long",
            "source_url.invalid", "markdown.footnote", "link.invalid"}  # fmt: skip
    out = [dataclasses.replace(f, field=_field_of(f.field)) for f in found if f.code in keep]
    cover = resource.cover or (column.cover if column else "") or "default"
    return out + check_cover(cover)


def _field_of(field: str) -> str:
    return {"markdown": "post", "content": "post"}.get(field, field)


def _default_templates_dir() -> Path:
    from bot.config import PROJECT_ROOT

    return PROJECT_ROOT / "templates"


def has_errors(findings: Iterable[FileFinding]) -> bool:
    return any(f.severity == "error" for f in findings)
