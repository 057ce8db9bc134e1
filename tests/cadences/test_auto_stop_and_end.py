"""A reply or a meeting stops the cadence; the end without an answer recycles to nurture."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadrefinery.cadences.models import Enrollment
from leadrefinery.cadences.services import lead_accept
from leadrefinery.cadences.sweep import cadence_sweep
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.notifications.models import OutboxMessage
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def working(sales_ready, ron):
    return lead_accept(lead=sales_ready, actor=Actor.of(ron))


def test_a_reply_stops_the_cadence_and_tells_the_owner(
    working, ron, users, token_for, work_cadence, frozen_now
):
    work_cadence(working, ron, steps=3)
    # The buyer's reply, logged by an assistant (not the owner) through the API.
    api = ApiClient(token_for(users.admin))
    response = api.post(
        f"/leads/{working.pk}/touches",
        {"channel": "email", "direction": "inbound", "outcome": "replied", "note": "Call me"},
    )
    assert response.status_code == 201
    enrollment = Enrollment.objects.get(lead=working)
    assert (enrollment.status, enrollment.end_reason) == ("stopped", "the buyer replied")
    assert enrollment.next_step_due_at is None
    lead = Lead.objects.get(pk=working.pk)
    assert lead.stage == "working"
    assert lead.next_action == "Answer their reply" and lead.next_action_due_at > frozen_now.at
    notice = OutboxMessage.objects.get(event="lead.inbound", kind="email")
    assert notice.recipient == "ron@refinery.example" and "got back to you" in notice.subject
    # Nothing left for the sweep, however late it runs.
    frozen_now.advance(timedelta(days=60))
    assert cadence_sweep() == 0
    assert Lead.objects.get(pk=working.pk).stage == "working"


def test_a_booked_meeting_stops_the_cadence(working, ron, token_for):
    api = ApiClient(token_for(ron))
    response = api.post(
        f"/leads/{working.pk}/touches", {"channel": "meeting", "outcome": "meeting_booked"}
    )
    assert response.status_code == 201
    assert Enrollment.objects.get(lead=working).end_reason == "a meeting was booked"
    assert Lead.objects.get(pk=working.pk).next_action.startswith("Prepare the meeting")
    assert not OutboxMessage.objects.filter(event="lead.inbound").exists()  # ron did it himself


def test_a_new_inquiry_from_the_buyer_counts_as_an_answer(working, ron, submit_inquiry):
    submit_inquiry(email=working.person.email, first_name="Olga", last_name="Brandt")
    assert Enrollment.objects.get(lead=working).contacted
    notice = OutboxMessage.objects.get(event="lead.inbound", recipient=ron.email)
    assert notice.subject == f"{working.person.display_name} got back to you: a new inquiry"


def test_the_end_without_an_answer_recycles_to_marketing_nurture(
    working, ron, work_cadence, frozen_now
):
    lead = work_cadence(working, ron)  # all eleven steps, no answer
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.status == "ending"
    assert lead.next_action == "Cadence done: waiting for a reply, then recycle to nurture"
    assert cadence_sweep() == 0  # two days to wait for a reply to the break-up email
    frozen_now.set(lead.next_action_due_at)
    assert cadence_sweep() == 1
    lead = Lead.objects.select_related("owner_queue").get(pk=lead.pk)
    assert lead.stage == "nurture" and lead.owner_queue.slug == "marketing"
    assert lead.next_action and lead.next_action_due_at
    recycled = lead.events.get(to_stage="nurture")
    assert recycled.reason == "recycle_no_response"
    assert recycled.note == "No response after 11 touches"
    assert Enrollment.objects.get(lead=lead).status == "completed"


def test_the_end_after_a_conversation_leaves_the_decision_to_the_rep(
    working, ron, work_cadence, frozen_now
):
    lead = work_cadence(working, ron, outcome="connected")
    frozen_now.set(lead.next_action_due_at)
    assert cadence_sweep() == 1
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.stage == "working" and lead.owner_user == ron
    assert lead.next_action == "Cadence done: decide the outcome"
    assert OutboxMessage.objects.filter(event="cadence.completed", recipient=ron.email).exists()


def test_an_overdue_step_is_told_to_the_owner_once(working, ron, frozen_now):
    lead = Lead.objects.get(pk=working.pk)
    frozen_now.set(lead.next_action_due_at + timedelta(hours=3))
    assert cadence_sweep() == 0  # due, not yet overdue (four working hours)
    frozen_now.set(lead.next_action_due_at + timedelta(hours=5))
    assert cadence_sweep() == 1
    assert cadence_sweep() == 0
    notices = OutboxMessage.objects.filter(event="cadence.step_overdue", kind="email")
    assert [n.recipient for n in notices] == [ron.email]
    assert "Overdue: Step 1 of 11" in notices[0].subject
