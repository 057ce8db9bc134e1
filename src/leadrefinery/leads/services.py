"""Named writes on leads: transitions, dispositions, recycling, assignment, touches, notes.

Every service is keyword-only, atomic, and writes a timeline event with actor and reason.
Intake (the API, web forms and CSV import that turn raw records into leads) is the intake app.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import EllipsisType
from typing import Any

from django.conf import settings
from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError

from . import domain, events, money
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
    opportunity_amount: Decimal | None = None,
    won_amount: Decimal | None = None,
    currency: str | None = None,
) -> Lead:
    """Move a lead to another stage, enforcing the lifecycle rules. Raises TransitionRefused.

    ``allow_system_reason`` lets system services (import undo) use reasons never offered to users.
    A lead becoming an opportunity may be given its expected value (``opportunity_amount``),
    one won its ``won_amount``; without one, a won lead is won at its expected value. Either
    may come with a ``currency``; None keeps what the lead has. An amount change is an
    ``amount`` event after the stage's.
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

    amounts = _transition_amounts(lead, target, opportunity_amount, won_amount, currency)
    from_stage = lead.stage
    currency_before = lead.currency
    lead.stage = target
    lead.stage_changed_at = at
    lead.updated_at = at
    if target.is_open:
        _to_open_stage(lead, target, decision, next_action, next_action_due_at, at)
    else:
        _to_closed_stage(lead, reason, note, at)
    changes = _amount_changes(lead, **amounts)
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
    if changes:
        _amount_event(lead, changes, currency_before=currency_before, actor=actor, at=at)
    return lead


