"""A dry run's samples: the first few rows of each outcome, as the import page shows them.

The dry run decides each row's outcome from its matching pass; it remembers only the numbers
of the first rows of each kind (``Samples``), and ``dry_run_samples`` reads those rows again
from the file (reading, no matching: a small part of the dry run's time) to show who they
are. Nothing is kept per row, so a large file costs no more memory than before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from .import_mapping import HeaderMapping
from .import_reading import printable
from .import_source import _records, _Source

if TYPE_CHECKING:
    from .importing import ImportReport

SAMPLE_ROWS = 5
KINDS = ("new_leads", "attached", "people_new", "people_attached", "review", "rejected")
_SHOWN = ("first_name", "last_name", "name", "email", "phone", "company")


@dataclass
class Samples:
    """The numbers of the first rows of each outcome, at most ``limit`` each."""

    limit: int = SAMPLE_ROWS
    rows: dict[str, list[int]] = field(default_factory=dict)

    def add(self, kind: str, number: int) -> None:
        taken = self.rows.setdefault(kind, [])
        if len(taken) < self.limit:
            taken.append(number)


def _shown(mapping: HeaderMapping, row: list[str]) -> dict[str, str]:
    payload = mapping.payload(row)
    values = {name: str(payload.get(name, "")) for name in _SHOWN}
    name = " ".join(v for v in (values.pop("first_name"), values.pop("last_name")) if v)
    values["name"] = name or values["name"]
    return values


def dry_run_samples(
    source: _Source, mapping: HeaderMapping, report: ImportReport, wanted: dict[str, list[int]]
) -> dict[str, list[dict[str, str]]]:
    """The rows ``wanted`` (kind -> row numbers) as {row, name, email, phone, company, note}:
    the note is why a row is rejected, or its warnings."""
    numbers = {n for rows in wanted.values() for n in rows}
    cells: dict[int, list[str]] = {}
    if numbers:
        last = max(numbers)
        for number, row in islice(_records(source), last + 1):
            if number in numbers:
                cells[number] = printable(row)
            if number >= last:
                break
    notes: dict[int, list[str]] = {}
    for error in report.errors:
        if error.row in numbers:
            where = f"{error.column}: " if error.column else ""
            notes.setdefault(error.row, []).append(where + error.message)
    for warning in report.warnings:
        if warning.row in numbers:
            notes.setdefault(warning.row, []).append(warning.message)
    out: dict[str, list[dict[str, str]]] = {}
    for kind in KINDS:
        out[kind] = []
        for number in wanted.get(kind, []):
            row = cells.get(number) or report.rejected_rows.get(number) or []
            shown = {"row": str(number), **_shown(mapping, row)}
            note = "; ".join(notes.get(number, []))
            if kind == "review" and not note:
                note = "may be a person already known: sent to the duplicates queue"
            shown["note"] = note
            out[kind].append(shown)
    return out
