"""Reading an Excel workbook (.xlsx) as the rows of text a person sees in Excel.

The workbook is read with openpyxl in read-only streaming mode (``read_only=True``: one row in
memory at a time, a 100,000-row sheet never sits in memory; ``data_only=True``: a formula
gives the value Excel last calculated, not its text). Rows are numbered as Excel numbers
them, the first row being 1, so the numbers of rejected rows match what the user sees.

Cells become text as Excel shows them: an empty cell is "", a whole number typed as a number
(a phone number, 4155550100) has no ".0", other numbers are written out without an exponent,
dates are ISO dates (with the time when it is not midnight), booleans TRUE / FALSE.

The rows come from the first worksheet that holds data (visible sheets before hidden ones);
the notes say which one when the workbook has several. A file that is not a workbook openpyxl
can read (an old binary .xls, a password-protected workbook, which is stored the same way, a
corrupt or truncated file) raises ``WorkbookUnreadable`` with what to do about it.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

ZIP_MAGIC = b"PK\x03\x04"  # .xlsx (and every other Office Open XML file) is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx encrypted with a password

_SAVE_AS = "open it in Excel and save it as .xlsx (Excel Workbook) or CSV, then import that"


class WorkbookUnreadable(Exception):
    """The file cannot be read as a workbook; the message says why and what to do."""


@dataclass(frozen=True)
class Sheet:
    """The worksheet whose rows are imported, and what to tell the user about the choice."""

    title: str
    notes: tuple[str, ...] = ()


def refusal(head: bytes, name: str) -> str:
    """Why a file starting with ``head`` is a spreadsheet this import cannot read, or ""."""
    if head.startswith(OLE_MAGIC):
        return (
            f"{name} is an old Excel workbook (.xls) or a password-protected one, which cannot "
            f"be read here; {_SAVE_AS} (without a password)"
        )
    return ""


def cell_text(value: Any) -> str:
    """A cell's value as Excel shows it, as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return str(int(value))  # 4155550100.0: a phone typed as a number
        # Excel shows at most 15 significant digits (0.1 + 0.2 is 0.3), and no exponent.
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, datetime):
        if value.microsecond:  # Excel's fractions of a day land a hair off the second
            value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _row_text(values: tuple[Any, ...]) -> list[str]:
    cells = [cell_text(v) for v in values]
    while cells and not cells[-1]:
        cells.pop()  # a formatted but empty cell at the end of a row is nothing
    return cells


@contextmanager
def _workbook(open_binary: Callable[[], IO[bytes]], name: str) -> Iterator[Any]:
    from openpyxl import load_workbook  # only when a workbook is imported: a large package

    fh = open_binary()
    try:
        try:
            book = load_workbook(fh, read_only=True, data_only=True)
        except zipfile.BadZipFile:
            raise WorkbookUnreadable(
                f"{name} looks like an Excel workbook but is damaged or incomplete (not a "
                f"readable zip archive); {_SAVE_AS}"
            ) from None
        except Exception as exc:  # openpyxl raises many kinds for a bad file
            raise WorkbookUnreadable(
                f"{name} is a zip archive but not an Excel workbook openpyxl can read "
                f"({type(exc).__name__}: {str(exc)[:200]}); it may be another format (.ods, "
                f".xlsb, .docx) or damaged; {_SAVE_AS}"
            ) from None
        try:
            yield book
        finally:
            book.close()
    finally:
        fh.close()


def _sized(sheet: Any) -> Any:
    # The dimension a file declares may be missing or wrong (written by other programs):
    # without it every row is read as stored, however long.
    sheet.reset_dimensions()
    return sheet


def _has_data(sheet: Any) -> bool:
    return any(_row_text(row) for row in _sized(sheet).iter_rows(values_only=True))


def choose_sheet(open_binary: Callable[[], IO[bytes]], name: str) -> Sheet:
    """The first worksheet with data (visible ones first), and a note when there are several."""
    with _workbook(open_binary, name) as book:
        sheets = sorted(book.worksheets, key=lambda s: s.sheet_state != "visible")
        try:
            filled = [s.title for s in sheets if _has_data(s)]
        except Exception as exc:  # a damaged sheet: say so, never a traceback
            raise WorkbookUnreadable(
                f"cannot read the worksheets of {name} ({type(exc).__name__}: "
                f"{str(exc)[:200]}); {_SAVE_AS}"
            ) from None
        titles = [s.title for s in book.worksheets]
    if not titles:
        raise WorkbookUnreadable(f"{name} has no worksheet; {_SAVE_AS}")
    chosen = filled[0] if filled else titles[0]
    notes: tuple[str, ...] = ()
    if len(titles) > 1:
        others = [t for t in filled if t != chosen]
        note = (
            f"the workbook has {len(titles)} worksheets; the rows were read from "
            f"'{chosen}', the first with data"
        )
        if others:
            note += (
                f". Not imported: {', '.join(repr(t) for t in others)} (save each sheet as "
                "its own file to import it)"
            )
        notes = (note,)
    return Sheet(chosen, notes)


def sheet_rows(
    open_binary: Callable[[], IO[bytes]], name: str, title: str
) -> Iterator[tuple[int, list[str]]]:
    """(Excel's row number, the cells as text) for every row of the sheet, blank ones included.
    Rows are padded with empty cells to the header's width (the first row with data)."""
    with _workbook(open_binary, name) as book:
        number = width = 0
        rows = _sized(book[title]).iter_rows(values_only=True)
        while True:
            try:
                values = next(rows, None)
            except Exception as exc:  # damaged XML halfway through the sheet
                raise WorkbookUnreadable(
                    f"cannot read {name} after row {number} ({type(exc).__name__}: "
                    f"{str(exc)[:200]}); {_SAVE_AS}"
                ) from None
            if values is None:
                return
            number += 1
            cells = _row_text(values)
            if not width and cells:
                width = len(cells)
            elif len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            yield number, cells