def _transition_amounts(
    lead: Lead,
    target: domain.Stage,
    opportunity_amount: Decimal | None,
    won_amount: Decimal | None,
    currency: str | None,
) -> dict[str, Any]:
    """What a move to ``target`` sets of the lead's money, as ``_amount_changes`` takes it."""
    if opportunity_amount is not None and target != domain.Stage.OPPORTUNITY:
        raise TransitionRefused(
            "an expected deal value goes with a move to Opportunity", field="opportunity_amount"
        )
    if won_amount is not None and target != domain.Stage.WON:
        raise TransitionRefused("an amount won goes with closing as Won", field="won_amount")
    if currency is not None and target not in (domain.Stage.OPPORTUNITY, domain.Stage.WON):
        raise TransitionRefused(
            "a currency goes with a move to Opportunity or Won", field="currency"
        )
    amounts: dict[str, Any] = {}
    if opportunity_amount is not None:
        amounts["opportunity_amount"] = opportunity_amount
    if target == domain.Stage.WON:
        won = won_amount if won_amount is not None else lead.opportunity_amount
        if won is not None:
            amounts["won_amount"] = won
    if currency is not None:
        # A lead has one currency: another one here would silently turn the expected value
        # that stays (40,000 USD) into another sum of money (40,000 EUR).
        was = lead.currency or reporting_currency()
        named = currency.strip().upper() or reporting_currency()
        stays = lead.opportunity_amount is not None and opportunity_amount is None
        if named != was and stays:
            raise TransitionRefused(
                f"the expected value is in {was}; give this amount in {was} too, or change "
                "the lead's currency under Deal value first",
                field="currency",
            )
        amounts["currency"] = currency
    return amounts


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
    *,
    lead: Lead,
    reason_code: str,
    actor: Actor,
    note: str = "",
    at: datetime | None = None,
    won_amount: Decimal | None = None,
    currency: str | None = None,
) -> Lead:
    """Close a lead with a recorded outcome; the reason code decides won, lost or disqualified.
    A won lead is won at ``won_amount``, else at its expected value (see ``lead_transition``)."""
    if not reason_code:
        raise TransitionRefused("choose a reason to close the lead", field="reason")
    reason = DispositionReason.objects.filter(code=reason_code).first()
    if reason is None:
        raise TransitionRefused(f"unknown reason code '{reason_code}'", field="reason")
    if domain.Stage(reason.stage).is_open:
        raise TransitionRefused(f"'{reason.label}' is not a closing reason", field="reason")
    return lead_transition(
        lead=lead,
        to_stage=reason.stage,
        reason_code=reason_code,
        actor=actor,
        note=note,
        at=at,
        won_amount=won_amount,
        currency=currency,
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


# --- Money ---------------------------------------------------------------------------------

AMOUNT_LABELS = {
    "opportunity_amount": "Expected value",
    "won_amount": "Amount won",
    "currency": "Currency",
}


def reporting_currency() -> str:
    return str(settings.REFINERY_REPORTING_CURRENCY)


def _checked_amount(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return money.check_amount(value if isinstance(value, Decimal) else Decimal(str(value)))
    except ValueError as exc:
        raise ServiceError(str(exc), field=field) from None


def _amount_changes(
    lead: Lead,
    *,
    opportunity_amount: Decimal | EllipsisType | None = ...,
    won_amount: Decimal | EllipsisType | None = ...,
    currency: str | EllipsisType = ...,
) -> dict[str, dict[str, str | None]]:
    """Check the amounts and currency given (``...``: not given), set those that differ on
    ``lead`` (not saved) and return what changed: {field: {"from": ..., "to": ...}}, amounts as
    decimal text ("12500.00") or None. Raises ServiceError naming the field."""
    wanted: dict[str, Decimal | str | None] = {}
    if opportunity_amount is not ...:
        wanted["opportunity_amount"] = _checked_amount(opportunity_amount, "opportunity_amount")
    if won_amount is not ...:
        wanted["won_amount"] = _checked_amount(won_amount, "won_amount")
    if currency is not ...:
        try:
            wanted["currency"] = money.currency_code(currency or "")
        except ValueError as exc:
            raise ServiceError(str(exc), field="currency") from None
    changes: dict[str, dict[str, str | None]] = {}
    for name, value in wanted.items():
        before = getattr(lead, name)
        if value != before:
            changes[name] = {"from": _as_text(before), "to": _as_text(value)}
            setattr(lead, name, value)
    return changes


def _as_text(value: Decimal | str | None) -> str | None:
    return None if value is None else str(value)


def amount_event_details(
    changes: dict[str, dict[str, str | None]],
    *,
    currency_before: str,
    currency_after: str,
    note: str = "",
) -> tuple[str, dict[str, Any]]:
    """The note and data of an ``amount`` event: ``data`` holds the ``changes`` (as
    ``_amount_changes`` gives them) and the ``currency`` the amounts are in now (the reporting
    currency when the lead names none); the note says the same in words."""
    now_in = currency_after or reporting_currency()
    was_in = currency_before or reporting_currency()
    lines = []
    for name, change in changes.items():
        if name == "currency":
            continue
        after, before = change["to"], change["from"]
        line = f"{AMOUNT_LABELS[name]}: "
        line += money.format_amount(Decimal(after), now_in) if after is not None else "cleared"
        if before is not None:
            line += f" (was {money.format_amount(Decimal(before), was_in)})"
        lines.append(line)
    if not lines:  # only the currency changed (an amount's line names its currency)
        lines.append(f"Currency: {now_in}" + (f" (was {was_in})" if now_in != was_in else ""))
    if note:
        lines.append(note)
    return "\n".join(lines), {"changes": changes, "currency": now_in}


def _amount_event(
    lead: Lead,
    changes: dict[str, dict[str, str | None]],
    *,
    currency_before: str,
    actor: Actor,
    at: datetime,
    note: str = "",
) -> LeadEvent:
    """The ``amount`` event: who changed the lead's money, when, from what to what."""
    text, data = amount_event_details(
        changes, currency_before=currency_before, currency_after=lead.currency, note=note
    )
    return event_record(
        lead=lead, kind=LeadEvent.Kind.AMOUNT, actor=actor, at=at, note=text, data=data
    )


@transaction.atomic
def lead_set_amount(
    *,
    lead: Lead,
    actor: Actor,
    opportunity_amount: Decimal | EllipsisType | None = ...,
    won_amount: Decimal | EllipsisType | None = ...,
    currency: str | EllipsisType = ...,
    note: str = "",
    at: datetime | None = None,
) -> Lead:
    """Set a lead's deal value: its expected value, the amount won, their currency.

    Only what is given changes (``...``: keep it); None clears an amount, "" the currency (the
    amounts are then in the reporting currency). Amounts are 0 or more, at most 12 digits
    before the point and 2 after it; the currency is an ISO 4217 code, stored upper-case. Only
    a won lead has an amount won. The change is an ``amount`` event with the old and new
    values; when nothing changes, nothing is recorded. Raises ServiceError naming the field."""
    at = at or now()
    lead = _locked(lead)
    if lead.stage == domain.Stage.MERGED:
        raise ServiceError(
            "this lead was merged; set the deal value on the surviving lead", field="lead"
        )
    if won_amount is not ... and won_amount is not None and lead.stage != domain.Stage.WON:
        raise ServiceError(
            "only a won lead has an amount won; close the lead as Won to record it",
            field="won_amount",
        )
    currency_before = lead.currency
    changes = _amount_changes(
        lead, opportunity_amount=opportunity_amount, won_amount=won_amount, currency=currency
    )
    if not changes:
        return lead
    lead.updated_at = at
    lead.save(update_fields=[*changes, "updated_at"])
    _amount_event(lead, changes, currency_before=currency_before, actor=actor, at=at, note=note)
    return lead
