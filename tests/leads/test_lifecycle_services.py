"""Stage changes through the services: rules enforced, timeline written, owner kept."""

from datetime import timedelta

import pytest

from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import LeadEvent, Touch
from leadrefinery.leads.services import (
    TransitionRefused,
    lead_assign,
    lead_dispose,
    lead_recycle,
    lead_set_next_action,
    lead_transition,
    touch_log,
)

pytestmark = pytest.mark.django_db


def _work(lead, rep):
    lead_assign(lead=lead, owner_user=rep, actor=Actor.system("test"))
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    return lead_transition(lead=lead, to_stage="working", actor=Actor.of(rep))


def test_every_stage_change_has_a_timeline_event_with_actor_and_reason(make_lead, users):
    lead = _work(make_lead(), users.rep)
    lead = lead_transition(
        lead=lead, to_stage="opportunity", actor=Actor.of(users.rep), note="BANT confirmed"
    )
    lead = lead_dispose(
        lead=lead, reason_code="lost_price", actor=Actor.of(users.rep), note="too dear"
    )
    changes = list(lead.events.exclude(to_stage="").order_by("occurred_at", "id"))
    assert [e.to_stage for e in changes] == [
        "inquiry",
        "sales_ready",
        "working",
        "opportunity",
        "lost",
    ]
    last = changes[-1]
    assert (last.actor, last.reason, last.note, last.from_stage) == (
        users.rep,
        "lost_price",
        "too dear",
        "opportunity",
    )
    assert lead.disposition_id == "lost_price" and lead.next_action == "" and lead.disposed_at


def test_lost_no_response_refused_until_six_touches_over_fourteen_days(
    make_lead, users, frozen_now
):
    lead = _work(make_lead(), users.rep)
    rep = Actor.of(users.rep)
    for _ in range(5):
        touch_log(lead=lead, channel="call", outcome="no_answer", actor=rep)
        frozen_now.advance(timedelta(days=3))
    with pytest.raises(TransitionRefused) as refused:
        lead_dispose(lead=lead, reason_code="lost_no_response", actor=rep)
    assert "needs at least 6 sales touches" in refused.value.message
    lead.refresh_from_db()
    assert lead.stage == "working" and lead.disposition is None

    touch_log(lead=lead, channel="email", outcome="sent", actor=rep)
    lead = lead_dispose(lead=lead, reason_code="lost_no_response", actor=rep)
    assert lead.stage == "lost"


def test_inbound_and_system_touches_do_not_count_toward_persistence(make_lead, users):
    lead = _work(make_lead(), users.rep)
    touch_log(
        lead=lead,
        channel="email",
        direction="inbound",
        outcome="replied",
        actor=Actor.of(users.rep),
    )
    touch_log(lead=lead, channel="email", outcome="sent", actor=Actor.system("nurture"))
    lead.refresh_from_db()
    assert lead.sales_touch_count == 0
    assert Touch.objects.filter(lead=lead, direction="outbound").count() == 1


def test_recycle_hands_the_lead_to_marketing_with_a_next_action(make_lead, users):
    lead = _work(make_lead(), users.rep)
    with pytest.raises(TransitionRefused, match="recycle reason is required"):
        lead_transition(lead=lead, to_stage="nurture", actor=Actor.of(users.rep))
    lead = lead_recycle(lead=lead, reason_code="recycle_not_ready", actor=Actor.of(users.rep))
    assert (
        lead.stage == "nurture" and lead.owner_user is None and lead.owner_queue.slug == "marketing"
    )
    assert lead.next_action and lead.next_action_due_at


def test_system_only_reason_is_refused_to_users(make_lead, users):
    with pytest.raises(TransitionRefused, match="system only"):
        lead_dispose(lead=make_lead(), reason_code="import_undone", actor=Actor.of(users.admin))


def test_closed_leads_cannot_be_reassigned_or_reopened(make_lead, users):
    lead = lead_dispose(lead=make_lead(), reason_code="dq_spam", actor=Actor.of(users.admin))
    with pytest.raises(ServiceError, match="closed"):
        lead_assign(lead=lead, owner_user=users.rep, actor=Actor.of(users.admin))
    with pytest.raises(TransitionRefused, match="closed"):
        lead_transition(lead=lead, to_stage="working", actor=Actor.of(users.admin))


def test_assignment_to_an_inactive_rep_is_refused(make_lead, users):
    users.rep2.is_active = False
    users.rep2.save()
    with pytest.raises(ServiceError, match="inactive"):
        lead_assign(lead=make_lead(), owner_user=users.rep2, actor=Actor.of(users.manager))


def test_next_action_is_required_text(make_lead, users, frozen_now):
    lead = make_lead()
    with pytest.raises(ServiceError, match="describe"):
        lead_set_next_action(
            lead=lead, action="  ", due_at=frozen_now.at, actor=Actor.of(users.rep)
        )
    lead = lead_set_next_action(
        lead=lead,
        action="Send the pricing sheet",
        due_at=frozen_now.at + timedelta(days=1),
        actor=Actor.of(users.rep),
    )
    assert lead.next_action == "Send the pricing sheet"
    assert lead.events.filter(kind=LeadEvent.Kind.NEXT_ACTION).count() == 1


def test_a_lead_handed_to_a_rep_after_hours_is_due_when_the_rep_is_back(
    make_lead, users, frozen_now
):
    """The next action of a sales-ready lead is the first-contact deadline in the rep's working
    hours, not an hour after a Saturday hand-off (the list would call it overdue all weekend
    while its first-contact countdown still runs)."""
    frozen_now.set(frozen_now.at - timedelta(days=2))  # Saturday 09:00
    system = Actor.system("test")
    lead = lead_assign(lead=make_lead(), owner_user=users.rep, actor=system)
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=system)
    assert lead.sla_first_touch_due_at is not None
    assert lead.next_action_due_at == lead.sla_first_touch_due_at
    assert lead.next_action_due_at >= frozen_now.at + timedelta(days=2)  # Monday, not Saturday
