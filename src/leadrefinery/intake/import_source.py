"""Reading an import file: a CSV file (its encoding, one per file: import_reading.py; its
delimiter; its records) or an Excel workbook (import_xlsx.py), as rows of cells with the row
numbers a spreadsheet shows. ``ImportFailed`` (re-exported by importing.py) is what a file
that cannot be read at all raises.

A CSV file is split into records here rather than by the csv module alone, so that one stray
quote cannot swallow the rest of the file: the csv module reads a cell that opens with ``"``
up to the next quote, however many lines later (``"Acme Inc,`` with no closing quote turns
every following row into one cell). A quoted cell that runs over several lines is a *runaway*
when it reaches the end of the file unclosed, when the quote that ends it is followed by more
text (``...,"Initech"``: the opening quote of a later row's cell, not a closing one), or when
its lines look like whole rows (the header's number of cells) and the record then has another
number of cells than the header (or two such lines). A runaway rejects the row where the
quote opened ("an opening quote is never closed"); the lines after it are read again as rows
of their own.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from leadrefinery.common.errors import ServiceError

from .import_reading import UTF8, Encoding, Unreadable, choose
from .import_recovery import file_sha256
from .import_xlsx import ZIP_MAGIC, WorkbookUnreadable, choose_sheet, refusal, sheet_rows

_DELIMITERS = ",;\t|"
XLSX = "xlsx"  # the "encoding" a workbook is reported with (it has no delimiter)


class ImportFailed(ServiceError):
    """The import could not run, or stopped. ``batch_id`` is set when rows were stored."""

    def __init__(self, message: str, *, field: str | None = None, batch_id: str | None = None):
        super().__init__(message, field=field)
        self.batch_id = batch_id


# --- Reading the file ----------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    name: str
    encoding: str  # the codec of a CSV file; "xlsx" for a workbook
    delimiter: str  # "" for a workbook
    rows: Callable[[], Iterator[tuple[int, list[str]]]]  # (row number, cells), from the top
    notes: tuple[str, ...] = ()
    sha256: str = ""  # of the file's bytes: a second import of the same file is noticed
    size: int = 0
    path: str = ""  # the file's absolute path, when it was given one (a resume reads it again)


def _detect_encoding(path: Path) -> Encoding:
    """UTF-8 (a BOM is dropped) when the whole file decodes as such, else what most of its
    lines are (import_reading.choose): one encoding per file, never a mix."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return Encoding("utf-16", "replace")  # Excel's "Unicode Text"
        fh.seek(0)
        try:
            while block := fh.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            fh.seek(0)
            return choose(fh)
    return Encoding(UTF8)


def _decode(data: bytes) -> tuple[str, Encoding]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), Encoding("utf-16", "replace")
    try:
        return data.decode(UTF8), Encoding(UTF8)
    except UnicodeDecodeError:
        chosen = choose(data.splitlines())
        return data.decode(chosen.codec, errors=chosen.errors), chosen


def _first_line(stream: IO[str]) -> str:
    for line in stream:
        if line.strip():
            return line
    return ""


def _sniff_delimiter(line: str) -> str:
    """The delimiter is the candidate that occurs most often in the header line, outside
    quotes. (csv.Sniffer guesses from the body, which quoted multi-line cells confuse.)"""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _workbook_source(
    open_binary: Callable[[], IO[bytes]], name: str, sha256: str, size: int, where: str
) -> _Source:
    try:
        sheet = choose_sheet(open_binary, name)
    except WorkbookUnreadable as exc:
        raise ImportFailed(str(exc), field="file") from None
    return _Source(
        name=name,
        encoding=XLSX,
        delimiter="",
        rows=lambda: sheet_rows(open_binary, name, sheet.title),
        notes=sheet.notes,
        sha256=sha256,
        size=size,
        path=where,
    )


def _open_source(file: str | Path | TextIO | IO[Any]) -> _Source:
    """The file, told apart by its content (not its name): a workbook starts with the zip
    archive's signature, an old .xls with the OLE one, anything else is read as CSV."""
    if isinstance(file, str | Path):
        path = Path(file)
        if not path.is_file():
            raise ImportFailed(f"file not found: {path}", field="file")
        with path.open("rb") as fh:
            head = fh.read(8)
        name = path.name
        sha256, size = file_sha256(path=path)
        where = str(path.resolve())
        if problem := refusal(head, name):
            raise ImportFailed(problem, field="file")
        if head.startswith(ZIP_MAGIC):
            return _workbook_source(lambda: path.open("rb"), name, sha256, size, where)
        encoding = _detect_encoding(path)

        def opener() -> IO[str]:
            return path.open(encoding=encoding.codec, errors=encoding.errors, newline="")

    else:
        data = file.read()
        where = ""
        if isinstance(data, bytes):
            sha256, size = file_sha256(data)
            name = Path(str(getattr(file, "name", "") or "upload.xlsx")).name
            if problem := refusal(data[:8], name):
                raise ImportFailed(problem, field="file")
            if data.startswith(ZIP_MAGIC):
                return _workbook_source(lambda: io.BytesIO(data), name, sha256, size, where)
            text, encoding = _decode(data)
        else:
            text, encoding = data.removeprefix("\ufeff"), Encoding("text")
            sha256, size = file_sha256(data.encode())

        def opener() -> IO[str]:
            return io.StringIO(text, newline="")

        name = Path(str(getattr(file, "name", "") or "upload.csv")).name
    with opener() as stream:
        delimiter = _sniff_delimiter(_first_line(stream))
    return _Source(
        name=name,
        encoding=encoding.codec,
        delimiter=delimiter,
        rows=lambda: _csv_rows(opener, delimiter),
        notes=encoding.notes,
        sha256=sha256,
        size=size,
        path=where,
    )


