"""Named writes for cadences: accept and reject, enroll, complete a step, stop, outcome checks.

Every service is keyword-only and atomic, records a timeline event, and keeps the lead's
``next_action`` / ``next_action_due_at`` in step with the enrollment: while a cadence runs, the
lead's next action *is* the step due next. Stage changes go through the lead services, so the
state machine and its reasons stay in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused, ServiceError
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads import selectors as lead_selectors
from leadrefinery.leads import services as lead_services
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import DispositionReason, Lead, LeadEvent, Queue, Touch
from leadrefinery.leads.services import event_record
from leadrefinery.routing import domain as routing_domain
from leadrefinery.routing.services import Router, lead_routing_fields
from leadrefinery.sla.business_hours import BusinessCalendar
from leadrefinery.sla.selectors import owner_calendar

from . import domain, notify
from .access import can_work_lead
from .models import CadenceStep, CadenceTemplate, Enrollment, OutcomeCheck
from .selectors import template_steps

ACTOR = Actor.system("cadence")
WORKING = lead_domain.Stage.WORKING
SALES_READY = lead_domain.Stage.SALES_READY


# --- Reading helpers ---------------------------------------------------------------------------


def default_template() -> CadenceTemplate | None:
    return CadenceTemplate.objects.filter(active=True, is_default=True).first()


def running_enrollment(lead: Lead, *, lock: bool = False) -> Enrollment | None:
    qs = Enrollment.objects.filter(
        lead_id=lead.pk, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.ENDING]
    )
    if lock:
        qs = qs.select_for_update()
    return qs.select_related("template").first()


def _locked_lead(pk: int, *related: str) -> Lead:
    # of=self: PostgreSQL cannot lock the nullable side of the owner join, nor need we.
    return Lead.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)


def _calendar(lead: Lead, at: datetime) -> BusinessCalendar:
    owner = lead.owner_user
    if owner is None:
        return BusinessCalendar()
    return owner_calendar(owner, at)


def _step_at(steps: list[CadenceStep], position: int) -> CadenceStep | None:
    return steps[position - 1] if 0 < position <= len(steps) else None


def _step_action(step: CadenceStep, total: int) -> str:
    """The lead's next action while ``step`` is due: what the rep sees in the lists."""
    return f"Step {step.position} of {total}: {step.title}"[:200]


def _require_owner(actor: Actor, lead: Lead, what: str) -> None:
    user = actor.user
    if user is None or can_work_lead(user, lead):
        return
    raise ServiceError(f"only the lead's owner (or their manager) can {what}", field="lead")


def _set_next(lead: Lead, action: str, due_at: datetime, at: datetime) -> None:
    lead.next_action = action[:200]
    lead.next_action_due_at = due_at
    lead.updated_at = at
    lead.save(update_fields=["next_action", "next_action_due_at", "updated_at"])


def _schedule(enrollment: Enrollment, lead: Lead, steps: list[CadenceStep], at: datetime) -> str:
    """Time the step at ``enrollment.step_position`` (or the end when all are done), set the
    sweep's due column and the lead's next action. Returns the reason for the timing."""
    calendar = _calendar(lead, at)
    step = _step_at(steps, enrollment.step_position)
    if step is None:
        if enrollment.last_step_done_at is None:
            enrollment.last_step_done_at = at
        end = domain.end_due(
            calendar,
            last_done_at=enrollment.last_step_done_at,
            wait_days=enrollment.template.end_wait_days,
        )
        enrollment.status = Enrollment.Status.ENDING
        enrollment.step_due_at = end.at
        enrollment.next_step_due_at = end.at
        _set_next(lead, "Cadence done: waiting for a reply, then recycle to nurture", end.at, at)
        return end.reason
    previous = _step_at(steps, enrollment.step_position - 1)
    due = domain.step_due(
        calendar,
        step.spec(),
        previous=previous.spec() if previous else None,
        previous_done_at=enrollment.last_step_done_at,
        started_at=enrollment.started_at,
    )
    enrollment.step_due_at = due.at
    enrollment.next_step_due_at = domain.overdue_at(calendar, due.at)
    enrollment.overdue_notified_step = None
    _set_next(lead, _step_action(step, len(steps)), due.at, at)
    return due.reason


