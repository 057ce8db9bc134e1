"""Named writes of nurture: content, programs, enrollments, exits, suppressions, unsubscribes,
bounces and engagement. Keyword-only and atomic; each change to a lead records a LeadEvent of
kind ``nurture``.

Sending lives in dispatch.py and the periodic work (enroll + send) in sweep.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Consent, Lead, LeadEvent, Person, Touch
from leadrefinery.leads.services import event_record

from . import domain, selectors
from .models import Enrollment, Message, NurtureSend, Program, ProgramStep, Suppression

ACTOR = Actor.system("nurture")
ACTIVE_SEND = [
    NurtureSend.Status.SCHEDULED,
    NurtureSend.Status.SENDING,
    NurtureSend.Status.FAILED,
]


def _new_token() -> str:
    return secrets.token_urlsafe(16)[:22]


def _validated(obj: Message | Program) -> None:
    try:
        obj.full_clean(exclude=["created_by"], validate_unique=True)
    except ValidationError as exc:
        field = next(iter(exc.message_dict), "") if hasattr(exc, "error_dict") else ""
        raise ServiceError(
            "; ".join(exc.messages),
            field=None if field == "__all__" else field or None,
            errors=tuple(exc.messages),
        ) from None


# --- Content ----------------------------------------------------------------------------


@transaction.atomic
def message_create(
    *,
    name: str,
    subject: str,
    body_markdown: str,
    created_by: Any = None,
    at: datetime | None = None,
) -> Message:
    at = at or now()
    message = Message(
        name=name.strip(),
        subject=subject.strip(),
        body_markdown=body_markdown,
        created_by=created_by,
        created_at=at,
        updated_at=at,
    )
    _validated(message)
    message.save()
    return message


@transaction.atomic
def message_update(
    *,
    message: Message,
    subject: str | None = None,
    body_markdown: str | None = None,
    at: datetime | None = None,
) -> Message:
    if subject is not None:
        message.subject = subject.strip()
    if body_markdown is not None:
        message.body_markdown = body_markdown
    message.updated_at = at or now()
    _validated(message)
    message.save()
    return message


# --- Programs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    message_id: int
    delay_days: int | None = None


@transaction.atomic
def program_create(
    *,
    name: str,
    steps: list[StepSpec],
    entry_rules: list[str],
    exit_rules: list[str] | None = None,
    interval_days: int = 14,
    window_start: time = time(9, 0),
    window_end: time = time(17, 0),
    window_weekdays: list[int] | None = None,
    default_time_zone: str = "UTC",
    description: str = "",
    active: bool = True,
    created_by: Any = None,
    at: datetime | None = None,
) -> Program:
    """A program with its ordered steps. Raises ServiceError on invalid rules."""
    at = at or now()
    if not steps:
        raise ServiceError("a program needs at least one message", field="steps")
    messages = Message.objects.in_bulk([s.message_id for s in steps])
    missing = [s.message_id for s in steps if s.message_id not in messages]
    if missing:
        raise ServiceError(f"unknown message id(s): {missing}", field="steps")
    program = Program(
        name=name.strip(),
        description=description,
        active=active,
        interval_days=interval_days,
        entry_rules=list(entry_rules),
        exit_rules=list(exit_rules or []),
        window_start=window_start,
        window_end=window_end,
        window_weekdays=list(window_weekdays if window_weekdays is not None else domain.WEEKDAYS),
        default_time_zone=default_time_zone,
        created_by=created_by,
        created_at=at,
        updated_at=at,
    )
    _validated(program)
    program.save()
    ProgramStep.objects.bulk_create(
        ProgramStep(
            program=program, position=i, message=messages[s.message_id], delay_days=s.delay_days
        )
        for i, s in enumerate(steps, start=1)
    )
    return program


PROGRAM_FIELDS = (
    "name",
    "description",
    "interval_days",
    "entry_rules",
    "exit_rules",
    "window_start",
    "window_end",
    "window_weekdays",
    "active",
)


@transaction.atomic
def program_update(
    *,
    program: Program,
    changes: dict[str, Any],
    steps: list[StepSpec] | None = None,
    at: datetime | None = None,
) -> Program:
    """Change a program's settings and, with ``steps``, its messages in order.

    Members keep their place: a step whose message changes sends the new message from now on;
    steps added at the end reach members who have not finished; a step already sent to
    someone, or scheduled for them, cannot be removed (its sends are the program's record),
    only replaced or paused.
    Raises ServiceError."""
    at = at or now()
    unknown = sorted(set(changes) - set(PROGRAM_FIELDS))
    if unknown:
        raise ServiceError(f"'{unknown[0]}' cannot be changed", field=unknown[0])
    program = Program.objects.select_for_update().get(pk=program.pk)
    for name, value in changes.items():
        if name == "name":
            value = str(value).strip()
        setattr(program, name, list(value) if isinstance(value, list | tuple) else value)
    program.updated_at = at
    _validated(program)
    program.save()
    if steps is not None:
        _replace_steps(program, steps)
    return program


def _replace_steps(program: Program, steps: list[StepSpec]) -> None:
    if not steps:
        raise ServiceError("a program needs at least one message", field="steps")
    messages = Message.objects.in_bulk([s.message_id for s in steps])
    missing = [s.message_id for s in steps if s.message_id not in messages]
    if missing:
        raise ServiceError(f"unknown message id(s): {missing}", field="steps")
    existing = list(program.steps.order_by("position"))
    for position, spec in enumerate(steps, start=1):
        if position <= len(existing):
            step = existing[position - 1]
            if (step.message_id, step.delay_days) != (spec.message_id, spec.delay_days):
                step.message = messages[spec.message_id]
                step.delay_days = spec.delay_days
                step.save(update_fields=["message", "delay_days"])
        else:
            ProgramStep.objects.create(
                program=program,
                position=position,
                message=messages[spec.message_id],
                delay_days=spec.delay_days,
            )
    dropped = existing[len(steps) :]
    sent = {
        step_id
        for step_id in NurtureSend.objects.filter(step__in=dropped).values_list(
            "step_id", flat=True
        )
    }
    for step in dropped:
        if step.pk in sent:
            raise ServiceError(
                f"message {step.position} ('{step.message.name}') is already sent or scheduled "
                "for members; it cannot be removed: choose another message for it, or pause "
                "the program",
                field="steps",
            )
    ProgramStep.objects.filter(pk__in=[s.pk for s in dropped]).delete()


@transaction.atomic
def program_set_active(*, program: Program, active: bool, at: datetime | None = None) -> Program:
    program.active = active
    program.updated_at = at or now()
    program.save(update_fields=["active", "updated_at"])
    return program


def send_schedule(
    *,
    enrollment: Enrollment,
    step: ProgramStep,
    person: Person,
    not_before: datetime,
    at: datetime,
    claimed: bool = False,
) -> NurtureSend | None:
    """Create the send row of ``step`` once: a second call for the same step does nothing
    (returns the new row, or None).

    ``claimed``: the caller holds the claim on the previous step's row, so nobody else can be
    scheduling this one (the dispatcher); the checks for a concurrent writer are skipped."""
    send_after = domain.next_in_window(
        not_before, enrollment.program.window, selectors.recipient_zone(person, enrollment.program)
    )
    fields = {
        "enrollment": enrollment,
        "step": step,
        "lead_id": enrollment.lead_id,
        "person": person,
        "token": _new_token(),
        "send_after": send_after,
        "created_at": at,
    }
    if claimed:
        # One statement, and a row that exists already (never expected) is left as it is.
        NurtureSend.objects.bulk_create([NurtureSend(**fields)], ignore_conflicts=True)
        return None
    if NurtureSend.objects.filter(enrollment=enrollment, step=step).exists():
        return None
    try:
        with transaction.atomic():
            return NurtureSend.objects.create(**fields)
    except IntegrityError:  # another worker scheduled it first
        return None


# --- Enrollment and exit ------------------------------------------------------------------


@transaction.atomic
def enrollment_create(
    *, program: Program, lead: Lead, reason: str, at: datetime | None = None
) -> Enrollment | None:
    """Enroll ``lead`` in ``program`` and schedule its first message; None if already enrolled."""
    at = at or now()
    steps = list(program.steps.select_related("message").order_by("position")[:1])
    if not steps:
        return None
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                program=program,
                lead=lead,
                person_id=lead.person_id,
                entry_reason=reason,
                enrolled_at=at,
            )
    except IntegrityError:
        return None
    send_schedule(
        enrollment=enrollment,
        step=steps[0],
        person=lead.person,
        not_before=at + selectors.first_send_delay(steps[0]),
        at=at,
    )
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.NURTURE,
        actor=ACTOR,
        at=at,
        reason="entered",
        note=f"Entered nurture program '{program.name}': {domain.ENTRY_RULES.get(reason, reason)}",
        data={"program": program.pk, "entry_rule": reason},
    )
    return enrollment


@transaction.atomic
def enrollment_exit(
    *,
    enrollment: Enrollment,
    reason: str,
    at: datetime | None = None,
    note: str = "",
    actor: Actor = ACTOR,
) -> bool:
    """Take the lead out of the program: no later message goes. False if it had left already."""
    at = at or now()
    left = Enrollment.objects.filter(pk=enrollment.pk, status=Enrollment.Status.ACTIVE).update(
        status=Enrollment.Status.EXITED, ended_at=at, exit_reason=reason[:32]
    )
    if not left:
        return False
    NurtureSend.objects.filter(enrollment=enrollment, status__in=ACTIVE_SEND).update(
        status=NurtureSend.Status.SKIPPED, skip_reason=reason[:64], claim="", send_after=None
    )
    data: dict[str, Any] = {"program": enrollment.program_id, "exit_rule": reason}
    if reason == "hot":
        last = (
            NurtureSend.objects.filter(lead_id=enrollment.lead_id, status=NurtureSend.Status.SENT)
            .order_by("-sent_at", "-id")
            .first()
        )
        if last is not None:
            NurtureSend.objects.filter(pk=last.pk, turned_hot_at__isnull=True).update(
                turned_hot_at=at
            )
            data["last_message"] = last.step.message_id
    lead = Lead.objects.get(pk=enrollment.lead_id)
    program = Program.objects.get(pk=enrollment.program_id)
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.NURTURE,
        actor=actor,
        at=at,
        reason=f"exit_{reason}"[:64],
        note=note
        or f"Left nurture program '{program.name}': {domain.EXIT_RULES.get(reason, reason)}",
        data=data,
    )
    return True


def lead_snapshot(lead: Lead, *, recycled: bool = False) -> domain.LeadSnapshot:
    return domain.LeadSnapshot(
        stage=lead.stage,
        temperature=lead.temperature,
        owner_is_user=lead.owner_user_id is not None,
        recycled=recycled,
        disposition=lead.disposition_id or "",
    )


def lead_nurture_check(*, lead: Lead, at: datetime | None = None) -> int:
    """Apply the exit rules of every program the lead is in; returns how many it left.

    Called when something happens to a lead (scoring, assignment, a stage change), so a lead
    that turns hot leaves nurture in the same pass that sends it to sales."""
    return leads_nurture_check(leads=[lead], at=at)


def leads_nurture_check(*, leads: Sequence[Lead], at: datetime | None = None) -> int:
    """``lead_nurture_check`` for many leads with one query for their enrollments."""
    at = at or now()
    by_id = {lead.pk: lead for lead in leads}
    if not by_id:
        return 0
    enrollments = (
        Enrollment.objects.filter(lead_id__in=sorted(by_id), status=Enrollment.Status.ACTIVE)
        .select_related("program")
        .order_by("pk")
    )
    left = 0
    for enrollment in enrollments:
        snapshot = lead_snapshot(by_id[enrollment.lead_id])
        decision = domain.exit_decision(snapshot, enrollment.program.exit_rules)
        if decision.ok:
            left += enrollment_exit(enrollment=enrollment, reason=decision.reason, at=at)
    return left


def _exit_person(person_ids: Iterable[int], reason: str, at: datetime, note: str) -> int:
    left = 0
    for enrollment in Enrollment.objects.filter(
        person_id__in=list(person_ids), status=Enrollment.Status.ACTIVE
    ):
        left += enrollment_exit(enrollment=enrollment, reason=reason, at=at, note=note)
    return left


# --- Suppression, unsubscribe, bounces ----------------------------------------------------


@transaction.atomic
def suppression_add(
    *,
    address: str,
    reason: str,
    source: str = "",
    note: str = "",
    at: datetime | None = None,
    ip: str | None = None,
) -> Suppression:
    """Never email ``address`` again (idempotent; the first reason stays). Unsubscribes also
    record a withdrawn Consent; every active enrollment of the people with it ends now."""
    at = at or now()
    address = domain.normalize_address(address)
    if "@" not in address:
        raise ServiceError("not an email address", field="address")
    if reason not in Suppression.Reason.values:
        raise ServiceError(f"unknown reason '{reason}'", field="reason")
    suppression, _created = Suppression.objects.get_or_create(
        address=address,
        defaults={"reason": reason, "source": source[:200], "note": note, "created_at": at},
    )
    people = selectors.people_with_address(address)
    if reason == Suppression.Reason.UNSUBSCRIBED:
        for person in people:
            latest = (
                Consent.objects.filter(person=person, channel="email")
                .order_by("-recorded_at", "-id")
                .first()
            )
            if latest is None or latest.basis != Consent.Basis.WITHDRAWN:
                Consent.objects.create(
                    person=person,
                    channel="email",
                    basis=Consent.Basis.WITHDRAWN,
                    source=source[:200] or "unsubscribe",
                    wording="Unsubscribed from marketing email",
                    ip=ip,
                    recorded_at=at,
                )
    exit_reason = "unsubscribed" if reason == Suppression.Reason.UNSUBSCRIBED else "bounced"
    _exit_person([p.pk for p in people], exit_reason, at, f"Address suppressed: {reason}")
    return suppression


@transaction.atomic
def send_unsubscribe(
    *, token: str, at: datetime | None = None, ip: str | None = None
) -> NurtureSend:
    """One-click unsubscribe from a message's link (idempotent). Raises NurtureSend.DoesNotExist."""
    at = at or now()
    send = NurtureSend.objects.select_related("person").get(token=token)
    address = send.recipient or send.person.email
    already = send.unsubscribed_at is not None
    if not already:
        NurtureSend.objects.filter(pk=send.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=at
        )
        send.unsubscribed_at = at
    if address:
        suppression_add(
            address=address,
            reason=Suppression.Reason.UNSUBSCRIBED,
            source=f"link:{send.ref}",
            at=at,
            ip=ip,
        )
    if not already:
        lead = Lead.objects.get(pk=send.lead_id)
        if lead.stage != "merged":
            Touch.objects.create(
                person_id=send.person_id,
                lead=lead,
                channel=Touch.Channel.EMAIL,
                direction=Touch.Direction.INBOUND,
                outcome=Touch.Outcome.UNSUBSCRIBED,
                occurred_at=at,
                note=f"Unsubscribed from nurture ({send.ref})",
            )
    return send


def bounce_record(
    *, address: str, kind: str, source: str, note: str = "", at: datetime | None = None
) -> Suppression | None:
    """A hard bounce or a complaint from the ESP webhook or the SMTP server. Soft bounces are
    not suppressed (the send is retried)."""
    mapping = {
        "bounced": Suppression.Reason.HARD_BOUNCE,
        "hard_bounce": Suppression.Reason.HARD_BOUNCE,
        "complained": Suppression.Reason.COMPLAINT,
        "complaint": Suppression.Reason.COMPLAINT,
        "unsubscribed": Suppression.Reason.UNSUBSCRIBED,
    }
    reason = mapping.get(kind)
    if reason is None:
        return None
    return suppression_add(address=address, reason=reason, source=source, note=note, at=at)


# --- Engagement (from the tracking app's signal) -------------------------------------------


def engagement_record(*, message_ref: str, kind: str, at: datetime | None = None) -> bool:
    """Count an open or a click on the send it came from (for the per-message report)."""
    pk = domain.send_for_ref(message_ref)
    if pk is None or kind not in ("open", "click"):
        return False
    at = at or now()
    sends = NurtureSend.objects.filter(pk=pk)
    if kind == "open":
        changed = sends.update(
            opens=F("opens") + 1, first_opened_at=Coalesce("first_opened_at", at)
        )
    else:
        # A click implies the message was opened, even when images were blocked.
        changed = sends.update(
            clicks=F("clicks") + 1,
            first_clicked_at=Coalesce("first_clicked_at", at),
            first_opened_at=Coalesce("first_opened_at", at),
        )
    return bool(changed)
