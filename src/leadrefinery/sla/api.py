"""SLA policies and reps' availability (working hours, time zone, away date, routing weight
and caps) over the REST API. Policies say how fast a lead must be touched; availability says
when a rep's clock runs and whether routing may choose them.

Reads need a token with ``leads:read``. Changing policies needs ``routing:admin`` and an admin
or manager; availability is changed with ``leads:write`` (a rep their own away date, hours and
time zone; managers their team; admins anyone). Refusals by the models' validation answer 422
with the same field-error shape as the rest of the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictInt, field_validator

from leadrefinery.accounts.api_auth import TokenAuth, token_user
from leadrefinery.accounts.models import User
from leadrefinery.common.errors import ConfigRefused, config_errors_body
from leadrefinery.leads.models import Source
from leadrefinery.leads.schemas import MAX_ID, Message, ScrubbedIn, Text, ValidationErrorOut
from leadrefinery.sla import access as sla_access

from . import services
from .models import SlaPolicy

# Tagged with routing, as before these endpoints had their own module: one section of the
# API documentation for who gets a lead and how fast they must act.
router = Router(tags=["routing"])

READ = TokenAuth("leads:read")
ADMIN = TokenAuth("routing:admin")
AUTH_ERRORS: dict[int, Any] = {401: Message, 403: Message}
ID = Path(..., ge=1, le=MAX_ID, examples=[1])
MANAGERS_ONLY = "Only admins and managers change routing rules and SLA policies."


def name_field(default: Any = ...) -> Any:
    """A required-looking short name: 1 to 120 characters, not blank, no NUL."""
    return Field(default, min_length=1, max_length=120, pattern=r"^[^\x00]*\S[^\x00]*$")


# --- Shapes ---------------------------------------------------------------------------------


class SlaPolicyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = name_field()
    order: StrictInt = Field(100, ge=0, le=1_000_000)
    active: StrictBool = True
    temperature: Literal["", "hot", "warm", "cool", "cold"] = ""
    source: Text | None = Field(None, max_length=120, description="a source name; empty = any")
    first_touch_minutes: StrictInt = Field(60, ge=1, le=1_000_000)
    accept_minutes: StrictInt = Field(240, ge=1, le=1_000_000)
    business_hours: StrictBool = True
    remind_at_percent: StrictInt = Field(50, ge=1, le=99)
    notify_manager_at_breach: StrictBool = True
    reassign_after_minutes: StrictInt | None = Field(None, ge=1, le=1_000_000)


class SlaPolicyPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = name_field(None)
    order: StrictInt | None = Field(None, ge=0, le=1_000_000)
    active: StrictBool | None = None
    temperature: Literal["", "hot", "warm", "cool", "cold"] | None = None
    source: Text | None = Field(None, max_length=120)
    first_touch_minutes: StrictInt | None = Field(None, ge=1, le=1_000_000)
    accept_minutes: StrictInt | None = Field(None, ge=1, le=1_000_000)
    business_hours: StrictBool | None = None
    remind_at_percent: StrictInt | None = Field(None, ge=1, le=99)
    notify_manager_at_breach: StrictBool | None = None
    reassign_after_minutes: StrictInt | None = Field(None, ge=1, le=1_000_000)


class SlaPolicyOut(Schema):
    id: int
    name: str
    order: int
    active: bool
    temperature: str
    source: str | None
    first_touch_minutes: int
    accept_minutes: int
    business_hours: bool
    remind_at_percent: int
    notify_manager_at_breach: bool
    reassign_after_minutes: int | None


class AvailabilityIn(ScrubbedIn):
    model_config = ConfigDict(extra="forbid")
    away_until: datetime | None = Field(None, description="skipped by routing until then")

    @field_validator("away_until", mode="before")
    @classmethod
    def _iso_text_only(cls, value: Any) -> Any:
        # Lax parsing would read a bare number as a Unix timestamp: a typo becoming a date.
        if value is not None and not isinstance(value, str | datetime):
            raise ValueError("give an ISO 8601 date and time, e.g. 2026-12-24T17:00:00+01:00")
        return value

    working_hours: dict[str, list[list[str]]] | None = Field(
        None,
        description='weekday "0" (Monday) .. "6" -> [["09:00", "17:00"], ...]; {} = Mon-Fri 9-17',
    )
    time_zone: str | None = Field(None, min_length=1, max_length=64, examples=["Europe/Berlin"])
    routing_weight: StrictInt | None = Field(None, ge=1, le=100)
    max_open_leads: StrictInt | None = Field(None, ge=0, le=1_000_000)
    max_leads_per_day: StrictInt | None = Field(None, ge=0, le=1_000_000)


class AvailabilityOut(Schema):
    username: str
    active: bool
    away_until: datetime | None
    working_hours: dict[str, Any]
    time_zone: str
    routing_weight: int
    max_open_leads: int | None
    max_leads_per_day: int | None


# --- SLA policies -----------------------------------------------------------------------------


def _policy_out(p: SlaPolicy) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "order": p.order,
        "active": p.active,
        "temperature": p.temperature,
        "source": p.source.name if p.source else None,
        "first_touch_minutes": p.first_touch_minutes,
        "accept_minutes": p.accept_minutes,
        "business_hours": p.business_hours,
        "remind_at_percent": p.remind_at_percent,
        "notify_manager_at_breach": p.notify_manager_at_breach,
        "reassign_after_minutes": p.reassign_after_minutes,
    }


def _save_policy(request: HttpRequest, policy: SlaPolicy | None, data: dict[str, Any]) -> Status:
    if not sla_access.can_edit_policies(token_user(request)):
        return Status(403, {"detail": MANAGERS_ONLY})
    if "source" in data:
        name = data.pop("source")
        data["source"] = None
        if name:
            data["source"] = Source.objects.filter(name=name).first()
            if data["source"] is None:
                return Status(422, config_errors_body({"source": [f"unknown source {name!r}"]}))
    try:
        saved = services.sla_policy_save(policy=policy, changes=data)
    except ConfigRefused as exc:
        return Status(422, config_errors_body(exc.errors))
    return Status(200 if policy else 201, _policy_out(saved))


@router.get(
    "/sla-policies",
    auth=READ,
    response={200: list[SlaPolicyOut], **AUTH_ERRORS},
    operation_id="sla_policy_list",
    summary="SLA policies in the order they are tried",
)
def sla_policy_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The first active policy whose temperature and source match a lead applies to it."""
    return [_policy_out(p) for p in SlaPolicy.objects.select_related("source")]


