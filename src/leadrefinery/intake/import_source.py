"""Reading an import file: its encoding (one per file, import_reading.py), its delimiter and
its records, with the row numbers a spreadsheet shows. ``ImportFailed`` (re-exported by
importing.py) is what a file that cannot be read at all raises."""

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

_DELIMITERS = ",;\t|"


class ImportFailed(ServiceError):
    """The import could not run, or stopped. ``batch_id`` is set when rows were stored."""

    def __init__(self, message: str, *, field: str | None = None, batch_id: str | None = None):
        super().__init__(message, field=field)
        self.batch_id = batch_id


# --- Reading the file ----------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    name: str
    encoding: str
    delimiter: str
    open: Callable[[], IO[str]]
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
        if head.startswith(b"PK\x03\x04"):
            raise ImportFailed(
                f"{path.name} is a spreadsheet workbook, not a CSV file; save it as CSV first",
                field="file",
            )
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


def _open_source(file: str | Path | TextIO | IO[Any]) -> _Source:
    if isinstance(file, str | Path):
        path = Path(file)
        if not path.is_file():
            raise ImportFailed(f"file not found: {path}", field="file")
        encoding = _detect_encoding(path)

        def opener() -> IO[str]:
            return path.open(encoding=encoding.codec, errors=encoding.errors, newline="")

        name = path.name
        sha256, size = file_sha256(path=path)
        where = str(path.resolve())
    else:
        data = file.read()
        if isinstance(data, bytes):
            text, encoding = _decode(data)
            sha256, size = file_sha256(data)
        else:
            text, encoding = data.removeprefix("\ufeff"), Encoding("text")
            sha256, size = file_sha256(data.encode())
        where = ""

        def opener() -> IO[str]:
            return io.StringIO(text, newline="")

        name = str(getattr(file, "name", "") or "upload.csv")
    with opener() as stream:
        delimiter = _sniff_delimiter(_first_line(stream))
    return _Source(
        name=Path(name).name,
        encoding=encoding.codec,
        delimiter=delimiter,
        open=opener,
        notes=encoding.notes,
        sha256=sha256,
        size=size,
        path=where,
    )


def _is_blank(row: list[str]) -> bool:
    return not isinstance(row, Unreadable) and not any(cell.strip() for cell in row)


def _records(source: _Source) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every CSV record, blank ones included, so that numbers match
    what a spreadsheet shows even when a quoted cell spans several lines. A record the csv
    module cannot parse (a cell past its size limit) is an ``Unreadable`` row: that row is
    rejected, the reading goes on with the next line."""
    with source.open() as stream:
        reader = csv.reader(stream, delimiter=source.delimiter)
        number = 0
        while True:
            line = reader.line_num
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if reader.line_num == line:  # nothing consumed: it would fail forever
                    raise ImportFailed(
                        f"cannot read {source.name} as CSV near row {number + 1}: {exc}",
                        field="file",
                    ) from None
                number += 1
                yield (
                    number,
                    Unreadable(
                        f"this row could not be read as CSV ({exc}): a cell too long, or a quote "
                        "left open?"
                    ),
                )
                continue
            number += 1
            yield number, row
