"""The routing API: routing rules (with a preview that explains without assigning), teams with
their reps' availability, SLA policies, and each user's availability.

Reads need a token with ``leads:read``. Changing rules and SLA policies needs ``routing:admin``
and an admin or manager; availability is changed with ``leads:write`` (a rep their own away
date, hours and time zone; managers their team; admins anyone). Refusals by the models'
validation answer 422 with the same field-error shape as the rest of the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.accounts.models import Team, User
from leadrefinery.common.clock import now
from leadrefinery.leads.access import access_lead
from leadrefinery.leads.models import Queue, Source
from leadrefinery.leads.schemas import MAX_ID, Message, ValidationErrorOut
from leadrefinery.sla.models import SlaPolicy

from . import domain, selectors, services
from .models import RoutingRule

router = Router(tags=["routing"])

READ = TokenAuth("leads:read")
ADMIN = TokenAuth("routing:admin")
AUTH_ERRORS: dict[int, Any] = {401: Message, 403: Message}
ID = Path(..., ge=1, le=MAX_ID, examples=[1])
MANAGERS_ONLY = "Only admins and managers change routing rules and SLA policies."


def _errors(errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "detail": [
            {"loc": ["body", "payload", field], "msg": msg, "type": "value_error"}
            for field, messages in errors.items()
            for msg in messages
        ],
        "inquiry_id": None,
    }


def _user_of(request: HttpRequest) -> User:
    return request.auth.user  # type: ignore[attr-defined,no-any-return]


# --- Shapes ---------------------------------------------------------------------------------


def _text(default: Any = ...) -> Any:
    return Field(default, min_length=1, max_length=120, pattern=r"^[^\x00]*\S[^\x00]*$")


class ConditionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", examples=["country"]
    )
    op: domain.Op
    # Strict types: lax mode would turn true/false into 1/0 and silently store a rule that
    # tests a value nobody wrote.
    value: (
        StrictStr
        | StrictFloat
        | StrictInt
        | list[StrictStr | StrictFloat | StrictInt | None]
        | None
    ) = Field(None, description="a text or number; a list for in / not_in; [min, max] for range")


class RuleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = _text()
    order: StrictInt = Field(100, ge=0, le=1_000_000)
    active: StrictBool = True
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    target_kind: Literal["user", "team", "queue"]
    target_id: StrictInt = Field(ge=1, le=MAX_ID, description="the user, team or queue id")
    method: domain.Method = domain.Method.ROUND_ROBIN
    account_owner_first: StrictBool = False


class RulePatch(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = _text(None)
    order: StrictInt | None = Field(None, ge=0, le=1_000_000)
    active: StrictBool | None = None
    conditions: list[ConditionIn] | None = Field(None, max_length=20)
    target_kind: Literal["user", "team", "queue"] | None = None
    target_id: StrictInt | None = Field(None, ge=1, le=MAX_ID)
    method: domain.Method | None = None
    account_owner_first: StrictBool | None = None


class TargetOut(Schema):
    kind: str
    id: int | None
    name: str


class RuleOut(Schema):
    id: int
    name: str
    order: int
    active: bool
    is_fallback: bool
    conditions: list[dict[str, Any]]
    conditions_text: list[str]
    target: TargetOut
    method: str
    account_owner_first: bool
    description: str
    created_at: datetime
    updated_at: datetime


class PreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    fields: dict[str, StrictStr | StrictFloat | StrictInt | None] = Field(
        default_factory=dict,
        max_length=100,
        description="lead fields as routing conditions see them: country, region, industry, "
        "employee_band, product_interest, source, language, temperature, or any custom field",
        examples=[{"country": "US", "product_interest": "widgets"}],
    )
    lead_id: StrictInt | None = Field(
        None, ge=1, le=MAX_ID, description="start from an existing lead's fields"
    )
    account_owner: str | None = Field(None, max_length=150, description="a username")


class SkippedOut(Schema):
    name: str
    why: str


class PreviewOut(Schema):
    assigned: bool
    owner: TargetOut | None
    rule_id: int | None
    rule_name: str | None
    steps: list[str]
    skipped: list[SkippedOut]
    tie_break: str


class MemberOut(Schema):
    username: str
    name: str
    role: str
    active: bool
    status: str
    unavailable_reason: str | None
    away_until: datetime | None
    in_working_hours: bool
    time_zone: str
    working_hours: dict[str, Any]
    routing_weight: int
    max_open_leads: int | None
    max_leads_per_day: int | None
    open_leads: int
    assigned_today: int


class TeamOut(Schema):
    id: int
    name: str
    manager: str | None
    members: list[MemberOut]


class SlaPolicyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = _text()
    order: StrictInt = Field(100, ge=0, le=1_000_000)
    active: StrictBool = True
    temperature: Literal["", "hot", "warm", "cool", "cold"] = ""
    source: str | None = Field(None, max_length=120, description="a source name; empty = any")
    first_touch_minutes: StrictInt = Field(60, ge=1, le=1_000_000)
    accept_minutes: StrictInt = Field(240, ge=1, le=1_000_000)
    business_hours: StrictBool = True
    remind_at_percent: StrictInt = Field(50, ge=1, le=99)
    notify_manager_at_breach: StrictBool = True
    reassign_after_minutes: StrictInt | None = Field(None, ge=1, le=1_000_000)


class SlaPolicyPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = _text(None)
    order: StrictInt | None = Field(None, ge=0, le=1_000_000)
    active: StrictBool | None = None
    temperature: Literal["", "hot", "warm", "cool", "cold"] | None = None
    source: str | None = Field(None, max_length=120)
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


class AvailabilityIn(Schema):
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


# --- Routing rules --------------------------------------------------------------------------


def _rule_out(rule: RoutingRule) -> dict[str, Any]:
    kind = rule.target_kind
    target_id = {"user": rule.target_user_id, "team": rule.target_team_id}.get(
        kind, rule.target_queue_id
    )
    target_obj = {"user": rule.target_user, "team": rule.target_team}.get(kind, rule.target_queue)
    name = target_obj.username if isinstance(target_obj, User) else str(target_obj or "")
    return {
        "id": rule.pk,
        "name": rule.name,
        "order": rule.order,
        "active": rule.active,
        "is_fallback": rule.is_fallback,
        "conditions": list(rule.conditions or []),
        "conditions_text": selectors.rule_conditions_in_words(rule),
        "target": {"kind": kind, "id": target_id, "name": name},
        "method": rule.method,
        "account_owner_first": rule.account_owner_first,
        "description": selectors.rule_target_label(rule),
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def _rule_changes(data: dict[str, Any], rule: RoutingRule | None) -> dict[str, Any] | dict:
    """Turn the API's target_kind/target_id into the model's target fields; an unknown
    target is a field error (returned as {"_errors": ...})."""
    changes = dict(data)
    target_id = changes.pop("target_id", None)
    kind = changes.get("target_kind") or (rule.target_kind if rule else None)
    if target_id is not None or "target_kind" in changes:
        if target_id is None and rule is not None:
            target_id = {
                "user": rule.target_user_id,
                "team": rule.target_team_id,
                "queue": rule.target_queue_id,
            }.get(str(kind))
        model: Any = {"user": User, "team": Team, "queue": Queue}[str(kind)]
        found = model._default_manager.filter(pk=target_id).first() if target_id else None
        if found is None:
            return {"_errors": {"target_id": [f"no {kind} with id {target_id}"]}}
        changes[f"target_{kind}"] = found
    if changes.get("conditions", []) is None:
        changes.pop("conditions")  # null in an update means "leave as it is", like omitting it
    if "conditions" in changes:
        changes["conditions"] = [
            {"field": c["field"], "op": str(c["op"]), "value": c.get("value")}
            for c in changes["conditions"]
        ]
    if "method" in changes:
        changes["method"] = str(changes["method"])
    return changes


def _save_rule(request: HttpRequest, rule: RoutingRule | None, data: dict[str, Any]) -> Status:
    if not services.can_edit_routing(_user_of(request)):
        return Status(403, {"detail": MANAGERS_ONLY})
    changes = _rule_changes(data, rule)
    if "_errors" in changes:
        return Status(422, _errors(changes["_errors"]))
    try:
        saved = services.routing_rule_save(rule=rule, changes=changes)
    except services.ConfigRefused as exc:
        return Status(422, _errors(exc.errors))
    return Status(200 if rule else 201, _rule_out(saved))


def _rule(rule_id: int) -> RoutingRule | None:
    return (
        RoutingRule.objects.select_related("target_user", "target_team", "target_queue")
        .filter(pk=rule_id)
        .first()
    )


NOT_FOUND = {"detail": "No such routing rule."}


@router.get(
    "/routing-rules",
    auth=READ,
    response={200: list[RuleOut], **AUTH_ERRORS},
    operation_id="routing_rule_list",
    summary="Routing rules in the order they are tried",
)
def routing_rule_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The first active rule whose conditions all hold places a lead; the fallback is last."""
    return [_rule_out(rule) for rule in selectors.rules_in_order()]


