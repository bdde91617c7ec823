"""Excel workbooks (``.xlsx``, through openpyxl): reading the first sheet's rows as text, and
writing one sheet of text. Cells are read as people see them: ``1001`` not ``1001.0``, a date
as ``2024-05-01``; formulas as their last computed value."""

from __future__ import annotations

import zipfile
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path

from bot.domain.errors import ImportFileError
from bot.i18n import text as msg

Rows = Generator[tuple[int, list[str]], None, None]  # (1-based row number, its cells as text)


def column_letter(index: int) -> str:
    """The letter of the 0-based column ``index`` (0 → ``A``, 26 → ``AA``)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


@contextmanager
def first_sheet(path: Path) -> Iterator[tuple[str, Rows]]:
    """The first worksheet's name and its rows, streamed (memory stays bounded); the file is
    closed when the block ends.

    Raises ``ImportFileError`` when the file is not a readable ``.xlsx`` workbook.
    """
    # openpyxl on first use: a service that never reads a workbook does not carry it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _refuse_bombs(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:  # missing, a folder, no permission: not a question of format
        reason = exc.strerror or type(exc).__name__
        message = msg("{path}: cannot read: {reason}", path=str(path), reason=msg(reason))
        raise ImportFileError(message, path=str(path)) from None
    # SyntaxError: the XML parsers' errors (ElementTree's ParseError, lxml's) for a part that
    # is cut off or names an undefined entity.
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, SyntaxError) as exc:
        message = msg(
            "{path}: not an Excel workbook (.xlsx) that can be read ({reason}); an old .xls "
            "or a password-protected workbook cannot be: save it as .xlsx without a password",
            path=str(path),
            reason=type(exc).__name__,
        )
        raise ImportFileError(message, path=str(path)) from None
    try:
        if not book.worksheets:
            raise ImportFileError(msg("{path}: the workbook has no sheet", path=str(path)))
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions; read every cell present
        # max_col: a cell far to the right (XFD) would make every row 16,384 cells long.
        rows = _read_rows(path, sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS))
        try:
            yield sheet.title, rows
        finally:
            rows.close()  # first: an unfinished sheet keeps the file open inside the zip
    finally:
        book.close()


MAX_COLUMNS = 64  # a catalogue has seven fields; the rest of a wider sheet is not read
MAX_UNZIPPED = 200 * 1024 * 1024  # what the parts of one workbook may unpack to
MAX_RATIO = 200  # a part that unpacks to more than this many times its size is a bomb


def _refuse_bombs(path: Path) -> None:
    """Refuse a workbook whose parts would unpack to more than ``MAX_UNZIPPED`` bytes, or a
    large part packed more than ``MAX_RATIO`` to one, before openpyxl reads any of it (it
    loads the shared strings whole). Raises ImportFileError."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (OSError, zipfile.BadZipFile):
        return  # load_workbook says what is wrong with it
    total = sum(p.file_size for p in parts)
    packed = [p for p in parts if p.file_size > 1024 * 1024]
    if total > MAX_UNZIPPED or any(
        p.file_size > MAX_RATIO * max(p.compress_size, 1) for p in packed
    ):
        message = msg(
            "{path}: the workbook unpacks to {size} MB (at most {limit} MB, and no part "
            "packed more than {ratio} to 1)",
            path=str(path),
            size=total // (1024 * 1024),
            limit=MAX_UNZIPPED // (1024 * 1024),
            ratio=MAX_RATIO,
        )
        raise ImportFileError(message, path=str(path))


def _read_rows(path: Path, values: Iterator[tuple[object, ...]]) -> Rows:
    """The rows as text; a sheet that breaks while read is the file's error, not ours."""
    from xml.etree.ElementTree import ParseError

    number = blank_run = 0
    try:
        while True:
            try:
                row = next(values)
            except StopIteration:
                return
            except (ParseError, SyntaxError, ValueError, IndexError, TypeError, KeyError) as exc:
                message = msg(
                    "{path}: not an Excel workbook (.xlsx) that can be read ({reason})",
                    path=str(path),
                    reason=type(exc).__name__,
                )
                raise ImportFileError(message, path=str(path)) from None
            number += 1
            cells = [cell_text(value) for value in row]
            blank_run = blank_run + 1 if not any(cell.strip() for cell in cells) else 0
            _refuse_endless(path, number, blank_run)
            yield number, cells
    finally:
        close = getattr(values, "close", None)
        if close is not None:
            close()  # the sheet's reader holds its part of the file open until closed


# A sheet is read row by row up to its last cell: one stray cell at row 1,048,576 made a
# 1 KB workbook walk a million empty rows (security re-checks 3 and 4, S5).
MAX_SHEET_ROWS = 250_000  # a catalogue file has at most 200,000 resources, blank rows aside
MAX_BLANK_RUN = 10_000


def _refuse_endless(path: Path, number: int, blank_run: int) -> None:
    if number > MAX_SHEET_ROWS:
        message = msg(
            "{path}: the sheet goes on past row {n}; a catalogue file holds at most 200,000 "
            "resources (split it into several files)",
            path=str(path),
            n=MAX_SHEET_ROWS,
        )
        raise ImportFileError(message, path=str(path), line=number)
    if blank_run > MAX_BLANK_RUN:
        start = number - blank_run + 1
        message = msg(
            "{path}: rows {start} to {end} are empty and the sheet goes on; delete the empty "
            "rows and whatever stands below them",
            path=str(path),
            start=start,
            end=number,
        )
        raise ImportFileError(message, path=str(path), line=start)


def cell_text(value: object) -> str:
    """A cell's value as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def write_sheet(path: Path, title: str, rows: Sequence[Sequence[str]]) -> None:
    """Write ``rows`` (the first one a header, shown bold) as the only sheet of a workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(len(rows[0]) if rows else 0):
        longest = max(len(str(row[index])) for row in rows if index < len(row))
        sheet.column_dimensions[column_letter(index)].width = min(60, max(10, longest * 2))
    sheet.freeze_panes = "A2"
    book.save(path)
