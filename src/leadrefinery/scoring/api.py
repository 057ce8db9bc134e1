"""The scoring API: rules (fit, engagement, hand-raisers), the temperature matrix and a preview
of how many open leads a change would move.

Reads need ``leads:read``. Changes need ``routing:admin`` and an admin user. A rule or
settings change that the validation refuses answers 422 with the API's field-error shape.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, model_validator

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.leads.schemas import MAX_ID, Message, Text, ValidationErrorOut

from . import rules, selectors, services
from .models import ScoringRule

router = Router(tags=["scoring"])

READ = TokenAuth("leads:read")
ADMIN = TokenAuth("routing:admin")
ERRORS: dict[int, Any] = {401: Message, 403: Message, 422: ValidationErrorOut}
ADMINS_ONLY = "Only admins change scoring rules."


class ScoringConditionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    field: Text = Field(..., min_length=1, max_length=60)
    op: Text = Field(..., min_length=1, max_length=20)
    value: Any = None

    @model_validator(mode="after")
    def _storable(self) -> ScoringConditionIn:
        text = json.dumps(self.value, ensure_ascii=False)
        if len(text) > 2000:
            raise ValueError("the value is too large")
        if "\x00" in text or "\\u0000" in text:
            raise ValueError("the value must not contain NUL characters")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the value must be valid Unicode text") from None
        return self


class ScoringRuleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(..., min_length=1, max_length=120)
    kind: Literal["fit", "engagement", "hand_raiser"]
    points: StrictInt = Field(..., ge=-1000, le=1000)
    event_type: Annotated[str, Field(pattern=r"^([a-z][a-z0-9_]{0,39})?$")] = ""
    conditions: list[ScoringConditionIn] = Field(default_factory=list, max_length=20)
    active: StrictBool = True
    order: StrictInt = Field(100, ge=0, le=100000)
    self_reported: StrictBool = False
    daily_cap: StrictInt | None = Field(None, ge=1, le=100000)
    half_life_days: StrictInt | None = Field(None, ge=1, le=3650)


class ScoringRulePatch(Schema):
    model_config = ConfigDict(extra="forbid")
    name: Text | None = Field(None, min_length=1, max_length=120)
    points: StrictInt | None = Field(None, ge=-1000, le=1000)
    event_type: Annotated[str, Field(pattern=r"^([a-z][a-z0-9_]{0,39})?$")] | None = None
    conditions: list[ScoringConditionIn] | None = Field(None, max_length=20)
    active: StrictBool | None = None
    order: StrictInt | None = Field(None, ge=0, le=100000)
    self_reported: StrictBool | None = None
    daily_cap: StrictInt | None = Field(None, ge=1, le=100000)
    half_life_days: StrictInt | None = Field(None, ge=1, le=3650)


class ScoringRuleOut(Schema):
    id: int
    name: str
    kind: str
    points: int
    event_type: str
    conditions: list[dict[str, Any]]
    active: bool
    order: int
    self_reported: bool
    daily_cap: int | None
    half_life_days: int | None
    updated_at: datetime


class SettingsIO(Schema):
    model_config = ConfigDict(extra="forbid")
    grade_thresholds: dict[str, StrictInt] | None = Field(None, min_length=1)
    engagement_bands: dict[str, StrictInt] | None = Field(None, min_length=1)
    matrix: dict[str, dict[str, str]] | None = Field(None, min_length=1)
    self_reported_weight: StrictFloat | StrictInt | None = Field(None, ge=0, le=1)
    hand_raiser_hot_days: StrictInt | None = Field(None, ge=0, le=3650)


class ScoringPreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    rule_id: StrictInt | None = Field(None, ge=1, le=MAX_ID, description="the rule to change")
    rule: ScoringRulePatch | None = Field(None, description="the change (or a new rule, with kind)")
    kind: Literal["fit", "engagement", "hand_raiser"] | None = None
    settings: SettingsIO | None = None


class ScoringPreviewOut(Schema):
    open_leads: int
    grade_moves: int
    temperature_moves: int
    to_hot: int
    examples: list[dict[str, Any]]


def _out(rule: ScoringRule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in (*rules.RULE_FIELDS, "id", "updated_at")}


def _refused(exc: services.ScoringRefused) -> Status[Any]:
    return Status(
        422,
        {
            "detail": [
                {"loc": ["body", "payload", field], "msg": msg, "type": "value_error"}
                for field, messages in exc.errors.items()
                for msg in messages
            ],
            "inquiry_id": None,
        },
    )


def _admin(request: HttpRequest) -> bool:
    user = request.auth.user  # type: ignore[attr-defined]
    return bool(user.is_active and user.is_admin_role)


# Fields a change may set to null (no cap, no decay); for every other field a null, which
# the schema allows in a partial change, means "leave as it is".
_CLEARABLE = frozenset({"daily_cap", "half_life_days"})


def _changes(body: Schema) -> dict[str, Any]:
    data = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name in _CLEARABLE
    }
    if "conditions" in data and data["conditions"] is not None:
        data["conditions"] = [dict(c) for c in data["conditions"]]
    return data


@router.get(
    "/scoring-rules",
    auth=READ,
    response={200: list[ScoringRuleOut], **ERRORS},
    operation_id="scoring_rules_list",
    summary="Scoring rules",
)
def rules_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(r) for r in ScoringRule.objects.order_by("kind", "order", "id")]


@router.post(
    "/scoring-rules",
    auth=ADMIN,
    response={201: ScoringRuleOut, **ERRORS},
    operation_id="scoring_rule_create",
    summary="Add a scoring rule",
)
def rule_create(request: HttpRequest, payload: ScoringRuleIn) -> Status[Any]:
    if not _admin(request):
        return Status(403, {"detail": ADMINS_ONLY})
    try:
        rule = rules.scoring_rule_save(changes=_changes(payload))
    except services.ScoringRefused as exc:
        return _refused(exc)
    return Status(201, _out(rule))


@router.post(
    "/scoring-rules/preview",
    auth=READ,
    response={200: ScoringPreviewOut, 404: Message, **ERRORS},
    operation_id="scoring_rules_preview",
    summary="How many open leads a change would move (changes nothing)",
)
def rules_preview(request: HttpRequest, payload: ScoringPreviewIn) -> Status[Any]:
    rule = None
    if payload.rule_id is not None:
        rule = ScoringRule.objects.filter(pk=payload.rule_id).first()
        if rule is None:
            return Status(404, {"detail": "Not found."})
    changes = _changes(payload.rule) if payload.rule is not None else None
    if changes is not None and rule is None and payload.kind:
        changes["kind"] = payload.kind
    try:
        result = rules.preview(
            rule=rule,
            changes=changes,
            settings_changes=_changes(payload.settings) if payload.settings else None,
        )
    except services.ScoringRefused as exc:
        return _refused(exc)
    return Status(
        200,
        {
            "open_leads": result.leads,
            "grade_moves": result.grade_moves,
            "temperature_moves": result.temperature_moves,
            "to_hot": result.to_hot,
            "examples": [{"lead_id": i, "from": a, "to": b} for i, a, b in result.examples],
        },
    )


@router.patch(
    "/scoring-rules/{rule_id}",
    auth=ADMIN,
    response={200: ScoringRuleOut, 404: Message, **ERRORS},
    operation_id="scoring_rule_update",
    summary="Change a scoring rule",
)
def rule_update(
    request: HttpRequest, payload: ScoringRulePatch, rule_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[Any]:
    if not _admin(request):
        return Status(403, {"detail": ADMINS_ONLY})
    rule = ScoringRule.objects.filter(pk=rule_id).first()
    if rule is None:
        return Status(404, {"detail": "Not found."})
    try:
        rule = rules.scoring_rule_save(rule=rule, changes=_changes(payload))
    except services.ScoringRefused as exc:
        return _refused(exc)
    return Status(200, _out(rule))


@router.get(
    "/scoring-settings",
    auth=READ,
    response={200: SettingsIO, **ERRORS},
    operation_id="scoring_settings_get",
    summary="Grade thresholds, engagement bands and the temperature matrix",
)
def settings_get(request: HttpRequest) -> dict[str, Any]:
    row = selectors.settings_row()
    return {f: getattr(row, f) for f in SettingsIO.model_fields}


@router.put(
    "/scoring-settings",
    auth=ADMIN,
    response={200: SettingsIO, **ERRORS},
    operation_id="scoring_settings_set",
    summary="Change thresholds or the matrix (open leads are rescored)",
)
def settings_set(request: HttpRequest, payload: SettingsIO) -> Status[Any]:
    if not _admin(request):
        return Status(403, {"detail": ADMINS_ONLY})
    try:
        row = rules.scoring_settings_save(changes=_changes(payload))
    except services.ScoringRefused as exc:
        return _refused(exc)
    return Status(200, {f: getattr(row, f) for f in SettingsIO.model_fields})
