"""Undoing an import reverts exactly that batch: its untouched leads close as "import undone",
its rows on older leads stop counting, worked leads stay open, and nothing else changes."""

import pytest
from django.core.management import call_command

from leadrefinery.common.errors import ServiceError
from leadrefinery.intake.importing import import_batch_undo, import_csv
from leadrefinery.intake.services import intake_retry_sweep, process_records
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import ImportBatch, IntakeRecord, Lead, LeadEvent, Source, Touch
from leadrefinery.leads.services import lead_assign, lead_transition, touch_log

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")
OPEN = ["inquiry", "nurture", "qualifying", "sales_ready", "working", "opportunity"]


def _import(tmp_path, text, name="list.csv", **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    kw.setdefault("actor", SYSTEM)
    return import_csv(path, source_name=kw.pop("source_name", "Purchased list"), **kw)


def _state(lead):
    lead.refresh_from_db()
    return (
        lead.stage,
        lead.owner_user_id,
        lead.owner_queue_id,
        lead.next_action,
        lead.next_action_due_at,
        lead.last_touch_at,
        lead.sales_touch_count,
        lead.disposition_id,
    )


def test_undo_restores_older_leads_and_leaves_other_batches_alone(tmp_path, make_lead, users):
    older = make_lead(email="anna@example.org")
    lead_assign(lead=older, owner_user=users.rep, actor=Actor.of(users.manager))
    other = _import(tmp_path, "Email\nben@example.org\n", name="other.csv", source_name="Webinar")
    before = {lead.pk: _state(lead) for lead in Lead.objects.all()}
    open_before = Lead.objects.filter(stage__in=OPEN).count()

    report = _import(tmp_path, "Email\nanna@example.org\nben@example.org\ncarla@example.org\n")
    assert (report.new_leads, report.attached) == (1, 2)
    undo = import_batch_undo(batch_id=report.batch_id, actor=Actor.of(users.manager))

    assert (undo.leads_closed, undo.touches_voided, undo.kept) == (1, 2, [])
    assert {
        lead.pk: _state(lead) for lead in Lead.objects.exclude(import_batch_id=report.batch_id)
    } == before
    assert Lead.objects.filter(stage__in=OPEN).count() == open_before
    carla = Lead.objects.get(person__email="carla@example.org")
    assert (carla.stage, carla.disposition_id, carla.next_action) == (
        "disqualified",
        "import_undone",
        "",
    )
    closing = carla.events.get(kind="import_undone")
    assert (closing.from_stage, closing.to_stage, closing.actor, closing.reason) == (
        "inquiry",
        "disqualified",
        users.manager,
        "import_undone",
    )
    # The rows on the older leads are voided, not deleted, and the timeline says so.
    voided = Touch.objects.filter(import_batch_id=report.batch_id, voided_at__isnull=False)
    assert set(voided.values_list("lead_id", flat=True)) == {
        older.pk,
        Lead.objects.get(import_batch_id=other.batch_id).pk,
    }
    assert older.events.filter(kind="import_undone", note__contains=report.batch_id).exists()
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert (batch.undone_by, batch.undone_at is not None) == (users.manager, True)
    assert ImportBatch.objects.get(pk=other.batch_id).undone_at is None
    call_command("checkleads")


def test_undo_keeps_leads_worked_since_the_import(tmp_path, users, submit_inquiry):
    report = _import(
        tmp_path,
        "Email,First Name\n"
        "called@example.org,Cal\n"
        "moved@example.org,Mo\n"
        "returned@example.org,Ret\n"
        "noted@example.org,Nat\n"
        "untouched@example.org,Una\n",
    )
    lead = {
        p: Lead.objects.get(person__email=f"{p}@example.org")
        for p in ("called", "moved", "returned", "noted", "untouched")
    }
    rep = Actor.of(users.rep)
    touch_log(lead=lead["called"], channel="call", outcome="voicemail", actor=rep)
    lead_transition(lead=lead["moved"], to_stage="qualifying", actor=rep)
    submit_inquiry(email="returned@example.org", message="Still interested?")
    lead_assign(lead=lead["noted"], owner_user=users.rep, actor=Actor.of(users.manager))
    # A later pipeline step writing at the moment of creation is part of the intake, not work.
    untouched = lead["untouched"]
    LeadEvent.objects.create(
        lead=untouched,
        kind="note",
        occurred_at=untouched.created_at,
        actor_label="system:sla",
        note="SLA clock started",
    )

    undo = import_batch_undo(batch_id=report.batch_id, actor=SYSTEM)

    assert undo.leads_closed == 1
    kept = dict(undo.kept)
    assert set(kept) == {lead["called"].pk, lead["moved"].pk, lead["returned"].pk, lead["noted"].pk}
    assert "sales touch" in kept[lead["called"].pk]
    assert "stage changed to qualifying by ron" in kept[lead["moved"].pk]
    assert "another inquiry arrived" in kept[lead["returned"].pk]
    assert "assigned by maria" in kept[lead["noted"].pk]
    stages = dict(
        Lead.objects.filter(import_batch_id=report.batch_id).values_list("person__email", "stage")
    )
    assert stages == {
        "called@example.org": "inquiry",
        "moved@example.org": "qualifying",
        "returned@example.org": "inquiry",
        "noted@example.org": "inquiry",
        "untouched@example.org": "disqualified",
    }
    call_command("checkleads")


def test_undo_twice_is_refused_and_changes_nothing(tmp_path):
    report = _import(tmp_path, "Email\nanna@example.org\n")
    import_batch_undo(batch_id=report.batch_id, actor=SYSTEM)
    events = LeadEvent.objects.count()
    with pytest.raises(ServiceError, match=f"import batch {report.batch_id} was already undone"):
        import_batch_undo(batch_id=report.batch_id, actor=SYSTEM)
    assert LeadEvent.objects.count() == events
    with pytest.raises(ServiceError, match="there is no import batch 'b_nope'"):
        import_batch_undo(batch_id="b_nope", actor=SYSTEM)


def test_rows_stored_but_never_processed_are_cancelled_by_the_undo(tmp_path):
    """An import interrupted between storing and processing a chunk: the retry job must not
    turn those rows into leads after the batch was undone."""
    report = _import(tmp_path, "Email\nanna@example.org\n")
    batch = ImportBatch.objects.get(pk=report.batch_id)
    waiting = IntakeRecord.objects.create(
        channel="import",
        received_at=batch.created_at,
        payload={"email": "late@example.org"},
        payload_hash="x",
        source=Source.objects.get(name="Purchased list"),
        import_batch=batch,
        row_number=3,
    )
    undo = import_batch_undo(batch_id=batch.pk, actor=SYSTEM)
    assert undo.records_cancelled == 1
    waiting.refresh_from_db()
    assert waiting.status == "rejected" and "undone" in waiting.errors[0]["message"]
    assert intake_retry_sweep(older_than_seconds=0) == 0
    assert process_records([waiting.pk], actor=SYSTEM) == []
    assert not Lead.objects.filter(person__email="late@example.org").exists()


def test_a_users_import_and_undo_are_recorded_as_theirs(tmp_path, users):
    report = _import(tmp_path, "Email\nanna@example.org\n", actor=Actor.of(users.marketer))
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert batch.created_by == users.marketer
    lead = Lead.objects.get(import_batch=batch)
    assert lead.events.get(kind="created").actor == users.marketer
    import_batch_undo(batch_id=batch.pk, actor=Actor.of(users.admin))
    assert lead.events.get(kind="import_undone").actor_label == "admin"
