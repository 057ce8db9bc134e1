"""A large import matches its rows in a second process while it writes (import_planner.py).

That process must decide exactly what a plan made first, in the importing process, decides
(the same people, the same review pairs, what the dry run said), read the database as it was
before the import wrote anybody, and, when it dies, leave a batch that `--resume` finishes
with every row once. These tests run outside a transaction: the second process is a real
process with its own connection, and sees only committed rows.
"""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from leadrefinery.common.clock import now
from leadrefinery.dedupe.keys import person_keys
from leadrefinery.dedupe.models import DuplicatePair, PersonVariant
from leadrefinery.dedupe.services import variant_of
from leadrefinery.intake import import_planner, importing
from leadrefinery.intake.import_plan import Plan, plan_import
from leadrefinery.intake.importing import ImportFailed, import_csv, import_resume
from leadrefinery.intake.services import payload_hash, scrubbed
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import IntakeRecord, Person
from leadrefinery.leads.normalize import normalize_inquiry
from tests.intake.test_import_chunking import HEADER, PEOPLE, _counts, _outcome, _row

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system("import")
CHANGES = ["as is", "nickname", "typo", "no email", "no phone", "other product"]


def _start(monkeypatch, start: str) -> None:
    """The child as a fork or as a new interpreter. (A fork is made only while this process
    runs no other thread; a browser test's live server, run earlier in this process, is
    one, and it is idle here.)"""
    monkeypatch.setattr(import_planner, "_can_fork", lambda: start == "fork")


