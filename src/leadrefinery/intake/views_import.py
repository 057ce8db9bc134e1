"""The import page: upload a CSV or Excel file, check the column mapping, run a dry run and
the import in the worker with live progress, download the rejected rows, undo an import.
Marketers and admins only (access.can_import); the work is in import_uploads.py and
import_jobs.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.models import Campaign, ImportBatch, Source

from . import import_jobs, import_uploads
from .access import can_import
from .import_planner import MATCHING_AND_IMPORTING
from .import_samples import KINDS
from .models import ImportJob, ImportUpload

SAMPLE_TITLES = {
    "new_leads": "New leads",
    "attached": "Added to a lead that is already open",
    "people_new": "New people",
    "people_attached": "People we already know",
    "review": "Sent to the duplicates queue",
    "rejected": "Rejected",
}

ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "text": "text",
}


def _importer(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not can_import(user):
        raise PermissionDenied("Importing leads is for marketers and admins.")
    return user


def _sources() -> list[Source]:
    return list(Source.objects.order_by("name"))


@member_view
@require_http_methods(["GET", "POST"])
def import_home(request: HttpRequest) -> HttpResponse:
    """Upload a file (and name its source); the past imports below."""
    user = _importer(request)
    error = ""
    values = {"source": "", "campaign": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a file to import."
        else:
            try:
                stored = import_uploads.upload_store(
                    data=upload,
                    name=upload.name or "",
                    user=user,
                    source_name=values["source"],
                    campaign_name=values["campaign"],
                )
            except ServiceError as exc:
                error = exc.message
            else:
                return redirect("import-upload", upload_id=stored.pk)
    return render(
        request,
        "intake/import_home.html",
        {
            "error": error,
            "values": values,
            "sources": _sources(),
            "accept": ",".join(import_uploads.ACCEPTED),
            "batches": _past_batches(),
        },
        status=400 if error else 200,
    )


def _past_batches(limit: int = 50) -> list[dict[str, Any]]:
    batches = list(
        ImportBatch.objects.select_related(
            "source", "campaign", "created_by", "undone_by"
        ).order_by("-created_at")[:limit]
    )
    jobs = {
        job.batch_id: job
        for job in ImportJob.objects.filter(batch_id__in=[b.pk for b in batches]).order_by(
            "created_at"
        )
    }
    return [{"batch": b, "job": jobs.get(b.pk)} for b in batches]


@member_view
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, upload_id: str) -> HttpResponse:
    """What was detected, the mapping to check, the source and campaign; then a dry run or
    the import."""
    user = _importer(request)
    upload = get_object_or_404(ImportUpload, pk=upload_id)
    preview = upload.preview
    error = note = ""
    chosen = dict(preview.get("targets", {}))
    values = {
        "source": preview.get("source_name", ""),
        "campaign": preview.get("campaign_name", ""),
        "save_mapping": False,
        "again": False,
    }
    earlier = _earlier_job(upload, request.GET.get("job", ""))
    if request.method == "GET" and earlier is not None:
        # Back from a dry run: its choices, not the file's detected mapping.
        chosen.update(earlier.columns or {})
        values.update(
            source=earlier.source_name, campaign=earlier.campaign_name, again=earlier.again
        )
        note = "These are the choices of your dry run."
    if request.method == "POST":
        headers = preview.get("headers", [])
        chosen.update(
            {h: request.POST.get(f"col_{i}", chosen.get(h, "")) for i, h in enumerate(headers)}
        )
        values = {
            "source": request.POST.get("source", "").strip(),
            "campaign": request.POST.get("campaign", "").strip(),
            "save_mapping": request.POST.get("save_mapping") == "on",
            "again": request.POST.get("again") == "on",
        }
    if request.method == "POST" and request.POST.get("action") == "use_saved":
        values["save_mapping"] = False
        source = str(values["source"])
        if not source:
            error = "Name the source first: its saved mapping is then applied."
        elif not import_uploads.saved_columns(source):
            note = f"No mapping is saved for “{source}”: the columns are as they were."
        else:
            try:
                chosen = import_uploads.upload_inspect(upload, source)["targets"]
            except ServiceError as exc:  # the file was deleted, say
                error = exc.message
            else:
                note = f"The saved mapping of “{source}” is applied."
    elif request.method == "POST":
        kind = (
            ImportJob.Kind.IMPORT
            if request.POST.get("action") == "import"
            else ImportJob.Kind.DRY_RUN
        )
        try:
            columns = import_uploads.columns_from(preview, chosen)
            with transaction.atomic():
                if values["save_mapping"]:
                    import_uploads.mapping_save(
                        source_name=str(values["source"]), columns=columns, user=user
                    )
                job = import_jobs.job_create(
                    kind=kind,
                    upload=upload,
                    source_name=str(values["source"]),
                    campaign_name=str(values["campaign"]),
                    columns=columns,
                    user=user,
                    again=bool(values["again"]),
                )
        except ServiceError as exc:
            error = exc.message
        else:
            return redirect("import-job", job_id=job.pk)
    choices = import_uploads.target_choices()
    examples = preview.get("samples") or []
    rows = [
        {
            "index": i,
            "header": header,
            "sample": examples[i] if i < len(examples) else "",
            "target": chosen.get(header, ""),
        }
        for i, header in enumerate(preview.get("headers", []))
    ]
    return render(
        request,
        "intake/import_upload.html",
        {
            "upload": upload,
            "preview": preview,
            "columns": rows,
            "choices": choices,
            "values": values,
            "error": error,
            "note": note,
            "sources": _sources(),
            "campaigns": sorted({c.name for c in Campaign.objects.all()}),
            "encoding": ENCODINGS.get(preview.get("encoding", ""), preview.get("encoding", "")),
            "delimiter": {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
                preview.get("delimiter", ""), preview.get("delimiter", "")
            ),
        },
        status=400 if error else 200,
    )


def _status(job: ImportJob) -> dict[str, Any]:
    """What the progress bar shows: the pass, rows done of the total, speed, time left."""
    at = now()
    rate = 0.0
    left = None
    if job.status == ImportJob.Status.RUNNING and job.phase_started_at and job.rows_done:
        seconds = max((at - job.phase_started_at).total_seconds(), 0.001)
        rate = job.rows_done / seconds
        if rate > 0 and job.total_rows:
            left = max(job.total_rows - job.rows_done, 0) / rate
    passes = 1 if job.kind == ImportJob.Kind.DRY_RUN or job.phase == MATCHING_AND_IMPORTING else 2
    step = 2 if job.phase == "importing" else 1
    stale = (
        job.status == ImportJob.Status.RUNNING
        and job.heartbeat_at is not None
        and at - job.heartbeat_at > timedelta(seconds=30)
    )
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "phase": job.phase,
        "rows_done": min(job.rows_done, job.total_rows) if job.total_rows else job.rows_done,
        "total_rows": job.total_rows,
        "rows_per_second": round(rate, 1),
        "seconds_left": round(left) if left is not None else None,
        "text": _status_text(job, step, passes, rate, left, stale),
        "done": job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED),
        "url": reverse("import-job", args=[job.pk]),
    }


def _earlier_job(upload: ImportUpload, job_id: str) -> ImportJob | None:
    """The job of this upload named in the address (the dry run one came back from)."""
    if not (job_id.isascii() and job_id.isdigit()) or len(job_id) > 18:
        return None
    return ImportJob.objects.filter(pk=int(job_id), upload=upload).first()


def _status_text(
    job: ImportJob, step: int, passes: int, rate: float, left: float | None, stale: bool
) -> str:
    if job.status == ImportJob.Status.QUEUED:
        return "Waiting for the background worker to start…"
    if job.status == ImportJob.Status.DONE:
        return "Finished."
    if job.status == ImportJob.Status.FAILED:
        return "Stopped: " + job.error
    if not job.phase:
        return "Reading the file…"
    what = {
        "matching": "Matching rows to people we know",
        "importing": "Importing rows",
        MATCHING_AND_IMPORTING: "Matching rows to people we know and importing them",
    }.get(job.phase, job.phase)
    text = f"{what}: {job.rows_done:,} of {job.total_rows:,} rows"
    if passes > 1:
        text = f"Pass {step} of {passes}: {text}"
    if rate:
        text += f", {rate:,.0f} rows/s"
    if left is not None:
        text += f", about {_duration(left)} left"
        if step < passes:
            text += " in this pass"
    if stale:
        text += ". No news from the worker for a while: it resumes by itself if it stopped."
    return text


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(int(seconds), 1)} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 10 else f"{minutes} min"


def _job(request: HttpRequest, job_id: int) -> tuple[User, ImportJob]:
    user = _importer(request)
    return user, get_object_or_404(
        ImportJob.objects.select_related("upload", "requested_by", "batch"), pk=job_id
    )


@member_view
@require_GET
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A job's progress (live), then its result: counts, samples or the summary, downloads."""
    _, job = _job(request, job_id)
    report = job.report or {}
    samples = [
        {"kind": k, "title": SAMPLE_TITLES[k], "rows": report.get("samples", {}).get(k, [])}
        for k in KINDS
    ]
    batch = job.batch
    return render(
        request,
        "intake/import_job.html",
        {
            "job": job,
            "status": _status(job),
            "report": report,
            "samples": [s for s in samples if s["rows"]],
            "batch": batch,
            "can_undo": batch is not None
            and batch.undone_at is None
            and batch.finished_at is not None,
        },
    )


