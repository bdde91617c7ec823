"""Reading catalogue files (CSV, JSON, JSON Lines, YAML, TOML) into domain ``Resource`` objects.

Every format goes through the same field checks, so a row means the same thing whatever file
it came from. The first bad row stops the file with an ``ImportFileError`` whose one-line
message names the file (as given), the line and the field::

    catalogue.csv:7: field 'kind': unknown kind 'planet' (known: platform, exhibit, …)

Formats, chosen by the file's suffix:

- ``.csv``: a header row naming the columns (case and surrounding spaces ignored), then one
  resource per record; ``tags`` are separated by ``;`` (or the full-width ``；`` a Chinese
  input method types). Lines are physical lines, so a quoted cell spanning lines still points
  at the line its record starts on.
- ``.json``: an array of objects. ``.jsonl`` / ``.ndjson``: one object per line (streamed).
- ``.yaml`` / ``.yml``: a list of mappings (safe loading only).
- ``.toml``: an array of tables under the key ``resource`` (``[[resource]]``), nothing else.

Fields: ``id`` (required, unique in the file, at most 200 characters, no whitespace), ``kind``
(required, one of the kinds given), ``title`` (required), ``summary`` (may span lines),
``url`` (http or https), ``cover`` (an http(s) URL, or a JPEG/PNG/GIF/BMP file that must
exist, relative to the catalogue file's directory; stored as an absolute path), ``tags``.
Values are stripped; text with encoding damage (U+FFFD, "锟斤拷", UTF-8 read as Latin-1) or
control characters is refused. Rows whose cells are all empty are skipped.

Every file is decoded the same way: UTF-8 (with or without a byte-order mark) when the whole
file is valid UTF-8, else GB18030 (a superset of GBK, which is what Excel writes on Chinese
Windows). Columns or keys the importer does not know are errors naming them, since they are
nearly always a mistyped header whose data would otherwise be silently dropped.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.content.sample import sample_catalogue_path as sample_catalogue_path  # re-exported
from bot.domain.errors import ImportFileError
from bot.domain.models import Resource

FIELDS = ("id", "kind", "title", "summary", "url", "cover", "tags")
REQUIRED_FIELDS = ("id", "kind", "title")
MAX_ID_LENGTH = 200
TOML_TABLE = "resource"
PROGRESS_EVERY = 1000  # on_progress is called after this many resources, and once at the end
COVER_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp")

_CHUNK = 1 << 16

# C0/C1 controls except tab and newline (checked separately), lone surrogates (JSON allows
# "\ud800"), and a byte-order mark in the middle of text (two files pasted together).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
# UTF-8 bytes read as Latin-1/cp1252: a lead byte followed by its continuation bytes, e.g.
# "ä¸­æ–‡" for "中文". Chinese text never contains these pairs.
_CONT = "\u00a0-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_LATIN1_MOJIBAKE = re.compile(f"[\u00c2-\u00df][{_CONT}]|[\u00e0-\u00ef][{_CONT}]{{2}}")
# UTF-8 replacement characters (EF BF BD) read as GBK.
_GBK_MOJIBAKE = "锟斤拷"
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TAG_SEPARATOR = re.compile("[;；]")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_TOML_HEADER = re.compile(rf'^\s*\[\[\s*"?{TOML_TABLE}"?\s*\]\]')
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True, slots=True)
class _Row:
    """One raw record as a reader found it, with where it was found."""

    values: Mapping[str, object]
    line: int | None  # physical line the record starts on, when known
    item: int | None = None  # 1-based position in a JSON/YAML/TOML list
    field_lines: Mapping[str, int] = field(default_factory=dict)  # YAML knows each value's line
    separated_tags: bool = False  # CSV: tags are one ";"-separated cell


def read_catalogue(path: Path, *, kinds: Sequence[str]) -> list[Resource]:
    """Every resource of the file at ``path``, or none.

    Raises ``ImportFileError`` naming file, line and field on the first bad row.
    """
    return list(iter_catalogue(path, kinds=kinds))


def iter_catalogue(
    path: Path,
    *,
    kinds: Sequence[str],
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[Resource]:
    """Resources of the file at ``path``, one at a time, in file order.

    CSV and JSON Lines are streamed, so memory stays bounded by the ids seen (kept to find
    duplicates); the other formats are parsed whole. The file is all-or-nothing only for a
    caller that consumes the whole iterator before committing anything: an
    ``ImportFileError`` may come after resources were already yielded. ``on_progress``
    receives the number of resources read so far, every ``PROGRESS_EVERY`` and at the end.
    """
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(_READERS))
        raise ImportFileError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r} (known: {known})",
            path=str(path),
        )
    checker = _RowChecker(path, tuple(kinds))
    done = 0
    for row in reader(path):
        if _is_blank(row.values):
            continue
        resource = checker.check(row)
        done += 1
        if on_progress is not None and done % PROGRESS_EVERY == 0:
            on_progress(done)
        yield resource
    if on_progress is not None:
        on_progress(done)


# --- field checks, shared by every format -------------------------------------------------


class _RowChecker:
    """Turns raw rows into Resources, remembering ids to refuse duplicates."""

    def __init__(self, path: Path, kinds: tuple[str, ...]) -> None:
        self.path = path
        self.kinds = kinds
        self.seen: dict[str, str] = {}  # id -> where it first appeared
        self.row = _Row({}, None)

    def check(self, row: _Row) -> Resource:
        self.row = row
        unknown = [str(k) for k in row.values if k not in FIELDS]
        if unknown:
            names = ", ".join(repr(k) for k in unknown)
            raise self.fail(None, f"unknown field {names} (known: {', '.join(FIELDS)})")
        resource = Resource(
            id=self.id(),
            kind=self.kind(),
            title=self.required("title"),
            summary=self.text("summary", multiline=True),
            url=self.url("url", self.text("url")),
            cover=self.cover(),
            tags=self.tags(),
            source=f"{self.path.name}:{row.line}" if row.line else f"{self.path.name}#{row.item}",
        )
        self.seen[resource.id] = _where_short(row)
        return resource

    def fail(self, name: str | None, message: str) -> ImportFileError:
        line = self.row.field_lines.get(name, self.row.line) if name else self.row.line
        where = _location(self.path, line, self.row.item)
        what = f"field {name!r}: " if name else ""
        return ImportFileError(
            f"{where}: {what}{message}", path=str(self.path), line=line, field=name
        )

    def raw(self, name: str) -> str:
        value = self.row.values.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {_describe(value)}")
        return value

    def text(self, name: str, *, multiline: bool = False, value: str | None = None) -> str:
        text = (self.raw(name) if value is None else value).strip()
        if multiline:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        elif "\n" in text or "\r" in text:
            raise self.fail(name, "must be one line")
        problem = text_problem(text, multiline=multiline)
        if problem:
            raise self.fail(name, problem)
        return text

    def required(self, name: str) -> str:
        if name not in self.row.values:
            raise self.fail(name, "missing (required)")
        text = self.text(name)
        if not text:
            raise self.fail(name, "empty (required)")
        return text

    def id(self) -> str:
        value = self.required("id")
        if len(value) > MAX_ID_LENGTH:
            raise self.fail("id", f"{len(value)} characters long (at most {MAX_ID_LENGTH})")
        if any(ch.isspace() for ch in value):
            raise self.fail("id", f"{value!r} contains whitespace")
        if value in self.seen:
            raise self.fail("id", f"duplicate id {value!r} (first at {self.seen[value]})")
        return value

    def kind(self) -> str:
        value = self.required("kind")
        if value not in self.kinds:
            raise self.fail("kind", f"unknown kind {value!r} (known: {', '.join(self.kinds)})")
        return value

    def url(self, name: str, value: str) -> str:
        if not value:
            return ""
        if any(ch.isspace() for ch in value):
            raise self.fail(name, f"URL {value!r} contains whitespace")
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            raise self.fail(name, f"{value!r} is not a valid URL ({exc})") from exc
        if not parts.scheme:
            raise self.fail(name, f"{value!r} is not an absolute http(s) URL")
        if parts.scheme.lower() not in ("http", "https"):
            raise self.fail(name, f"URL scheme {parts.scheme!r} not allowed (http or https only)")
        if not parts.hostname:
            raise self.fail(name, f"URL {value!r} has no host")
        return value

    def cover(self) -> str:
        value = self.text("cover")
        if not value or _URL_LIKE.match(value):
            return self.url("cover", value)
        cover = Path(value)
        if not cover.is_absolute():
            cover = self.path.parent / cover
        cover = cover.resolve()
        if cover.suffix.lower() not in COVER_SUFFIXES:
            raise self.fail("cover", f"{value!r} is not a JPEG, PNG, GIF or BMP image")
        if not cover.is_file():
            raise self.fail("cover", f"cover file not found: {cover}")
        return str(cover)

    def tags(self) -> tuple[str, ...]:
        value = self.row.values.get("tags")
        if value is None:
            return ()
        if isinstance(value, str) and self.row.separated_tags:
            parts: list[object] = list(_TAG_SEPARATOR.split(value))
        elif isinstance(value, list):
            parts = value
        else:
            raise self.fail("tags", f"expected a list of strings, got {_describe(value)}")
        tags: list[str] = []
        for part in parts:
            if not isinstance(part, str):
                raise self.fail("tags", f"expected a list of strings, found {_describe(part)}")
            tag = self.text("tags", value=part)
            if tag and tag not in tags:
                tags.append(tag)
        return tuple(tags)


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with ``text`` (encoding damage, control characters), or None."""
    if "\ufffd" in text:
        return "contains U+FFFD, a character lost in an earlier encoding conversion"
    if _GBK_MOJIBAKE in text:
        return f"contains {_GBK_MOJIBAKE!r}, UTF-8 text damaged by a GBK conversion"
    mojibake = _LATIN1_MOJIBAKE.search(text)
    if mojibake:
        return f"contains {mojibake.group()!r}, UTF-8 text misread as Latin-1 (encoding damage)"
    found = _CONTROL.search(text) or (None if multiline else re.search("\t", text))
    if not found:
        return None
    char = found.group()
    if char == "\ufeff":
        return "contains a byte-order mark (U+FEFF) inside the text"
    if "\ud800" <= char <= "\udfff":
        return f"contains an unpaired surrogate U+{ord(char):04X}"
    return f"contains the control character U+{ord(char):04X}"