def _rows(count: int, seed: int, people: int = len(PEOPLE)) -> list[list[str]]:
    """Variants of the first ``people`` people (nicknames, typos, colleagues on one line,
    namesakes), with one bad row in twenty."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        row = _row(rng.randrange(people), rng.choice(CHANGES), rng.random() < 0.5)
        if i % 20 == 7:
            row[2], row[3] = "not an email", ""  # rejected: no way to reach them
        elif i % 13 == 5:
            row[2], row[3] = "", "+1 415 555 0199"  # another line, no email: a doubtful match
        rows.append(row)
    return rows


def _write(tmp_path, rows: list[list[str]], name: str = "list.csv"):
    import csv

    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _chunks(path, size: int):
    """The header mapping, and what reads the file's rows in chunks of ``size`` from the top
    (called by the process that plans)."""
    source = importing._open_source(path)
    mapping = importing._header_and_rows(source, [])[0]
    return mapping, lambda: importing._chunks(iter(importing._header_and_rows(source, [])[2]), size)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_the_second_process_decides_what_a_plan_made_first_decides(tmp_path, monkeypatch, start):
    _start(monkeypatch, start)
    import_csv(
        _write(tmp_path, _rows(40, 1, people=3), "known.csv"), source_name="CRM", actor=SYSTEM
    )
    path = _write(tmp_path, _rows(300, 2))

    mapping, chunks = _chunks(path, 25)
    here = plan_import(chunks(), mapping)
    mapping, chunks = _chunks(path, 25)
    there = Plan()
    threads = threading.active_count()
    with import_planner.PlanProcess(mapping, chunks) as process:
        assert process.forked == (start == "fork")
        if start == "fork":  # it reads the file itself: no thread of this process feeds it
            assert threading.active_count() == threads
        process.fill(there, 10**9)

    assert len(here.rows) == 285 and any(p.review for p in here.rows.values())
    assert any(p.person is not None for p in here.rows.values())
    assert any(p.same_as is not None for p in here.rows.values())
    assert list(there.rows) == list(here.rows)
    assert any(p.variant is not None and p.variant[0] for p in there.rows.values())
    for number, planned in here.rows.items():
        other = there.rows[number]
        assert other.normalized is not None and other.normalized.clean is not None
        assert other.payload is not None and other.payload_hash == payload_hash(other.payload)
        assert other.keys == person_keys(other.normalized.clean.person)  # the write pass's
        # A row that attaches: the variant the write pass would have made of it; else none.
        assert other.variant == (
            None if other.creates else variant_of({**other.normalized.clean.person, **other.keys})
        )
        other.normalized, other.payload, other.payload_hash, other.keys = None, None, "", None
        other.variant = None
        assert other == planned, f"row {number}"


def test_an_import_planned_beside_its_writes_makes_what_its_dry_run_said(tmp_path, settings):
    settings.REFINERY_IMPORT_PLAN_PROCESS_ROWS = 100
    import_csv(
        _write(tmp_path, _rows(40, 3, people=3), "known.csv"), source_name="CRM", actor=SYSTEM
    )
    known = set(Person.objects.values_list("pk", flat=True))
    kept_before = set(PersonVariant.objects.values_list("person_id", "signature"))
    path = _write(tmp_path, _rows(400, 4))
    dry = import_csv(path, source_name="Expo", actor=SYSTEM, dry_run=True)
    phases: list[str] = []

    report = import_csv(path, source_name="Expo", actor=SYSTEM, chunk_size=7, phase=phases.append)

    assert phases == [import_planner.MATCHING_AND_IMPORTING]
    assert _counts(report) == _counts(dry)
    assert report.review and report.people_attached and report.rejected == 20
    rows, people, pairs, _ = _outcome(report, known)
    assert len(rows) == 400 and pairs
    named_known = {who for _, who in rows if who.startswith("known")}
    assert (
        Person.objects.count() - len(known) == report.people_new == len(people) - len(named_known)
    )
    assert DuplicatePair.objects.count() == len(pairs)
    # Each row is stored as the file has it, whichever process made its payload.
    mapping, chunks = _chunks(path, 1000)
    expected = {n: scrubbed(mapping.payload(row)) for chunk in chunks() for n, row in chunk}
    stored = IntakeRecord.objects.filter(import_batch_id=report.batch_id)
    assert stored.count() == 400
    for record in stored:
        assert record.payload == expected[record.row_number], record.row_number
        assert record.payload_hash == payload_hash(expected[record.row_number])
    # Each row that attached to a person is kept as the variant of its own fields and keys,
    # whichever process made it (the first row of a new person made the person instead).
    variants = set()
    seen = set(known)
    for record in stored.filter(status=IntakeRecord.Status.PROCESSED).order_by("row_number"):
        if record.person_id in seen:
            clean = normalize_inquiry(record.payload, read_money=True).clean
            assert clean is not None
            signature, _ = variant_of({**clean.person, **person_keys(clean.person)})
            variants.add((record.person_id, signature))
        seen.add(record.person_id)
    assert len(variants - kept_before) > 10
    kept = set(PersonVariant.objects.values_list("person_id", "signature"))
    assert kept == kept_before | variants
    call_command("checkleads")
    if connection.vendor == "sqlite":  # the WAL the snapshot made grow is given back
        wal = Path(f"{connection.settings_dict['NAME']}-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        with connection.cursor() as cursor:  # checkpoints were off only while it imported
            assert cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_the_second_process_reads_the_database_as_it_was_before_the_import_wrote():
    """Its snapshot: people committed meanwhile by another connection are not seen."""
    seen: list[int] = []
    go, read = threading.Event(), threading.Event()

    def planner_side() -> None:
        try:
            with import_planner._snapshot():
                seen.append(Person.objects.count())
                read.set()
                go.wait(10)
                seen.append(Person.objects.count())
            seen.append(Person.objects.count())
        finally:
            read.set()
            connection.close()

    thread = threading.Thread(target=planner_side)
    thread.start()
    assert read.wait(10)
    with transaction.atomic():
        Person.objects.create(
            first_name="Written",
            last_name="Meanwhile",
            email="w@x.example",
            created_at=now(),
            updated_at=now(),
        )
    go.set()
    thread.join(10)
    assert seen == [0, 0, 1]


# The real child, made to die after it answered three chunks.
_DYING_CHILD = """
import os, pickle
import django
django.setup()
from leadrefinery.intake import import_planner
real_load = pickle.load
loads = [0]
def load(fh):
    loads[0] += 1
    if loads[0] > 4:  # the context, then three chunks
        os._exit(9)
    return real_load(fh)