_SCHEDULE_FIELDS = [
    "status",
    "step_position",
    "step_due_at",
    "next_step_due_at",
    "overdue_notified_step",
    "last_step_done_at",
    "steps_done",
    "contacted",
    "thread_message_ids",
]


# --- Enroll, accept, reject ---------------------------------------------------------------------


@transaction.atomic
def cadence_enroll(
    *,
    lead: Lead,
    actor: Actor,
    template: CadenceTemplate | None = None,
    at: datetime | None = None,
) -> Enrollment:
    """Start a cadence on a working lead (the default one unless ``template`` is given). A lead
    already in a cadence keeps it."""
    at = at or now()
    lead = _locked_lead(lead.pk, "owner_user")
    running = running_enrollment(lead)
    if running is not None:
        return running
    if lead.stage != WORKING:
        raise ServiceError("only a lead in Working can follow a cadence", field="lead")
    if lead.owner_user_id is None:
        raise ServiceError("a cadence needs a rep as the lead's owner", field="lead")
    template = template or default_template()
    if template is None:
        raise ServiceError("there is no active default cadence", field="template")
    steps = template_steps(template.pk)
    enrollment = Enrollment(
        lead=lead,
        template=template,
        started_at=at,
        started_by=actor.user,
        step_position=1,
    )
    reason = _schedule(enrollment, lead, steps, at)
    enrollment.save()
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.CADENCE,
        actor=actor,
        at=at,
        note=f"Cadence '{template.name}' started: {len(steps)} steps",
        data={
            "cadence": "started",
            "enrollment_id": enrollment.pk,
            "template": template.name,
            "next": lead.next_action,
            "due_at": lead.next_action_due_at.isoformat() if lead.next_action_due_at else None,
            "why": reason,
        },
    )
    return enrollment


@transaction.atomic
def lead_accept(*, lead: Lead, actor: Actor, note: str = "", at: datetime | None = None) -> Lead:
    """The owner accepts a sales-ready lead: stage Working, and the default cadence starts."""
    at = at or now()
    lead = _locked_lead(lead.pk, "owner_user")
    if lead.stage != SALES_READY:
        raise ServiceError(
            f"only a sales-ready lead can be accepted (this one is "
            f"{lead_domain.Stage(lead.stage).label.lower()})",
            field="lead",
        )
    _require_owner(actor, lead, "accept it")
    lead.accepted_at = at
    lead.save(update_fields=["accepted_at"])
    event_record(lead=lead, kind=LeadEvent.Kind.ACCEPTED, actor=actor, at=at, note=note)
    # The transition starts the cadence (cadences.subscribers.on_stage_change).
    return lead_services.lead_transition(lead=lead, to_stage=WORKING, actor=actor, at=at)


@transaction.atomic
def lead_reject(
    *, lead: Lead, actor: Actor, reason_code: str, note: str = "", at: datetime | None = None
) -> Lead:
    """The owner hands a sales-ready lead back: to routing (excluding them) for a queue reason,
    or to marketing nurture for a recycle reason (recycle_*)."""
    at = at or now()
    lead = _locked_lead(lead.pk, "owner_user")
    if lead.stage != SALES_READY:
        raise ServiceError(
            "only a sales-ready lead can be rejected; recycle or close a lead you work",
            field="lead",
        )
    _require_owner(actor, lead, "reject it")
    recycle = DispositionReason.objects.filter(
        code=reason_code, stage=lead_domain.Stage.NURTURE, active=True, system_only=False
    ).first()
    if recycle is None and reason_code not in domain.REJECT_TO_QUEUE_REASONS:
        choices = [*sorted(domain.REJECT_TO_QUEUE_REASONS), "recycle_* reasons"]
        raise ServiceError(
            f"unknown reason '{reason_code}'; use one of: {', '.join(choices)}", field="reason"
        )
    label = recycle.label if recycle else domain.REJECT_TO_QUEUE_REASONS[reason_code]
    rejected_by = lead.owner_label
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.REJECTED,
        actor=actor,
        at=at,
        reason=reason_code,
        note=note,
        data={"by": rejected_by, "to": "marketing" if recycle else "routing", "label": label},
    )
    if recycle is not None:
        return lead_services.lead_recycle(
            lead=lead, reason_code=reason_code, actor=actor, note=note, at=at
        )
    return _reroute(lead, actor=actor, because=f"{rejected_by} rejected it: {label}", at=at)


