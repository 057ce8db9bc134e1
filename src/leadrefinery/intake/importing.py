"""CSV import of leads, and the undo of an import batch.

``import_csv`` reads a CSV file (UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252,
decided per file: import_reading.py; ``,`` ``;`` tab or ``|`` delimited; quoted fields may hold
newlines) or an Excel workbook (.xlsx: import_xlsx.py), maps its headers to intake fields
(import_mapping.py) and feeds the rows through the same intake as the API and the web form:
for each chunk the raw rows are stored as IntakeRecords and committed, then
``intake.process_records`` turns them into people, leads and touches in one transaction.
A row is rejected, with its row number, column and message, when a given email or phone is
invalid or when it has neither, when it cannot be read in the file's encoding, or when it
cannot be parsed (a quote never closed: import_source.py); the other rows import. Cells beyond the header's columns are kept
with the raw row and reported per row. A dry run writes nothing at all.

``import_batch_undo`` reverts one batch. Nothing is deleted: the still-open leads the batch
created are disqualified with the system reason ``import_undone``, the touches it added to
leads that existed before are voided, and leads someone has worked since are kept and listed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, TextIO

from django.db import transaction
from django.db.models import Count

from leadrefinery.common.clock import now
from leadrefinery.common.collector import fewer_collections
from leadrefinery.common.db import build, insert_rows, sqlite_unmapped
from leadrefinery.common.errors import ServiceError
from leadrefinery.common.planner_stats import statistics_refresh
from leadrefinery.dedupe.models import PersonVariant
from leadrefinery.leads import custom_fields
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.custom_field_services import custom_field_create, definitions
from leadrefinery.leads.custom_fields import Definition
from leadrefinery.leads.models import (
    Account,
    Campaign,
    ImportBatch,
    IntakeRecord,
    Lead,
    Person,
    Source,
)

from .import_dry_run import RowError, dry_run_counts, reject_row, warn_row
from .import_errors import write_error_csv  # re-exported: the --errors file
from .import_mapping import HeaderMapping, accepted_headers, map_headers
from .import_plan import Plan, plan_import
from .import_planner import MATCHING_AND_IMPORTING, PlanFailed, PlanProcess, wanted
from .import_reading import Unreadable, extra_cells, missing_cells, printable, row_problem
from .import_recovery import (
    batches_holding,
    claim_for_resume,
    file_record,
    heartbeat,
)
from .import_samples import dry_run_samples
from .import_source import (  # ImportFailed is re-exported: callers import it from here
    ImportFailed,
    _is_blank,
    _open_source,
    _records,
    _Source,
)
from .importing_undo import UNDO_REASON, UndoReport, import_batch_undo  # the undo, re-exported
from .materialize import materialize_ready
from .services import OUTCOME_ATTACHED, payload_hash, process_records, scrubbed

_DELIMITERS = ",;\t|"
_QUERY_CHUNK = 500  # keys per IN (...) query: well under SQLite's variable limit
log = logging.getLogger(__name__)
_PLAN_CHUNK = 1000  # rows matched per blocking read (the decisions do not depend on it)
_IMPORT_CACHE_MIB = 16  # SQLite's page cache while importing (64 MiB otherwise)


@dataclass
class ImportReport:
    batch_id: str | None
    dry_run: bool
    total_rows: int
    imported: int  # rows that became (or in a dry run would become) part of a lead
    new_leads: int
    attached: int  # rows added to a lead that was already open
    rejected: int
    errors: list[RowError]
    mapping: dict[str, str]  # CSV header -> intake field
    unmapped: list[str]  # headers kept only in the raw record
    notes: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    # The original cells of every rejected row, for the error file.
    rejected_rows: dict[int, list[str]] = field(default_factory=dict, repr=False)
    unreadable: int = 0  # rows rejected before the import (never stored): in the batch's count
    # People (dedupe): rows that create a person, attach to a known one (in the database or
    # earlier in the file), or create one with a possible duplicate for the review queue.
    people_new: int = 0
    people_attached: int = 0
    review: int = 0
    # Rows imported with a note: a phone that is not a valid number, kept as given (the
    # person has a valid email), a country that could not be read.
    warnings: list[RowError] = field(default_factory=list)
    skipped: int = 0  # a resume: rows the batch had already processed before it stopped
    # A dry run: up to five rows of each outcome ("new_leads", "attached", "people_new",
    # "people_attached", "review", "rejected"), as import_samples.py shows them.
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class CsvPreview:
    """What a file looks like before anything is imported (the UI wizard shows this)."""

    mapping: HeaderMapping
    total_rows: int
    delimiter: str
    encoding: str
    name: str
    notes: list[str] = field(default_factory=list)  # the mapping's, then the encoding's


def _header_and_rows(
    source: _Source,
    custom: Sequence[Definition] = (),
    columns: Mapping[str, str] | None = None,
) -> tuple[HeaderMapping, list[str], Iterator[tuple[int, list[str]]]]:
    records = _records(source)
    for _, row in records:
        if isinstance(row, Unreadable):
            raise ImportFailed(
                f"cannot read the header row of {source.name}: {row.problem}", field="file"
            )
        if not _is_blank(row):
            header = [cell.strip() for cell in printable(row)]  # unreadable bytes: U+FFFD
            header[0] = header[0].removeprefix("\ufeff").strip()
            break
    else:
        raise ImportFailed(f"{source.name} is empty: no header row found", field="file")
    rows = ((number, row) for number, row in records if not _is_blank(row))
    return map_headers(header, custom, columns), header, rows


def inspect_csv(
    file: str | Path | TextIO | IO[Any], *, columns: Mapping[str, str] | None = None
) -> CsvPreview:
    """Read the whole file once: header mapping and row count. Writes nothing.

    ``columns``: header -> target chosen by a person (import_mapping.map_headers' overrides).
    Raises ImportFailed for a missing or unreadable file, or one without an email or phone
    column.
    """
    source = _open_source(file)
    mapping, _, rows = _header_and_rows(source, definitions(), columns)
    _require_contact_column(mapping)
    total = sum(1 for _ in rows)
    return CsvPreview(
        mapping=mapping,
        total_rows=total,
        delimiter=source.delimiter,
        encoding=source.encoding,
        name=source.name,
        notes=[*mapping.notes, *source.notes],
    )


@dataclass(frozen=True)
class FieldProposal:
    """A column no field takes, as the custom field it could become."""

    header: str
    name: str
    kind: str


def propose_fields(
    file: str | Path | TextIO | IO[Any], *, sample: int = 2000
) -> list[FieldProposal]:
    """A custom field for each column that maps to nothing (kept only in the raw record), its
    kind read from the column's first ``sample`` values. Writes nothing."""
    source = _open_source(file)
    mapping, _, rows = _header_and_rows(source, definitions())
    values: dict[int, list[str]] = {i: [] for i in mapping.unmapped}
    for _, row in islice(rows, sample):
        for i in values:
            if i < len(row):
                values[i].append(row[i])
    taken = {d.name for d in definitions()}
    out = []
    for i, seen in values.items():
        header = mapping.headers[i]
        name = custom_fields.slug(header)
        if not name or name in custom_fields.RESERVED:
            name = f"{name or 'column'}_field"[:50]
        if name in taken:
            continue
        taken.add(name)
        out.append(FieldProposal(header, name, custom_fields.infer_kind(seen)))
    return out


def fields_create(proposals: Iterable[FieldProposal]) -> list[str]:
    """Create the proposed custom fields (labelled by their column); their names."""
    return [
        custom_field_create(name=p.name, label=p.header[:100], kind=p.kind).name for p in proposals
    ]


def _require_contact_column(mapping: HeaderMapping) -> None:
    if mapping.has_contact_column:
        return
    found = ", ".join(f"'{h}'" for h in mapping.headers) or "none"
    raise ImportFailed(
        "no email or phone column found, so no row could be imported. Headers found: "
        f"{found}. Name a column e.g. {', '.join(repr(h) for h in accepted_headers('email')[:3])}"
        f" or {', '.join(repr(h) for h in accepted_headers('phone')[:3])}.",
        field="file",
    )


def _chunks(
    rows: Iterable[tuple[int, list[str]]], size: int, first: int | None = None
) -> Iterator[list]:
    """Lists of ``size`` rows (the first of ``first`` rows, when given)."""
    iterator = iter(rows)
    if first is not None and (chunk := list(islice(iterator, first))):
        yield chunk
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- Import --------------------------------------------------------------------------


def import_csv(
    file: str | Path | TextIO,
    *,
    source_name: str,
    campaign_name: str | None = None,
    dry_run: bool = False,
    actor: Actor,
    chunk_size: int = 500,
    again: bool = False,
    progress: Callable[[int], None] | None = None,
    phase: Callable[[str], None] | None = None,
    started: Callable[[str], None] | None = None,
    columns: Mapping[str, str] | None = None,
) -> ImportReport:
    """Import a CSV file or .xlsx workbook of inquiries; see the module docstring.

    ``columns``: header -> target chosen by a person (import_mapping.map_headers' overrides),
    kept on the batch so that a resume maps the file the same way.

    ``progress`` is called after each chunk with the number of rows the chunk held. A real
    import reads the file twice: ``phase`` is called with "matching" before the first pass
    (who each row is) and "importing" before the second (the writes). ``started`` is called
    with the batch id as soon as the batch exists, before any row is stored.
    Raises ImportFailed (nothing written) for a missing or unreadable file, one without an
    email or phone column, or a file a batch already holds (unless ``again``); a failure after
    rows were stored carries the ``batch_id`` (``import_resume`` continues that batch).
    """
    source_name = (source_name or "").strip()
    if not source_name:
        raise ImportFailed(
            "name the source of these leads (e.g. 'Trade show 2026')", field="source"
        )
    campaign_name = (campaign_name or "").strip() or None
    for value, model, what in (
        (source_name, Source, "source"),
        (campaign_name, Campaign, "campaign"),
    ):
        limit = model._meta.get_field("name").max_length or 0
        if value and len(value) > limit:
            raise ImportFailed(
                f"the {what} name is too long (at most {limit} characters)", field=what
            )
    chunk_size = max(1, chunk_size)
    csv_source = _open_source(file)
    custom = definitions()
    # A first pass finds unreadable files before anything is written.
    mapping, header, rows = _header_and_rows(csv_source, custom, columns)
    _require_contact_column(mapping)
    report, unreadable = _new_report(csv_source, mapping, header, rows, dry_run)
    statistics_refresh(_READ_TABLES)  # PostgreSQL: the reads below planned from fresh ones
    if dry_run:
        chunks = _readable(csv_source, custom, unreadable, _PLAN_CHUNK)
        shown = dry_run_counts(chunks, mapping, report, progress)
        report.samples = dry_run_samples(csv_source, mapping, report, shown)
        _sort_warnings(report)
        return report
    held = batches_holding(csv_source.sha256)
    if held and not again:
        first = held[-1]
        state = (
            f"it did not finish: `refinery import --resume {first.pk}` continues it"
            if first.finished_at is None
            else f"importing it again adds every row a second time (`refinery import-undo "
            f"{first.pk}` reverts the first import)"
        )
        raise ImportFailed(
            f"this file ({csv_source.name}) was already imported as batch {first.pk} on "
            f"{first.created_at:%Y-%m-%d %H:%M} UTC; {state}. To import it again anyway, "
            "use --again.",
            field="file",
            batch_id=first.pk,
        )
    source, campaign = _source_and_campaign(source_name, campaign_name)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            id=ImportBatch.new_id(),
            filename=csv_source.name[:300],
            source=source,
            campaign=campaign,
            created_by=actor.user,
            created_at=now(),
            total_rows=report.total_rows,
            mapping={
                "columns": report.mapping,
                "unmapped": report.unmapped,
                "notes": report.notes,
                "overrides": dict(columns or {}),
            },
        )
        file_record(
            batch,
            sha256=csv_source.sha256,
            size=csv_source.size,
            path=csv_source.path,
            chunk_size=chunk_size,
        )
    report.batch_id = batch.pk
    if started:
        started(batch.pk)
    _plan_and_import(
        csv_source, custom, mapping, report, batch, {}, unreadable, actor, chunk_size, progress,
        phase,
    )  # fmt: skip
    return report


