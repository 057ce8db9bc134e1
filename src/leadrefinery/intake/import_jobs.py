"""The import page's dry runs and imports, run by the worker.

``job_create`` writes an ``ImportJob`` (queued) and, once its transaction commits, hands it to
django-q (``async_task(import_job_run, id)``, with a timeout long enough for a large file).
``import_job_run`` is what the worker runs. It claims the job with a conditional UPDATE
(queued -> running), so a second delivery of the same task (django-q redelivers a task that
has not finished after Q_CLUSTER["retry"] seconds) finds it running with a fresh heartbeat and
does nothing. The job writes its progress and a heartbeat after each chunk of both passes of
the import (matching, importing); the batch's own heartbeat (import_recovery) with it.

A worker that dies (killed, out of memory, the machine restarted) leaves its job running with
a heartbeat that goes stale. The ``import-jobs`` sweep (every minute) hands such jobs, and
queued ones nobody took, to the worker again; the claim then takes a stale running job over
and continues its batch with ``import_resume`` (each row of the file imported once). A job
that stopped after its batch finished is completed from the batch.

At the end the job keeps its report (counts, the first errors and warnings, a dry run's
samples) and writes the rejected rows with their reasons (import_errors.write_error_csv's
format) next to the upload, mode 0600.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q

from leadrefinery.accounts.models import User
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.custom_field_services import definitions
from leadrefinery.leads.models import ImportBatch, IntakeRecord

from .import_errors import write_error_csv
from .import_mapping import map_headers
from .import_reading import printable
from .import_recovery import heartbeat
from .import_source import _open_source, _records
from .import_uploads import private_file
from .importing import ImportFailed, ImportReport, RowError, import_csv, import_resume
from .importing_undo import import_batch_undo
from .models import ImportJob, ImportUpload
from .services import OUTCOME_ATTACHED

log = logging.getLogger(__name__)

TASK = "leadrefinery.intake.import_jobs.import_job_run"
_SHOWN = 200  # errors and warnings kept on the job for the page (all are in the error file)
_WRITE_EVERY = 0.25  # seconds between progress writes
Status = ImportJob.Status


def _stale() -> timedelta:
    return timedelta(seconds=settings.REFINERY_IMPORT_STALE_SECONDS)


# --- Starting --------------------------------------------------------------------------


def job_create(
    *,
    kind: str,
    upload: ImportUpload,
    source_name: str,
    campaign_name: str = "",
    columns: dict[str, str],
    user: User,
    again: bool = False,
    chunk_size: int = 500,
) -> ImportJob:
    """A queued dry run or import of the upload, handed to the worker after commit."""
    if not upload.path:
        raise ServiceError(
            f"{upload.name} was deleted {settings.REFINERY_IMPORT_FILES_KEEP_DAYS} days after "
            "its last import (it holds personal data); upload the file again",
            field="file",
        )
    if not source_name.strip():
        raise ServiceError(
            "name the source of these leads (e.g. 'Trade show 2026')", field="source"
        )
    job = ImportJob.objects.create(
        kind=kind,
        upload=upload,
        source_name=source_name.strip()[:120],
        campaign_name=campaign_name.strip()[:120],
        columns=dict(columns),
        again=again,
        chunk_size=max(1, chunk_size),
        requested_by=user,
        created_at=now(),
        total_rows=int(upload.preview.get("total_rows") or 0),
    )
    transaction.on_commit(lambda: job_enqueue(job.pk))
    return job


def job_enqueue(job_id: int) -> None:
    """Hand the job to the worker (again: the claim makes a second copy do nothing)."""
    from django_q.tasks import async_task

    ImportJob.objects.filter(pk=job_id).update(enqueued_at=now())
    async_task(
        TASK,
        job_id,
        task_name=f"import-job-{job_id}-{uuid.uuid4().hex[:6]}",
        q_options={"timeout": settings.REFINERY_IMPORT_TIMEOUT_SECONDS},
    )


def import_jobs_sweep() -> int:
    """The ``import-jobs`` periodic job: hand the worker the jobs queued longer than a minute
    that nobody took, and the running jobs whose heartbeat is stale (their worker died).
    Idempotent: the claim decides who runs. Returns how many were handed over."""
    at = now()
    stale = at - _stale()
    due = ImportJob.objects.filter(
        Q(status=Status.QUEUED, created_at__lt=at - timedelta(minutes=1))
        | Q(status=Status.RUNNING, heartbeat_at__lt=stale)
    ).filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
    ids = list(due.values_list("pk", flat=True)[:50])
    for pk in ids:
        job_enqueue(pk)
    return len(ids)


def import_files_prune(*, at: datetime | None = None) -> int:
    """The daily ``import-files`` job: delete the uploaded files, and the jobs' rejected-rows
    files, whose last job ended more than REFINERY_IMPORT_FILES_KEEP_DAYS ago (an upload no
    job used: counted from its upload). Never the file of a job still queued or running, nor
    of an import whose batch has neither finished nor been undone (a resume reads it again).
    Idempotent; returns how many files it deleted."""
    days = settings.REFINERY_IMPORT_FILES_KEEP_DAYS
    if days <= 0:
        return 0
    cutoff = (at or now()) - timedelta(days=days)
    busy = ImportJob.objects.filter(
        Q(status__in=[Status.QUEUED, Status.RUNNING])
        | Q(finished_at__gt=cutoff)
        | Q(
            batch__isnull=False,
            batch__finished_at__isnull=True,
            batch__undone_at__isnull=True,
        )
    ).values("upload_id")
    old = ImportUpload.objects.filter(uploaded_at__lt=cutoff).exclude(pk__in=busy)
    deleted = 0
    for upload in old.exclude(path="").iterator():
        paths = [
            upload.path,
            *upload.jobs.exclude(errors_path="").values_list("errors_path", flat=True),
        ]
        for name in paths:
            try:
                Path(name).unlink()
                deleted += 1
            except FileNotFoundError:
                pass
        upload.jobs.update(errors_path="")
        ImportUpload.objects.filter(pk=upload.pk).update(path="")
    return deleted


# --- Running -----------------------------------------------------------------------------


def _claim(job_id: int) -> tuple[ImportJob, bool] | None:
    """(the job, taken over from a dead worker) when this process is to run it; None when
    another runs it (fresh heartbeat) or it is over."""
    at = now()
    fresh = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=at, heartbeat_at=at, attempts=F("attempts") + 1
    )
    if fresh:
        return ImportJob.objects.select_related("upload").get(pk=job_id), False
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != Status.RUNNING:
        return None
    if job.heartbeat_at is not None and at - job.heartbeat_at < _stale():
        return None  # running elsewhere
    taken = ImportJob.objects.filter(
        pk=job_id, status=Status.RUNNING, heartbeat_at=job.heartbeat_at
    ).update(heartbeat_at=at, attempts=F("attempts") + 1)
    if not taken:
        return None
    return ImportJob.objects.select_related("upload").get(pk=job_id), True


class _Progress:
    """The progress and phase callbacks of one run: rows done in the current pass, written
    (with the job's and the batch's heartbeat) at most every _WRITE_EVERY seconds."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.rows = 0
        self.phase = ""
        self.written = 0.0

    def on_phase(self, name: str) -> None:
        self.phase, self.rows = name, 0
        self.write(force=True, phase_started_at=now())

    def on_progress(self, n: int) -> None:
        self.rows += n
        self.write()

    def on_started(self, batch_id: str) -> None:
        self.job.batch_id = batch_id
        ImportJob.objects.filter(pk=self.job.pk).update(batch_id=batch_id)
        # The batch names the file as the person's computer did, not as we stored it.
        ImportBatch.objects.filter(pk=batch_id).update(filename=self.job.upload.name[:300])

    def write(self, *, force: bool = False, **more: Any) -> None:
        clock = time.monotonic()
        if not force and clock - self.written < _WRITE_EVERY:
            return
        self.written = clock
        at = now()
        ImportJob.objects.filter(pk=self.job.pk, status=Status.RUNNING).update(
            phase=self.phase, rows_done=self.rows, heartbeat_at=at, **more
        )
        if self.job.batch_id:
            heartbeat(self.job.batch_id)


