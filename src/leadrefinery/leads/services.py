"""Named writes on leads: transitions, dispositions, recycling, assignment, touches, notes.

Every service is keyword-only, atomic, and writes a timeline event with actor and reason.
Intake (the API, web forms and CSV import that turn raw records into leads) is the intake app.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError

from . import domain, events
from .actors import Actor
from .models import DispositionReason, Lead, LeadEvent, Queue, Touch
from .normalize import LEAD_FIELDS, clean_text
from .selectors import default_next_action, queue_by_slug

MARKETING_QUEUE = "marketing"
UNASSIGNED_QUEUE = "unassigned"


class TransitionRefused(ServiceError):
    pass


def persistence_rule() -> domain.PersistenceRule:
    return domain.PersistenceRule(
        min_touches=settings.REFINERY_PERSISTENCE_MIN_TOUCHES,
        min_days=settings.REFINERY_PERSISTENCE_MIN_DAYS,
    )


def reason_facts(reason: DispositionReason) -> domain.ReasonFacts:
    return domain.ReasonFacts(
        code=reason.code,
        stage=domain.Stage(reason.stage),
        needs_persistence=reason.needs_persistence,
        active=reason.active,
        label=reason.label,
    )


def lead_facts(lead: Lead) -> domain.LeadFacts:
    return domain.LeadFacts(
        stage=domain.Stage(lead.stage),
        sales_touches=lead.sales_touch_count,
        first_sales_touch_at=lead.first_sales_touch_at,
    )


def queue_is_dead(queue: Queue) -> bool:
    """A queue nobody active can pull from (marketing's nurture queue is worked by programs)."""
    if queue.slug == MARKETING_QUEUE:
        return False
    return not queue.members.filter(is_active=True).exists()


def require_live_queue(queue: Queue | None) -> None:
    """A person may not hand a lead to a queue nobody would ever pull it from (the rules'
    fallback still can; the hygiene flags and the routing page say so at once)."""
    if queue is not None and queue_is_dead(queue):
        raise ServiceError(
            f"the {queue.name} queue has no active member to work the lead; "
            "add one on the Team page or choose another owner",
            field="owner",
        )


def event_record(
    *,
    lead: Lead,
    kind: str,
    actor: Actor,
    at: datetime,
    from_stage: str = "",
    to_stage: str = "",
    reason: str = "",
    note: str = "",
    data: dict | None = None,
) -> LeadEvent:
    """Add an event to the lead's timeline and hand it to the apps that follow its kind
    (``events.publish``, in this transaction)."""
    event = LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        occurred_at=at,
        actor=actor.user,
        actor_label=actor.label,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        note=note,
        data=data or {},
    )
    events.publish([event])
    return event


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


@transaction.atomic
def lead_transition(
    *,
    lead: Lead,
    to_stage: str,
    actor: Actor,
    reason_code: str | None = None,
    note: str = "",
    next_action: str | None = None,
    next_action_due_at: datetime | None = None,
    at: datetime | None = None,
    allow_system_reason: bool = False,
) -> Lead:
    """Move a lead to another stage, enforcing the lifecycle rules. Raises TransitionRefused.

    ``allow_system_reason`` lets system services (import undo) use reasons never offered to users.
    """
    at = at or now()
    lead = _locked(lead)
    try:
        target = domain.Stage(to_stage)
    except ValueError:
        raise TransitionRefused(f"unknown stage '{to_stage}'", field="stage") from None
    reason = _reason(reason_code, allow_system_reason) if reason_code else None
    decision = domain.decide_transition(
        lead_facts(lead),
        target,
        reason=reason_facts(reason) if reason else None,
        at=at,
        rule=persistence_rule(),
    )
    if not decision.allowed:
        raise TransitionRefused(
            decision.message, field="reason" if reason_code else "stage", errors=decision.errors
        )

    from_stage = lead.stage
    lead.stage = target
    lead.stage_changed_at = at
    lead.updated_at = at
    if target.is_open:
        _to_open_stage(lead, target, decision, next_action, next_action_due_at, at)
    else:
        _to_closed_stage(lead, reason, note, at)
    lead.save()
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.STAGE_CHANGED if target.is_open else LeadEvent.Kind.DISPOSED,
        actor=actor,
        at=at,
        from_stage=from_stage,
        to_stage=target,
        reason=reason.code if reason else "",
        note=note,
        data={"why": list(decision.reasons), "owner": lead.owner_label},
    )
    return lead


def _reason(code: str, allow_system_reason: bool) -> DispositionReason:
    reason = DispositionReason.objects.filter(code=code).first()
    if reason is None:
        raise TransitionRefused(f"unknown reason code '{code}'", field="reason")
    if reason.system_only and not allow_system_reason:
        raise TransitionRefused(
            f"the reason '{reason.label}' is set by the system only", field="reason"
        )
    return reason