def _is_blank(row: list[str]) -> bool:
    return not isinstance(row, Unreadable) and not any(cell.strip() for cell in row)


def _records(source: _Source) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every row of the file, blank ones included, so that numbers
    match what a spreadsheet shows (a CSV cell may span several lines). A row that cannot be
    read (a CSV cell past the csv module's size limit, a quote never closed) is an
    ``Unreadable`` row: that row is rejected, the reading goes on with the next."""
    try:
        yield from source.rows()
    except WorkbookUnreadable as exc:
        raise ImportFailed(str(exc), field="file") from None


# --- CSV records ---------------------------------------------------------------------

_RUNAWAY = (
    'an opening quote is never closed: the cell that starts with a double quote (") runs on '
    "over the rows below it, so this row is rejected and the rows after it are read on their "
    "own; remove the stray quote (or close it) and import this row again"
)


def _scan(line: str, delimiter: str, quoted: bool) -> tuple[bool, bool]:
    """Where ``line`` leaves a CSV record, read as the csv module reads it (not strict):
    (a quoted cell is still open at its end, a cell that was open when the line began was
    closed by a quote followed by more text, which a real closing quote never is)."""
    if not quoted and '"' not in line:
        return False, False
    spanning = quoted
    i, at_start = 0, True
    while True:
        j = line.find('"', i)
        if j < 0:
            return quoted, False
        if quoted:
            if line.startswith('"', j + 1):  # "" inside a quoted cell is one quote
                i = j + 2
                continue
            after = line[j + 1 : j + 2]
            if spanning and after and after not in (delimiter, "\r", "\n"):
                return False, True
            quoted = spanning = at_start = False
            i = j + 1
        else:  # a quote opens a cell only as its first character
            quoted = (j == i and at_start) or (j > i and line[j - 1] == delimiter)
            at_start = False
            i = j + 1


def _row_like(line: str, delimiter: str, width: int) -> bool:
    """Whether ``line``, read as a record of its own, has the header's ``width`` cells."""
    if width < 2:
        return False
    if '"' not in line:
        return line.count(delimiter) == width - 1
    if _scan(line, delimiter, False)[0]:
        return False
    return len(next(csv.reader([line], delimiter=delimiter), [])) == width


class _Lines:
    """The file's lines, with lines that were read ahead put back to be read again."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines = iter(stream)
        self._back: list[str] = []

    def next(self) -> str | None:
        return self._back.pop() if self._back else next(self._lines, None)

    def put_back(self, lines: list[str]) -> None:
        self._back.extend(reversed(lines))


def _quoted_record(
    lines: _Lines, first: str, delimiter: str, width: int
) -> tuple[list[str], str, int]:
    """The lines of a record whose first line leaves a quoted cell open: (its lines, why it
    cannot be read ("" if it can), how many of its later lines look like whole rows)."""
    parts, size, row_like = [first], len(first), 0
    limit = csv.field_size_limit()
    while True:
        line = lines.next()
        if line is None:
            return parts, _RUNAWAY, row_like  # the end of the file, the quote still open
        parts.append(line)
        size += len(line)
        row_like += _row_like(line, delimiter, width)
        quoted, bad_close = _scan(line, delimiter, True)
        if bad_close:
            return parts, _RUNAWAY, row_like
        if not quoted:
            return parts, "", row_like
        if size > limit:
            if row_like:
                return parts, _RUNAWAY, row_like
            # A genuine cell past the csv module's limit: skip to its end, reject the row.
            while (line := lines.next()) is not None:
                quoted, bad_close = _scan(line, delimiter, True)
                if bad_close or not quoted:
                    break
            return (
                [],
                f"this row could not be read as CSV (a cell longer than {limit} characters)",
                0,
            )


def _cells_as_written(line: str, delimiter: str) -> list[str]:
    """A rejected line's cells, its quotes taken literally (for the error file)."""
    reader = csv.reader([line.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE)
    return next(reader, [])


def _open_column(line: str, delimiter: str, header: list[str]) -> str:
    """The header of the column whose quote is left open at the end of ``line``."""
    cells = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    index = len(cells) - 1
    return header[index] if 0 <= index < len(header) else ""


def _csv_rows(open_text: Callable[[], IO[str]], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    with open_text() as stream:
        lines = _Lines(stream)
        number = 0
        header: list[str] = []
        while (first := lines.next()) is not None:
            number += 1
            parts, problem, row_like = [first], "", 0
            if _scan(first, delimiter, False)[0]:
                parts, problem, row_like = _quoted_record(lines, first, delimiter, len(header))
            row: list[str] = []
            if not problem:
                try:
                    row = next(csv.reader(parts, delimiter=delimiter), [])
                except csv.Error as exc:
                    problem = (
                        f"this row could not be read as CSV ({exc}): a cell too long, or a "
                        "quote left open?"
                    )
                if row_like and (row_like >= 2 or len(row) != len(header)):
                    problem = _RUNAWAY
            if problem == _RUNAWAY:
                lines.put_back(parts[1:])
                column = _open_column(first, delimiter, header)
                yield number, Unreadable(problem, _cells_as_written(first, delimiter), column)
                continue
            if problem:
                yield number, Unreadable(problem)
                continue
            if not header and any(cell.strip() for cell in row):
                header = [cell.strip() for cell in row]
            yield number, row