def _location(path: Path, line: int | None, item: int | None) -> str:
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: item {item}" if item is not None else where


def _where_short(row: _Row) -> str:
    if row.item is None:
        return f"line {row.line}"
    return f"item {row.item}, line {row.line}" if row.line else f"item {row.item}"


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def _is_blank(values: Mapping[str, object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values())


# --- decoding -----------------------------------------------------------------------------


def _fail(path: Path, line: int | None, message: str) -> ImportFileError:
    return ImportFileError(f"{_location(path, line, None)}: {message}", path=str(path), line=line)


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is valid UTF-8, else ``gb18030`` when it is valid
    GB18030/GBK. Reads the file in chunks, so memory stays bounded.

    Raises ``ImportFileError`` for an unreadable file, UTF-16, or bytes valid in neither.
    """
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise _fail(path, None, f"cannot read: {exc.strerror or exc}") from exc
    if not head:
        raise _fail(path, None, "the file is empty")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _fail(path, 1, "UTF-16 is not supported; save the file as UTF-8 or GBK CSV")
    utf8_bad = _first_bad_line(path, "utf-8-sig")
    if utf8_bad is None:
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF8):
        raise _fail(path, utf8_bad, "not valid UTF-8 although the file starts with a UTF-8 BOM")
    gb_bad = _first_bad_line(path, "gb18030")
    if gb_bad is None:
        return "gb18030"
    # Whichever decoding got further is the one the file was meant to be in.
    line = max(utf8_bad, gb_bad)
    raise _fail(path, line, "bytes that are neither UTF-8 nor GBK/GB18030")


def _first_bad_line(path: Path, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 1
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.object may begin with bytes held over from the last chunk: lead bytes,
                # never b"\n", in both UTF-8 and GB18030.
                return lines + bytes(exc.object).count(b"\n", 0, exc.start)
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return lines
    return None


def _read_text(path: Path) -> str:
    encoding = detect_encoding(path)
    return path.read_bytes().decode(encoding)


# --- readers, one per format --------------------------------------------------------------


def _csv_rows(path: Path) -> Iterator[_Row]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f, strict=True)
        names: list[str] | None = None
        start = 1
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                hint = " (a quoted cell is never closed)" if "end of data" in str(exc) else ""
                raise _fail(path, start, f"malformed CSV: {exc}{hint}") from exc
            if names is None:
                if any(cell.strip() for cell in record):
                    names = _csv_header(path, start, record)
                continue
            yield _csv_row(path, start, names, record)
        if names is None:
            raise _fail(path, None, "no header row")


def _csv_header(path: Path, line: int, record: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in record]
    unknown = [n for n in names if n and n not in FIELDS]
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        raise _fail(path, line, f"unknown column {listed} (known: {', '.join(FIELDS)})")
    for name in names:
        if name and names.count(name) > 1:
            raise _fail(path, line, f"column {name!r} appears twice")
    for name in REQUIRED_FIELDS:
        if name not in names:
            raise _fail(path, line, f"missing required column {name!r}")
    return names


def _csv_row(path: Path, line: int, names: list[str], record: list[str]) -> _Row:
    values: dict[str, object] = {}
    for index, cell in enumerate(record):
        name = names[index] if index < len(names) else ""
        if name:
            values[name] = cell
        elif cell.strip():
            # Excel keeps empty trailing columns; a value there has lost its header.
            raise _fail(path, line, f"column {index + 1} has a value but no header")
    for name in names:
        if name:
            values.setdefault(name, "")
    return _Row(values, line, separated_tags=True)


def _json_rows(path: Path) -> Iterator[_Row]:
    """Walks the top-level array item by item, so each item knows the line it starts on."""
    text = _read_text(path)
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip(pos: int) -> int:
        match = _JSON_SPACE.match(text, pos)
        return match.end() if match else pos

    pos = skip(0)
    if not text.startswith("[", pos):
        raise _fail(path, line_at(pos), "expected a JSON array of objects")
    pos = skip(pos + 1)
    item = 0
    while not text.startswith("]", pos):
        item += 1
        line = line_at(pos)
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _fail(path, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
        except _DuplicateKey as exc:
            raise _fail(path, line, f"item {item}: field {exc.key!r} appears twice") from exc
        yield _Row(_mapping(path, line, item, value, "a JSON object"), line, item)
        pos = skip(pos)
        if text.startswith(",", pos):
            pos = skip(pos + 1)
            if text.startswith("]", pos):
                raise _fail(path, line_at(pos), "invalid JSON: trailing comma before ']'")
        elif not text.startswith("]", pos):
            raise _fail(path, line_at(pos), "invalid JSON: expected ',' or ']' after an item")
    if skip(pos + 1) != len(text):
        raise _fail(path, line_at(skip(pos + 1)), "invalid JSON: extra data after the array")


def _jsonl_rows(path: Path) -> Iterator[_Row]:
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)
    with path.open(encoding=detect_encoding(path)) as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                value = decoder.decode(text.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                raise _fail(path, line, f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
            except _DuplicateKey as exc:
                raise _fail(path, line, f"field {exc.key!r} appears twice") from exc
            yield _Row(_mapping(path, line, None, value, "a JSON object"), line)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _mapping(
    path: Path, line: int | None, item: int | None, value: object, what: str
) -> dict[str, object]:
    if not isinstance(value, dict):
        where = _location(path, line, item)
        raise ImportFileError(
            f"{where}: expected {what}, got {_describe(value)}", path=str(path), line=line
        )
    return value


def _yaml_rows(path: Path) -> Iterator[_Row]:
    loader = yaml.SafeLoader(_read_text(path))
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _yaml_error(path, exc) from exc
        if node is None:
            raise _fail(path, None, "the file holds no YAML document")
        if not isinstance(node, yaml.SequenceNode):
            raise _fail(path, node.start_mark.line + 1, "expected a YAML list of mappings")
        for item, child in enumerate(node.value, start=1):
            line = child.start_mark.line + 1
            try:
                value = loader.construct_object(child, deep=True)
            except yaml.YAMLError as exc:
                raise _yaml_error(path, exc) from exc
            field_lines: dict[str, int] = {}
            if isinstance(child, yaml.MappingNode):
                for key_node, value_node in child.value:
                    key = str(key_node.value)
                    if key in field_lines:
                        message = f"item {item}: field {key!r} appears twice"
                        raise _fail(path, key_node.start_mark.line + 1, message)
                    field_lines[key] = value_node.start_mark.line + 1
            values = _mapping(path, line, item, value, "a mapping")
            yield _Row({str(k): v for k, v in values.items()}, line, item, field_lines)
    finally:
        loader.dispose()


def _yaml_error(path: Path, exc: yaml.YAMLError) -> ImportFileError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return _fail(path, mark.line + 1 if mark else None, f"invalid YAML: {problem}")


def _toml_rows(path: Path) -> Iterator[_Row]:
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        message = _TOML_LINE.sub("", str(exc)).strip()
        line = int(found.group(1)) if found else None
        raise _fail(path, line, f"invalid TOML: {message}") from exc
    unknown = [key for key in data if key != TOML_TABLE]
    if unknown:
        listed = ", ".join(repr(k) for k in unknown)
        raise _fail(
            path, None, f"unknown top-level key {listed} (resources go in [[{TOML_TABLE}]])"
        )
    tables = data.get(TOML_TABLE, [])
    if not isinstance(tables, list):
        raise _fail(path, None, f"{TOML_TABLE!r} must be an array of tables ([[{TOML_TABLE}]])")
    headers = [n for n, s in enumerate(text.splitlines(), start=1) if _TOML_HEADER.match(s)]
    for item, value in enumerate(tables, start=1):
        # Line numbers are only known for [[resource]] headers; an inline array has none.
        line = headers[item - 1] if len(headers) == len(tables) else None
        yield _Row(_mapping(path, line, item, value, "a table"), line, item)


_READERS: dict[str, Callable[[Path], Iterator[_Row]]] = {
    ".csv": _csv_rows,
    ".json": _json_rows,
    ".jsonl": _jsonl_rows,
    ".ndjson": _jsonl_rows,
    ".yaml": _yaml_rows,
    ".yml": _yaml_rows,
    ".toml": _toml_rows,
}