def _reroute(lead: Lead, *, actor: Actor, because: str, at: datetime) -> Lead:
    """Route the lead again without the rep who handed it back (like an SLA reassignment);
    the unassigned queue when no rule finds anyone else."""

    owner = lead.owner_user
    router = Router(at=at)
    account_owner_id = lead.account.owner_id if lead.account else None
    exclude = {owner.pk: "rejected the lead"} if owner is not None else {}
    decision = router.choose(
        lead_routing_fields(lead), account_owner_id=account_owner_id, exclude=exclude
    )
    trace = {**decision.as_trace(), "because": because}
    if decision.kind == routing_domain.TargetKind.USER and decision.id is not None:
        target: dict[str, Any] = {"owner_user": router.user(decision.id)}
        router.record(decision, router.team_of(decision))
        router.save()
    elif decision.kind == routing_domain.TargetKind.QUEUE and decision.id is not None:
        target = {"owner_queue": Queue.objects.get(pk=decision.id)}
    else:
        target = {"owner_queue": lead_selectors.queue_by_slug(lead_services.UNASSIGNED_QUEUE)}
    lead = lead_services.lead_assign(
        lead=lead, actor=actor, trace=trace, note=because, at=at, **target
    )
    if lead.owner_user is None:
        _set_next(lead, f"Route again: {because}", at, at)
    return lead


# --- Working the cadence ---------------------------------------------------------------------


def _touch_channel(channel: str) -> str:
    return {
        domain.Channel.CALL: Touch.Channel.CALL,
        domain.Channel.EMAIL: Touch.Channel.EMAIL,
        domain.Channel.SOCIAL: Touch.Channel.SOCIAL,
    }.get(domain.Channel(channel), "")