def import_resume(
    *,
    batch_id: str,
    actor: Actor,
    file: str | Path | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    phase: Callable[[str], None] | None = None,
    columns: Mapping[str, str] | None = None,
) -> ImportReport:
    """Continue a batch whose import stopped (import_recovery.py): the same file (by its
    checksum; by default read again from where the import read it), each row processed
    exactly once: rows stored and processed are skipped, rows stored but not processed are
    processed now, the rest are imported. The report counts this run's rows; ``skipped``
    those done before. ``columns``: by default the overrides the batch was started with.
    Raises ImportFailed when the batch cannot be resumed."""
    try:
        batch, stored_file = claim_for_resume(batch_id)
    except ServiceError as exc:
        raise ImportFailed(exc.message, field="batch") from None
    path = Path(file) if file else Path(stored_file.path) if stored_file.path else None
    if path is None:
        raise ImportFailed(
            f"batch {batch.pk} was imported from an upload; give the file again to resume it",
            field="file",
        )
    csv_source = _open_source(path)
    if csv_source.sha256 != stored_file.sha256:
        raise ImportFailed(
            f"{path} is not the file batch {batch.pk} was importing (its content differs: "
            f"{csv_source.size} bytes, {stored_file.size} then); give that very file",
            field="file",
        )
    custom = definitions()
    if columns is None:
        columns = (batch.mapping or {}).get("overrides") or None
    mapping, header, rows = _header_and_rows(csv_source, custom, columns)
    _require_contact_column(mapping)
    report, unreadable = _new_report(csv_source, mapping, header, rows, False)
    report.batch_id = batch.pk
    existing: dict[int, tuple[int, str]] = {
        number or 0: (pk, status)
        for number, pk, status in IntakeRecord.objects.filter(import_batch=batch)
        .order_by()
        .values_list("row_number", "pk", "status")
    }
    _plan_and_import(
        csv_source,
        custom,
        mapping,
        report,
        batch,
        existing,
        unreadable,
        actor,
        max(1, chunk_size or stored_file.chunk_size),
        progress,
        phase,
    )
    return report


