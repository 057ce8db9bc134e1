"""The hygiene sweep through the real services: flags appear within one sweep of their cause,
carry their reason, and clear when the cause goes; the sweep reads only due leads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Queue
from leadrefinery.leads.services import (
    lead_assign,
    lead_set_next_action,
    lead_transition,
    touch_log,
)
from leadrefinery.review.models import LeadFlag, LeadHygiene
from leadrefinery.review.sweep import hygiene_sweep, mark_due

pytestmark = pytest.mark.django_db


def active(lead) -> dict[str, str]:
    return dict(
        LeadFlag.objects.filter(lead=lead, cleared_at__isnull=True).values_list("kind", "reason")
    )


def test_a_lead_in_a_queue_nobody_is_in_is_flagged_and_cleared_when_someone_joins(
    make_lead, users, frozen_now
):
    lead = make_lead()
    queue = lead.owner_queue
    assert queue is not None and not queue.members.filter(is_active=True).exists()
    hygiene_sweep()
    assert "dead_queue" in active(lead)
    assert "no active member" in active(lead)["dead_queue"]

    queue.members.add(users.rep)
    frozen_now.advance(timedelta(minutes=1))
    hygiene_sweep()
    assert "dead_queue" not in active(lead)
    assert LeadFlag.objects.filter(lead=lead, kind="dead_queue", cleared_at__isnull=False).exists()


def test_removing_a_queues_last_member_flags_its_leads_within_one_sweep(
    make_lead, users, frozen_now
):
    queue = Queue.objects.get(slug="unassigned")
    queue.members.add(users.rep)
    leads = [make_lead() for _ in range(3)]
    hygiene_sweep()
    assert all("dead_queue" not in active(lead) for lead in leads)

    queue.members.remove(users.rep)
    frozen_now.advance(timedelta(minutes=1))
    hygiene_sweep()
    assert all("dead_queue" in active(lead) for lead in leads)


def test_overdue_appears_when_due_and_a_touch_with_a_new_next_action_clears_it(
    make_lead, users, frozen_now
):
    lead = make_lead()
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    hygiene_sweep()
    assert "overdue" not in active(lead)

    frozen_now.advance(timedelta(days=2))
    hygiene_sweep()  # no change to the lead: its due time brought it back
    assert "overdue" in active(lead)

    touch_log(lead=lead, channel="call", outcome="connected", actor=Actor.of(users.rep))
    lead_set_next_action(
        lead=lead,
        action="Send the proposal",
        due_at=frozen_now.at + timedelta(days=1),
        actor=Actor.of(users.rep),
    )
    hygiene_sweep()
    assert "overdue" not in active(lead)


def test_a_closed_lead_loses_its_flags(make_lead, users, frozen_now):
    lead = make_lead()
    hygiene_sweep()
    assert active(lead)
    lead_transition(
        lead=lead, to_stage="disqualified", reason_code="dq_spam", actor=Actor.of(users.admin)
    )
    hygiene_sweep()
    assert active(lead) == {}
    assert LeadHygiene.objects.get(lead=lead).due_at is None


def _queries_of_a_sweep(checked: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert hygiene_sweep() == checked
    return len(ctx.captured_queries)


def test_the_sweep_costs_the_same_queries_for_3_or_12_due_leads(make_lead, frozen_now):
    leads = [make_lead() for _ in range(12)]
    hygiene_sweep()
    idle = _queries_of_a_sweep(0)  # nothing changed, nothing due
    mark_due([lead.pk for lead in leads[:3]], frozen_now.at)
    three = _queries_of_a_sweep(3)
    mark_due([lead.pk for lead in leads], frozen_now.at)
    assert _queries_of_a_sweep(12) == three
    assert idle < three <= idle + 12