@transaction.atomic
def step_complete(
    *,
    lead: Lead,
    actor: Actor,
    outcome: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Enrollment:
    """Do the step due now: log the call outcome, send the step's email (through the outbox,
    threaded), or mark the social touch or task done; then schedule the next step."""
    return _step_done(lead=lead, actor=actor, outcome=outcome, note=note, at=at)[0]


def _step_done(
    *,
    lead: Lead,
    actor: Actor,
    outcome: str = "",
    note: str = "",
    at: datetime | None = None,
    send_email: bool = True,
) -> tuple[Enrollment, Touch | None]:
    """``step_complete``, also returning the touch it logged. ``send_email=False`` when the rep
    sent the step's email themselves and logs it (from the lead page or the API)."""
    at = at or now()
    lead = _locked_lead(lead.pk, "owner_user", "person")
    _require_owner(actor, lead, "work its cadence")
    enrollment = running_enrollment(lead, lock=True)
    if enrollment is None or enrollment.status != Enrollment.Status.ACTIVE:
        raise ServiceError("this lead has no cadence step due", field="lead")
    steps = template_steps(enrollment.template_id)
    step = _step_at(steps, enrollment.step_position)
    assert step is not None  # an active enrollment always points at a step
    channel = domain.Channel(step.channel)
    if channel == domain.Channel.CALL:
        if outcome not in {o.value for o in domain.CallOutcome}:
            raise ServiceError(
                "choose the call outcome: connected, voicemail, no answer or wrong number",
                field="outcome",
            )
    elif outcome:
        raise ServiceError(f"{channel.label} steps take no outcome", field="outcome")
    if channel == domain.Channel.EMAIL:
        outcome = Touch.Outcome.SENT
        if send_email:
            message = notify.cadence_email(lead=lead, enrollment=enrollment, step=step, at=at)
            enrollment.thread_message_ids = [*enrollment.thread_message_ids, message]
    touch_channel = _touch_channel(step.channel)
    enrollment.steps_done += 1
    enrollment.last_step_done_at = at
    enrollment.step_position += 1
    if outcome in domain.CONTACT_OUTCOMES:
        enrollment.contacted = True
    # Save before logging the touch: the touch hook reads the enrollment (a reply stops it).
    enrollment.save(update_fields=_SCHEDULE_FIELDS)
    label = f"Step {step.position}: {step.title}"
    touch = None
    if touch_channel:
        touch = lead_services.touch_log(
            lead=lead,
            channel=touch_channel,
            actor=actor,
            outcome=outcome,
            note=f"{label}. {note}".strip() if note else label,
            at=at,
        )
    else:
        lead_services.lead_note_add(
            lead=lead, note=f"{label}: done. {note}".strip(), actor=actor, at=at
        )
    lead.refresh_from_db()
    enrollment.refresh_from_db()
    if not enrollment.running:
        return enrollment, touch  # the touch stopped it (a reply or a meeting)
    why = _schedule(enrollment, lead, steps, at)
    enrollment.save(update_fields=_SCHEDULE_FIELDS)
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.CADENCE,
        actor=actor,
        at=at,
        note=f"{label}: done" + (f" ({outcome.replace('_', ' ')})" if outcome else ""),
        data={
            "cadence": "step_done",
            "enrollment_id": enrollment.pk,
            "step": step.position,
            "outcome": outcome,
            "next": lead.next_action,
            "due_at": lead.next_action_due_at.isoformat() if lead.next_action_due_at else None,
            "why": why,
        },
    )
    return enrollment, touch


@dataclass(frozen=True)
class Logged:
    """What logging a touch did: the touch, the lead as it is now, and in words what happened
    and what comes next (for the confirmation the user sees)."""

    touch: Touch | None
    lead: Lead
    done: str
    step_done: int | None = None  # the cadence step this touch completed


def _step_matches(step: CadenceStep | None, *, channel: str, direction: str, outcome: str) -> bool:
    """Is this touch the cadence step due now? An outbound touch on the step's channel that
    does not stop the cadence (a reply or a booked meeting does, whatever the step)."""
    return bool(
        step is not None
        and direction == Touch.Direction.OUTBOUND
        and _touch_channel(step.channel) == channel
        and outcome not in domain.STOP_OUTCOMES
    )