def _new_report(
    csv_source: _Source,
    mapping: HeaderMapping,
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    dry_run: bool,
) -> tuple[ImportReport, set[int]]:
    """The report of a first pass over the rows, before any import: the rows that cannot be
    read (rejected, whatever else they hold) and those with cells beyond the header
    (imported; the cells are kept with the raw row only). Returns it with the unreadable
    rows' numbers."""
    unreadable: dict[int, tuple[list[str], str, str]] = {}
    extra: dict[int, list[str]] = {}
    short: dict[int, tuple[int, list[str]]] = {}
    total = 0
    for number, row in rows:
        total += 1
        problem = (
            row.problem if isinstance(row, Unreadable) else row_problem(row, csv_source.encoding)
        )
        if problem:
            unreadable[number] = (printable(row), problem, getattr(row, "column", ""))
        elif beyond := extra_cells(row, len(header)):
            extra[number] = beyond
        elif missing := missing_cells(row, header):
            short[number] = (len(row), missing)
    notes = [*mapping.notes, *csv_source.notes]
    report = ImportReport(
        batch_id=None,
        dry_run=dry_run,
        total_rows=total,
        imported=0,
        new_leads=0,
        attached=0,
        rejected=0,
        errors=[],
        mapping=mapping.mapping,
        unmapped=mapping.unmapped_headers,
        notes=notes,
        header=header,
    )
    width = len(header)
    for number, (cells, problem, column) in unreadable.items():
        report.rejected += 1
        report.rejected_rows[number] = cells
        report.errors.append(RowError(number, column, problem))
    for number, cells in extra.items():
        shown = ", ".join(repr(c[:40]) for c in cells[:3]) + (", ..." if len(cells) > 3 else "")
        report.warnings.append(
            RowError(
                number,
                "",
                f"{len(cells)} cell(s) beyond the {width} columns of the header ({shown}): "
                "kept with the raw row, not imported into any field",
            )
        )
    for number, (length, missing) in short.items():
        report.warnings.append(
            RowError(
                number,
                "",
                f"only {length} of the header's {width} cells: {', '.join(missing)} read as "
                "empty (a row cut short?)",
            )
        )
    report.unreadable = len(unreadable)
    return report, set(unreadable)


