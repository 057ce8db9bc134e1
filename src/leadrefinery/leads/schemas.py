"""Request and response shapes of the leads API (they are also its OpenAPI schema), and the
shapes every API router shares: Message, ValidationErrorOut, Text, Time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from leadrefinery.common.text import scrub

from . import domain, money


def _clean_text(value: str) -> str:
    # Text that the databases cannot store must be refused here, as a field error: PostgreSQL
    # rejects NUL characters and no driver can encode lone UTF-16 surrogates.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_only(value: Any) -> Any:
    # Pydantic would also read numbers ("0.5", 1700000000) as Unix times; the schema promises
    # an ISO 8601 date-time, so anything else is a field error rather than a surprise date.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE_TIME.match(value):
        return value
    raise ValueError("must be an ISO 8601 date-time, e.g. 2026-03-01T09:30:00Z")


def _storable_time(value: datetime) -> datetime:
    # A naive time is read as UTC (as the intake does); a time that cannot be expressed in
    # UTC (year 1 with a positive offset, year 9999 with a negative one) is refused.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


def _clamped_time(value: datetime) -> datetime:
    # As a filter bound, a time beyond what UTC can express simply means "before (or after)
    # everything": clamp it instead of refusing a well-formed date-time.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year < 5000 else datetime.max).replace(tzinfo=UTC)


def _utc_if_aware(value: datetime) -> datetime:
    # Aware times go to the database in UTC: PostgreSQL refuses offsets past +-15:59 (which
    # ISO 8601 allows), and an offset at the edge of the calendar can overflow. A naive time
    # is left for the endpoint to refuse with "give a time zone".
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


Text = Annotated[str, AfterValidator(_clean_text)]


class ScrubbedIn(Schema):
    """A body whose text (keys included) loses its control characters (NUL...) before it is
    validated, instead of being refused: what someone sent in is stored, never lost for an
    invisible character. ``removed_control_characters`` says how many went, for the record."""

    _removed: int = PrivateAttr(default=0)

    @model_validator(mode="wrap")
    @classmethod
    def _scrub_control_characters(cls, data: Any, handler: Any) -> Any:
        removed = 0
        if isinstance(data, dict):
            data, removed = scrub(data)
        obj = handler(data)
        if removed and isinstance(obj, ScrubbedIn):
            obj._removed = removed
        return obj

    @property
    def removed_control_characters(self) -> int:
        return self._removed


# A date and time as ISO 8601 text whose time zone the endpoint requires (it refuses a naive
# one itself, with the field's name).
ZonedTime = Annotated[datetime, AfterValidator(_utc_if_aware)]
Time = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_storable_time)]
# Optional query parameters and headers cannot be null on the wire, so their published schema
# is the plain type (pydantic would add "or null" for an optional field).
FilterTime = Annotated[
    Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_clamped_time)] | None,
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


_AMOUNT_TEXT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


def _amount_in(value: Any) -> Any:
    # A JSON number, or decimal text as the API writes amounts ("12500.00"). Text with
    # thousands separators or a currency ("12,500 EUR") is for the import and the lead page;
    # here it would be a guess.
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _AMOUNT_TEXT.fullmatch(value):
        return value
    raise ValueError(
        'must be a number or decimal text such as "12500.00" (at most 12 digits before the '
        "point and 2 after it)"
    )


# An amount of money in the request: 0 to 999999999999.99, in cents (leads/money.py).
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount_in),
    AfterValidator(money.check_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(money.MAX_AMOUNT)},
                {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"},
            ],
            "examples": ["12500.00"],
        }
    ),
]


def amount_text(value: Decimal | None) -> str | None:
    """An amount as the API answers it: decimal text in cents ("12500.00"), so that no client
    reads money through a binary float."""
    return None if value is None else f"{value:.2f}"


# --- Shared shapes --------------------------------------------------------------------


class Message(Schema):
    detail: str


class FieldErrorOut(Schema):
    loc: list[str | int] = Field(description='where: e.g. ["body", "payload", "email"]')
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]
    inquiry_id: int | None = Field(
        None, description="set when the inquiry was stored and then refused by the intake rules"
    )


# --- GET /leads -------------------------------------------------------------------------

_STAGE_WORDS = {"open", "closed", *(s.value for s in domain.Stage)}
_ONE_STAGE = "(" + "|".join(sorted(_STAGE_WORDS)) + ")"
# The schema states the accepted spellings (for clients and fuzzers); the validator below
# gives the friendlier message naming the unknown ones.
StageWords = Annotated[
    str,
    WithJsonSchema({"type": "string", "pattern": rf"^ *{_ONE_STAGE} *(, *{_ONE_STAGE} *)*$"}),
]
MAX_ID = 2**63 - 1  # the largest 64-bit primary key; larger numbers cannot be looked up


class LeadFilters(Schema):
    """Filters combine with AND. Text that cannot occur in stored data matches nothing."""

    stage: list[StageWords] = Field(
        default_factory=list,
        description="stage code(s), repeated or comma-separated; 'open' or 'closed' for groups",
    )
    owner: str = Field("", max_length=200, description="a username, or 'queue:<slug>'")
    source: str = Field("", max_length=120, description="a Source name")
    received_after: FilterTime = Field(None, description="received at or after (ISO 8601)")
    received_before: FilterTime = Field(None, description="received before (ISO 8601)")
    q: str = Field("", max_length=200, description="words found in the name, email or company")
    custom: str = Field(
        "",
        max_length=300,
        pattern=r"^$|^[a-z][a-z0-9_]{0,49}:",
        description="a custom field's value, as name:value (fleet_size:12); name: alone for "
        "the leads without a value",
        examples=["fleet_size:12"],
    )
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000_000)

    @field_validator("stage", mode="after")
    @classmethod
    def _known_stages(cls, value: list[str]) -> list[str]:
        codes = [code.strip(" ") for item in value for code in item.split(",")]
        unknown = [code for code in codes if code not in _STAGE_WORDS]
        if unknown:
            raise ValueError(
                f"unknown stage {', '.join(repr(u) for u in unknown)}; "
                f"use {', '.join(sorted(_STAGE_WORDS))}"
            )
        return codes


class Owner(Schema):
    type: str = Field(description="'user' or 'queue'")
    id: int
    name: str
    username: str | None = Field(None, description="for a user")
    slug: str | None = Field(None, description="for a queue")


class PersonBrief(Schema):
    id: int
    name: str
    email: str
    phone: str
    company: str


class LeadItem(Schema):
    id: int
    stage: str
    stage_label: str
    is_open: bool
    person: PersonBrief
    owner: Owner | None
    source: str
    campaign: str | None
    product_interest: str
    next_action: str
    next_action_due_at: datetime | None
    disposition: str | None = Field(description="reason code of the outcome, when closed")
    opportunity_amount: str | None = Field(
        description='expected deal value as decimal text, e.g. "12500.00"; null when not set',
        examples=["12500.00"],
    )
    won_amount: str | None = Field(
        description="the amount won (won leads), as decimal text; null when not set"
    )
    currency: str = Field(
        description="ISO 4217 code of the amounts: the lead's own, else the reporting currency",
        examples=["USD"],
    )
    received_at: datetime
    updated_at: datetime
    custom: dict[str, str | bool | int | float] = Field(
        default_factory=dict, description="the custom fields that have a value, by name"
    )


class LeadPage(Schema):
    count: int = Field(description="leads matching the filters")
    items: list[LeadItem]
    next_offset: int | None = Field(description="offset of the next page; null on the last")


# --- GET /leads/{id} -------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    email_unparsed: str = Field(
        "",
        description="an email address as given that is not valid (the lead came with a valid "
        "phone); not used for matching or mail",
    )
    phone_unparsed: str = Field(
        "",
        description="a phone as given that is not a valid number (the lead came with a "
        "valid email); not used for matching",
    )
    title: str
    company: str
    website: str
    country: str
    region: str
    city: str
    postcode: str
    street: str
    language: str


class AccountOut(Schema):
    id: int
    name: str
    domain: str
    country: str


class Utm(Schema):
    source: str
    medium: str
    campaign: str
    term: str
    content: str


class Qualification(Schema):
    need: str
    budget: str
    authority: str
    timeline: str


class DispositionOut(Schema):
    code: str
    label: str
    note: str
    at: datetime | None


class EventOut(Schema):
    kind: str
    at: datetime
    actor: str = Field(description="username, or system:<component>")
    from_stage: str
    to_stage: str
    reason: str
    note: str
    data: dict[str, Any]


class TouchOut(Schema):
    id: int
    channel: str
    direction: str
    outcome: str
    is_sales: bool
    at: datetime
    actor: str | None
    note: str
    voided: bool


class ScoreReason(Schema):
    axis: str = Field(description="temperature, fit or engagement")
    text: str
    points: int | None = None


class LeadScoreOut(Schema):
    fit_grade: str | None = Field(description="A (best) to D, from the fit rules")
    fit_points: int | None
    engagement: int | None = Field(description="behaviour points, decayed by half-lives")
    temperature: str | None = Field(description="hot, warm, cool or cold")
    predicted_readiness: float | None = Field(
        description="calibrated probability of winning, from `refinery scoring train`"
    )
    reasons: list[ScoreReason]
    predicted_reasons: list[dict[str, Any]]


class LeadDetail(Schema):
    id: int
    stage: str
    stage_label: str
    is_open: bool
    person: PersonOut
    account: AccountOut | None
    owner: Owner | None
    next_action: str
    next_action_due_at: datetime | None
    source: str
    campaign: str | None
    utm: Utm
    product_interest: str
    message: str
    qualification: Qualification
    custom: dict[str, str | bool | int | float] = Field(
        default_factory=dict, description="the custom fields that have a value, by name"
    )
    disposition: DispositionOut | None
    opportunity_amount: str | None = Field(
        description='expected deal value as decimal text, e.g. "12500.00"; null when not set'
    )
    won_amount: str | None = Field(
        description="the amount won (won leads), as decimal text; null when not set"
    )
    currency: str = Field(
        description="ISO 4217 code of the amounts: the lead's own, else the reporting currency"
    )
    sales_touch_count: int
    first_sales_touch_at: datetime | None
    last_touch_at: datetime | None
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    timeline: list[EventOut] = Field(description="newest first")
    touches: list[TouchOut] = Field(description="newest first")
    score: LeadScoreOut = Field(description="fit, engagement, temperature and their reasons")
