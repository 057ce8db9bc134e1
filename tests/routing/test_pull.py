"""A queue member pulls the next lead: hot first, then the newest web inquiries, then retries
due, then the rest; each pull assigns the lead with a trace saying why it was next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.models import Lead
from leadrefinery.routing.pull import queue_pull_next, queues_of
from tests.routing.pull_helpers import qualifying_center, queued_leads

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
D = timedelta(days=1)


def test_pulls_follow_hot_then_newest_web_then_retries_due_then_the_rest(users, frozen_now):
    queue = qualifying_center(users.rep)
    at = now()
    specs = {
        "rest, oldest": {"received_ago": 10 * D},
        "rest, newer": {"received_ago": 5 * D},
        "rest, no action date": {"received_ago": 7 * D, "due_in": None},
        "retry, 2 h overdue": {"stage": "qualifying", "received_ago": 3 * D, "due_in": -2 * H},
        "retry, 1 h overdue": {"stage": "qualifying", "received_ago": 9 * D, "due_in": -H},
        "web, 2 days old": {"source": "Website", "received_ago": 2 * D},
        "web, 1 hour old": {"source": "API", "received_ago": H},
        "web, already worked": {
            "source": "Website",
            "stage": "qualifying",
            "received_ago": 6 * D,
            "due_in": 2 * D,
        },
        "hot, 3 days old": {"temperature": "hot", "received_ago": 3 * D},
        "hot, 1 day old": {"temperature": "hot", "received_ago": D, "due_in": -H},
    }
    leads = dict(zip(specs, queued_leads(queue, list(specs.values()), at=at), strict=True))
    by_id = {lead.pk: name for name, lead in leads.items()}

    pulled = []
    while (lead := queue_pull_next(queue=queue, user=users.rep)) is not None:
        pulled.append(by_id[lead.pk])

    assert pulled == [
        "hot, 1 day old",
        "hot, 3 days old",
        "web, 1 hour old",
        "web, 2 days old",
        "retry, 2 h overdue",
        "retry, 1 h overdue",
        "rest, oldest",
        "rest, no action date",
        "web, already worked",
        "rest, newer",
    ]
    assert queue_pull_next(queue=queue, user=users.rep) is None
    assert Lead.objects.filter(owner_queue=queue).count() == 0
    call_command("checkleads")  # every pulled lead still has one owner and a next action


def test_a_pulled_lead_is_the_reps_with_a_trace_and_an_inquiry_becomes_qualifying(
    users, frozen_now
):
    queue = qualifying_center(users.rep)
    (lead,) = queued_leads(queue, [{"source": "Website"}], at=now())

    pulled = queue_pull_next(queue=queue, user=users.rep)

    assert pulled is not None and pulled.pk == lead.pk
    lead.refresh_from_db()
    assert lead.owner_user == users.rep and lead.owner_queue is None
    assert lead.stage == "qualifying"
    assigned = lead.events.get(kind="assigned")
    assert assigned.data["from"] == "Queue: Qualifying center"
    assert assigned.data["trace"]["steps"] == [
        "pulled from Qualifying center by ron",
        "newest web inquiry",
    ]
    assert assigned.actor == users.rep
    assert lead.events.filter(kind="stage_changed", to_stage="qualifying").count() == 1


def test_a_retry_keeps_its_stage(users, frozen_now):
    queue = qualifying_center(users.rep)
    (lead,) = queued_leads(queue, [{"stage": "qualifying", "due_in": -H}], at=now())
    queue_pull_next(queue=queue, user=users.rep)
    lead.refresh_from_db()
    assert lead.owner_user == users.rep and lead.stage == "qualifying"
    assert lead.events.get(kind="assigned").data["trace"]["steps"][1].startswith("retry due")


def test_a_pulled_lead_gets_a_fresh_next_action_due_soon(users, frozen_now):
    """A lead that waited two months past its next action is not pulled into "overdue"."""
    queue = qualifying_center(users.rep)
    (lead,) = queued_leads(queue, [{"stage": "qualifying", "due_in": -60 * D}], at=now())
    queue_pull_next(queue=queue, user=users.rep)
    lead.refresh_from_db()
    assert lead.next_action == "Call to qualify (need, budget, authority, timeline)"
    assert lead.next_action_due_at == now() + H
    assert lead.events.filter(kind="next_action", actor=users.rep).count() == 1


def test_only_members_of_the_queue_may_pull(users, frozen_now):
    queue = qualifying_center(users.rep)
    (lead,) = queued_leads(queue, [{}], at=now())

    with pytest.raises(ServiceError) as refused:
        queue_pull_next(queue=queue, user=users.other_rep)

    assert "only members of the Qualifying center queue" in refused.value.message
    lead.refresh_from_db()
    assert lead.owner_queue == queue and lead.owner_user is None


def test_closed_leads_and_other_queues_are_never_pulled(users, frozen_now):
    queue = qualifying_center(users.rep)
    at = now()
    closed, elsewhere = queued_leads(queue, [{"temperature": "hot"}, {}], at=at)
    Lead.objects.filter(pk=closed.pk).update(stage="disqualified", disposition_id="dq_spam")
    Lead.objects.filter(pk=elsewhere.pk).update(
        owner_queue=queue.__class__.objects.get(slug="unassigned")
    )

    assert queue_pull_next(queue=queue, user=users.rep) is None


def test_the_queue_summary_counts_what_waits_in_each_bucket(users, frozen_now):
    queue = qualifying_center(users.rep)
    queued_leads(
        queue,
        [{"temperature": "hot"}, {"source": "Website"}, {"source": "API"}, {"due_in": -H}, {}],
        at=now(),
    )
    (summary,) = queues_of(users.rep)
    assert summary.queue == queue
    assert summary.waiting == 5
    assert summary.by_bucket == {"hot": 1, "web": 2, "retry": 1, "rest": 1}
    assert queues_of(users.other_rep) == []