def _readable(
    csv_source: _Source,
    custom: Sequence[Definition],
    unreadable: set[int],
    size: int,
    first: int | None = None,
) -> Iterator[list[tuple[int, list[str]]]]:
    rows = _header_and_rows(csv_source, custom)[2]
    return _chunks(((n, row) for n, row in rows if n not in unreadable), size, first)


def _plan_and_import(*args: Any) -> None:
    """``_match_and_write`` with the database file not mapped into this process and a smaller
    page cache (SQLite): an import's writes touch each index page once or twice, and the
    pages it read stayed resident (about 50 MiB of its memory into a million leads). The
    garbage collector runs less often meanwhile (common/collector.py)."""
    with sqlite_unmapped(cache_mib=_IMPORT_CACHE_MIB), fewer_collections():
        _match_and_write(*args)


def _match_and_write(
    csv_source: _Source,
    custom: Sequence[Definition],
    mapping: HeaderMapping,
    report: ImportReport,
    batch: ImportBatch,
    existing: dict[int, tuple[int, str]],
    unreadable: set[int],
    actor: Actor,
    chunk_size: int,
    progress: Callable[[int], None] | None,
    phase: Callable[[str], None] | None,
) -> None:
    def chunks(size: int, first: int | None = None) -> Iterator[list[tuple[int, list[str]]]]:
        return _readable(csv_source, custom, unreadable, size, first)

    if not existing and wanted(report.total_rows - report.unreadable):
        # Who each row is, decided in a second process while this one writes (a new import
        # only: a resume's done rows must be known before the plan is used).
        plan = Plan()
        try:
            # Its first chunk is the write pass's first: the writes start as soon as that is
            # matched (the first reads into a large database are the slowest).
            planner = PlanProcess(
                mapping, lambda: chunks(_PLAN_CHUNK, first=min(chunk_size, _PLAN_CHUNK))
            )
            try:
                materialize_ready()  # meanwhile, what the first chunk would read first
                planner.fill(plan, 1)  # its first answer, before anything is written
            except BaseException:
                planner.close()  # whatever failed, the matching process is not left running
                raise
        except PlanFailed as exc:  # nothing written yet: match first, here
            log.warning("batch %s: %s; matching in the importing process instead", batch.pk, exc)
        else:
            with planner:
                if phase:
                    phase(MATCHING_AND_IMPORTING)
                _import(
                    chunks(chunk_size), plan, mapping, report, batch, existing, actor, progress,
                    before=lambda through: planner.fill(plan, through),
                )  # fmt: skip
            _sort_warnings(report)
            return
    if phase:
        phase("matching")
    # Who each row is, decided for the whole file before anything is written: the same
    # people for any chunk size, and what the dry run said (import_plan.py).
    plan = plan_import(chunks(_PLAN_CHUNK), mapping, progress=progress)
    if existing:  # a resume: later rows may name the people earlier rows became
        done_ids = [pk for pk, status in existing.values() if status == _PROCESSED]
        for start in range(0, len(done_ids), _QUERY_CHUNK):
            plan.done(
                IntakeRecord.objects.filter(pk__in=done_ids[start : start + _QUERY_CHUNK]).only(
                    "pk", "row_number", "person_id"
                )
            )
    if phase:
        phase("importing")
    _import(chunks(chunk_size), plan, mapping, report, batch, existing, actor, progress)
    _sort_warnings(report)


