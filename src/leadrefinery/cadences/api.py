"""The cadences API: cadences as data (``/cadences``), the rep's due steps (``/tasks``) with
one-call completion and rescheduling, and the outcome checks marketing answers.

Reads need ``leads:read``; working tasks ``leads:write``; editing cadences ``routing:admin``
and the admin role. Refusals answer 422 in the API's field-error shape.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictInt, field_validator

from leadrefinery.accounts.api_auth import TokenAuth, token_user
from leadrefinery.common.api_types import LocalTime
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused, ServiceError, config_errors_body
from leadrefinery.leads import api_actions as lead_actions
from leadrefinery.leads.access import access_lead
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.api_actions import field_errors, iso_text_only
from leadrefinery.leads.models import Lead
from leadrefinery.leads.schemas import (
    MAX_ID,
    LeadItem,
    Message,
    Text,
    ValidationErrorOut,
    ZonedTime,
)

from . import access, selectors, services
from .models import CadenceStep, CadenceTemplate, OutcomeCheck

router = Router(tags=["cadences"])
# Accepting and rejecting a lead start or skip its cadence, so they live here, under the
# leads tag and paths of the other lead actions.
lead_router = Router(tags=["leads"])

READ = TokenAuth("leads:read")
WRITE = TokenAuth("leads:write")
ADMIN = TokenAuth("routing:admin")
ID = Path(..., ge=1, le=MAX_ID, examples=[1])
AUTH: dict[int, Any] = {401: Message, 403: Message}
ADMINS_ONLY = "Only admins edit cadences."


# --- Cadences -------------------------------------------------------------------------------


class CadenceStepIn(Schema):
    model_config = ConfigDict(extra="forbid")
    day: StrictInt = Field(ge=0, le=365, description="days after the cadence starts")
    channel: Literal["call", "email", "social", "task"]
    at_time: LocalTime | None = Field(None, description="local time of day; null = start of day")
    title: str = Field(min_length=1, max_length=120, pattern=r"\S")
    instructions: str = Field("", max_length=2000)
    email_subject: str = Field("", max_length=200)
    email_body: str = Field("", max_length=10000)

    @field_validator("at_time", mode="before")
    @classmethod
    def _time_text_only(cls, value: Any) -> Any:
        # Lax parsing would read a bare number as seconds after midnight.
        if value is not None and not isinstance(value, str | time):
            raise ValueError("give a time of day as text, e.g. 09:30")
        return value


class CadenceStepOut(CadenceStepIn):
    position: int


class CadenceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120, pattern=r"\S")
    description: str = Field("", max_length=2000)
    active: StrictBool = True
    is_default: StrictBool = False
    end_wait_days: StrictInt = Field(2, ge=0, le=60)
    steps: list[CadenceStepIn] = Field(min_length=1, max_length=50)


class CadenceOut(Schema):
    id: int
    name: str
    description: str
    active: bool
    is_default: bool
    end_wait_days: int
    steps: list[CadenceStepOut]
    created_at: datetime
    updated_at: datetime


def _step_out(step: CadenceStep) -> dict[str, Any]:
    return {
        "position": step.position,
        "day": step.day,
        "channel": step.channel,
        "at_time": step.at_time,
        "title": step.title,
        "instructions": step.instructions,
        "email_subject": step.email_subject,
        "email_body": step.email_body,
    }


def _cadence_out(template: CadenceTemplate, steps: list[CadenceStep]) -> dict[str, Any]:
    return {
        "id": template.pk,
        "name": template.name,
        "description": template.description,
        "active": template.active,
        "is_default": template.is_default,
        "end_wait_days": template.end_wait_days,
        "steps": [_step_out(s) for s in steps],
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


@router.get(
    "/cadences",
    auth=READ,
    response={200: list[CadenceOut], **AUTH},
    operation_id="cadence_list",
    summary="Cadences with their steps (the default first)",
)
def cadence_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_cadence_out(t, steps) for t, steps in selectors.templates_with_steps()]


def _save(request: HttpRequest, template: CadenceTemplate | None, payload: CadenceIn) -> Status:
    if not access.can_edit_cadences(token_user(request)):
        return Status(403, {"detail": ADMINS_ONLY})
    data = payload.model_dump()
    steps = data.pop("steps")
    try:
        saved = services.cadence_template_save(template=template, changes=data, steps=steps)
    except ConfigRefused as exc:
        return Status(422, config_errors_body(exc.errors))
    return Status(200 if template else 201, _cadence_out(saved, selectors.template_steps(saved.pk)))


@router.post(
    "/cadences",
    auth=ADMIN,
    response={201: CadenceOut, **AUTH, 422: ValidationErrorOut},
    operation_id="cadence_create",
    summary="Add a cadence",
)
def cadence_create(request: HttpRequest, payload: CadenceIn) -> Status:
    """Steps in order, days never going back; email steps need a body; the cadence must meet
    the persistence rule (6 touches over 14 days by default) or it is refused."""
    return _save(request, None, payload)


@router.put(
    "/cadences/{cadence_id}",
    auth=ADMIN,
    response={200: CadenceOut, **AUTH, 404: Message, 422: ValidationErrorOut},
    operation_id="cadence_update",
    summary="Replace a cadence and its steps",
)
def cadence_update(request: HttpRequest, payload: CadenceIn, cadence_id: int = ID) -> Status:
    template = CadenceTemplate.objects.filter(pk=cadence_id).first()
    if template is None:
        return Status(404, {"detail": "No such cadence."})
    return _save(request, template, payload)


# --- Tasks: the rep's day ---------------------------------------------------------------------


class TaskOut(Schema):
    lead_id: int
    name: str
    company: str
    email: str
    phone: str
    stage: str
    kind: str = Field(description="accept, step, ending (waiting for a reply) or follow_up")
    action: str
    channel: str = Field(description="call, email, social, task; empty when not a step")
    step: int | None
    steps: int
    instructions: str
    due_at: datetime
    overdue: bool
    hot: bool
    sla_critical: bool


def _task_out(row: selectors.TodayRow) -> dict[str, Any]:
    lead = row.lead
    person = lead.person
    return {
        "lead_id": lead.pk,
        "name": person.display_name,
        "company": person.company_name or (lead.account.name if lead.account else ""),
        "email": person.email,
        "phone": person.phone,
        "stage": lead.stage,
        "kind": row.kind,
        "action": lead.next_action,
        "channel": row.channel,
        "step": row.step.position if row.step else None,
        "steps": row.total_steps,
        "instructions": row.step.instructions if row.step else "",
        "due_at": row.due_at,
        "overdue": row.overdue,
        "hot": row.hot,
        "sla_critical": row.sla_critical,
    }


@router.get(
    "/tasks",
    auth=READ,
    response={200: list[TaskOut], **AUTH},
    operation_id="task_list",
    summary="Your due and overdue steps today, hot and SLA-critical first",
)
def task_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Everything due by the end of your day (your time zone): cadence steps, leads waiting to
    be accepted, follow-ups after a reply."""
    return [_task_out(r) for r in selectors.today_rows(token_user(request), now())]


class CompleteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["", "connected", "voicemail", "no_answer", "wrong_number"] = Field(
        "", description="required for a call step; empty for email, social and task steps"
    )
    note: Text = Field("", max_length=2000)


class RescheduleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    due_at: ZonedTime = Field(description="with a time zone")
    note: Text = Field("", max_length=2000)

    @field_validator("due_at", mode="before")
    @classmethod
    def _iso_text_only(cls, value: Any) -> Any:
        return iso_text_only(value)


class EnrollmentOut(Schema):
    lead_id: int
    status: str
    step: int
    steps_done: int
    next_action: str
    next_action_due_at: datetime | None


def _enrollment_out(lead_id: int) -> dict[str, Any]:

    lead = Lead.objects.get(pk=lead_id)
    enrollment = lead.enrollments.order_by("-started_at", "-pk").first()
    return {
        "lead_id": lead.pk,
        "status": enrollment.status if enrollment else "",
        "step": enrollment.step_position if enrollment else 0,
        "steps_done": enrollment.steps_done if enrollment else 0,
        "next_action": lead.next_action,
        "next_action_due_at": lead.next_action_due_at,
    }


@router.post(
    "/tasks/{lead_id}/complete",
    auth=WRITE,
    response={200: EnrollmentOut, **AUTH, 404: Message, 422: ValidationErrorOut},
    operation_id="task_complete",
    summary="Do the lead's due cadence step (log the call, send the email) and schedule the next",
)
def task_complete(request: HttpRequest, payload: CompleteIn, lead_id: int = ID) -> Status:
    lead = access_lead(token_user(request), lead_id)
    try:
        services.step_complete(
            lead=lead,
            actor=Actor.of(token_user(request)),
            outcome=payload.outcome,
            note=payload.note,
        )
    except ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(200, _enrollment_out(lead.pk))