def import_job_run(job_id: int) -> str:
    """Run the job (the worker's task); see the module docstring. Returns what it did."""
    claimed = _claim(job_id)
    if claimed is None:
        return "not mine"
    job, taken_over = claimed
    progress = _Progress(job)
    try:
        report = _run(job, progress, taken_over)
    except ImportFailed as exc:
        _fail(job, _for_the_page(exc.message, job))
        return "failed"
    except Exception as exc:  # the job says so; the worker's log has the traceback
        log.exception("import job %s failed", job.pk)
        _fail(job, f"the import stopped: {exc}")
        return "failed"
    _finish(job, report)
    return "done"


def _run(job: ImportJob, progress: _Progress, taken_over: bool) -> ImportReport | None:
    actor = Actor.of(job.requested_by) if job.requested_by else Actor.system("import-page")
    path = job.upload.path
    columns = job.columns or None
    if job.kind == ImportJob.Kind.DRY_RUN:
        progress.on_phase("matching")
        return import_csv(
            path,
            source_name=job.source_name,
            campaign_name=job.campaign_name,
            dry_run=True,
            actor=actor,
            progress=progress.on_progress,
            columns=columns,
        )
    if job.batch_id is None and taken_over:
        job.batch_id = _batch_started_by(job)
    if job.batch_id is not None:
        batch = ImportBatch.objects.get(pk=job.batch_id)
        if batch.finished_at is not None:
            return None  # the worker died after the import finished: the batch has it all
        return import_resume(
            batch_id=batch.pk,
            actor=actor,
            file=path,
            progress=progress.on_progress,
            phase=progress.on_phase,
        )
    return import_csv(
        path,
        source_name=job.source_name,
        campaign_name=job.campaign_name,
        actor=actor,
        chunk_size=job.chunk_size,
        again=job.again,
        progress=progress.on_progress,
        phase=progress.on_phase,
        started=progress.on_started,
        columns=columns,
    )


