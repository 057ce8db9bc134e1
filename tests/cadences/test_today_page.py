"""The rep's Today page: what is due, in work order, logged in one click."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leadrefinery.cadences.models import CadenceTemplate, Enrollment
from leadrefinery.cadences.services import lead_accept
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Person, Touch
from leadrefinery.notifications.dispatch import outbox_dispatch

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true", "HX-Target": "task"}


def task_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="task-(\d+)"', html)]


@pytest.fixture
def working(sales_ready, ron):
    return lead_accept(lead=sales_ready, actor=Actor.of(ron))


def many_open_leads(rep, template_lead, count: int, frozen_now) -> list[Lead]:
    """``count`` working leads of ``rep``, built in bulk (the intake is not under test here):
    every fifth is hot, every seventh has a running SLA clock, every third is due tomorrow."""
    at = frozen_now.at
    people = Person.objects.bulk_create(
        Person(
            email=f"bulk{i}@example.com",
            first_name="Bulk",
            last_name=f"Buyer{i}",
            company_name=f"Company {i}",
            created_at=at,
            updated_at=at,
        )
        for i in range(count)
    )
    leads = Lead.objects.bulk_create(
        Lead(
            person=person,
            stage="working",
            owner_user=rep,
            source_id=template_lead.source_id,
            next_action=f"Step 1 of 11: Call {i}",
            next_action_due_at=at + timedelta(days=1 if i % 3 == 0 else 0, minutes=i),
            temperature="hot" if i % 5 == 0 else "warm",
            sla_due_at=at + timedelta(hours=1) if i % 7 == 0 else None,
            received_at=at,
            created_at=at,
            updated_at=at,
            stage_changed_at=at,
        )
        for i, person in enumerate(people)
    )
    template = CadenceTemplate.objects.get(is_default=True)
    Enrollment.objects.bulk_create(
        Enrollment(lead=lead, template=template, started_at=at, step_due_at=at) for lead in leads
    )
    return leads


def test_a_rep_with_500_open_leads_gets_the_page_in_a_few_queries(
    ron, working, client_for, frozen_now, django_assert_max_num_queries
):
    leads = many_open_leads(ron, working, 500, frozen_now)
    client = client_for(ron)
    with django_assert_max_num_queries(12):
        html = client.get("/today/").content.decode()
    shown = task_ids(html)
    due_today = [lead.pk for i, lead in enumerate(leads) if i % 3 != 0]
    assert set(shown) == {*due_today, working.pk}
    # Hot first, then SLA-critical, then by due time.
    hot = {lead.pk for i, lead in enumerate(leads) if i % 5 == 0}
    first_cold = next(i for i, pk in enumerate(shown) if pk not in hot)
    assert all(pk in hot for pk in shown[:first_cold])
    assert all(pk not in hot for pk in shown[first_cold:])


def test_the_api_lists_the_same_tasks(ron, working, token_for, frozen_now):
    from tests.api.conftest import ApiClient

    (task,) = ApiClient(token_for(ron)).get("/tasks").json()
    assert task["lead_id"] == working.pk and task["kind"] == "step"
    assert task["channel"] == "call" and task["step"] == 1 and task["steps"] == 11
    # Accepted but not yet called: the speed-to-lead clock still runs, so it is SLA-critical.
    assert task["sla_critical"] is True and task["overdue"] is False


def test_one_click_logs_the_call_and_shows_the_next_step(ron, working, client_for, frozen_now):
    client = client_for(ron)
    response = client.post(f"/today/{working.pk}/step/", {"outcome": "voicemail"}, headers=HTMX)
    html = response.content.decode()
    # The email step is due at once (same day): the row comes back with the send button.
    assert f'id="task-{working.pk}"' in html and "Send email" in html
    assert "Step 2 of 11: Email 1: introduction" in html
    touch = Touch.objects.get(lead=working, channel="call")
    assert (touch.outcome, touch.is_sales, touch.actor) == ("voicemail", True, ron)
    refused = client.post(f"/today/{working.pk}/step/", {"outcome": "voicemail"}, headers=HTMX)
    assert "Email steps take no outcome" in refused.content.decode()


def test_the_email_goes_out_over_smtp_threaded_and_is_recorded_as_a_touch(
    ron, working, client_for, frozen_now, smtp_server
):
    client = client_for(ron)
    client.post(f"/today/{working.pk}/step/", {"outcome": "no_answer"}, headers=HTMX)
    done = client.post(f"/today/{working.pk}/step/", {}, headers=HTMX).content.decode()
    # Tomorrow: the row is done today, and says what happened and what comes next.
    assert "Step done: 2 of 11 cadence steps done" in done
    assert "Next: Step 3 of 11: Call 2, due Tue Mar 3, 09:00" in done
    assert Touch.objects.get(lead=working, channel="email").outcome == "sent"
    # Work on to the second email (steps 3 and 4 are calls).
    for _ in range(2):
        lead = Lead.objects.get(pk=working.pk)
        frozen_now.set(lead.next_action_due_at)
        client.post(f"/today/{working.pk}/step/", {"outcome": "no_answer"}, headers=HTMX)
    client.post(f"/today/{working.pk}/step/", {}, headers=HTMX)
    assert outbox_dispatch() == 2
    first, second = [m for m in smtp_server.messages if m["To"] == working.person.email]
    assert first["Subject"] == "Your inquiry to us, Olga"
    assert "Hi Olga," in first.get_payload() and "Brandt Logistics" in first.get_payload()
    assert first["Reply-To"] == ron.email
    assert second["Subject"] == "Re: Your inquiry to us, Olga"
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"] == first["Message-ID"]


def test_reschedule_note_meeting_and_accept_from_the_page(
    ron, working, handed_to, client_for, frozen_now
):
    client = client_for(ron)
    client.post(f"/today/{working.pk}/note/", {"note": "Prefers mornings"}, headers=HTMX)
    assert working.events.filter(kind="note", note="Prefers mornings").exists()
    moved = client.post(
        f"/today/{working.pk}/reschedule/", {"due_at": "2026-03-05T10:00"}, headers=HTMX
    )
    assert "Rescheduled" in moved.content.decode()
    lead = Lead.objects.get(pk=working.pk)
    assert lead.next_action_due_at.isoformat() == "2026-03-05T10:00:00+00:00"
    assert lead.next_action == "Step 1 of 11: Call 1: first contact"  # same step, later
    client.post(f"/today/{working.pk}/meeting/", {}, headers=HTMX)
    assert Enrollment.objects.get(lead=working).status == "stopped"

    new = handed_to(ron, first_name="Nina", last_name="New")
    assert "Accept" in client.get("/today/").content.decode()
    accepted = client.post(f"/today/{new.pk}/accept/", {}, headers=HTMX).content.decode()
    assert "Accepted. First step: Step 1 of 11" in accepted
    assert Lead.objects.get(pk=new.pk).stage == "working"


def test_the_lead_page_shows_the_cadence_and_what_no_response_still_needs(ron, working, client_for):
    html = client_for(ron).get(f"/leads/{working.pk}/").content.decode()
    assert 'id="cadence-panel"' in html
    assert "0 of 11 steps done" in html
    assert "'No response' allowed after 6 more touches and 14 more days." in html


def test_other_reps_cannot_act_on_the_lead(users, working, client_for):
    client = client_for(users.other_rep)
    assert client.post(f"/today/{working.pk}/step/", {"outcome": "connected"}).status_code == 404