def _sort_warnings(report: ImportReport) -> None:
    """The notes in row order; a row rejected after all is not "imported with a note"."""
    report.warnings = sorted(
        (w for w in report.warnings if w.row not in report.rejected_rows), key=lambda w: w.row
    )


def _source_and_campaign(
    source_name: str, campaign_name: str | None
) -> tuple[Source, Campaign | None]:
    source = Source.objects.filter(name__iexact=source_name).first()
    if source is None:
        source, _ = Source.objects.get_or_create(
            name=source_name, defaults={"channel": Source.Channel.LIST_PURCHASE}
        )
    campaign = None
    if campaign_name:
        campaign = Campaign.objects.filter(source=source, name__iexact=campaign_name).first()
        if campaign is None:
            campaign, _ = Campaign.objects.get_or_create(source=source, name=campaign_name)
    return source, campaign


def _import(
    chunks: Iterator[list],
    plan: Plan,
    mapping: HeaderMapping,
    report: ImportReport,
    batch: ImportBatch,
    existing: dict[int, tuple[int, str]],
    actor: Actor,
    progress: Callable[[int], None] | None,
    before: Callable[[int], None] | None = None,
) -> None:
    """Write the chunks as ``plan`` decided; ``before(last row number)`` is called before
    each chunk (a plan made beside the writes is filled that far)."""
    source, campaign = batch.source, batch.campaign
    last_row = 0
    unchecked = 0  # rows written since the tables' statistics were last checked
    try:
        for chunk in chunks:
            if before is not None:
                before(chunk[-1][0])
            _import_chunk(chunk, plan, mapping, report, batch, source, campaign, actor, existing)
            heartbeat(batch.pk)
            last_row = chunk[-1][0]
            unchecked += len(chunk)
            if unchecked >= _STATISTICS_EVERY:  # a large import into a small database
                statistics_refresh(_READ_TABLES)
                unchecked = 0
            if progress:
                progress(len(chunk))
    except (Exception, KeyboardInterrupt) as exc:
        stopped = "was interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {exc}"
        raise ImportFailed(
            f"the import {stopped} after row {last_row}. Rows stored before that are in batch "
            f"{batch.pk}; `refinery import --resume {batch.pk}` continues it from there (each "
            "row is imported once).",
            batch_id=batch.pk,
        ) from exc
    finally:
        # Counted from the stored rows: a resume's batch also holds the rows done before it.
        counts = dict(
            IntakeRecord.objects.filter(import_batch=batch)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            imported_rows=counts.get(_PROCESSED, 0),
            rejected_rows=counts.get(IntakeRecord.Status.REJECTED.value, 0) + report.unreadable,
        )
    ImportBatch.objects.filter(pk=batch.pk).update(finished_at=now())


