"""The import's error file: every rejected row with its row number, column and message, then
its original cells, so that it can be fixed in a spreadsheet and imported again."""

from __future__ import annotations

import csv
from collections import defaultdict
from typing import TYPE_CHECKING, TextIO

from leadrefinery.common import spreadsheet

if TYPE_CHECKING:
    from .importing import ImportReport, RowError


def write_error_csv(report: ImportReport, out: TextIO) -> int:
    """Write every rejected row: ``row``, ``column``, ``error``, then its original cells under
    the original headers, so it can be fixed and imported again. Returns the rows written.
    Cells a spreadsheet would run as a formula (``=cmd|...``) are defused with an apostrophe
    (common/spreadsheet.py): the file is opened in one to be fixed."""
    writer = csv.writer(out)
    safe = spreadsheet.cell
    writer.writerow(["row", "column", "error", *map(safe, report.header)])
    by_row: dict[int, list[RowError]] = defaultdict(list)
    for error in report.errors:
        by_row[error.row].append(error)
    for number in sorted(by_row):
        errors = by_row[number]
        columns = list(dict.fromkeys(e.column for e in errors if e.column))
        writer.writerow(
            [
                number,
                safe("; ".join(columns)),
                safe("; ".join(e.message for e in errors)),
                *map(safe, report.rejected_rows.get(number, [])),
            ]
        )
    return len(by_row)
