"""What cadences do when the lead services change a lead (called from leads/services.py and
leads/intake.py, inside their transactions).

- Entering Working starts the default cadence; leaving it (a disposition, a recycle, an
  opportunity) stops the cadence.
- Lost for no decision, closed as no response, or recycled: an outcome check 12 months later.
- A reply or a booked meeting stops the cadence; any inbound touch marks the buyer as having
  answered and tells the owner.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection

from leadrefinery.accounts.models import User
from leadrefinery.common.db import placeholders, read_models, select_columns
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import DispositionReason, Lead, Person, Source, Touch

from . import domain, notify

log = logging.getLogger(__name__)


def after_transition(
    *, lead: Lead, from_stage: str, reason_code: str, actor: Actor, at: datetime
) -> None:
    from . import services

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
    from . import services

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
    from .models import Enrollment

    if not leads:
        return
    ids = [lead.pk for lead in leads]
    Enrollment.objects.filter(
        lead_id__in=ids, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.ENDING]
    ).update(contacted=True)
    owned = _owned_with_people(ids)
    notify.inbound_many(leads=owned, fact=f"inquiry:{at.isoformat()}", what="a new inquiry", at=at)


def _owned_with_people(ids: list[int]) -> list[Lead]:
    """The leads among ``ids`` that a rep owns, with their person, owner and source: one raw
    read, since this runs in every intake from a known person (see common.db.read_models)."""
    qn = connection.ops.quote_name
    parts = ((Lead, "l"), (Person, "p"), (User, "u"), (Source, "s"))
    rows = read_models(
        f"SELECT {', '.join(select_columns(model, alias) for model, alias in parts)} "
        f"FROM {qn(Lead._meta.db_table)} l "
        f"JOIN {qn(Person._meta.db_table)} p ON p.id = l.person_id "
        f"JOIN {qn(User._meta.db_table)} u ON u.id = l.owner_user_id "
        f"JOIN {qn(Source._meta.db_table)} s ON s.id = l.source_id "
        f"WHERE l.id IN ({placeholders(ids)}) ORDER BY l.id",
        ids,
        *parts,
    )
    owned = []
    for lead, person, user, source in rows:
        assert isinstance(lead, Lead)
        lead.person, lead.owner_user, lead.source = person, user, source  # type: ignore[assignment]
        owned.append(lead)
    return owned