@transaction.atomic
def touch_record(
    *,
    lead: Lead,
    channel: str,
    actor: Actor,
    direction: str = Touch.Direction.OUTBOUND,
    outcome: str = "",
    note: str = "",
    next_action: str = "",
    next_action_due_at: datetime | None = None,
    at: datetime | None = None,
) -> Logged:
    """Log a touch and move the lead on: the one path for the lead page, the Today page, the
    API and the demo.

    While a cadence runs, a touch that is the step due now completes that step (its email is
    not sent again: the rep sent it) and the cadence sets the next action; a reply or a
    booked meeting stops the cadence. Without a running cadence the lead gets ``next_action``
    due at ``next_action_due_at``, or a follow-up that fits the touch
    (``domain.follow_up_after_touch``)."""
    at = at or now()
    lead = _locked_lead(lead.pk, "owner_user")
    enrollment = running_enrollment(lead, lock=True)
    step = None
    if enrollment is not None and enrollment.status == Enrollment.Status.ACTIVE:
        step = _step_at(template_steps(enrollment.template_id), enrollment.step_position)
    may_work = actor.user is not None and can_work_lead(actor.user, lead)
    step_done = None
    if may_work and _step_matches(step, channel=channel, direction=direction, outcome=outcome):
        assert step is not None
        if channel == Touch.Channel.EMAIL:
            outcome = ""  # an email step's touch is recorded as sent
        _, touch = _step_done(
            lead=lead, actor=actor, outcome=outcome, note=note, at=at, send_email=False
        )
        step_done = step.position
    else:
        touch = lead_services.touch_log(
            lead=lead,
            channel=channel,
            direction=direction,
            outcome=outcome,
            note=note,
            actor=actor,
            at=at,
        )
    lead.refresh_from_db()
    still_running = running_enrollment(lead) is not None
    if lead_domain.Stage(lead.stage).is_open and not still_running:
        # A touch logged after the fact is followed up from now, not from when it happened.
        moment = max(at, now())
        default, due = domain.follow_up_after_touch(
            _calendar(lead, moment),
            channel=channel,
            direction=direction,
            outcome=outcome,
            at=moment,
        )
        stopped_now = enrollment is not None
        if next_action.strip() or next_action_due_at or not stopped_now:
            # A cadence this touch stopped already left its own follow-up; a rep's own
            # next step replaces it.
            lead = lead_services.lead_set_next_action(
                lead=lead,
                action=next_action.strip() or default,
                due_at=next_action_due_at or due.at,
                actor=actor,
                at=at,
            )
    label = (touch.get_channel_display() if touch else "Touch") + " logged"
    if touch is not None and touch.outcome:
        label += f" ({touch.get_outcome_display().lower()})"
    if step_done is not None:
        label += f": step {step_done} of the cadence done"
    elif enrollment is not None and not still_running:
        label += ": the cadence stopped"
    return Logged(touch=touch, lead=lead, done=label, step_done=step_done)


@transaction.atomic
def step_reschedule(
    *, lead: Lead, due_at: datetime, actor: Actor, note: str = "", at: datetime | None = None
) -> Lead:
    """Override when the next step falls due (the buyer asked for a call next Tuesday)."""
    at = at or now()
    lead = _locked_lead(lead.pk, "owner_user")
    _require_owner(actor, lead, "reschedule its cadence")
    enrollment = running_enrollment(lead, lock=True)
    if enrollment is None:
        return lead_services.lead_set_next_action(
            lead=lead, action=lead.next_action or "Follow up", due_at=due_at, actor=actor, at=at
        )
    enrollment.step_due_at = due_at
    enrollment.next_step_due_at = (
        domain.overdue_at(_calendar(lead, at), due_at)
        if enrollment.status == Enrollment.Status.ACTIVE
        else due_at
    )
    enrollment.overdue_notified_step = None
    enrollment.save(update_fields=_SCHEDULE_FIELDS)
    _set_next(lead, lead.next_action, due_at, at)
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.NEXT_ACTION,
        actor=actor,
        at=at,
        note=note or f"{lead.next_action} (rescheduled)",
        data={"due_at": due_at.isoformat(), "cadence": "rescheduled"},
    )
    return lead


def _stop(enrollment: Enrollment, lead: Lead, *, actor: Actor, reason: str, at: datetime) -> None:
    enrollment.status = Enrollment.Status.STOPPED
    enrollment.next_step_due_at = None
    enrollment.ended_at = at
    enrollment.end_reason = reason[:300]
    enrollment.save(update_fields=["status", "next_step_due_at", "ended_at", "end_reason"])
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.CADENCE,
        actor=actor,
        at=at,
        note=f"Cadence stopped: {reason}",
        data={"cadence": "stopped", "enrollment_id": enrollment.pk, "why": reason},
    )


@transaction.atomic
def cadence_stop(
    *,
    lead: Lead,
    actor: Actor,
    reason: str,
    next_action: str | None = None,
    at: datetime | None = None,
) -> Enrollment | None:
    """Stop the lead's running cadence, if any. An open lead gets ``next_action`` (due within
    a working hour) so it is never left without one."""
    at = at or now()
    lead = _locked_lead(lead.pk, "owner_user")
    enrollment = running_enrollment(lead, lock=True)
    if enrollment is None:
        return None
    _stop(enrollment, lead, actor=actor, reason=reason, at=at)
    if lead_domain.Stage(lead.stage).is_open and next_action:
        due = domain.follow_up_due(_calendar(lead, at), at)
        _set_next(lead, next_action, due, at)
    return enrollment


