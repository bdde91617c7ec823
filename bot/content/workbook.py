"""Excel workbooks (``.xlsx``, through openpyxl): reading the first sheet's rows as text, and
writing one sheet of text. Cells are read as people see them: ``1001`` not ``1001.0``, a date
as ``2024-05-01``; formulas as their last computed value."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path

from bot.domain.errors import ImportFileError
from bot.i18n import text as msg

Rows = Iterator[tuple[int, list[str]]]  # (1-based row number, the row's cells as text)


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

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:  # missing, a folder, no permission: not a question of format
        reason = exc.strerror or type(exc).__name__
        message = msg("{path}: cannot read: {reason}", path=str(path), reason=msg(reason))
        raise ImportFileError(message, path=str(path)) from None
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
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
        rows = (
            (number, [cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        try:
            yield sheet.title, rows
        finally:
            rows.close()  # first: an unfinished sheet keeps the file open inside the zip
    finally:
        book.close()


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