@member_view
@require_GET
def import_job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    _, job = _job(request, job_id)
    response = JsonResponse(_status(job))
    response["Cache-Control"] = "no-store"
    return response


@member_view
@require_GET
def import_job_rejected(request: HttpRequest, job_id: int) -> HttpResponse:
    """The rejected rows with their reasons (the original cells, row number, column, reason)."""
    _, job = _job(request, job_id)
    if not job.errors_path or not Path(job.errors_path).is_file():
        raise Http404("no rejected rows")
    name = Path(job.upload.name).stem or "import"
    response = FileResponse(
        Path(job.errors_path).open("rb"),  # noqa: SIM115 (FileResponse closes it)
        as_attachment=True,
        filename=f"{name}-rejected.csv",
        content_type="text/csv; charset=utf-8",
    )
    return cast(HttpResponse, response)


@member_view
@require_POST
def import_job_from_dry_run(request: HttpRequest, job_id: int) -> HttpResponse:
    """The import, with the settings of this dry run."""
    user, job = _job(request, job_id)
    try:
        with transaction.atomic():
            new = import_jobs.job_create(
                kind=ImportJob.Kind.IMPORT,
                upload=job.upload,
                source_name=job.source_name,
                campaign_name=job.campaign_name,
                columns=job.columns,
                user=user,
                again=request.POST.get("again") == "on" or job.again,
            )
    except ServiceError as exc:
        messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
        return redirect("import-job", job_id=job.pk)
    return redirect("import-job", job_id=new.pk)