@router.post(
    "/tasks/{lead_id}/reschedule",
    auth=WRITE,
    response={200: EnrollmentOut, **AUTH, 404: Message, 422: ValidationErrorOut},
    operation_id="task_reschedule",
    summary="Move the lead's next step to another time",
)
def task_reschedule(request: HttpRequest, payload: RescheduleIn, lead_id: int = ID) -> Status:
    if payload.due_at.tzinfo is None:
        return Status(422, field_errors(ServiceError("give a time zone", field="due_at")))
    lead = access_lead(token_user(request), lead_id)
    try:
        services.step_reschedule(
            lead=lead, due_at=payload.due_at, actor=Actor.of(token_user(request)), note=payload.note
        )
    except ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(200, _enrollment_out(lead.pk))


# --- Outcome checks ---------------------------------------------------------------------------


class OutcomeCheckOut(Schema):
    id: int
    lead_id: int
    name: str
    reason: str
    status: str
    scheduled_for: datetime
    answer: str
    competitor: str
    answered_at: datetime | None


class AnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")
    answer: Literal["us", "competitor", "nobody", "unknown"]
    competitor: str = Field("", max_length=200, description="required when answer=competitor")
    note: Text = Field("", max_length=2000)


def _check_out(check: OutcomeCheck) -> dict[str, Any]:
    return {
        "id": check.pk,
        "lead_id": check.lead_id,
        "name": check.lead.person.display_name,
        "reason": check.reason,
        "status": check.status,
        "scheduled_for": check.scheduled_for,
        "answer": check.answer,
        "competitor": check.competitor,
        "answered_at": check.answered_at,
    }


@router.get(
    "/outcome-checks",
    auth=READ,
    response={200: list[OutcomeCheckOut], **AUTH},
    operation_id="outcome_check_list",
    summary="Outcome checks due (marketing's tasks): did they buy, and from whom?",
)
def outcome_check_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Empty for users outside marketing (marketers, admins, marketing queue members)."""
    return [_check_out(c) for c in selectors.open_outcome_checks(token_user(request))]


@router.post(
    "/outcome-checks/{check_id}/answer",
    auth=WRITE,
    response={200: OutcomeCheckOut, **AUTH, 404: Message, 422: ValidationErrorOut},
    operation_id="outcome_check_answer",
    summary="Record what the buyer did: us, a competitor (named), nobody, unknown",
)
def outcome_check_answer(request: HttpRequest, payload: AnswerIn, check_id: int = ID) -> Status:
    user = token_user(request)
    check = OutcomeCheck.objects.select_related("lead__person").filter(pk=check_id).first()
    if check is None or not selectors.answers_outcome_checks(user):
        return Status(404, {"detail": "No such outcome check."})
    try:
        check = services.outcome_check_record(
            check=check,
            answer=payload.answer,
            competitor=payload.competitor,
            note=payload.note,
            actor=Actor.of(user),
        )
    except ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(
        200, _check_out(OutcomeCheck.objects.select_related("lead__person").get(pk=check.pk))
    )


@lead_router.post(
    "/leads/{lead_id}/accept",
    auth=lead_actions.WRITE,
    response={200: LeadItem, **lead_actions.ERRORS},
    operation_id="lead_accept",
    summary="Accept a sales-ready lead (stage Working; the cadence starts)",
)
def lead_accept(
    request: HttpRequest, payload: lead_actions.AcceptIn, lead_id: int = lead_actions.ID
) -> Status:
    lead = lead_actions.lead_for(request, lead_id)
    try:
        lead = services.lead_accept(
            lead=lead, actor=lead_actions.actor_for(request), note=payload.note
        )
    except ServiceError as exc:
        return Status(422, lead_actions.field_errors(exc))
    return Status(200, lead_actions.lead_answer(lead))


@lead_router.post(
    "/leads/{lead_id}/reject",
    auth=lead_actions.WRITE,
    response={200: LeadItem, **lead_actions.ERRORS},
    operation_id="lead_reject",
    summary="Reject a sales-ready lead: back to routing, or recycled to marketing",
)
def lead_reject(
    request: HttpRequest, payload: lead_actions.ReasonIn, lead_id: int = lead_actions.ID
) -> Status:
    """``reason``: wrong_territory, wrong_person, no_capacity or duplicate route the lead again
    without you; a recycle reason (recycle_rejected, recycle_not_ready, ...) hands it to
    marketing nurture."""
    lead = lead_actions.lead_for(request, lead_id)
    try:
        lead = services.lead_reject(
            lead=lead,
            actor=lead_actions.actor_for(request),
            reason_code=payload.reason,
            note=payload.note,
        )
    except ServiceError as exc:
        return Status(422, lead_actions.field_errors(exc))
    return Status(200, lead_actions.lead_answer(lead))
