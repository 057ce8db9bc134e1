"""Actions on one lead: log a touch, dispose, recycle, qualify, set the deal value (accept
and reject are in cadences/api.py, since they start or skip the cadence).

``POST /api/v1/leads/{id}/touches|dispose|recycle|amount``,
``PATCH /api/v1/leads/{id}/qualification|custom``. Each parses the body, finds
the lead through ``access_lead`` (404 when the token's user cannot see it), calls one service
and answers with the lead (or the touch). A refusal by the service (the state machine, the
persistence rule, a reason that does not fit) answers 422 with the field it is about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, field_validator

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.leads.access import access_lead

from . import custom_field_services, events, services
from .actors import Actor
from .api import lead_detail_body, lead_item
from .models import Lead
from .normalize import LEAD_FIELDS
from .schemas import (
    MAX_ID,
    Amount,
    LeadDetail,
    LeadItem,
    Message,
    Text,
    TouchOut,
    ValidationErrorOut,
    ZonedTime,
)

router = Router(tags=["leads"])

WRITE = TokenAuth("leads:write")
ID = Path(..., ge=1, le=MAX_ID, examples=[1])
ERRORS: dict[int, Any] = {401: Message, 403: Message, 404: Message, 422: ValidationErrorOut}

TouchChannel = Literal[
    "email", "call", "meeting", "social", "visit", "email_open", "email_click", "event", "other"
]
TouchOutcome = Literal[
    "",
    "connected",
    "voicemail",
    "no_answer",
    "wrong_number",
    "sent",
    "bounced",
    "replied",
    "meeting_booked",
    "opened",
    "clicked",
    "unsubscribed",
]
Reason = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$", examples=["lost_price"])
Note = Field("", max_length=2000)


def iso_text_only(value: Any) -> Any:
    # Lax parsing would read a bare number as a Unix timestamp: a typo becoming a date.
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("give an ISO 8601 date and time, e.g. 2026-03-02T09:00:00+01:00")
    return value


class TouchIn(Schema):
    model_config = ConfigDict(extra="forbid")
    channel: TouchChannel = Field(examples=["call"])
    direction: Literal["outbound", "inbound"] = "outbound"
    outcome: TouchOutcome = Field("", examples=["voicemail"])
    note: Text = Note
    occurred_at: ZonedTime | None = Field(
        None, description="when it happened (default: now); with a time zone"
    )
    next_action: Text = Field(
        "",
        max_length=200,
        description="the next step when no cadence runs (default: a follow-up that fits the "
        "touch); while a cadence runs, its next step is the next action",
    )
    next_action_due_at: ZonedTime | None = Field(
        None, description="when the next step is due; with a time zone"
    )

    @field_validator("occurred_at", "next_action_due_at", mode="before")
    @classmethod
    def _iso_text_only(cls, value: Any) -> Any:
        return iso_text_only(value)


class AcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: Text = Note


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Reason
    note: Text = Note


Currency = Field(
    None,
    max_length=3,
    description="ISO 4217 code of the amount, e.g. EUR (any letter case); empty: the "
    "reporting currency; absent or null: the lead's currency stays",
    examples=["EUR"],
)


class DisposeIn(ReasonIn):
    won_amount: Amount | None = Field(
        None,
        description="with reason 'won': the amount won; absent or null: the lead's expected "
        "value (opportunity_amount), if it has one",
    )
    currency: Text | None = Currency


def field_errors(exc: services.ServiceError) -> dict[str, Any]:
    field = exc.field or "lead"
    return {
        "detail": [
            {"loc": ["body", "payload", field], "msg": msg, "type": "value_error"}
            for msg in exc.errors
        ],
        "inquiry_id": None,
    }


def lead_for(request: HttpRequest, lead_id: int) -> Lead:
    return access_lead(request.auth.user, lead_id)  # type: ignore[attr-defined]


def actor_for(request: HttpRequest) -> Actor:
    return Actor.of(request.auth.user)  # type: ignore[attr-defined]


def lead_answer(lead: Lead) -> dict[str, Any]:
    lead = Lead.objects.select_related(
        "person", "owner_user", "owner_queue", "source", "campaign"
    ).get(pk=lead.pk)
    return lead_item(lead)


@router.post(
    "/leads/{lead_id}/touches",
    auth=WRITE,
    response={201: TouchOut, **ERRORS},
    operation_id="lead_touch_create",
    summary="Log a touch (a call, an email, a reply, a meeting)",
)
def lead_touch_create(request: HttpRequest, payload: TouchIn, lead_id: int = ID) -> Status:
    """Outbound touches by you count toward the persistence rule, and the first one stops the
    speed-to-lead clock. While a cadence runs, a touch on the channel of the step due now
    completes that step; otherwise the lead gets ``next_action`` (or a fitting follow-up). A reply or a booked meeting stops the lead's cadence; an inbound touch
    notifies the owner."""
    for name in ("occurred_at", "next_action_due_at"):
        value = getattr(payload, name)
        if value is not None and value.tzinfo is None:
            return Status(422, field_errors(services.ServiceError("give a time zone", field=name)))
    lead = lead_for(request, lead_id)
    try:
        touch = events.lead_action("touch")(
            lead=lead,
            channel=payload.channel,
            direction=payload.direction,
            outcome=payload.outcome,
            note=payload.note,
            next_action=payload.next_action,
            next_action_due_at=payload.next_action_due_at,
            actor=actor_for(request),
            at=payload.occurred_at,
        ).touch
    except services.ServiceError as exc:
        return Status(422, field_errors(exc))
    assert touch is not None  # a touch on a channel always logs one
    return Status(
        201,
        {
            "id": touch.pk,
            "channel": touch.channel,
            "direction": touch.direction,
            "outcome": touch.outcome,
            "is_sales": touch.is_sales,
            "at": touch.occurred_at,
            "actor": touch.actor.username if touch.actor else None,
            "note": touch.note,
            "voided": False,
        },
    )


@router.post(
    "/leads/{lead_id}/dispose",
    auth=WRITE,
    response={200: LeadItem, **ERRORS},
    operation_id="lead_dispose",
    summary="Close a lead with an outcome reason (won, lost_*, dq_*)",
)
def lead_dispose(request: HttpRequest, payload: DisposeIn, lead_id: int = ID) -> Status:
    """'No response' (lost_no_response) is refused until the persistence rule is met; the
    message says how many touches and days remain. A lead closed as won is won at
    ``won_amount``, else at its expected value; an amount with another reason is refused."""
    lead = lead_for(request, lead_id)
    try:
        lead = services.lead_dispose(
            lead=lead,
            reason_code=payload.reason,
            actor=actor_for(request),
            note=payload.note,
            won_amount=payload.won_amount,
            currency=payload.currency,
        )
    except services.ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(200, lead_answer(lead))


@router.post(
    "/leads/{lead_id}/recycle",
    auth=WRITE,
    response={200: LeadItem, **ERRORS},
    operation_id="lead_recycle",
    summary="Recycle a lead to marketing nurture with a reason (recycle_*)",
)
def lead_recycle(request: HttpRequest, payload: ReasonIn, lead_id: int = ID) -> Status:
    """The marketing queue owns the lead afterwards, with a next action and due time."""
    lead = lead_for(request, lead_id)
    try:
        lead = services.lead_recycle(
            lead=lead, reason_code=payload.reason, actor=actor_for(request), note=payload.note
        )
    except services.ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(200, lead_answer(lead))


class QualificationIn(Schema):
    """Only the fields given change; an empty string clears one."""

    model_config = ConfigDict(extra="forbid")
    need: Text | None = Field(None, max_length=LEAD_FIELDS["need"], examples=["Replace 3 CRMs"])
    budget: Text | None = Field(None, max_length=LEAD_FIELDS["budget"], examples=["40k EUR"])
    authority: Text | None = Field(None, max_length=LEAD_FIELDS["authority"], examples=["CFO"])
    timeline: Text | None = Field(None, max_length=LEAD_FIELDS["timeline"], examples=["Q3"])


@router.patch(
    "/leads/{lead_id}/qualification",
    auth=WRITE,
    response={200: LeadDetail, **ERRORS},
    operation_id="lead_qualification_set",
    summary="Record need, budget, authority and timeline",
)
def lead_qualification_set(
    request: HttpRequest, payload: QualificationIn, lead_id: int = ID
) -> Status:
    """Each change is on the lead's timeline with who made it and when. A closed lead keeps
    the qualification it was closed with (422)."""
    lead = lead_for(request, lead_id)
    try:
        services.lead_qualification_set(
            lead=lead, changes=payload.model_dump(exclude_none=True), actor=actor_for(request)
        )
    except services.ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(200, lead_detail_body(lead.pk))


class AmountIn(Schema):
    """Only the fields given change: null clears an amount; an empty currency means the
    reporting currency."""

    model_config = ConfigDict(extra="forbid")
    opportunity_amount: Amount | None = Field(
        None, description="the expected deal value, once the lead is an opportunity"
    )
    won_amount: Amount | None = Field(None, description="the amount won; only on a won lead")
    currency: Text | None = Field(
        None,
        max_length=3,
        description="ISO 4217 code of the amounts, e.g. EUR (any letter case); empty: the "
        "reporting currency",
        examples=["EUR"],
    )


@router.post(
    "/leads/{lead_id}/amount",
    auth=WRITE,
    response={200: LeadDetail, **ERRORS},
    operation_id="lead_amount_set",
    summary="Set the deal value: expected value, amount won, currency",
)
def lead_amount_set(request: HttpRequest, payload: AmountIn, lead_id: int = ID) -> Status:
    """Each change is an ``amount`` event on the lead's timeline with who made it, when, and
    the old and new values; a request that changes nothing records nothing. Refused (422, with
    the field): a negative amount, more than 12 digits before the point or 2 after it, a code
    that is not ISO 4217, an amount won on a lead that is not won, a merged lead."""
    lead = lead_for(request, lead_id)
    given = payload.model_dump(exclude_unset=True)
    try:
        services.lead_set_amount(
            lead=lead,
            actor=actor_for(request),
            opportunity_amount=given.get("opportunity_amount", ...),
            won_amount=given.get("won_amount", ...),
            currency=(given["currency"] or "") if "currency" in given else ...,
        )
    except services.ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(200, lead_detail_body(lead.pk))


class CustomValuesIn(Schema):
    """Custom field values by the field's name; null or "" clears one, fields not given keep
    theirs."""

    model_config = ConfigDict(extra="forbid")
    values: dict[str, Text | StrictBool | StrictInt | StrictFloat | None] = Field(
        ..., max_length=100, examples=[{"fleet_size": 12, "installed_product": "Route Planner"}]
    )


@router.patch(
    "/leads/{lead_id}/custom",
    auth=WRITE,
    response={200: LeadDetail, **ERRORS},
    operation_id="lead_custom_set",
    summary="Set the lead's custom field values",
)
def lead_custom_set(request: HttpRequest, payload: CustomValuesIn, lead_id: int = ID) -> Status:
    """Each value is read as its field reads it (a number, a date as 2026-03-31, yes or no, one
    of a choice's options); a value that cannot be read, or a name that is no custom field,
    refuses the change (422, naming the field). The change is on the lead's timeline."""
    lead = lead_for(request, lead_id)
    try:
        custom_field_services.lead_custom_set(
            lead=lead, changes=payload.values, actor=actor_for(request)
        )
    except services.ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(200, lead_detail_body(lead.pk))
