"""The import page's jobs in the worker: a job is run by one worker only (a redelivered task
does nothing while the job runs), and an import whose worker died is resumed by the
``import-jobs`` sweep and ends with every row of the file imported once."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django_q.models import OrmQ

from leadrefinery.common.clock import now
from leadrefinery.common.jobs import REGISTRY
from leadrefinery.intake import import_jobs
from leadrefinery.intake.import_jobs import import_job_run, import_jobs_sweep, job_create
from leadrefinery.intake.import_uploads import upload_store
from leadrefinery.intake.importing import ImportFailed, import_csv, import_resume
from leadrefinery.intake.models import ImportFile, ImportJob
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import ImportBatch, IntakeRecord, Lead

pytestmark = pytest.mark.django_db
ROWS = 40


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.REFINERY_HOME = tmp_path
    return tmp_path


def _file(rows: int = ROWS) -> bytes:
    lines = ["Email,First Name,Last Name,Company"]
    for i in range(1, rows + 1):
        email = "broken-address" if i % 10 == 0 else f"person{i}@company{i}.example"
        lines.append(f"{email},Name{i},Family{i},Company {i}")
    return ("\n".join(lines) + "\n").encode()


def _job(user, kind: str = "import", chunk_size: int = 5) -> ImportJob:
    upload = upload_store(data=io.BytesIO(_file()), name="list.csv", user=user)
    return job_create(
        kind=kind,
        upload=upload,
        source_name="Expo",
        columns=upload.preview["targets"],
        user=user,
        chunk_size=chunk_size,
    )


def test_the_sweep_is_a_registered_minute_job():
    job = {j.name: j for j in REGISTRY}["import-jobs"]
    assert job.minutes == 1 and job.func == "leadrefinery.intake.import_jobs.import_jobs_sweep"


def test_a_job_runs_once_however_often_its_task_is_delivered(users):
    job = _job(users.marketer)
    # Another worker holds it (fresh heartbeat): a redelivered task leaves it alone.
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=now())
    assert import_job_run(job.pk) == "not mine"
    assert not ImportBatch.objects.exists()
    ImportJob.objects.filter(pk=job.pk).update(status="queued", heartbeat_at=None)

    assert import_job_run(job.pk) == "done"
    assert import_job_run(job.pk) == "not mine"  # delivered again after it finished
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 1)
    assert ImportBatch.objects.count() == 1
    assert IntakeRecord.objects.count() == ROWS
    assert (job.report["imported"], job.report["rejected"]) == (36, 4)
    assert import_jobs_sweep() == 0, "nothing left for the sweep"


def test_the_sweep_hands_over_queued_jobs_nobody_took(users, frozen_now):
    job = _job(users.marketer, kind="dry_run")
    assert import_jobs_sweep() == 0, "just queued: the worker has it"
    frozen_now.advance(timedelta(minutes=3))
    queued = OrmQ.objects.count()
    assert import_jobs_sweep() == 1
    assert OrmQ.objects.count() == queued + 1
    assert import_jobs_sweep() == 0, "handed over once, not every minute"
    assert import_job_run(job.pk) == "done"
    job.refresh_from_db()
    assert job.report["dry_run"] and job.report["imported"] == 36
    assert not ImportBatch.objects.exists()


def _died_midway(job: ImportJob) -> str:
    """What a worker killed during the import leaves: the job running, its batch half
    imported (as the worker's own calls made it), the heartbeats going stale."""
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_at=now(), attempts=1)
    progress = import_jobs._Progress(job)
    chunks = []

    def on_progress(n: int) -> None:
        progress.on_progress(n)
        if progress.phase == "importing":
            chunks.append(n)
            if len(chunks) == 3:
                raise KeyboardInterrupt  # the process stops here; nothing after runs

    with pytest.raises(ImportFailed):
        import_csv(
            job.upload.path,
            source_name=job.source_name,
            actor=Actor.of(job.requested_by),
            chunk_size=job.chunk_size,
            progress=on_progress,
            phase=progress.on_phase,
            started=progress.on_started,
            columns=job.columns,
        )
    return job.batch_id or ""


def test_an_import_whose_worker_died_is_resumed_by_the_sweep_with_every_row_once(users, settings):
    job = _job(users.marketer)
    batch_id = _died_midway(job)
    assert IntakeRecord.objects.filter(import_batch_id=batch_id).count() == 15
    job.refresh_from_db()
    assert (job.status, job.phase, job.batch_id) == ("running", "importing", batch_id)

    assert import_jobs_sweep() == 0, "its heartbeat is fresh: the worker may be alive"
    assert import_job_run(job.pk) == "not mine"
    stale = now() - timedelta(seconds=settings.REFINERY_IMPORT_STALE_SECONDS + 1)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale, enqueued_at=stale)
    queued = OrmQ.objects.count()
    assert import_jobs_sweep() == 1
    assert OrmQ.objects.count() == queued + 1

    assert import_job_run(job.pk) == "done"  # the task the sweep queued, as the worker runs it
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 2)
    numbers = list(
        IntakeRecord.objects.filter(import_batch_id=batch_id)
        .order_by("row_number")
        .values_list("row_number", flat=True)
    )
    assert numbers == list(range(2, ROWS + 2)), "every row stored, none twice"
    assert Lead.objects.filter(import_batch_id=batch_id).count() == 36
    assert (job.report["imported"], job.report["rejected"], job.report["new_leads"]) == (36, 4, 36)
    assert job.report["skipped"] == 15
    # The rejected rows of both runs are in the file (row 11 was rejected before the crash).
    with open(job.errors_path, encoding="utf-8") as fh:
        rejected = [line.split(",", 1)[0] for line in fh.read().splitlines()[1:]]
    assert rejected == ["11", "21", "31", "41"]
    out = io.StringIO()
    call_command("checkleads", stdout=out)


def test_a_live_worker_keeps_its_batch_and_a_dead_ones_is_resumed(users, settings):
    job = _job(users.marketer)
    batch_id = _died_midway(job)
    worker = subprocess.Popen(["sleep", "60"])  # a live process whose command line is no import
    try:
        ImportFile.objects.filter(batch_id=batch_id).update(pid=worker.pid, heartbeat_at=now())
        with pytest.raises(ImportFailed, match="still being imported"):
            import_resume(batch_id=batch_id, actor=Actor.system("test"))
        stale = now() - timedelta(seconds=settings.REFINERY_IMPORT_STALE_SECONDS + 1)
        ImportFile.objects.filter(batch_id=batch_id).update(heartbeat_at=stale)
        report = import_resume(batch_id=batch_id, actor=Actor.system("test"))
        assert report.skipped == 15 and report.imported + report.rejected == ROWS - 15
    finally:
        worker.kill()
        worker.wait()


def test_the_same_file_twice_is_refused_with_the_pages_way_round_it(users):
    first = _job(users.marketer)
    assert import_job_run(first.pk) == "done"
    first.refresh_from_db()
    assert first.batch.filename == "list.csv", "the batch names the file as it was uploaded"
    second = _job(users.marketer)
    assert import_job_run(second.pk) == "failed"
    second.refresh_from_db()
    assert f"this file (list.csv) was already imported as batch {first.batch_id}" in second.error
    assert "tick “Import even if this very file was imported before”" in second.error
    assert ImportBatch.objects.count() == 1
