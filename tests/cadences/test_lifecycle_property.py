"""Random sequences of what reps, buyers and the clock do never break the invariants:
no working lead without a next step due, no lost lead without a reason, no recycle without
a reason, and a cadence runs only on a working lead."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrefinery.cadences import services
from leadrefinery.cadences.models import Enrollment
from leadrefinery.cadences.sweep import cadence_sweep
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads import domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import lead_dispose, lead_recycle, touch_log

pytestmark = pytest.mark.django_db

REASONS = [
    "won",
    "lost_competitor",
    "lost_no_decision",
    "lost_no_response",
    "dq_not_fit",
    "recycle_not_ready",
    "recycle_no_response",
    "recycle_rejected",
    "wrong_territory",
]
actions = st.lists(
    st.one_of(
        st.tuples(st.just("accept")),
        st.tuples(st.just("reject"), st.sampled_from(REASONS)),
        st.tuples(
            st.just("step"),
            st.sampled_from(["", "connected", "voicemail", "no_answer", "wrong_number"]),
        ),
        st.tuples(st.just("reply")),
        st.tuples(st.just("meeting")),
        st.tuples(st.just("dispose"), st.sampled_from(REASONS)),
        st.tuples(st.just("recycle"), st.sampled_from(REASONS)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=24 * 9)),
        st.tuples(st.just("reschedule"), st.integers(min_value=1, max_value=24 * 5)),
    ),
    min_size=1,
    max_size=25,
)


def do(action: tuple, lead: Lead, rep, clock) -> None:
    actor = Actor.of(rep)
    kind = action[0]
    if kind == "accept":
        services.lead_accept(lead=lead, actor=actor)
    elif kind == "reject":
        services.lead_reject(lead=lead, actor=actor, reason_code=action[1])
    elif kind == "step":
        services.step_complete(lead=lead, actor=actor, outcome=action[1])
    elif kind == "reply":
        touch_log(lead=lead, channel="email", direction="inbound", outcome="replied", actor=actor)
    elif kind == "meeting":
        touch_log(lead=lead, channel="meeting", outcome="meeting_booked", actor=actor)
    elif kind == "dispose":
        lead_dispose(lead=lead, reason_code=action[1], actor=actor)
    elif kind == "recycle":
        lead_recycle(lead=lead, reason_code=action[1], actor=actor)
    elif kind == "wait":
        clock.advance(timedelta(hours=action[1]))
        cadence_sweep()
    elif kind == "reschedule":
        services.step_reschedule(
            lead=lead, due_at=clock.at + timedelta(hours=action[1]), actor=actor
        )


def check_invariants(lead: Lead) -> None:
    lead = Lead.objects.get(pk=lead.pk)
    stage = domain.Stage(lead.stage)
    if stage == domain.Stage.WORKING:
        assert lead.next_action.strip() and lead.next_action_due_at is not None
    if stage.is_open:
        assert (lead.owner_user_id is None) != (lead.owner_queue_id is None)
        assert lead.next_action_due_at is not None
    if stage in (domain.Stage.LOST, domain.Stage.DISQUALIFIED, domain.Stage.WON):
        assert lead.disposition_id, "closed without a reason"
    for event in lead.events.filter(to_stage=domain.Stage.NURTURE):
        if domain.is_recycle(domain.Stage(event.from_stage), domain.Stage.NURTURE):
            assert event.reason, "recycled without a reason"
    running = Enrollment.objects.filter(lead=lead, status__in=["active", "ending"])
    assert running.count() <= 1
    if running.exists():
        assert stage == domain.Stage.WORKING
        enrollment = running.get()
        assert enrollment.next_step_due_at is not None or enrollment.overdue_notified_step
    assert lead.events.filter(kind=LeadEvent.Kind.DISPOSED).count() <= 1


@settings(max_examples=40)
@given(sequence=actions)
def test_no_sequence_of_actions_breaks_the_invariants(sequence, ron, handed_to, frozen_now):
    lead = handed_to(ron)
    for action in sequence:
        # A refusal (with its message) is fine; the state must hold either way.
        with contextlib.suppress(ServiceError):
            do(action, Lead.objects.get(pk=lead.pk), ron, frozen_now)
        check_invariants(lead)
