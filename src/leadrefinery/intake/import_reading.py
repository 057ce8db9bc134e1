"""Reading an import file's bytes as text: one encoding for the whole file, and the rows that
cannot be read in it.

Spreadsheet programs on Windows write Windows-1252; everything else writes UTF-8. A file is
sometimes both: a UTF-8 export with one row pasted in from elsewhere. Decoding such a file
as Windows-1252 would turn every accented letter of every other row into mojibake ("Ã©" for
"é"), silently. So the encoding is decided per file, by its lines: UTF-8 when most lines
with non-ASCII bytes are valid UTF-8, else Windows-1252; and the rows in the minority
encoding are rejected by name (with their row number, into the error file), never guessed.
The choice is reported as a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

UTF8 = "utf-8-sig"  # a BOM, when present, is dropped
CP1252 = "cp1252"


@dataclass(frozen=True)
class Encoding:
    """How to decode the file: the codec, its error handler, and what to tell the user."""

    codec: str
    errors: str = "strict"
    notes: tuple[str, ...] = ()


def choose(lines: Iterable[bytes]) -> Encoding:
    """The encoding of a file that is not valid UTF-8 as a whole, from its lines."""
    good = bad = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    if good and good >= bad:
        # Undecodable bytes become lone surrogates, which mark their rows (row_problem).
        return Encoding(
            UTF8,
            "surrogateescape",
            (
                f"the file is UTF-8, but {bad} line(s) are not (another encoding, such as "
                "Windows-1252, pasted in): their rows are rejected rather than guessed",
            ),
        )
    note = "the file is not UTF-8; it was read as Windows-1252"
    if good:
        note += f" ({good} line(s) look like UTF-8: their rows are rejected rather than guessed)"
    return Encoding(CP1252, "replace", (note,))


def row_problem(row: Sequence[str], codec: str) -> str:
    """Why a row cannot be read in the file's encoding, or "" when it can."""
    text = "".join(row)
    if text.isascii():
        return ""
    if codec == UTF8:
        if any("\udc80" <= char <= "\udcff" for char in text):
            return (
                "this row is not UTF-8 like the rest of the file (e.g. Windows-1252 text "
                "pasted in), so its letters could not be read; fix them and import it again"
            )
        return ""
    if codec == CP1252:
        try:
            text.encode(CP1252).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return ""
        return (
            "this row is UTF-8 while the file is Windows-1252, so its letters would be "
            "garbled (e.g. 'Ã©' for 'é'); fix them and import it again"
        )
    return ""


def printable(row: Sequence[str]) -> list[str]:
    """The row's cells with unreadable bytes shown as U+FFFD (for the error file)."""
    return [cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for cell in row]


def extra_cells(row: Sequence[str], width: int) -> list[str]:
    """The filled cells beyond the header's ``width`` (empty trailing cells do not count)."""
    return [cell.strip() for cell in row[width:] if cell.strip()]


def missing_cells(row: Sequence[str], header: Sequence[str]) -> list[str]:
    """The header's (named) columns a row with fewer cells than the header stops short of."""
    return [name for name in header[len(row) :] if name] if 0 < len(row) < len(header) else []


class Unreadable(list[str]):
    """A CSV record that could not be read (a cell past the csv module's size limit, a quote
    never closed...): why, the column it was in when that is known, and the cells as far as
    they could be made out (for the error file)."""

    def __init__(self, problem: str, cells: Iterable[str] = (), column: str = "") -> None:
        super().__init__(cells)
        self.problem = problem
        self.column = column