def _to_open_stage(
    lead: Lead,
    target: domain.Stage,
    decision: domain.Decision,
    next_action: str | None,
    next_action_due_at: datetime | None,
    at: datetime,
) -> None:
    """Set the owner and next action of a lead (not saved) moving to the open stage ``target``:
    back to marketing's queue when the lifecycle says so, and the stage's default next action
    unless one is given."""
    if decision.needs_owner_change:
        lead.owner_user = None
        lead.owner_queue = queue_by_slug(MARKETING_QUEUE)
        lead.assigned_at = at
    default_action, default_due = default_next_action(target, at)
    first_touch_due = lead.sla_first_touch_due_at
    if target == domain.Stage.SALES_READY and first_touch_due and first_touch_due > at:
        default_due = first_touch_due  # the speed-to-lead clock, in the rep's hours
    lead.next_action = next_action or default_action
    lead.next_action_due_at = next_action_due_at or default_due


def _to_closed_stage(lead: Lead, reason: DispositionReason | None, note: str, at: datetime) -> None:
    """Record the disposition of a lead (not saved) closing now; nothing is left to do."""
    lead.disposition = reason
    lead.disposition_note = note
    lead.disposed_at = at
    lead.next_action = ""
    lead.next_action_due_at = None


def lead_dispose(
    *, lead: Lead, reason_code: str, actor: Actor, note: str = "", at: datetime | None = None
) -> Lead:
    """Close a lead with a recorded outcome; the reason code decides won, lost or disqualified."""
    if not reason_code:
        raise TransitionRefused("choose a reason to close the lead", field="reason")
    reason = DispositionReason.objects.filter(code=reason_code).first()
    if reason is None:
        raise TransitionRefused(f"unknown reason code '{reason_code}'", field="reason")
    if domain.Stage(reason.stage).is_open:
        raise TransitionRefused(f"'{reason.label}' is not a closing reason", field="reason")
    return lead_transition(
        lead=lead, to_stage=reason.stage, reason_code=reason_code, actor=actor, note=note, at=at
    )


@transaction.atomic
def lead_recycle(
    *, lead: Lead, reason_code: str, actor: Actor, note: str = "", at: datetime | None = None
) -> Lead:
    """Hand a lead to marketing nurture: the marketing queue owns it afterwards (never the rep
    who had it, or nurture could not mail it), with the nurture stage's next action and due
    time. The one way into nurture for the lead page, the API and the cadence's end. A recycle
    reason is needed from a sales stage; from inquiry or qualifying it is optional."""
    if reason_code:
        reason = DispositionReason.objects.filter(code=reason_code).first()
        if reason is None or reason.stage != domain.Stage.NURTURE:
            name = reason.label if reason else reason_code
            raise TransitionRefused(f"'{name}' is not a recycle reason", field="reason")
    lead = lead_transition(
        lead=lead,
        to_stage=domain.Stage.NURTURE,
        reason_code=reason_code or None,
        actor=actor,
        note=note,
        at=at,
    )
    marketing = queue_by_slug(MARKETING_QUEUE)
    if lead.owner_queue_id != marketing.pk:  # from inquiry or qualifying (a rep may hold it)
        lead = lead_assign(lead=lead, actor=actor, owner_queue=marketing, note=note, at=at)
    return lead


@transaction.atomic
def lead_assign(
    *,
    lead: Lead,
    actor: Actor,
    owner_user=None,
    owner_queue: Queue | None = None,
    note: str = "",
    trace: dict | None = None,
    at: datetime | None = None,
) -> Lead:
    """Give a lead exactly one owner (a user or a queue), recording why."""
    if (owner_user is None) == (owner_queue is None):
        raise ServiceError("choose exactly one owner: a user or a queue", field="owner")
    if owner_user is not None and not owner_user.is_active:
        raise ServiceError(f"{owner_user} is inactive and cannot own leads", field="owner")
    at = at or now()
    lead = _locked(lead)
    if not domain.Stage(lead.stage).is_open:
        raise ServiceError("a closed lead cannot be reassigned", field="owner")
    before = lead.owner_label
    previous_user_id = lead.owner_user_id
    lead.owner_user = owner_user
    lead.owner_queue = owner_queue
    lead.assigned_at = at
    lead.updated_at = at
    fields = ["owner_user", "owner_queue", "assigned_at", "updated_at"]
    # A new rep gets their own speed-to-lead clock (the sla app starts it, in their business
    # hours, when it sees the event); a lead that sales already touched keeps its measured
    # speed-to-lead and gets no clock.
    new_clock = (
        owner_user is not None
        and lead.first_sales_touch_at is None
        and owner_user.pk != previous_user_id
    )
    if owner_user is None and lead.sla_due_at is not None:
        lead.sla_due_at = None  # a queue has no speed-to-lead clock; nobody to escalate to
        fields.append("sla_due_at")
    lead.save(update_fields=fields)
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.ASSIGNED,
        actor=actor,
        at=at,
        note=note,
        data={
            "from": before,
            "to": lead.owner_label,
            "trace": trace or {},
            "to_user_id": owner_user.pk if owner_user is not None else None,
            "start_clock": new_clock,
        },
    )
    return lead


