"""What cadences do when a lead changes: subscribers of the lead-event registry
(``leads.events``, declared in ``apps.py``), called in the writer's transaction.

- Entering Working starts the default cadence; leaving it (a disposition, a recycle, an
  opportunity) stops the cadence.
- Lost for no decision, closed as no response, or recycled: an outcome check 12 months later.
- A reply or a booked meeting stops the cadence; any inbound touch marks the buyer as having
  answered and tells the owner.
"""

from __future__ import annotations

import logging
from datetime import datetime

from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.events import Change, actor_of, leads_of
from leadrefinery.leads.models import DispositionReason, Lead, Touch

from . import domain, notify, queries, services
from .models import Enrollment

log = logging.getLogger(__name__)


def on_stage_change(changes: list[Change]) -> None:
    """``stage_changed`` and ``disposed``: start, stop, schedule outcome checks."""
    leads = leads_of(changes)
    for change in changes:
        lead = leads[change.lead_id or 0]
        after_transition(
            lead=lead,
            from_stage=getattr(change, "from_stage", ""),
            reason_code=getattr(change, "reason", ""),
            actor=actor_of(change),
            at=change.occurred_at,
        )


def on_touch(changes: list[Change]) -> None:
    """``touch``: a reply or a booked meeting stops the cadence; an inbound touch tells the
    owner. The event carries the touch's channel, direction and outcome."""
    leads = leads_of(changes)
    for change in changes:
        data = change.data or {}
        touch = Touch(
            pk=data.get("touch_id"),
            lead_id=change.lead_id,
            channel=data.get("channel", ""),
            direction=data.get("direction", ""),
            outcome=data.get("outcome", ""),
            occurred_at=change.occurred_at,
        )
        after_touch(
            lead=leads[change.lead_id or 0],
            touch=touch,
            actor=actor_of(change),
            at=change.occurred_at,
        )


def on_inquiry(changes: list[Change]) -> None:
    """``inquiry``: another inquiry from the person of an open lead."""
    if not changes:
        return
    leads = leads_of(changes)
    after_inbound_intake(leads=list(leads.values()), at=max(c.occurred_at for c in changes))


def after_transition(
    *, lead: Lead, from_stage: str, reason_code: str, actor: Actor, at: datetime
) -> None:
    to_stage = lead_domain.Stage(lead.stage)
    frm = lead_domain.Stage(from_stage)
    if to_stage == lead_domain.Stage.WORKING and lead.owner_user_id is not None:
        if services.default_template() is not None:
            services.cadence_enroll(lead=lead, actor=actor, at=at)
            lead.refresh_from_db(fields=["next_action", "next_action_due_at", "updated_at"])
    elif frm == lead_domain.Stage.WORKING:
        services.cadence_stop(
            lead=lead,
            actor=actor,
            reason=f"the lead moved to {to_stage.label}"
            + (f" ({DispositionReason.label_for(reason_code)})" if reason_code else ""),
            at=at,
        )
    due = domain.outcome_check_due(
        reason_code=reason_code, recycled=lead_domain.is_recycle(frm, to_stage), at=at
    )
    if due is not None:
        services.outcome_check_schedule(lead=lead, reason=reason_code, due_at=due, at=at)


def after_touch(*, lead: Lead, touch: Touch, actor: Actor, at: datetime) -> None:
    inbound = touch.direction == Touch.Direction.INBOUND
    answered = inbound or touch.outcome in domain.CONTACT_OUTCOMES
    if not answered:
        return
    enrollment = services.running_enrollment(lead, lock=True)
    if enrollment is not None and not enrollment.contacted:
        enrollment.contacted = True
        enrollment.save(update_fields=["contacted"])
    stops = touch.outcome in domain.STOP_OUTCOMES or (
        inbound and touch.channel == Touch.Channel.EMAIL
    )
    if enrollment is not None and stops:
        meeting = touch.outcome == Touch.Outcome.MEETING_BOOKED
        services.cadence_stop(
            lead=lead,
            actor=actor,
            reason="a meeting was booked" if meeting else "the buyer replied",
            next_action="Prepare the meeting and qualify (need, budget, authority, timeline)"
            if meeting
            else "Answer their reply",
            at=at,
        )
        lead.refresh_from_db(fields=["next_action", "next_action_due_at", "updated_at"])
    if inbound and lead.owner_user_id is not None and actor.user_id != lead.owner_user_id:
        what = touch.get_outcome_display() if touch.outcome else touch.get_channel_display()
        notify.inbound(lead=lead, fact=f"touch:{touch.pk}", what=what.lower(), at=at)


def after_inbound_intake(*, leads: list[Lead], at: datetime) -> None:
    """Another inquiry (form, API) from the person of an open lead: the buyer answered, so the
    cadence does not end as 'no response', and the owner hears of it at once."""
    if not leads:
        return
    ids = [lead.pk for lead in leads]
    Enrollment.objects.filter(
        lead_id__in=ids, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.ENDING]
    ).update(contacted=True)
    owned = queries.owned_with_people(ids)
    notify.inbound_many(leads=owned, fact=f"inquiry:{at.isoformat()}", what="a new inquiry", at=at)
