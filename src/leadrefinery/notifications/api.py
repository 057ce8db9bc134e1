"""The webhooks API: register, list, change and deactivate receivers; read the delivery log.

Administrators only: the token needs the ``routing:admin`` scope and must belong to a user
with the admin role (401 without a valid token, 403 otherwise). The signing secret is in the
answer to POST only; store it then, it is never shown again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import AuthorizationError
from pydantic import ConfigDict, StrictBool, field_validator

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.accounts.models import ApiToken
from leadrefinery.leads.schemas import MAX_ID, Message, ValidationErrorOut

from . import webhooks
from .models import WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])

ADMIN_SCOPE = "routing:admin"
ERRORS: dict[int, Any] = {
    400: Message,
    401: Message,
    403: Message,
    404: Message,
    422: ValidationErrorOut,
}
# The event names as an enum in the schema, so clients (and the OpenAPI docs) know them.
Event = Literal["lead.assigned", "lead.sla_warning", "lead.sla_breached", "lead.reassigned"]
assert set(get_args(Event)) == set(webhooks.EVENTS), "keep Event in step with the model"
ENDPOINT_ID = Path(..., ge=1, le=MAX_ID, examples=[1])
EVENTS_HELP = f"events to receive, any of {', '.join(webhooks.EVENTS)}; empty = all events"


class AdminTokenAuth(TokenAuth):
    """A token with the admin scope, held by an administrator."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = super().authenticate(request, token)
        if not found.user.is_admin_role:
            raise AuthorizationError(message="Only administrators manage webhooks.")
        return found


def _text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _known_events(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        problem = webhooks.events_problem(value)
        if problem:
            raise ValueError(problem)
    return value


class WebhookIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        ...,
        max_length=500,
        pattern=r"^https?://",
        description="an http:// or https:// URL with a host name or address",
        examples=["https://crm.example.com/hooks/refinery"],
    )
    events: list[Event] = Field(default_factory=list, description=EVENTS_HELP)
    description: str = Field("", max_length=200)

    # "before" validators: our messages name the problem in words, ahead of the generic
    # pattern and enum messages of the schema (which still apply to everything else).
    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        problem = webhooks.url_problem(_text(value))
        if problem:
            raise ValueError(problem)
        return value.strip()

    @field_validator("events", mode="before")
    @classmethod
    def _events(cls, value: Any) -> Any:
        return _known_events(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _text(value)


class WebhookChange(Schema):
    """Only the fields given change. The URL cannot change: register a new endpoint."""

    model_config = ConfigDict(extra="forbid")

    active: StrictBool | None = None
    events: list[Event] | None = Field(None, description=EVENTS_HELP)
    description: str | None = Field(None, max_length=200)

    @field_validator("events", mode="before")
    @classmethod
    def _events(cls, value: Any) -> Any:
        return _known_events(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return None if value is None else _text(value)


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    events: list[str] = Field(description="empty = all events")
    active: bool
    created_at: datetime
    created_by: str | None


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="the HMAC-SHA256 signing key; shown only in this answer, store it now"
    )


class DeliveryOut(Schema):
    id: int
    delivery: int = Field(description="the X-Refinery-Delivery header (the outbox message id)")
    event: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    ok: bool
    response_excerpt: str
    error: str
    message_status: str = Field(description="pending, sending, sent, failed (will retry), dead")
    next_attempt_at: datetime | None = Field(description="when a failed delivery is retried")


def _out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events or []),
        "active": endpoint.active,
        "created_at": endpoint.created_at,
        "created_by": endpoint.created_by.username if endpoint.created_by else None,
    }


def _delivery(d: WebhookDelivery) -> dict[str, Any]:
    message = d.message
    return {
        "id": d.pk,
        "delivery": message.pk,
        "event": message.event,
        "attempt": d.attempt,
        "attempted_at": d.attempted_at,
        "status_code": d.status_code,
        "duration_ms": d.duration_ms,
        "ok": d.ok,
        "response_excerpt": d.response_excerpt,
        "error": d.error,
        "message_status": message.status,
        "next_attempt_at": message.next_attempt_at
        if message.status == message.Status.FAILED
        else None,
    }


def _refused(exc: webhooks.WebhookError) -> Status[Any]:
    return Status(
        422,
        {
            "detail": [
                {"loc": ["body", "payload", exc.field], "msg": exc.message, "type": "value_error"}
            ],
            "inquiry_id": None,
        },
    )


AUTH = AdminTokenAuth(ADMIN_SCOPE)


@router.get(
    "/webhooks",
    auth=AUTH,
    response={200: list[WebhookOut], **ERRORS},
    operation_id="webhook_list",
    summary="List webhook endpoints",
)
def webhook_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(e) for e in webhooks.endpoint_list()]


@router.post(
    "/webhooks",
    auth=AUTH,
    response={201: WebhookCreated, **ERRORS},
    operation_id="webhook_create",
    summary="Register a webhook endpoint",
)
def webhook_create(request: HttpRequest, payload: WebhookIn) -> Status[Any]:
    """Events are POSTed as JSON, signed with the secret in this answer (see docs/webhooks.md).
    422 when the URL is not http(s) or an event name is unknown."""
    try:
        created = webhooks.webhook_create(
            url=payload.url,
            events=payload.events,
            description=payload.description,
            created_by=request.user,
        )
    except webhooks.WebhookError as exc:
        return _refused(exc)
    return Status(201, {**_out(created.endpoint), "secret": created.secret})


@router.get(
    "/webhooks/{endpoint_id}",
    auth=AUTH,
    response={200: WebhookOut, **ERRORS},
    operation_id="webhook_get",
    summary="Read a webhook endpoint",
)
def webhook_get(request: HttpRequest, endpoint_id: int = ENDPOINT_ID) -> dict[str, Any]:
    return _out(get_object_or_404(WebhookEndpoint, pk=endpoint_id))


@router.put(
    "/webhooks/{endpoint_id}",
    auth=AUTH,
    response={200: WebhookOut, **ERRORS},
    operation_id="webhook_update",
    summary="Change a webhook endpoint (active, events, description)",
)
def webhook_update(
    request: HttpRequest, payload: WebhookChange, endpoint_id: int = ENDPOINT_ID
) -> Status[Any]:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    try:
        webhooks.webhook_update(
            endpoint,
            active=payload.active,
            events=payload.events,
            description=payload.description,
        )
    except webhooks.WebhookError as exc:
        return _refused(exc)
    return Status(200, _out(endpoint))


@router.delete(
    "/webhooks/{endpoint_id}",
    auth=AUTH,
    response={200: WebhookOut, **ERRORS},
    operation_id="webhook_delete",
    summary="Deactivate a webhook endpoint",
)
def webhook_delete(request: HttpRequest, endpoint_id: int = ENDPOINT_ID) -> dict[str, Any]:
    """Deactivates: nothing more is sent (queued deliveries are dropped); the delivery log
    stays. Reactivate with PUT {"active": true}."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    return _out(webhooks.webhook_deactivate(endpoint))


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    auth=AUTH,
    response={200: list[DeliveryOut], **ERRORS},
    operation_id="webhook_deliveries",
    summary="The delivery log of one endpoint (latest 100 attempts)",
)
def webhook_deliveries(
    request: HttpRequest, endpoint_id: int = ENDPOINT_ID
) -> list[dict[str, Any]]:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    return [_delivery(d) for d in webhooks.delivery_log(endpoint)]