@router.post(
    "/routing-rules",
    auth=ADMIN,
    response={201: RuleOut, **AUTH_ERRORS, 422: ValidationErrorOut},
    operation_id="routing_rule_create",
    summary="Add a routing rule",
)
def routing_rule_create(request: HttpRequest, payload: RuleIn) -> Status:
    return _save_rule(request, None, payload.model_dump())


@router.post(
    "/routing-rules/preview",
    auth=READ,
    response={200: PreviewOut, **AUTH_ERRORS, 404: Message, 422: ValidationErrorOut},
    operation_id="routing_preview",
    summary="Which owner would this lead get, and why? (assigns nothing)",
)
def routing_rule_preview(request: HttpRequest, payload: PreviewIn) -> Status:
    """Runs the rules as intake would, right now, and returns the decision with its trace.
    Nothing is assigned and no rotation counter moves."""
    fields: dict[str, Any] = {}
    if payload.lead_id is not None:
        lead = access_lead(_user_of(request), payload.lead_id)
        fields.update(services.lead_routing_fields(lead))
    fields.update({k: v for k, v in payload.fields.items() if v is not None})
    owner_id = None
    if payload.account_owner:
        owner = User.objects.filter(username=payload.account_owner).first()
        if owner is None:
            return Status(422, _errors({"account_owner": ["no user with this username"]}))
        owner_id = owner.pk
    decision = services.routing_preview(fields, account_owner_id=owner_id)
    rule = RoutingRule.objects.filter(pk=decision.rule_id).first() if decision.rule_id else None
    return Status(
        200,
        {
            "assigned": decision.assigned,
            "owner": {"kind": str(decision.kind), "id": decision.id, "name": decision.name}
            if decision.kind
            else None,
            "rule_id": decision.rule_id,
            "rule_name": rule.name if rule else None,
            "steps": list(decision.steps),
            "skipped": [{"name": n, "why": w} for n, w in decision.skipped],
            "tie_break": decision.tie_break,
        },
    )