def _batch_started_by(job: ImportJob) -> str | None:
    """The batch a dead worker started for this job before it could note it on the job."""
    batch = (
        ImportBatch.objects.filter(
            file__sha256=job.upload.sha256,
            created_by=job.requested_by,
            created_at__gte=job.started_at or job.created_at,
            undone_at__isnull=True,
        )
        .order_by("created_at")
        .first()
    )
    if batch is not None:
        ImportJob.objects.filter(pk=job.pk).update(batch_id=batch.pk)
        return batch.pk
    return None


def _for_the_page(message: str, job: ImportJob) -> str:
    """An import's message, naming the file as the person does, with the page's way instead
    of the command's option."""
    stored = os.path.basename(job.upload.path)
    return message.replace(stored, job.upload.name).replace(
        "use --again", "tick “Import even if this very file was imported before” and import"
    )


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.FAILED, error=message, finished_at=now(), heartbeat_at=now()
    )


def _finish(job: ImportJob, report: ImportReport | None) -> None:
    if job.kind == ImportJob.Kind.IMPORT:
        job.refresh_from_db(fields=["batch"])
        report = _with_earlier_rows(job, report)
    assert report is not None
    errors_path = _write_rejected(job, report) if report.rejected else ""
    summary = _summary(report)
    if job.kind == ImportJob.Kind.IMPORT and job.batch_id:
        summary.update(batch_counts(job.batch_id))
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.DONE,
        report=summary,
        errors_path=errors_path,
        finished_at=now(),
        heartbeat_at=now(),
        phase="",
    )


def _summary(report: ImportReport) -> dict[str, Any]:
    return {
        "batch_id": report.batch_id,
        "dry_run": report.dry_run,
        "total_rows": report.total_rows,
        "imported": report.imported,
        "new_leads": report.new_leads,
        "attached": report.attached,
        "rejected": report.rejected,
        "people_new": report.people_new,
        "people_attached": report.people_attached,
        "review": report.review,
        "skipped": report.skipped,
        "warnings_count": len(report.warnings),
        "warnings": [asdict(w) for w in report.warnings[:_SHOWN]],
        "errors_count": len(report.errors),
        "errors": [asdict(e) for e in report.errors[:_SHOWN]],
        "mapping": report.mapping,
        "unmapped": report.unmapped,
        "notes": report.notes,
        "samples": report.samples,
    }