def cadence_end(*, enrollment: Enrollment, at: datetime) -> str:
    """All steps done and the wait for a reply is over (called by the sweep, in its claim's
    transaction): recycle to nurture when nobody answered and the persistence rule allows
    'no response'; otherwise hand the decision to the rep. Returns what happened."""
    lead = _locked_lead(enrollment.lead_id, "owner_user")
    rule = lead_services.persistence_rule()
    problems = rule.check(
        touches=lead.sales_touch_count, first_touch_at=lead.first_sales_touch_at, at=at
    )
    decision = domain.decide_end(
        contacted=enrollment.contacted,
        persistence_problems=problems,
        touches=lead.sales_touch_count,
    )
    enrollment.status = Enrollment.Status.COMPLETED
    enrollment.next_step_due_at = None
    enrollment.ended_at = at
    enrollment.end_reason = decision.reason[:300]
    enrollment.save(update_fields=["status", "next_step_due_at", "ended_at", "end_reason"])
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.CADENCE,
        actor=ACTOR,
        at=at,
        note=f"Cadence completed: {decision.reason}",
        data={"cadence": "completed", "enrollment_id": enrollment.pk, "why": decision.reason},
    )
    if decision.recycle and lead.stage == WORKING:
        lead_services.lead_recycle(
            lead=lead,
            reason_code="recycle_no_response",
            actor=ACTOR,
            note=f"No response after {lead.sales_touch_count} touches",
            at=at,
        )
        return "recycled"
    if lead_domain.Stage(lead.stage).is_open:
        _set_next(
            lead,
            "Cadence done: decide the outcome",
            domain.follow_up_due(_calendar(lead, at), at),
            at,
        )
        notify.cadence_needs_decision(lead=lead, enrollment=enrollment, at=at)
    return "handed to the rep"


# --- Outcome checks (the Rule of 45) ------------------------------------------------------------


def outcome_check_schedule(
    *, lead: Lead, reason: str, due_at: datetime, at: datetime
) -> OutcomeCheck:
    """Schedule the 12-month check (inside the disposition's transaction)."""
    check, created = OutcomeCheck.objects.get_or_create(
        lead=lead,
        scheduled_for=due_at,
        defaults={"reason": reason, "due_at": due_at, "created_at": at},
    )
    if created:
        event_record(
            lead=lead,
            kind=LeadEvent.Kind.OUTCOME_CHECK,
            actor=ACTOR,
            at=at,
            reason=reason,
            note=f"Outcome check scheduled for {due_at:%Y-%m-%d}: did they buy, from whom?",
            data={"outcome_check": "scheduled", "check_id": check.pk, "due_at": due_at.isoformat()},
        )
    return check


@transaction.atomic
def outcome_check_record(
    *,
    check: OutcomeCheck,
    answer: str,
    actor: Actor,
    competitor: str = "",
    note: str = "",
    at: datetime | None = None,
) -> OutcomeCheck:
    """Record what the buyer did: bought from us, from a competitor (named), nobody, unknown."""
    at = at or now()
    check = OutcomeCheck.objects.select_for_update().get(pk=check.pk)
    if answer not in {a.value for a in domain.Answer}:
        raise ServiceError("answer one of: us, competitor, nobody, unknown", field="answer")
    competitor = competitor.strip()
    if answer == domain.Answer.COMPETITOR and not competitor:
        raise ServiceError("name the competitor they bought from", field="competitor")
    if check.status == OutcomeCheck.Status.ANSWERED:
        raise ServiceError("this outcome check is already answered", field="answer")
    check.status = OutcomeCheck.Status.ANSWERED
    check.due_at = None
    check.answer = answer
    check.competitor = competitor[:200] if answer == domain.Answer.COMPETITOR else ""
    check.answer_note = note.strip()
    check.answered_at = at
    check.answered_by = actor.user
    check.opened_at = check.opened_at or at
    check.save()
    label = domain.Answer(answer).label + (f": {check.competitor}" if check.competitor else "")
    event_record(
        lead=check.lead,
        kind=LeadEvent.Kind.OUTCOME_CHECK,
        actor=actor,
        at=at,
        reason=check.reason,
        note=f"Outcome check answered: {label}"
        + (f". {check.answer_note}" if check.answer_note else ""),
        data={
            "outcome_check": "answered",
            "check_id": check.pk,
            "answer": answer,
            "competitor": check.competitor,
        },
    )
    return check