@transaction.atomic
def lead_set_next_action(
    *, lead: Lead, action: str, due_at: datetime, actor: Actor, at: datetime | None = None
) -> Lead:
    at = at or now()
    action = action.strip()
    if not action:
        raise ServiceError("describe the next action", field="next_action")
    lead = _locked(lead)
    if not domain.Stage(lead.stage).is_open:
        raise ServiceError("a closed lead has no next action", field="next_action")
    lead.next_action = action[:200]
    lead.next_action_due_at = due_at
    lead.updated_at = at
    lead.save(update_fields=["next_action", "next_action_due_at", "updated_at"])
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.NEXT_ACTION,
        actor=actor,
        at=at,
        note=lead.next_action,
        data={"due_at": due_at.isoformat()},
    )
    return lead


@transaction.atomic
def lead_note_add(*, lead: Lead, note: str, actor: Actor, at: datetime | None = None) -> LeadEvent:
    note = note.strip()
    if not note:
        raise ServiceError("the note is empty", field="note")
    return event_record(lead=lead, kind=LeadEvent.Kind.NOTE, actor=actor, at=at or now(), note=note)


@transaction.atomic
def touch_log(
    *,
    lead: Lead,
    channel: str,
    actor: Actor,
    direction: str = Touch.Direction.OUTBOUND,
    outcome: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Touch:
    """Record an interaction. Outbound touches by a user count toward the persistence rule."""
    at = at or now()
    if channel not in Touch.Channel.values:
        raise ServiceError(f"unknown channel '{channel}'", field="channel")
    if direction not in Touch.Direction.values:
        raise ServiceError(f"unknown direction '{direction}'", field="direction")
    if outcome and outcome not in Touch.Outcome.values:
        raise ServiceError(f"unknown outcome '{outcome}'", field="outcome")
    lead = _locked(lead)
    if lead.stage == domain.Stage.MERGED:
        raise ServiceError(
            "this lead was merged; log the touch on the surviving lead", field="lead"
        )
    is_sales = direction == Touch.Direction.OUTBOUND and actor.user is not None
    touch = Touch.objects.create(
        person_id=lead.person_id,
        lead=lead,
        channel=channel,
        direction=direction,
        outcome=outcome,
        is_sales=is_sales,
        actor=actor.user,
        occurred_at=at,
        note=note,
    )
    fields = ["last_touch_at", "updated_at"]
    lead.last_touch_at = at
    lead.updated_at = at
    if is_sales:
        lead.sales_touch_count += 1
        fields.append("sales_touch_count")
        if lead.first_sales_touch_at is None or at < lead.first_sales_touch_at:
            # The first sales touch stops the speed-to-lead clock and measures what the buyer
            # waited (wall-clock time); a touch logged late with an earlier time corrects it.
            lead.first_sales_touch_at = at
            lead.speed_to_lead_seconds = int(
                domain.speed_to_lead(lead.received_at, at).total_seconds()
            )
            lead.sla_due_at = None
            fields += ["first_sales_touch_at", "speed_to_lead_seconds", "sla_due_at"]
    lead.save(update_fields=fields)
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.TOUCH,
        actor=actor,
        at=at,
        note=note,
        data={"touch_id": touch.pk, "channel": channel, "direction": direction, "outcome": outcome},
    )
    return touch


QUALIFICATION_FIELDS = {
    "need": "Need",
    "budget": "Budget",
    "authority": "Authority",
    "timeline": "Timeline",
}


@transaction.atomic
def lead_qualification_set(
    *, lead: Lead, changes: dict[str, str], actor: Actor, at: datetime | None = None
) -> Lead:
    """Record what qualifying found out (need, budget, authority, timeline).

    Only the fields given change; each change is on the timeline with its old and new value.
    A closed lead keeps the qualification it was closed with."""
    at = at or now()
    unknown = sorted(set(changes) - set(QUALIFICATION_FIELDS))
    if unknown:
        raise ServiceError(f"unknown qualification field '{unknown[0]}'", field=unknown[0])
    lead = _locked(lead)
    if not domain.Stage(lead.stage).is_open:
        raise ServiceError(
            f"a {domain.Stage(lead.stage).label.lower()} lead is closed; its qualification "
            "stays as it was",
            field="lead",
        )
    diff: dict[str, dict[str, str]] = {}
    for name, raw in changes.items():
        value = clean_text(str(raw or ""))
        if len(value) > LEAD_FIELDS[name]:
            raise ServiceError(
                f"is too long ({len(value)} characters, at most {LEAD_FIELDS[name]})", field=name
            )
        if value != getattr(lead, name):
            diff[name] = {"from": getattr(lead, name), "to": value}
            setattr(lead, name, value)
    if not diff:
        return lead
    lead.updated_at = at
    lead.save(update_fields=[*diff, "updated_at"])
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.QUALIFIED,
        actor=actor,
        at=at,
        note="\n".join(
            f"{QUALIFICATION_FIELDS[name]}: {change['to'] or '(cleared)'}"
            for name, change in diff.items()
        ),
        data={"changes": diff},
    )
    return lead