import_planner.pickle.load = load
raise SystemExit(import_planner.main())
"""


class _DyingPlanner(import_planner.Planner):
    """The forked child's planner, made to die after it answered three chunks."""

    answered = 0

    def chunk(self, rows):  # type: ignore[no-untyped-def]
        if _DyingPlanner.answered == 3:
            os._exit(9)
        _DyingPlanner.answered += 1
        return super().chunk(rows)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_when_the_second_process_dies_the_batch_is_resumed_with_every_row_once(
    tmp_path, settings, monkeypatch, start
):
    settings.REFINERY_IMPORT_PLAN_PROCESS_ROWS = 100
    monkeypatch.setattr(importing, "_PLAN_CHUNK", 50)
    _start(monkeypatch, start)
    if start == "fork":  # only the child plans with it: this process never calls it
        monkeypatch.setattr(import_planner, "Planner", _DyingPlanner)
    else:
        monkeypatch.setattr(import_planner, "_CHILD", _DYING_CHILD)
    path = _write(tmp_path, _rows(400, 5))

    with pytest.raises(ImportFailed) as failed:
        import_csv(path, source_name="Expo", actor=SYSTEM, chunk_size=20)
    assert "matching process stopped (exit status 9)" in failed.value.message
    assert f"--resume {failed.value.batch_id}" in failed.value.message
    stored = IntakeRecord.objects.filter(import_batch_id=failed.value.batch_id)
    assert 0 < stored.count() <= 150  # what the three answered chunks held

    monkeypatch.undo()
    report = import_resume(batch_id=failed.value.batch_id, actor=SYSTEM)

    numbers = list(stored.order_by("row_number").values_list("row_number", flat=True))
    assert numbers == list(range(2, 402))  # every row once, by its line in the file
    assert stored.filter(status=IntakeRecord.Status.PROCESSED).count() == 380
    assert report.skipped > 0
    call_command("checkleads")


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_when_the_second_process_cannot_start_the_import_matches_first_itself(
    tmp_path, settings, monkeypatch, start
):
    settings.REFINERY_IMPORT_PLAN_PROCESS_ROWS = 100
    _start(monkeypatch, start)
    if start == "fork":
        monkeypatch.setattr(import_planner, "_forked_main", lambda read, write: 3)
    else:
        monkeypatch.setattr(import_planner, "_CHILD", "raise SystemExit(3)")
    path = _write(tmp_path, _rows(150, 6))
    dry = import_csv(path, source_name="Expo", actor=SYSTEM, dry_run=True)
    phases: list[str] = []

    report = import_csv(path, source_name="Expo", actor=SYSTEM, phase=phases.append)

    assert phases == ["matching", "importing"]
    assert _counts(report) == _counts(dry) and report.imported == 142


def test_the_child_is_a_new_interpreter_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not import_planner._can_fork()
    finally:
        stop.set()
        other.join()


def test_a_forked_child_leaves_the_importing_connection_as_it_was(tmp_path, monkeypatch):
    """The importing process closes its connection for the fork: the settings it made on it
    (SQLite's page reads) hold on the one it opens again, and it writes while the child
    plans."""
    from leadrefinery.common.db import sqlite_unmapped

    _start(monkeypatch, "fork")
    path = _write(tmp_path, _rows(120, 8))
    mapping, chunks = _chunks(path, 40)
    plan = Plan()
    with sqlite_unmapped(cache_mib=4), import_planner.PlanProcess(mapping, chunks) as process:
        assert process.forked
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                assert cursor.execute("PRAGMA mmap_size").fetchone()[0] == 0
                assert cursor.execute("PRAGMA cache_size").fetchone()[0] == -4096
        with transaction.atomic():
            Person.objects.create(
                first_name="Written", last_name="Meanwhile", email="w@x.example",
                created_at=now(), updated_at=now(),
            )  # fmt: skip
        process.fill(plan, 10**9)
    assert len(plan.rows) == 114  # six rows have no way to reach them
    assert Person.objects.count() == 1


def test_the_import_and_scan_commands_start_no_thread_beside_their_progress_bars(tmp_path):
    """A second thread would make the matching process and learning's random pairs start as
    new interpreters instead of forks (tqdm's monitor thread did, behind every bar)."""
    path = _write(tmp_path, _rows(30, 9))
    before = {t.ident for t in threading.enumerate()}

    call_command("import_leads", str(path), "--source", "Expo")  # with its progress bar
    call_command("dedupe_scan")
    with pytest.raises(CommandError, match="Nothing learnt"):  # too few people: still a bar
        call_command("dedupe_train")

    assert [t.name for t in threading.enumerate() if t.ident not in before] == []
    assert IntakeRecord.objects.count() == 30