# --- Editing cadences ----------------------------------------------------------------------------


_TEMPLATE_FIELDS = ("name", "description", "active", "is_default", "end_wait_days")
_STEP_FIELDS = (
    "day",
    "channel",
    "at_time",
    "title",
    "instructions",
    "email_subject",
    "email_body",
)


@transaction.atomic
def cadence_template_save(
    *,
    template: CadenceTemplate | None,
    changes: dict[str, Any],
    steps: list[dict[str, Any]] | None,
    at: datetime | None = None,
) -> CadenceTemplate:
    """Create or change a cadence and (when ``steps`` is given) replace its steps, in order.
    Refused with field errors (``ConfigRefused``) when the steps break the rules in
    ``domain.template_problems``. Running enrollments continue at their step position."""

    at = at or now()
    unknown = set(changes) - set(_TEMPLATE_FIELDS)
    if unknown:
        raise ConfigRefused({k: ["cannot be set"] for k in sorted(unknown)})
    template = template or CadenceTemplate(created_at=at)
    for key, value in changes.items():
        setattr(template, key, value)
    template.updated_at = at
    errors: dict[str, list[str]] = {}
    if not (template.name or "").strip():
        errors["name"] = ["give the cadence a name"]
    elif CadenceTemplate.objects.filter(name=template.name).exclude(pk=template.pk).exists():
        errors["name"] = ["another cadence has this name"]
    if steps is not None:
        bad = [set(s) - set(_STEP_FIELDS) for s in steps]
        for i, extra in enumerate(bad, start=1):
            if extra:
                errors.setdefault("steps", []).append(
                    f"step {i}: unknown field(s) {', '.join(sorted(extra))}"
                )
        rule = lead_services.persistence_rule()
        for field, messages in domain.template_problems(
            [
                (
                    int(s.get("day", 0)),
                    str(s.get("channel", "")),
                    str(s.get("email_subject", "")),
                    str(s.get("email_body", "")),
                )
                for s in steps
            ],
            min_touches=rule.min_touches,
            min_days=rule.min_days,
        ).items():
            errors.setdefault(field, []).extend(messages)
        for i, s in enumerate(steps, start=1):
            if not str(s.get("title", "")).strip():
                errors.setdefault("steps", []).append(f"step {i}: give the step a title")
    if template.is_default and not template.active:
        errors.setdefault("active", []).append("the default cadence must be active")
    if errors:
        raise ConfigRefused(errors)
    if template.is_default:
        CadenceTemplate.objects.filter(is_default=True).exclude(pk=template.pk).update(
            is_default=False
        )
    template.save()
    if steps is not None:
        # Positions are rewritten in place (steps are configuration, not history: the timeline
        # keeps what was done), so running enrollments keep pointing at a position.
        existing = {s.position: s for s in template_steps(template.pk)}
        for position, data in enumerate(steps, start=1):
            step = existing.pop(position, None) or CadenceStep(template=template, position=position)
            for key in _STEP_FIELDS:
                setattr(step, key, data.get(key, "" if key != "at_time" else None))
            step.save()
        # Steps past the new end are configuration that no longer applies; the timeline keeps
        # every step that was ever done, so removing them loses no history.
        CadenceStep.objects.filter(pk__in=[s.pk for s in existing.values()]).delete()
    return template