@router.post(
    "/sla-policies",
    auth=ADMIN,
    response={201: SlaPolicyOut, **AUTH_ERRORS, 422: ValidationErrorOut},
    operation_id="sla_policy_create",
    summary="Add an SLA policy",
)
def sla_policy_create(request: HttpRequest, payload: SlaPolicyIn) -> Status:
    return _save_policy(request, None, payload.model_dump())


@router.get(
    "/sla-policies/{policy_id}",
    auth=READ,
    response={200: SlaPolicyOut, **AUTH_ERRORS, 404: Message},
    operation_id="sla_policy_get",
    summary="One SLA policy",
)
def sla_policy_get(request: HttpRequest, policy_id: int = ID) -> Status:
    policy = SlaPolicy.objects.select_related("source").filter(pk=policy_id).first()
    if policy is None:
        return Status(404, {"detail": "No such SLA policy."})
    return Status(200, _policy_out(policy))


@router.put(
    "/sla-policies/{policy_id}",
    auth=ADMIN,
    response={200: SlaPolicyOut, **AUTH_ERRORS, 404: Message, 422: ValidationErrorOut},
    operation_id="sla_policy_update",
    summary="Change an SLA policy (fields left out keep their value)",
)
def sla_policy_update(request: HttpRequest, payload: SlaPolicyPatch, policy_id: int = ID) -> Status:
    policy = SlaPolicy.objects.select_related("source").filter(pk=policy_id).first()
    if policy is None:
        return Status(404, {"detail": "No such SLA policy."})
    data = payload.model_dump(exclude_unset=True)
    # null means "leave as is" for the required settings; only source and
    # reassign_after_minutes can be emptied.
    data = {
        k: v for k, v in data.items() if v is not None or k in ("source", "reassign_after_minutes")
    }
    return _save_policy(request, policy, data)


# --- Availability -----------------------------------------------------------------------------


def _availability_out(u: User) -> dict[str, Any]:
    return {
        "username": u.username,
        "active": u.is_active,
        "away_until": u.away_until,
        "working_hours": u.working_hours or {},
        "time_zone": u.time_zone,
        "routing_weight": u.routing_weight,
        "max_open_leads": u.max_open_leads,
        "max_leads_per_day": u.max_leads_per_day,
    }


USERNAME = Path(..., min_length=1, max_length=150, examples=["ron"])


NO_USER = {"detail": "No such user."}


@router.get(
    "/users/{username}/availability",
    auth=READ,
    response={200: AvailabilityOut, **AUTH_ERRORS, 404: Message},
    operation_id="availability_get",
    summary="A user's availability for routing",
)
def availability_get(request: HttpRequest, username: Text = USERNAME) -> Status:
    """Your own, your team's (managers) or anyone's (admins); others answer 404."""
    user = User.objects.filter(username=username).first()
    if user is None or not sla_access.can_edit_availability(token_user(request), user, set()):
        return Status(404, NO_USER)
    return Status(200, _availability_out(user))


@router.put(
    "/users/{username}/availability",
    auth=TokenAuth("leads:write"),
    response={200: AvailabilityOut, **AUTH_ERRORS, 404: Message, 422: ValidationErrorOut},
    operation_id="availability_set",
    summary="Set a user's away date, working hours, time zone, weight or caps",
)
def availability_put(
    request: HttpRequest, payload: AvailabilityIn, username: Text = USERNAME
) -> Status:
    """Fields left out keep their value; ``away_until: null`` ends an absence, a cap of null
    removes it. A rep may set their own away date, hours and time zone; weight and caps are
    set by their manager or an admin."""
    editor = token_user(request)
    user = User.objects.filter(username=username).first()
    if user is None or not sla_access.can_edit_availability(editor, user, set()):
        return Status(404, NO_USER)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("routing_weight", 0) is None:
        changes.pop("routing_weight")
    if "time_zone" in changes and changes["time_zone"] is None:
        changes.pop("time_zone")
    try:
        services.rep_availability_set(user=user, editor=editor, changes=changes)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except ConfigRefused as exc:
        return Status(422, config_errors_body(exc.errors))
    return Status(200, _availability_out(user))
