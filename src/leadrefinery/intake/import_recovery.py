"""Crash recovery of CSV imports: the file's checksum on its batch, and who runs the batch.

An import stores each chunk's raw rows (committed) before it processes them, so a batch that
dies (kill -9, a lost database, a closed laptop) holds three kinds of rows: stored and
processed, stored but not processed, and not stored at all. ``refinery import --resume BATCH``
reads the same file again (its SHA-256 must match) and carries on from there: it skips the
first kind, processes the second and imports the third, so every row of the file is processed
exactly once. A batch is resumed by one process at a time: the process that runs a batch is
recorded on its ``ImportFile`` and a resume refuses while that process is still alive: a
`refinery import` by its pid and command line, a worker running the import page's job (its
command line says "worker") or a process on another machine while its heartbeat is fresh.
"""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.models import ImportBatch

from .models import ImportFile


def _stale() -> timedelta:
    """A batch whose process we cannot see (another machine, or a worker: its command line
    does not say "import") counts as alive while it wrote a heartbeat within this."""
    return timedelta(seconds=settings.REFINERY_IMPORT_STALE_SECONDS)


def file_sha256(data: bytes | None = None, *, path: Path | None = None) -> tuple[str, int]:
    """(hex SHA-256, size in bytes) of the bytes or of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    if path is not None:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
                size += len(block)
    elif data is not None:
        digest.update(data)
        size = len(data)
    return digest.hexdigest(), size


def batches_holding(sha256: str) -> list[ImportBatch]:
    """The batches (not undone) that already imported a file with these very bytes."""
    return list(
        ImportBatch.objects.filter(file__sha256=sha256, undone_at__isnull=True).order_by(
            "created_at"
        )
    )


def _alive(host: str, pid: int | None, heartbeat_at) -> bool:  # type: ignore[no-untyped-def]
    if pid is None:
        return False
    fresh = heartbeat_at is not None and now() - heartbeat_at < _stale()
    if host != socket.gethostname():
        return fresh
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        # `refinery import` is known by its command line; a reused pid of some other program
        # is not our import, and a worker (`refinery worker`, which runs the import page's
        # jobs and lives on after one died) is trusted while its heartbeat is fresh.
        try:
            return b"import" in cmdline.read_bytes() or fresh
        except OSError:
            return True
    return True


def file_record(batch: ImportBatch, *, sha256: str, size: int, path: str, chunk_size: int) -> None:
    ImportFile.objects.create(
        batch=batch,
        sha256=sha256,
        size=size,
        path=path[:1000],
        chunk_size=chunk_size,
        host=socket.gethostname()[:255],
        pid=os.getpid(),
        heartbeat_at=now(),
    )


def heartbeat(batch_id: str) -> None:
    ImportFile.objects.filter(batch_id=batch_id).update(heartbeat_at=now())


def claim_for_resume(batch_id: str) -> tuple[ImportBatch, ImportFile]:
    """The batch and its file, now recorded as run by this process. Refused (ServiceError)
    for an unknown, undone, finished or still running batch, or one imported before imports
    could be resumed."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id.strip()).first()
        if batch is None:
            raise ServiceError(f"there is no import batch '{batch_id}'", field="batch")
        if batch.undone_at is not None:
            raise ServiceError(f"import batch {batch.pk} was undone; it cannot be resumed")
        if batch.finished_at is not None:
            raise ServiceError(
                f"import batch {batch.pk} finished on {batch.finished_at:%Y-%m-%d %H:%M} UTC; "
                "there is nothing to resume"
            )
        record = ImportFile.objects.filter(batch=batch).first()
        if record is None:
            raise ServiceError(
                f"import batch {batch.pk} was made before imports could be resumed (no "
                "checksum of its file was kept); undo it and import the file again"
            )
        if _alive(record.host, record.pid, record.heartbeat_at):
            raise ServiceError(
                f"import batch {batch.pk} is still being imported by process {record.pid} on "
                f"{record.host}; wait for it to finish, or stop it first"
            )
        record.host = socket.gethostname()[:255]
        record.pid = os.getpid()
        record.heartbeat_at = now()
        record.resumed += 1
        record.save(update_fields=["host", "pid", "heartbeat_at", "resumed"])
    return batch, record


def unfinished_reason(batch: ImportBatch) -> str | None:
    """Why an undo must not touch this batch yet (None: it may)."""
    if batch.finished_at is not None:
        return None
    record = ImportFile.objects.filter(batch=batch).first()
    stored = batch.records.count()
    running = record is not None and _alive(record.host, record.pid, record.heartbeat_at)
    state = "is still importing" if running else "did not finish (the import stopped)"
    then = (
        "wait for it to finish, then undo it"
        if running
        else f"continue it with `refinery import --resume {batch.pk}`, then undo it"
    )
    return (
        f"import batch {batch.pk} {state}: {stored} of {batch.total_rows} rows stored. Undoing "
        f"it now would leave the rest to be imported later; {then}"
    )
