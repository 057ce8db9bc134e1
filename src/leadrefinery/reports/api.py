"""The reports and the marketing costs over the API, under the same visibility as the pages:

- ``GET /api/v1/reports``: the reports there are;
- ``GET /api/v1/reports/{slug}``: one report (``Report.as_json()`` and the filters it used);
  rows are limited to what the token's user may count;
- ``GET /api/v1/costs``, ``POST /api/v1/costs``, ``POST /api/v1/costs/{id}/void``: cost
  entries; writing is for marketers and admins.

Reading takes the ``leads:read`` scope, writing ``leads:write``.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict, WithJsonSchema, field_validator

from leadrefinery.accounts.api_auth import TokenAuth, token_user
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused, config_errors_body
from leadrefinery.leads.models import Campaign, Source
from leadrefinery.leads.schemas import MAX_ID, Message, Text, ValidationErrorOut

from . import costs, domain, present
from .catalog import REPORTS, FilterError, build, filters_for
from .filters import BY_LABELS
from .models import CostEntry

router = Router(tags=["reports"])
READ = TokenAuth("leads:read")
WRITE = TokenAuth("leads:write")
ERRORS: dict[int, Any] = {401: Message, 403: Message, 404: Message, 422: ValidationErrorOut}
MANAGERS_ONLY = "Costs are recorded by marketers and admins."

# Optional query parameters cannot be null on the wire: their published schema is the plain
# type (pydantic would add "or null").
_MONTH = r"^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$"  # YYYY-MM, years 1900 to 9999
Month = Annotated[str | None, WithJsonSchema({"type": "string", "pattern": _MONTH})]
MAX_FILTER_ID = 10**12 - 1  # reports.filters reads ids of at most 12 digits
OptionalId = Annotated[
    int | None, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_FILTER_ID})
]
_BY = r"^(source|campaign|month|team|rep|product|field:[a-z][a-z0-9_]{0,49})$"
By = Annotated[
    str | None,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _BY,
            "examples": [*BY_LABELS, "field:fleet_size"],
        }
    ),
]
ModelName = Literal["first", "last", "linear", "position"]


# --- Reports ----------------------------------------------------------------------------------


class ReportFilters(Schema):
    """Whole months of inquiry (both included; the last 12 months by default) and what to
    narrow the leads to. ``by`` must be one the report offers (see GET /reports)."""

    model_config = ConfigDict(populate_by_name=True)
    from_: Month = Field(None, alias="from", description="first month, YYYY-MM")
    to: Month = Field(None, description="last month, YYYY-MM (default: this month)")
    source: OptionalId = Field(None, ge=1, le=MAX_FILTER_ID, description="a source's id")
    campaign: OptionalId = Field(None, ge=1, le=MAX_FILTER_ID, description="a campaign's id")
    team: OptionalId = Field(None, ge=1, le=MAX_FILTER_ID, description="a team's id")
    rep: OptionalId = Field(None, ge=1, le=MAX_FILTER_ID, description="a user's id")
    product: Annotated[str | None, WithJsonSchema({"type": "string", "maxLength": 120})] = Field(
        None, max_length=120, description="a product line"
    )
    by: By = Field(
        None,
        pattern=_BY,
        description="what the rows are (default: the report's own): one the report offers "
        "(GET /reports), or field:<a custom field's name> where custom_by is true",
    )
    model: Annotated[
        ModelName | None,
        WithJsonSchema({"type": "string", "enum": [m.value for m in domain.Model]}),
    ] = Field(None, description="source-roi only: the attribution model (default linear)")

    @field_validator("from_", "to")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        # The published pattern holds here too, so an empty or malformed month is a field
        # error rather than the default period (the page's form may send an empty one).
        if value is not None and not re.match(_MONTH, value):
            raise ValueError(f"'{value[:20]}' is not a month: use YYYY-MM (1900 to 9999)")
        return value

    def params(self) -> dict[str, str]:
        values = {**self.model_dump(exclude={"from_"}), "from": self.from_}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


class ReportColumnOut(Schema):
    key: str
    label: str
    kind: str = Field(description="text, int, num, pct, money or minutes")


class ReportHeadlineOut(Schema):
    label: str
    value: int | float | str | None
    kind: str
    note: str


class ReportDatasetOut(Schema):
    label: str
    data: list[int | float | None]
    kind: str = Field(description="bar or line")
    axis: str = Field(description="y, or y1 for the right-hand axis")
    stack: str | None


class ReportChartOut(Schema):
    type: str
    labels: list[str]
    datasets: list[ReportDatasetOut]
    y_label: str
    y1_label: str
    stacked: bool
    horizontal: bool


class ReportOut(Schema):
    report: str = Field(description="the report's slug")
    title: str
    definition: list[str] = Field(description="what is counted, as paragraphs")
    columns: list[ReportColumnOut]
    rows: list[dict[str, int | float | str | None]] = Field(
        description="one object per table row, keyed by the columns' keys"
    )
    headlines: list[ReportHeadlineOut]
    chart: ReportChartOut
    notes: list[str]
    filters: dict[str, str] = Field(description="the filters used, as URL parameters")


class ReportInfoOut(Schema):
    slug: str
    title: str
    summary: str
    default_by: str
    bys: list[str]
    custom_by: bool = Field(description="the rows can be a custom field's values (by=field:name)")


@router.get(
    "/reports",
    auth=READ,
    response={200: list[ReportInfoOut], 401: Message, 403: Message},
    operation_id="report_list",
    summary="The reports there are",
)
def report_list(request: HttpRequest) -> Any:
    return [
        {
            "slug": s.slug,
            "title": s.title,
            "summary": s.summary,
            "default_by": s.default_by,
            "bys": list(s.bys),
            "custom_by": s.custom,
        }
        for s in REPORTS.values()
    ]


# The slugs are published as an enum; any other slug answers 404 (not a field error).
Slug = Annotated[str, WithJsonSchema({"type": "string", "enum": list(REPORTS)})]


def _unknown_parameters(names: list[str]) -> dict[str, Any]:
    known = ["from", *(n for n in ReportFilters.model_fields if n != "from_")]
    detail = []
    for name in names:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; use {', '.join(known)}"
        detail.append(
            {
                "loc": ["query", name],
                "msg": f"unknown parameter '{name[:40]}'{hint}",
                "type": "extra_forbidden",
            }
        )
    return {"detail": detail, "inquiry_id": None}


@router.get(
    "/reports/{slug}",
    auth=READ,
    response={200: ReportOut, **ERRORS},
    operation_id="report_get",
    summary="One report, over the leads you may see",
)
def report_get(request: HttpRequest, slug: Path[Slug], filters: Query[ReportFilters]) -> Status:
    """The same table, chart and headline figures as the page /reports/{slug}. Unknown
    parameters are refused (422), so that a misspelt filter never silently widens a report."""
    if slug not in REPORTS:
        return Status(404, {"detail": "No such report."})
    unknown = sorted(set(request.GET) - {"from", *ReportFilters.model_fields} - {"from_"})
    if unknown:
        return Status(422, _unknown_parameters(unknown))
    try:
        parsed = filters_for(slug, filters.params(), now().astimezone(UTC).date())
    except FilterError as exc:
        return Status(422, present.filter_errors_body(exc.errors))
    report = build(slug, token_user(request), parsed)
    return Status(200, {**report.as_json(), "filters": parsed.query()})


# --- Costs ------------------------------------------------------------------------------------


class CostEntryOut(Schema):
    id: int
    source_id: int
    source: str
    campaign_id: int | None
    campaign: str | None
    starts_on: date
    ends_on: date
    amount: Decimal = Field(description="decimal text, in ``currency``")
    currency: str = Field(description="ISO 4217; empty for the reporting currency")
    note: str
    created_by: str | None
    created_at: datetime
    voided_at: datetime | None


def _cost_out(e: CostEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "source_id": e.source_id,
        "source": e.source.name,
        "campaign_id": e.campaign_id,
        "campaign": e.campaign.name if e.campaign else None,
        "starts_on": e.starts_on,
        "ends_on": e.ends_on,
        "amount": e.amount,
        "currency": e.currency,
        "note": e.note,
        "created_by": e.created_by.username if e.created_by else None,
        "created_at": e.created_at,
        "voided_at": e.voided_at,
    }


class CostFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    source: OptionalId = Field(None, ge=1, le=MAX_FILTER_ID, description="a source's id")
    voided: bool = Field(False, description="also list voided entries")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get(
    "/costs",
    auth=READ,
    response={200: list[CostEntryOut], **ERRORS},
    operation_id="cost_list",
    summary="Cost entries, latest first",
)
def cost_list(request: HttpRequest, filters: Query[CostFilters]) -> Any:
    entries = CostEntry.objects.select_related("source", "campaign", "created_by").order_by(
        "-starts_on", "-id"
    )
    if filters.source is not None:
        entries = entries.filter(source_id=filters.source)
    if not filters.voided:
        entries = entries.filter(voided_at__isnull=True)
    return [_cost_out(e) for e in entries[filters.offset : filters.offset + filters.limit]]


class CostEntryIn(Schema):
    model_config = ConfigDict(extra="forbid")
    source_id: int = Field(ge=1, le=MAX_ID)
    campaign_id: int | None = Field(None, ge=1, le=MAX_ID, description="one of the source's")
    starts_on: date = Field(description="the first day the cost covers")
    ends_on: date = Field(description="the last day the cost covers (same day for one day)")
    amount: Annotated[
        Decimal,
        WithJsonSchema({"type": "number", "minimum": 0, "maximum": 999999999999.99}),
    ] = Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2, examples=[1200.5])
    currency: Text = Field("", max_length=3, description="ISO 4217; empty: reporting currency")
    note: Text = Field("", max_length=300)

    @field_validator("starts_on", "ends_on", mode="before")
    @classmethod
    def _date_text_only(cls, value: Any) -> Any:
        # Lax parsing would read a bare number as a timestamp: a typo becoming a date.
        if not isinstance(value, str):
            raise ValueError("give a date as text, e.g. 2026-03-01")
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float_noise(cls, value: Any) -> Any:
        # A JSON number such as 0.1 arrives as a binary float; its decimal text is what was meant.
        return str(value) if isinstance(value, float) else value


@router.post(
    "/costs",
    auth=WRITE,
    response={201: CostEntryOut, **ERRORS},
    operation_id="cost_create",
    summary="Record a cost on a source or one of its campaigns",
)
def cost_create(request: HttpRequest, payload: CostEntryIn) -> Status:
    user = token_user(request)
    if not costs.can_manage_costs(user):
        return Status(403, {"detail": MANAGERS_ONLY})
    source = Source.objects.filter(pk=payload.source_id).first()
    campaign = None
    errors: dict[str, list[str]] = {}
    if source is None:
        errors["source_id"] = ["no such source"]
    if payload.campaign_id is not None:
        campaign = Campaign.objects.filter(pk=payload.campaign_id).first()
        if campaign is None:
            errors["campaign_id"] = ["no such campaign"]
    if errors:
        return Status(422, config_errors_body(errors))
    try:
        entry = costs.cost_entry_create(
            source=source,
            campaign=campaign,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
            amount=payload.amount,
            currency=payload.currency,
            note=payload.note,
            actor=user,
        )
    except ConfigRefused as exc:
        named = {_API_NAMES.get(k, k): v for k, v in exc.errors.items()}
        return Status(422, config_errors_body(named))
    return Status(201, _cost_out(entry))


_API_NAMES = {"source": "source_id", "campaign": "campaign_id"}
ID = Path(..., ge=1, le=MAX_ID, examples=[1])


@router.post(
    "/costs/{cost_id}/void",
    auth=WRITE,
    response={200: CostEntryOut, **ERRORS},
    operation_id="cost_void",
    summary="Void a cost entry (it stays listed; reports leave it out)",
)
def cost_void(request: HttpRequest, cost_id: int = ID) -> Status:
    user = token_user(request)
    if not costs.can_manage_costs(user):
        return Status(403, {"detail": MANAGERS_ONLY})
    entry = CostEntry.objects.filter(pk=cost_id).first()
    if entry is None:
        return Status(404, {"detail": "Not found."})
    entry = costs.cost_entry_void(entry=entry, actor=user)
    entry = CostEntry.objects.select_related("source", "campaign", "created_by").get(pk=entry.pk)
    return Status(200, _cost_out(entry))
