"""An import's dry run, and the report lines both it and the import write for a row.

The dry run is the import's own matching pass (import_plan.py) followed by its counts: what
the import would do, row for row, without writing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadrefinery.common.collector import fewer_collections
from leadrefinery.leads import domain
from leadrefinery.leads.models import Lead
from leadrefinery.leads.normalize import NormalizeResult

from .import_mapping import HeaderMapping
from .import_plan import plan_import
from .import_samples import Samples

if TYPE_CHECKING:
    from .importing import ImportReport

_QUERY_CHUNK = 500  # keys per IN (...) query: well under SQLite's variable limit


@dataclass(frozen=True)
class RowError:
    """A row's problem in an import's report (importing.py re-exports it)."""

    row: int  # as a spreadsheet shows it: the header is row 1, the first data row is 2
    column: str  # the CSV header that held the bad value
    message: str


def reject_row(
    report: ImportReport,
    mapping: HeaderMapping,
    number: int,
    row: list[str],
    errors: Iterable[tuple[str, str]],
) -> None:
    report.rejected += 1
    report.rejected_rows[number] = row
    for name, message in errors:
        report.errors.append(RowError(number, mapping.column_for(name, row), message))


def warn_row(
    report: ImportReport, mapping: HeaderMapping, number: int, row: list[str], notes: Iterable[str]
) -> None:
    custom = {name: mapping.headers[i] for i, name in mapping.custom.items()}
    for note in notes:
        name = note.split(" ", 1)[0] if note.startswith(("phone ", "email ", "website ")) else ""
        name = name or ("country" if "country" in note else "")
        column = mapping.column_for(name, row) if name else ""
        column = custom.get(note.split(" ", 1)[0], column)
        report.warnings.append(RowError(number, column, note))


def dry_run_counts(
    chunks: Iterator[list],
    mapping: HeaderMapping,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> dict[str, list[int]]:
    """The import's own matching pass (import_plan.py), then its counts: what the import
    would do, row for row. Returns the numbers of the first rows of each outcome (the
    report's samples)."""

    def rejected(number: int, row: list[str], result: NormalizeResult) -> None:
        reject_row(report, mapping, number, row, ((e.field, e.message) for e in result.errors))

    def kept(number: int, row: list[str], result: NormalizeResult) -> None:
        assert result.clean is not None
        warn_row(report, mapping, number, row, result.clean.warnings)

    with fewer_collections():
        plan = plan_import(chunks, mapping, rejected=rejected, kept=kept, progress=progress)
    good: list[tuple[object, str]] = []
    shown = Samples()
    for number, planned in plan.rows.items():  # in file order
        if planned.person is not None:
            who: object = planned.person
        elif planned.same_as is not None:
            who = good[planned.same_as][0]
        else:
            who = ("row", planned.good)
            report.review += bool(planned.review)
            if planned.review:
                shown.add("review", number)
        report.people_attached += not planned.creates
        report.people_new += planned.creates
        shown.add("people_new" if planned.creates else "people_attached", number)
        good.append((who, planned.product))
    report.imported = len(good)
    numbers = list(plan.rows)
    report.new_leads, report.attached = predict_outcomes(
        good, lambda i, attached: shown.add("attached" if attached else "new_leads", numbers[i])
    )
    shown.rows["rejected"] = sorted(report.rejected_rows)[: shown.limit]
    return shown.rows


def predict_outcomes(
    good: list[tuple[object, str]], each: Callable[[int, bool], None] | None = None
) -> tuple[int, int]:
    """(new leads, attached) the import would make, given the person each row resolves to (a
    database id, or ("row", n) for one the file itself would create): one open lead per
    person and product line, as intake does. ``each(index, attached)`` hears every row's."""
    known = sorted({who for who, _ in good if isinstance(who, int)})
    open_keys: set[tuple[object, str]] = set()
    for start in range(0, len(known), _QUERY_CHUNK):
        open_keys.update(
            Lead.objects.filter(
                person_id__in=known[start : start + _QUERY_CHUNK],
                stage__in=list(domain.OPEN_STAGES),
            ).values_list("person_id", "product_interest")
        )
    new = attached = 0
    for index, (who, product) in enumerate(good):
        found = (who, product) in open_keys
        if found:
            attached += 1
        else:
            new += 1
            open_keys.add((who, product))
        if each is not None:
            each(index, found)
    return new, attached
