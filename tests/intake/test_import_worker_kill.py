"""A real `refinery worker` killed with SIGKILL in the middle of an import page job: after
the `import-jobs` sweep and a new worker, the batch is finished with every row of the file
imported once, and `refinery check` passes."""

from __future__ import annotations

import io
import signal
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from leadrefinery.intake.import_jobs import import_jobs_sweep, job_create
from leadrefinery.intake.import_uploads import upload_store
from leadrefinery.intake.models import ImportJob
from leadrefinery.leads.models import ImportBatch, IntakeRecord, Lead, Person
from tests.intake.worker_proc import start_worker, stop

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
]
ROWS = 4000
STALE = 4  # seconds without a heartbeat before the sweep takes a job over


def big_file(rows: int) -> bytes:
    lines = ["Email,First Name,Last Name,Company"]
    for i in range(rows):
        email = f"buyer{i}@firm{i}.example.com" if i % 50 else "no email here"
        lines.append(f"{email},Pat{i},Lee{i},Firm {i}")
    return ("\n".join(lines) + "\n").encode()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_import_is_resumed_by_the_sweep(users, settings, tmp_path):
    settings.REFINERY_HOME = tmp_path
    settings.REFINERY_IMPORT_STALE_SECONDS = STALE
    log = (tmp_path / "worker.log").open("wb")
    with transaction.atomic():
        upload = upload_store(data=io.BytesIO(big_file(ROWS)), name="big.csv", user=users.marketer)
        job = job_create(
            kind="import",
            upload=upload,
            source_name="Expo",
            columns=upload.preview["targets"],
            user=users.marketer,
            chunk_size=100,
        )  # queued for the worker when this commits

    def stored() -> int:
        return IntakeRecord.objects.filter(import_batch__isnull=False).count()

    worker = start_worker(log, REFINERY_IMPORT_STALE_SECONDS=str(STALE))
    try:
        wait_for(lambda: stored() >= ROWS // 4, 240, "the worker to store a quarter of the rows")
        stop(worker, signal.SIGKILL)
    finally:
        stop(worker, signal.SIGKILL)
    job.refresh_from_db()
    assert job.status == "running" and job.batch_id, (job.status, job.error)
    batch = ImportBatch.objects.get(pk=job.batch_id)
    assert batch.finished_at is None
    assert ROWS // 4 <= stored() < ROWS, "killed midway"

    time.sleep(STALE + 1)
    assert import_jobs_sweep() == 1, "the dead worker's job is handed over again"
    worker = start_worker(log, REFINERY_IMPORT_STALE_SECONDS=str(STALE))
    try:
        wait_for(
            lambda: ImportJob.objects.get(pk=job.pk).status in ("done", "failed"),
            300,
            "the new worker to finish the import",
        )
    finally:
        stop(worker, signal.SIGTERM)
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.attempts == 2

    numbers = list(
        IntakeRecord.objects.filter(import_batch_id=batch.pk)
        .order_by("row_number")
        .values_list("row_number", flat=True)
    )
    assert numbers == list(range(2, ROWS + 2)), "every row stored, none twice"
    rejected = ROWS // 50
    assert Lead.objects.filter(import_batch_id=batch.pk).count() == ROWS - rejected
    assert Person.objects.count() == ROWS - rejected, "nobody made twice"
    assert (job.report["imported"], job.report["rejected"]) == (ROWS - rejected, rejected)
    batch.refresh_from_db()
    assert batch.finished_at is not None
    call_command("checkleads", stdout=io.StringIO())
