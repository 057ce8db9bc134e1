"""The routing API: routing rules (with a preview that explains without assigning) and teams
with their reps' availability. SLA policies and each user's availability are in sla/api.py.

Reads need a token with ``leads:read``. Changing rules needs ``routing:admin`` and an admin or
manager. Refusals by the models' validation answer 422 with the same field-error shape as the
rest of the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

from leadrefinery.accounts.api_auth import token_user
from leadrefinery.accounts.models import Team, User
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused, config_errors_body
from leadrefinery.leads.access import access_lead
from leadrefinery.leads.models import Queue
from leadrefinery.leads.schemas import MAX_ID, Message, ValidationErrorOut
from leadrefinery.sla.api import (
    ADMIN,
    AUTH_ERRORS,
    ID,
    MANAGERS_ONLY,
    READ,
    name_field,
)

from . import access, domain, selectors, services
from .models import RoutingRule

router = Router(tags=["routing"])

# --- Shapes ---------------------------------------------------------------------------------


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
    name: str = name_field()
    order: StrictInt = Field(100, ge=0, le=1_000_000)
    active: StrictBool = True
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    target_kind: Literal["user", "team", "queue"]
    target_id: StrictInt = Field(ge=1, le=MAX_ID, description="the user, team or queue id")
    method: domain.Method = domain.Method.ROUND_ROBIN
    account_owner_first: StrictBool = False


class RulePatch(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = name_field(None)
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
    if not access.can_edit_routing(token_user(request)):
        return Status(403, {"detail": MANAGERS_ONLY})
    changes = _rule_changes(data, rule)
    if "_errors" in changes:
        return Status(422, config_errors_body(changes["_errors"]))
    try:
        saved = services.routing_rule_save(rule=rule, changes=changes)
    except ConfigRefused as exc:
        return Status(422, config_errors_body(exc.errors))
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
        lead = access_lead(token_user(request), payload.lead_id)
        fields.update(selectors.lead_routing_fields(lead))
    fields.update({k: v for k, v in payload.fields.items() if v is not None})
    owner_id = None
    if payload.account_owner:
        owner = User.objects.filter(username=payload.account_owner).first()
        if owner is None:
            return Status(
                422, config_errors_body({"account_owner": ["no user with this username"]})
            )
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
    if not access.can_edit_routing(token_user(request)):
        return Status(403, {"detail": MANAGERS_ONLY})
    rule = _rule(rule_id)
    if rule is None:
        return Status(404, NOT_FOUND)
    try:
        services.routing_rule_deactivate(rule=rule)
    except ConfigRefused:
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