@member_view
@require_POST
def import_job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    _, job = _job(request, job_id)
    try:
        with transaction.atomic():
            import_jobs.job_retry(job)
    except ServiceError:
        pass
    return redirect("import-job", job_id=job.pk)


@member_view
@require_http_methods(["GET", "POST"])
def import_job_undo(request: HttpRequest, job_id: int) -> HttpResponse:
    """Confirm, then undo the job's batch."""
    user, job = _job(request, job_id)
    error = ""
    if request.method == "POST":
        try:
            import_jobs.job_undo(job=job, user=user)
        except ServiceError as exc:
            error = exc.message
        else:
            return redirect("import-job", job_id=job.pk)
    return render(
        request,
        "intake/import_undo.html",
        {"job": job, "batch": job.batch, "error": error},
        status=400 if error else 200,
    )


@member_view
@require_http_methods(["GET", "POST"])
def import_batch_undo(request: HttpRequest, batch_id: str) -> HttpResponse:
    """Confirm, then undo a batch imported on the command line (a batch the page imported
    is undone from its job's page, which keeps the report)."""
    user = _importer(request)
    batch = get_object_or_404(
        ImportBatch.objects.select_related("source", "created_by"), pk=batch_id
    )
    job = ImportJob.objects.filter(batch=batch).order_by("-created_at").first()
    if job is not None:
        return redirect("import-job-undo", job_id=job.pk)
    error, report = "", None
    if request.method == "POST":
        try:
            report = import_jobs.batch_undo(batch=batch, user=user)
        except ServiceError as exc:
            error = exc.message
        batch.refresh_from_db()
    return render(
        request,
        "intake/import_batch_undo.html",
        {"batch": batch, "error": error, "report": report},
        status=400 if error else 200,
    )