def batch_counts(batch_id: str) -> dict[str, int]:
    """What a batch's stored rows became (all of them: a resumed import's report counts only
    its own run)."""
    batch = ImportBatch.objects.get(pk=batch_id)
    processed = IntakeRecord.objects.filter(
        import_batch_id=batch_id, status=IntakeRecord.Status.PROCESSED
    )
    counts = processed.aggregate(
        attached=Count("pk", filter=Q(response__outcome=OUTCOME_ATTACHED)),
        people_attached=Count("pk", filter=Q(response__dedupe="attached")),
        review=Count("pk", filter=Q(response__dedupe="review")),
        imported=Count("pk"),
    )
    imported = counts["imported"]
    return {
        "total_rows": batch.total_rows,
        "imported": imported,
        "rejected": batch.rejected_rows,
        "new_leads": imported - counts["attached"],
        "attached": counts["attached"],
        "people_new": imported - counts["people_attached"],
        "people_attached": counts["people_attached"],
        "review": counts["review"],
    }


def _with_earlier_rows(job: ImportJob, report: ImportReport | None) -> ImportReport:
    """The run's report with the rows rejected before the worker died (a resume's report
    holds only its own run), or, when the batch had finished, a report of the batch."""
    if report is None:
        assert job.batch_id is not None
        report = ImportReport(
            batch_id=job.batch_id,
            dry_run=False,
            total_rows=0,
            imported=0,
            new_leads=0,
            attached=0,
            rejected=0,
            errors=[],
            mapping={},
            unmapped=[],
        )
        source = _open_source(job.upload.path)
        for _, row in _records(source):
            report.header = printable(row)
            break
    if not report.skipped and report.imported + report.rejected:
        return report
    rejected = list(
        IntakeRecord.objects.filter(import_batch_id=job.batch_id, status="rejected")
        .exclude(row_number__in=list(report.rejected_rows))
        .values_list("row_number", "errors")
        .order_by("row_number")
    )
    if not rejected:
        return report
    wanted = {number or 0 for number, _ in rejected}
    cells: dict[int, list[str]] = {}
    for number, row in _records(_open_source(job.upload.path)):
        if number in wanted:
            cells[number] = printable(row)
    mapping = map_headers(report.header, definitions(), job.columns or None)
    for stored_number, errors in rejected:
        number = stored_number or 0
        row = cells.get(number, [])
        report.rejected += 1
        report.rejected_rows[number] = row
        for error in errors or [{"field": "", "message": "rejected"}]:
            column = mapping.column_for(error.get("field", ""), row)
            report.errors.append(RowError(number, column, error.get("message", "")))
    report.errors.sort(key=lambda e: e.row)
    return report


def _write_rejected(job: ImportJob, report: ImportReport) -> str:
    """The rejected rows with their reasons, as `refinery import --errors` writes them."""
    path, fd = private_file(f"job-{job.pk}-{uuid.uuid4().hex}-rejected.csv")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
        write_error_csv(report, out)
    return str(path)


# --- After -------------------------------------------------------------------------------


def job_undo(*, job: ImportJob, user: User) -> dict[str, Any]:
    """Undo the job's batch (importing_undo.import_batch_undo); its report, kept on the job.
    ServiceError when there is nothing to undo or the batch cannot be undone yet."""
    if job.kind != ImportJob.Kind.IMPORT or job.batch is None:
        raise ServiceError("this job imported nothing, so there is nothing to undo")
    result = batch_undo(batch=job.batch, user=user)
    ImportJob.objects.filter(batch_id=job.batch_id).update(undo_report=result)
    return result


def batch_undo(*, batch: ImportBatch, user: User) -> dict[str, Any]:
    """Undo one batch as ``user`` (a command-line batch has no job); what it did, for the
    page. ServiceError when it was undone already or has not finished."""
    undo = import_batch_undo(batch_id=batch.pk, actor=Actor.of(user))
    return {
        "leads_closed": undo.leads_closed,
        "touches_voided": undo.touches_voided,
        "kept": [{"lead": lead, "why": why} for lead, why in undo.kept],
        "records_cancelled": undo.records_cancelled,
        "by": user.get_full_name() or user.username,
    }


def job_retry(job: ImportJob) -> None:
    """Queue a failed job again (an import continues its batch)."""
    if job.status != Status.FAILED:
        raise ServiceError("only a job that failed can be tried again")
    ImportJob.objects.filter(pk=job.pk, status=Status.FAILED).update(
        status=Status.QUEUED, error="", finished_at=None, phase="", rows_done=0
    )
    transaction.on_commit(lambda: job_enqueue(job.pk))
