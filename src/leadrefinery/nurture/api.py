"""The nurture API: /api/v1/messages, /api/v1/programs, /api/v1/suppressions.

Marketers and administrators (reads also managers); the token needs ``leads:read`` to read
and ``leads:write`` to write. Rule and content errors answer 422 in the usual shape.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import AuthorizationError
from pydantic import ConfigDict, field_validator

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.accounts.models import ApiToken, Role
from leadrefinery.common.api_types import LocalTime
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.schemas import MAX_ID, ValidationErrorOut
from leadrefinery.leads.schemas import Message as Detail

from . import domain, selectors, services
from .models import Message, Program, Suppression

router = Router(tags=["nurture"])
ERRORS: dict[int, Any] = {
    400: Detail,
    401: Detail,
    403: Detail,
    404: Detail,
    422: ValidationErrorOut,
}
ID = Path(..., ge=1, le=MAX_ID, examples=[1])


class MarketingAuth(TokenAuth):
    """A token with ``scope`` held by a marketer or an administrator (or, for reads, a
    manager)."""

    def __init__(self, scope: str, *, managers: bool = False) -> None:
        super().__init__(scope)
        self.roles = {Role.MARKETER, Role.ADMIN} | ({Role.MANAGER} if managers else set())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = super().authenticate(request, token)
        if not (found.user.is_superuser or found.user.role in self.roles):
            raise AuthorizationError(message="Only marketers and administrators manage nurture.")
        return found


READ = MarketingAuth("leads:read", managers=True)
WRITE = MarketingAuth("leads:write")


def _text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _refused(exc: ServiceError, field: str) -> Status[Any]:
    return Status(
        422,
        {
            "detail": [
                {"loc": ["body", "payload", exc.field or field], "msg": m, "type": "value_error"}
                for m in exc.errors
            ],
            "inquiry_id": None,
        },
    )


# --- Messages -----------------------------------------------------------------------------


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=120)
    subject: str = Field(..., min_length=1, max_length=200)
    body_markdown: str = Field(
        ...,
        min_length=1,
        max_length=50000,
        description="Markdown; merge fields like {{ first_name }}",
    )

    _clean = field_validator("name", "subject", "body_markdown")(_text)


class MessageChange(Schema):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(None, min_length=1, max_length=200)
    body_markdown: str | None = Field(None, min_length=1, max_length=50000)

    @field_validator("subject", "body_markdown")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return None if value is None else _text(value)


class MessageOut(Schema):
    id: int
    name: str
    subject: str
    body_markdown: str
    created_at: datetime
    updated_at: datetime


class MessagePreviewOut(Schema):
    subject: str
    html: str
    text: str


@router.get(
    "/messages",
    auth=READ,
    response={200: list[MessageOut], **ERRORS},
    operation_id="nurture_message_list",
    summary="List the content library",
)
def message_list(request: HttpRequest) -> list[Message]:
    return list(Message.objects.order_by("name"))


@router.post(
    "/messages",
    auth=WRITE,
    response={201: MessageOut, **ERRORS},
    operation_id="nurture_message_create",
    summary="Add a message to the content library",
)
def message_create(request: HttpRequest, payload: MessageIn) -> Status[Any]:
    """422 when a merge field is unknown or the name is taken."""
    if Message.objects.filter(name=payload.name.strip()).exists():
        return _refused(ServiceError("a message with this name exists", field="name"), "name")
    try:
        message = services.message_create(
            name=payload.name,
            subject=payload.subject,
            body_markdown=payload.body_markdown,
            created_by=request.user,
        )
    except ServiceError as exc:
        return _refused(exc, "body_markdown")
    return Status(201, message)


@router.get(
    "/messages/{message_id}",
    auth=READ,
    response={200: MessageOut, **ERRORS},
    operation_id="nurture_message_get",
    summary="Read a message",
)
def message_get(request: HttpRequest, message_id: int = ID) -> Message:
    return get_object_or_404(Message, pk=message_id)


@router.put(
    "/messages/{message_id}",
    auth=WRITE,
    response={200: MessageOut, **ERRORS},
    operation_id="nurture_message_update",
    summary="Change a message's subject or body",
)
def message_update(
    request: HttpRequest, payload: MessageChange, message_id: int = ID
) -> Status[Any]:
    message = get_object_or_404(Message, pk=message_id)
    try:
        services.message_update(
            message=message, subject=payload.subject, body_markdown=payload.body_markdown
        )
    except ServiceError as exc:
        return _refused(exc, "body_markdown")
    return Status(200, message)


@router.get(
    "/messages/{message_id}/preview",
    auth=READ,
    response={200: MessagePreviewOut, **ERRORS},
    operation_id="nurture_message_preview",
    summary="The message rendered with sample merge fields (HTML and plain text)",
)
def message_preview(request: HttpRequest, message_id: int = ID) -> dict[str, str]:
    return selectors.preview(get_object_or_404(Message, pk=message_id))


# --- Programs -------------------------------------------------------------------------------

EntryRule = Literal["warm", "cool", "recycled", "lost_no_decision", "new_inquiry"]
ExitRule = Literal["hot", "won", "unsubscribed", "bounced", "owner_took_back"]


class ProgramStepIn(Schema):
    model_config = ConfigDict(extra="forbid")

    message_id: int = Field(..., ge=1, le=MAX_ID)
    delay_days: int | None = Field(
        None, ge=0, le=3650, description="days after the previous step; blank = the interval"
    )


class ProgramIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    steps: list[ProgramStepIn] = Field(..., min_length=1, max_length=100)
    interval_days: int = Field(14, ge=1, le=365)
    entry_rules: list[EntryRule] = Field(..., min_length=1)
    exit_rules: list[ExitRule] = Field(default_factory=list, description="empty = all of them")
    window_start: LocalTime = Field(time(9, 0))
    window_end: LocalTime = Field(time(17, 0))
    window_weekdays: list[int] = Field(default_factory=lambda: list(domain.WEEKDAYS))
    default_time_zone: str = Field("UTC", max_length=64)
    active: bool = True

    _clean = field_validator("name", "description", "default_time_zone")(_text)


class ProgramChange(Schema):
    model_config = ConfigDict(extra="forbid")

    active: bool


class ProgramStepOut(Schema):
    position: int
    message_id: int
    message: str
    delay_days: int | None
    sent: int
    opened: int
    clicked: int
    unsubscribed: int
    turned_hot: int
    failed: int
    waiting: int


class ProgramOut(Schema):
    id: int
    name: str
    description: str
    active: bool
    interval_days: int
    entry_rules: list[str]
    exit_rules: list[str]
    window_start: LocalTime
    window_end: LocalTime
    window_weekdays: list[int]
    default_time_zone: str
    population: int = Field(description="leads in the program now")
    enrolled: int = Field(description="leads ever enrolled")
    steps: list[ProgramStepOut]


def _program(report: dict[str, Any]) -> dict[str, Any]:
    p = report["program"]
    return {
        "id": p.pk,
        "name": p.name,
        "description": p.description,
        "active": p.active,
        "interval_days": p.interval_days,
        "entry_rules": p.entry_rules,
        "exit_rules": p.exit_rules,
        "window_start": p.window_start,
        "window_end": p.window_end,
        "window_weekdays": p.window_weekdays,
        "default_time_zone": p.default_time_zone,
        "population": p.population,
        "enrolled": p.enrolled,
        "steps": [
            {
                "position": row["step"].position,
                "message_id": row["message"].pk,
                "message": row["message"].name,
                "delay_days": row["step"].delay_days,
                **{
                    k: row[k]
                    for k in (
                        "sent",
                        "opened",
                        "clicked",
                        "unsubscribed",
                        "turned_hot",
                        "failed",
                        "waiting",
                    )
                },
            }
            for row in report["steps"]
        ],
    }


@router.get(
    "/programs",
    auth=READ,
    response={200: list[ProgramOut], **ERRORS},
    operation_id="nurture_program_list",
    summary="List programs with population and per-message results",
)
def program_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_program(r) for r in selectors.program_report()]


@router.post(
    "/programs",
    auth=WRITE,
    response={201: ProgramOut, **ERRORS},
    operation_id="nurture_program_create",
    summary="Create a program with its steps",
)
def program_create(request: HttpRequest, payload: ProgramIn) -> Status[Any]:
    """422 when a message is unknown, the window is empty or the time zone unknown."""
    if Program.objects.filter(name=payload.name.strip()).exists():
        return _refused(ServiceError("a program with this name exists", field="name"), "name")
    try:
        program = services.program_create(
            name=payload.name,
            description=payload.description,
            steps=[services.StepSpec(s.message_id, s.delay_days) for s in payload.steps],
            interval_days=payload.interval_days,
            entry_rules=list(payload.entry_rules),
            exit_rules=list(payload.exit_rules),
            window_start=payload.window_start,
            window_end=payload.window_end,
            window_weekdays=payload.window_weekdays,
            default_time_zone=payload.default_time_zone,
            active=payload.active,
            created_by=request.user,
        )
    except ServiceError as exc:
        return _refused(exc, "steps")
    return Status(201, _program(selectors.program_report(program_id=program.pk)[0]))


@router.get(
    "/programs/{program_id}",
    auth=READ,
    response={200: ProgramOut, **ERRORS},
    operation_id="nurture_program_get",
    summary="Read a program with its per-message results",
)
def program_get(request: HttpRequest, program_id: int = ID) -> dict[str, Any]:
    program = get_object_or_404(Program, pk=program_id)
    return _program(selectors.program_report(program_id=program.pk)[0])


@router.put(
    "/programs/{program_id}",
    auth=WRITE,
    response={200: ProgramOut, **ERRORS},
    operation_id="nurture_program_update",
    summary="Pause or resume a program",
)
def program_update(request: HttpRequest, payload: ProgramChange, program_id: int = ID) -> Any:
    program = get_object_or_404(Program, pk=program_id)
    services.program_set_active(program=program, active=payload.active)
    return _program(selectors.program_report(program_id=program.pk)[0])


# --- Suppressions ----------------------------------------------------------------------------


class SuppressionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(..., min_length=3, max_length=254, examples=["someone@example.com"])
    reason: Literal["unsubscribed", "hard_bounce", "complaint", "manual"] = "manual"
    note: str = Field("", max_length=2000)

    _clean = field_validator("address", "note")(_text)


class SuppressionOut(Schema):
    id: int
    address: str
    reason: str
    source: str
    note: str
    created_at: datetime


class SuppressionFilters(Schema):
    address: str | None = Field(None, max_length=254)
    reason: Literal["unsubscribed", "hard_bounce", "complaint", "manual"] | None = None


@router.get(
    "/suppressions",
    auth=READ,
    response={200: list[SuppressionOut], **ERRORS},
    operation_id="nurture_suppression_list",
    summary="Addresses never emailed again (latest 500, or filtered)",
)
def suppression_list(request: HttpRequest, filters: Query[SuppressionFilters]) -> list[Suppression]:
    rows = Suppression.objects.order_by("-created_at", "-id")
    if filters.address and "\x00" not in filters.address:
        rows = rows.filter(address=domain.normalize_address(filters.address))
    if filters.reason:
        rows = rows.filter(reason=filters.reason)
    return list(rows[:500])


@router.post(
    "/suppressions",
    auth=WRITE,
    response={201: SuppressionOut, 200: SuppressionOut, **ERRORS},
    operation_id="nurture_suppression_add",
    summary="Suppress an address (idempotent: 200 with the existing entry)",
)
def suppression_add(request: HttpRequest, payload: SuppressionIn) -> Status[Any]:
    existed = Suppression.objects.filter(address=domain.normalize_address(payload.address)).first()
    if existed is not None:
        return Status(200, existed)
    try:
        created = services.suppression_add(
            address=payload.address,
            reason=payload.reason,
            source=f"api:{request.user.get_username()}",
            note=payload.note,
        )
    except ServiceError as exc:
        return _refused(exc, "address")
    return Status(201, created)