@router.get(
    "/routing-rules/{rule_id}",
    auth=READ,
    response={200: RuleOut, **AUTH_ERRORS, 404: Message},
    operation_id="routing_rule_get",
    summary="One routing rule",
)
def routing_rule_get(request: HttpRequest, rule_id: int = ID) -> Status:
    rule = _rule(rule_id)
    return Status(200, _rule_out(rule)) if rule else Status(404, NOT_FOUND)


@router.put(
    "/routing-rules/{rule_id}",
    auth=ADMIN,
    response={200: RuleOut, **AUTH_ERRORS, 404: Message, 422: ValidationErrorOut},
    operation_id="routing_rule_update",
    summary="Change a routing rule (fields left out keep their value)",
)
def routing_rule_update(request: HttpRequest, payload: RulePatch, rule_id: int = ID) -> Status:
    rule = _rule(rule_id)
    if rule is None:
        return Status(404, NOT_FOUND)
    return _save_rule(request, rule, payload.model_dump(exclude_unset=True))


@router.delete(
    "/routing-rules/{rule_id}",
    auth=ADMIN,
    response={200: RuleOut, **AUTH_ERRORS, 404: Message, 409: Message},
    operation_id="routing_rule_delete",
    summary="Switch a routing rule off (the fallback rule cannot be)",
)
def routing_rule_delete(request: HttpRequest, rule_id: int = ID) -> Status:
    """Rules are switched off, not erased, so that old assignment traces still name them."""
    if not services.can_edit_routing(_user_of(request)):
        return Status(403, {"detail": MANAGERS_ONLY})
    rule = _rule(rule_id)
    if rule is None:
        return Status(404, NOT_FOUND)
    try:
        services.routing_rule_deactivate(rule=rule)
    except services.ConfigRefused:
        return Status(
            409, {"detail": "The fallback rule cannot be deleted: every lead needs an owner."}
        )
    return Status(200, _rule_out(rule))


# --- Teams ------------------------------------------------------------------------------------


@router.get(
    "/teams",
    auth=READ,
    response={200: list[TeamOut], **AUTH_ERRORS},
    operation_id="team_list",
    summary="Teams with their reps' availability, weights, caps and open leads",
)
def team_list(request: HttpRequest) -> list[dict[str, Any]]:
    """``status`` is what routing sees now: available, unavailable (with the reason) or
    inactive."""
    return [
        {
            "id": t.team.pk,
            "name": t.team.name,
            "manager": t.team.manager.username if t.team.manager else None,
            "members": [m.as_dict() for m in t.members],
        }
        for t in selectors.teams_with_availability(now())
    ]


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
    if not services.can_edit_routing(_user_of(request)):
        return Status(403, {"detail": MANAGERS_ONLY})
    if "source" in data:
        name = data.pop("source")
        data["source"] = None
        if name:
            data["source"] = Source.objects.filter(name=name).first()
            if data["source"] is None:
                return Status(422, _errors({"source": [f"unknown source {name!r}"]}))
    try:
        saved = services.sla_policy_save(policy=policy, changes=data)
    except services.ConfigRefused as exc:
        return Status(422, _errors(exc.errors))
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
def availability_get(request: HttpRequest, username: str = USERNAME) -> Status:
    """Your own, your team's (managers) or anyone's (admins); others answer 404."""
    user = User.objects.filter(username=username).first()
    if user is None or not services.can_edit_availability(_user_of(request), user, set()):
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
    request: HttpRequest, payload: AvailabilityIn, username: str = USERNAME
) -> Status:
    """Fields left out keep their value; ``away_until: null`` ends an absence, a cap of null
    removes it. A rep may set their own away date, hours and time zone; weight and caps are
    set by their manager or an admin."""
    editor = _user_of(request)
    user = User.objects.filter(username=username).first()
    if user is None or not services.can_edit_availability(editor, user, set()):
        return Status(404, NO_USER)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("routing_weight", 0) is None:
        changes.pop("routing_weight")
    if "time_zone" in changes and changes["time_zone"] is None:
        changes.pop("time_zone")
    try:
        services.availability_set(user=user, editor=editor, changes=changes)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except services.ConfigRefused as exc:
        return Status(422, _errors(exc.errors))
    return Status(200, _availability_out(user))
