"""An import that stopped is continued by `import --resume`: every row of the file ends up
processed exactly once; the same file is not imported twice by mistake; an unfinished batch
is not half undone."""

import pytest

from leadrefinery.common.errors import ServiceError
from leadrefinery.intake.import_mapping import map_headers
from leadrefinery.intake.importing import (
    ImportFailed,
    import_batch_undo,
    import_csv,
    import_resume,
)
from leadrefinery.intake.services import payload_hash, scrubbed
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import ImportBatch, IntakeRecord, Lead, Touch

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")
HEADER = "Email,First Name,Company"
ROWS = [f"p{i}@example.org,Person{i},Firm {i}" for i in range(1, 9)] + ["not-an-email,Bad,X"]


def _file(tmp_path, rows=ROWS, name="list.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _interrupted_import(path, *, after_chunks: int, chunk_size: int = 2) -> str:
    """Import until ``after_chunks`` chunks are written, then stop as a Ctrl-C would."""
    phase: list[str] = []
    written = []
    started = []

    def progress(n: int) -> None:
        if phase[-1] == "importing":
            written.append(n)
            if len(written) == after_chunks:
                raise KeyboardInterrupt

    with pytest.raises(ImportFailed, match="--resume") as stopped:
        import_csv(
            path,
            source_name="Expo",
            actor=SYSTEM,
            chunk_size=chunk_size,
            progress=progress,
            phase=phase.append,
            started=started.append,
        )
    assert started == [stopped.value.batch_id], "the id was given before any row was stored"
    return stopped.value.batch_id


def _rows_of(batch_id):
    return sorted(
        IntakeRecord.objects.filter(import_batch_id=batch_id).values_list("row_number", flat=True)
    )


def test_a_stopped_import_resumes_and_every_row_is_processed_once(tmp_path):
    path = _file(tmp_path)
    batch_id = _interrupted_import(path, after_chunks=2)  # rows 2-5 stored and processed
    assert _rows_of(batch_id) == [2, 3, 4, 5]
    # The process died between storing a chunk and processing it: row 6 stored raw only.
    mapping = map_headers(HEADER.split(","))
    payload = scrubbed(mapping.payload(ROWS[4].split(",")))
    batch = ImportBatch.objects.get(pk=batch_id)
    IntakeRecord.objects.create(
        channel="import",
        received_at=batch.created_at,
        payload=payload,
        payload_hash=payload_hash(payload),
        source=batch.source,
        import_batch=batch,
        row_number=6,
    )

    # An unfinished batch is neither undone by half nor imported again by mistake.
    with pytest.raises(ServiceError, match=f"import --resume {batch_id}`, then undo"):
        import_batch_undo(batch_id=batch_id, actor=SYSTEM)
    with pytest.raises(ImportFailed, match=f"did not finish: `refinery import --resume {batch_id}"):
        import_csv(path, source_name="Expo", actor=SYSTEM)
    with pytest.raises(ImportFailed, match="not the file batch"):
        import_resume(batch_id=batch_id, actor=SYSTEM, file=_file(tmp_path, ROWS[:3], "x.csv"))

    report = import_resume(batch_id=batch_id, actor=SYSTEM)
    assert report.skipped == 4
    assert (report.imported, report.rejected) == (4, 1)  # rows 6-9 and the bad row 10
    assert _rows_of(batch_id) == list(range(2, 11)), "each row stored exactly once"
    assert not IntakeRecord.objects.filter(import_batch_id=batch_id, status="received").exists()
    for i in range(1, 9):
        assert Lead.objects.filter(person__email=f"p{i}@example.org").count() == 1
        assert Touch.objects.filter(lead__person__email=f"p{i}@example.org").count() == 1
    batch.refresh_from_db()
    assert batch.finished_at is not None
    assert (batch.imported_rows, batch.rejected_rows) == (8, 1)

    with pytest.raises(ImportFailed, match="there is nothing to resume"):
        import_resume(batch_id=batch_id, actor=SYSTEM)
    undo = import_batch_undo(batch_id=batch_id, actor=SYSTEM)  # finished now: all of it
    assert undo.leads_closed == 8


def test_the_same_file_again_is_refused_unless_asked(tmp_path):
    path = _file(tmp_path)
    first = import_csv(path, source_name="Expo", actor=SYSTEM)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(ImportFailed, match=f"already imported as batch {first.batch_id}") as exc:
        import_csv(copy, source_name="Other", actor=SYSTEM)
    assert "use --again" in exc.value.message
    assert ImportBatch.objects.count() == 1, "nothing was written"
    again = import_csv(copy, source_name="Other", actor=SYSTEM, again=True)
    assert again.imported == 8 and again.attached == 8
    # Once the first import is undone, the file is no longer held by it.
    import_batch_undo(batch_id=first.batch_id, actor=SYSTEM)
    import_batch_undo(batch_id=again.batch_id, actor=SYSTEM)
    assert import_csv(path, source_name="Expo", actor=SYSTEM).imported == 8


def test_a_batch_without_a_file_record_or_a_finished_one_cannot_be_resumed(tmp_path):
    with pytest.raises(ImportFailed, match="there is no import batch 'b_nope'"):
        import_resume(batch_id="b_nope", actor=SYSTEM)
    report = import_csv(_file(tmp_path), source_name="Expo", actor=SYSTEM)
    with pytest.raises(ImportFailed, match="finished on"):
        import_resume(batch_id=report.batch_id, actor=SYSTEM)