# The tables an import reads for every chunk (people and their variants by block key,
# accounts, open leads), whose planner statistics it keeps fresh on PostgreSQL, checked
# before it starts and every so many rows (planner_stats.statistics_refresh).
_READ_TABLES = (Person, PersonVariant, Account, Lead)
_STATISTICS_EVERY = 25_000
_PROCESSED = IntakeRecord.Status.PROCESSED.value
_DONE = {IntakeRecord.Status.PROCESSED.value, IntakeRecord.Status.REJECTED.value}


def _import_chunk(
    chunk: list[tuple[int, list[str]]],
    plan: Plan,
    mapping: HeaderMapping,
    report: ImportReport,
    batch: ImportBatch,
    source: Source,
    campaign: Campaign | None,
    actor: Actor,
    existing: dict[int, tuple[int, str]],
) -> None:
    if ImportBatch.objects.filter(pk=batch.pk, undone_at__isnull=False).exists():
        raise ImportFailed(f"batch {batch.pk} was undone while it was importing")
    if existing:  # a resume: rows stored and processed before are done
        report.skipped += sum(1 for n, _ in chunk if existing.get(n, (0, ""))[1] in _DONE)
        chunk = [(n, row) for n, row in chunk if existing.get(n, (0, ""))[1] not in _DONE]
        if not chunk:
            return
    waiting = (
        {
            r.row_number: r
            for r in IntakeRecord.objects.filter(
                pk__in=[existing[n][0] for n, _ in chunk if n in existing]
            ).select_related("form", "source")
        }
        if existing
        else {}
    )
    at = now()
    records = []
    new = []
    for number, row in chunk:
        if number in waiting:  # stored before the import stopped, not processed yet
            records.append(waiting[number])
            continue
        planned = plan.rows.get(number)
        if planned is not None and planned.payload is not None:
            payload, digest = planned.payload, planned.payload_hash  # made by the matching process
        else:
            payload = scrubbed(mapping.payload(row))
            digest = payload_hash(payload)
        record = build(
            IntakeRecord,
            channel=IntakeRecord.Channel.IMPORT,
            received_at=at,
            payload=payload,
            payload_hash=digest,
            source=source,
            campaign=campaign,
            submitted_by=actor.user,
            import_batch=batch,
            row_number=number,
        )
        records.append(record)
        new.append(record)
    # Stored and committed first: whatever happens next, no row is lost.
    with transaction.atomic():
        insert_rows(IntakeRecord, new)
    processed = process_records(
        [r.pk for r in records],
        actor=actor,
        stored=records,
        matches=plan.matches_for,
        accounts=plan.accounts,
        normalized=plan.normalized,
        keys=plan.keys,
        variants=plan.variant,
    )
    done = {r.pk: r for r in processed}
    missing = [r.pk for r in records if r.pk not in done]
    if missing:  # processed meanwhile by the retry job: read the outcome it stored
        done.update((r.pk, r) for r in IntakeRecord.objects.filter(pk__in=missing))
    plan.done(done.values())
    for (number, row), stored in zip(chunk, records, strict=True):
        record = done[stored.pk]
        if record.status == IntakeRecord.Status.PROCESSED:
            report.imported += 1
            response = record.response or {}
            if response.get("outcome") == OUTCOME_ATTACHED:
                report.attached += 1
            else:
                report.new_leads += 1
            people = response.get("dedupe", "new")
            report.people_attached += people == "attached"
            report.people_new += people != "attached"
            report.review += people == "review"
            warn_row(report, mapping, number, row, response.get("warnings", ()))
        elif record.status == IntakeRecord.Status.REJECTED:
            errors = record.errors or [{"field": "", "message": "rejected"}]
            reject_row(report, mapping, number, row, ((e["field"], e["message"]) for e in errors))


__all__ = [
    "UNDO_REASON",
    "ImportReport",
    "RowError",
    "UndoReport",
    "import_batch_undo",
    "import_csv",
    "import_resume",
    "write_error_csv",
]
