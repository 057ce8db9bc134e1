"""Intake stores first, processes once, and never loses or duplicates an inquiry."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from leadrefinery.intake.services import (
    IdempotencyConflict,
    intake_process,
    intake_receive,
    intake_retry_sweep,
    process_records,
)
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Consent, IntakeRecord, Lead, Person, Source, Touch

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_source():
    return Source.objects.get(name="API")


def test_inquiry_becomes_person_lead_touch_and_timeline(submit_inquiry):
    record = submit_inquiry(
        email="JOHN.Smith@Example.com",
        phone="+1 (415) 555-0100",
        name="John Smith",
        company="Acme, Inc.",
        country="United States",
        product_interest="Analytics",
        message="Please call me about our warehouse",
        consent=True,
    )
    assert record.status == "processed"
    lead = Lead.objects.select_related("person", "owner_queue", "account").get(pk=record.lead_id)
    person = lead.person
    assert (person.email, person.phone, person.country) == (
        "john.smith@example.com",
        "+14155550100",
        "US",
    )
    assert (person.first_name, person.last_name) == ("John", "Smith")
    assert lead.account.name == "Acme, Inc."
    assert lead.stage == "inquiry" and lead.owner_queue.slug == "unassigned"
    assert lead.next_action == "Qualify the inquiry" and lead.next_action_due_at is not None
    assert Touch.objects.get(lead=lead).direction == "inbound"
    assert [e.kind for e in lead.events.order_by("id")] == ["created", "assigned"]
    assert Consent.objects.get(person=person).basis == "opt_in"


def test_same_person_same_product_line_attaches_to_the_open_lead(submit_inquiry):
    first = submit_inquiry(email="ana@example.org", product_interest="CRM")
    again = submit_inquiry(
        email="ANA@example.org", phone="+44 20 7946 0958", product_interest="CRM"
    )
    other_line = submit_inquiry(email="ana@example.org", product_interest="Billing")
    assert again.lead_id == first.lead_id
    assert again.response["outcome"] == "attached_to_open_lead"
    assert other_line.lead_id != first.lead_id
    assert Person.objects.count() == 1
    assert Person.objects.get().phone == "+442079460958"  # learned from the second inquiry
    assert Touch.objects.filter(lead_id=first.lead_id).count() == 2


def test_phone_only_inquiry_matches_by_phone(submit_inquiry):
    first = submit_inquiry(phone="415.555.0100", country="US", first_name="Lee")
    second = submit_inquiry(phone="+1 415 555 0100")
    assert first.lead_id == second.lead_id


def test_invalid_inquiry_is_stored_as_rejected_and_creates_nothing(submit_inquiry):
    record = submit_inquiry(email="not-an-email", phone="12")
    assert record.status == "rejected"
    assert {e["field"] for e in record.errors} == {"email", "phone"}
    assert IntakeRecord.objects.filter(pk=record.pk).exists()
    assert Lead.objects.count() == 0 and Person.objects.count() == 0


def test_neither_email_nor_phone_is_rejected_with_a_clear_message(submit_inquiry):
    record = submit_inquiry(first_name="Only", last_name="Name", company="Acme")
    assert record.status == "rejected"
    assert "email address or a phone number is required" in record.errors[0]["message"]


def test_unknown_country_is_a_warning_not_a_rejection(submit_inquiry):
    record = submit_inquiry(email="x@example.com", country="Atlantis")
    assert record.status == "processed"
    assert "Atlantis" in record.response["warnings"][0]


def test_idempotent_receive_returns_the_original_and_refuses_another_body(api_source):
    body = {"email": "k@example.com"}
    first, created = intake_receive(
        channel="api",
        payload=body,
        source=api_source,
        idempotency_scope="u1",
        idempotency_key="abc",
    )
    again, created_again = intake_receive(
        channel="api",
        payload=dict(body),
        source=api_source,
        idempotency_scope="u1",
        idempotency_key="abc",
    )
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        intake_receive(
            channel="api",
            payload={"email": "other@example.com"},
            source=api_source,
            idempotency_scope="u1",
            idempotency_key="abc",
        )
    other_scope, created_other = intake_receive(
        channel="api",
        payload=body,
        source=api_source,
        idempotency_scope="u2",
        idempotency_key="abc",
    )
    assert created_other and other_scope.pk != first.pk


def test_processing_twice_creates_one_lead(api_source):
    record, _ = intake_receive(
        channel="api", payload={"email": "once@example.com"}, source=api_source
    )
    intake_process(record)
    intake_process(record)
    assert Lead.objects.count() == 1 and Touch.objects.count() == 1


def test_a_caller_holding_a_stale_copy_neither_reprocesses_nor_miscounts(api_source):
    """The API hands process_records the record it has just stored; another process (the
    retry sweep) may have tried it since. The stored copy is not trusted for that."""
    record, _ = intake_receive(
        channel="api", payload={"email": "stale@example.com"}, source=api_source
    )
    # Meanwhile a retry tried it once and failed.
    IntakeRecord.objects.filter(pk=record.pk).update(status="failed", attempts=1)
    done = process_records([record.pk], actor=Actor.system("test"), stored=[record])
    assert [r.pk for r in done] == [record.pk]
    stored = IntakeRecord.objects.get(pk=record.pk)
    assert (stored.status, stored.attempts) == ("processed", 2)
    # Processed now: a caller still holding its old copy changes nothing.
    stale = IntakeRecord.objects.get(pk=record.pk)
    stale.status, stale.attempts = "received", 0
    assert process_records([record.pk], actor=Actor.system("test"), stored=[stale]) == []
    assert Lead.objects.count() == 1
    assert IntakeRecord.objects.get(pk=record.pk).attempts == 2


def test_records_left_by_a_crash_are_processed_by_the_sweep_exactly_once(api_source, frozen_now):
    # Stored but never processed: what a crash between the two steps leaves behind.
    waiting = [
        intake_receive(channel="api", payload={"email": f"w{i}@example.com"}, source=api_source)[0]
        for i in range(3)
    ]
    assert intake_retry_sweep() == 0  # too recent: the request may still be processing it
    frozen_now.advance(timedelta(minutes=5))
    assert intake_retry_sweep() == 3
    assert intake_retry_sweep() == 0
    assert Lead.objects.count() == 3
    assert set(IntakeRecord.objects.values_list("status", flat=True)) == {"processed"}
    assert {r.pk for r in waiting} == set(IntakeRecord.objects.values_list("pk", flat=True))
    call_command("checkleads")