@pytest.mark.parametrize("kind", ["xlsx", "upload", "latin-1"])
def test_a_forked_plan_reads_each_kind_of_file_as_the_writes_do(
    tmp_path, settings, monkeypatch, kind
):
    """The forked matching process reads the file itself: a workbook, an upload held in
    memory and a Latin-1 file with semicolons each import what their dry run (planned here,
    from the whole file) says, every row stored as the file has it."""
    import io

    from openpyxl import Workbook

    settings.REFINERY_IMPORT_PLAN_PROCESS_ROWS = 100
    _start(monkeypatch, "fork")
    rows = _rows(150, 6)
    rows[3][0] = "Zoë"  # a letter outside ASCII, as each file writes it
    if kind == "xlsx":
        book = Workbook()
        for row in [HEADER, *rows]:
            book.active.append(row)
        path = tmp_path / "list.xlsx"
        book.save(path)

        def source():
            return path
    elif kind == "upload":
        data = "\n".join(",".join(row) for row in [HEADER, *rows]).encode()

        def source():
            return io.BytesIO(data)
    else:
        path = tmp_path / "list.csv"
        path.write_bytes("\n".join(";".join(row) for row in [HEADER, *rows]).encode("latin-1"))

        def source():
            return path

    dry = import_csv(source(), source_name="Expo", actor=SYSTEM, dry_run=True)
    phases: list[str] = []
    report = import_csv(
        source(), source_name="Expo", actor=SYSTEM, chunk_size=40, phase=phases.append
    )

    assert phases == [import_planner.MATCHING_AND_IMPORTING]  # planned beside the writes
    assert _counts(report) == _counts(dry) and report.imported > 100 and report.review
    stored = IntakeRecord.objects.filter(import_batch_id=report.batch_id).order_by("row_number")
    assert [(r.payload.get("email", ""), r.payload.get("first_name", "")) for r in stored] == [
        (row[2].lower(), row[0]) for row in rows
    ]


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_after_the_last_chunk_the_matching_process_ends_on_its_own(
    tmp_path, monkeypatch, settings, start
):
    """An import that wrote every chunk lets its matching process finish (it copies the WAL
    back meanwhile) instead of stopping it; one that failed does not wait for it."""
    settings.REFINERY_IMPORT_PLAN_PROCESS_ROWS = 100
    _start(monkeypatch, start)
    ended: list[tuple[bool, int | None]] = []
    close = import_planner.PlanProcess.close

    def closing(self, *, finished=False):
        close(self, finished=finished)
        ended.append((finished, self._child.returncode))

    monkeypatch.setattr(import_planner.PlanProcess, "close", closing)
    import_csv(_write(tmp_path, _rows(200, 11)), source_name="Expo", actor=SYSTEM, chunk_size=50)
    assert ended == [(True, 0)]  # ended by itself (a stopped one says -9)

    def fail(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(importing, "process_records", fail)
    with pytest.raises(ImportFailed):
        import_csv(_write(tmp_path, _rows(200, 12), "b.csv"), source_name="Expo", actor=SYSTEM)
    assert ended[1][0] is False


def test_the_matching_process_copies_the_wal_back_once_its_snapshot_is_given_back():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL has no WAL file to copy back")
    database = Path(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("CREATE TABLE wal_probe (id INTEGER PRIMARY KEY, body TEXT)")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany("INSERT INTO wal_probe (body) VALUES (%s)", [("x" * 2048,)] * 500)
        before = database.stat().st_size

        import_planner._copy_back()

        assert database.stat().st_size > before + 500 * 2048  # the rows are in the file now
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE wal_probe")
            cursor.execute("PRAGMA wal_autocheckpoint=1000")


def test_a_failure_before_the_first_answer_stops_the_matching_process(
    tmp_path, monkeypatch, settings
):
    settings.REFINERY_IMPORT_PLAN_PROCESS_ROWS = 100
    _start(monkeypatch, "fork")
    ended: list[int | None] = []
    close = import_planner.PlanProcess.close

    def closing(self, *, finished=False):
        close(self, finished=finished)
        ended.append(self._child.returncode)

    def fail() -> None:
        raise RuntimeError("the configuration could not be read")

    monkeypatch.setattr(import_planner.PlanProcess, "close", closing)
    monkeypatch.setattr(importing, "materialize_ready", fail)
    with pytest.raises(RuntimeError, match="could not be read"):
        import_csv(_write(tmp_path, _rows(200, 13)), source_name="Expo", actor=SYSTEM)
    assert len(ended) == 1 and ended[0] is not None  # stopped and waited for
    assert IntakeRecord.objects.count() == 0
