"""The inquiry endpoint: POST /api/v1/inquiries stores the inquiry raw, then turns it into a
lead (or attaches it to the person's open lead).

The view parses, calls the intake services and renders; the rules live in services.py
(storing and processing) and schemas.py (shapes).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Router, Status

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.common import config
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Campaign, IntakeRecord, Source
from leadrefinery.leads.schemas import Message, ValidationErrorOut

from .schemas import IdempotencyKey, InquiryAccepted, InquiryIn, InquiryQueued
from .services import IdempotencyConflict, intake_process, intake_receive

log = logging.getLogger(__name__)

router = Router()

DEFAULT_SOURCE = "API"
AUTH_ERRORS: dict[int, Any] = {401: Message, 403: Message}
IDEMPOTENCY_KEY = Header(
    None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=255,
    description="any unique string (e.g. a UUID); a retry with the same key and body "
    "returns the first answer instead of creating a second lead",
)


# --- POST /inquiries ------------------------------------------------------------------


def field_error(field: str, message: str, *, inquiry_id: int | None = None) -> dict[str, Any]:
    """One field error in the API's 422 shape (the same shape ninja gives for schema errors)."""
    return {
        "detail": [{"loc": ["body", "payload", field], "msg": message, "type": "value_error"}],
        "inquiry_id": inquiry_id,
    }


def _resolve_source(
    source_name: str | None, campaign_name: str | None
) -> tuple[Source, Campaign | None] | dict[str, Any]:
    """The Source and Campaign named in the body, or a 422 body naming the valid choices."""
    name = source_name or DEFAULT_SOURCE
    source = config.get("leads:sources", lambda: {s.name: s for s in Source.objects.all()}).get(
        name
    )
    if source is None:
        names = list(Source.objects.order_by("name").values_list("name", flat=True)[:30])
        return field_error(
            "source", f"unknown source '{name}'; existing sources: {', '.join(names) or 'none'}"
        )
    if not campaign_name:
        return source, None
    campaign = config.get(
        "leads:campaigns", lambda: {(c.source_id, c.name): c for c in Campaign.objects.all()}
    ).get((source.pk, campaign_name))
    if campaign is None:
        names = list(source.campaigns.order_by("name").values_list("name", flat=True)[:30])
        return field_error(
            "campaign",
            f"unknown campaign '{campaign_name}' for source '{source.name}'; "
            f"its campaigns: {', '.join(names) or 'none'}",
        )
    return source, campaign


def inquiry_reply(record: IntakeRecord) -> tuple[int, dict[str, Any]]:
    """Status and body for a stored record; a replay of the same key gets exactly these."""
    if record.status == IntakeRecord.Status.PROCESSED and record.response:
        return 201, dict(record.response)
    if record.status == IntakeRecord.Status.REJECTED:
        return 422, {
            "detail": [
                {"loc": ["body", "payload", e["field"]], "msg": e["message"], "type": "value_error"}
                for e in record.errors
            ],
            "inquiry_id": record.pk,
        }
    # Stored but not processed (processing failed and will be retried by the sweep).
    return 202, {"inquiry_id": record.pk, "status": record.status}


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy sets it.
    return request.META.get("REMOTE_ADDR") or None


@router.post(
    "/inquiries",
    auth=TokenAuth("inquiries:write"),
    response={
        201: InquiryAccepted,
        202: InquiryQueued,
        400: Message,
        **AUTH_ERRORS,
        409: Message,
        413: Message,
        422: ValidationErrorOut,
    },
    tags=["inquiries"],
    operation_id="inquiry_create",
    summary="Submit an inquiry",
)
def inquiry_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: InquiryIn,
    idempotency_key: IdempotencyKey = IDEMPOTENCY_KEY,
) -> Status[Any]:
    """Store the inquiry, then turn it into a lead (or attach it to the person's open lead).

    201: processed. 422: refused by the intake rules (per-field messages). 202: stored, but
    processing failed; it is retried in the background. 409: the Idempotency-Key was used
    before with a different body.
    """
    with config.pinned():  # one configuration-token read for the whole request
        return _inquiry_create(request, response, payload, idempotency_key)


def _inquiry_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: InquiryIn,
    idempotency_key: str | None,
) -> Status[Any]:
    token = request.auth  # type: ignore[attr-defined]
    resolved = _resolve_source(payload.source, payload.campaign)
    if isinstance(resolved, dict):
        return Status(422, resolved)
    source, campaign = resolved
    body = payload.model_dump(mode="json", exclude_none=True)
    body["source"] = source.name  # the default spelled out, so a replay hashes the same
    if payload.removed_control_characters:
        body["removed_control_characters"] = payload.removed_control_characters
    try:
        record, created = intake_receive(
            channel=IntakeRecord.Channel.API,
            payload=body,
            source=source,
            campaign=campaign,
            idempotency_scope=f"user:{token.user_id}",
            idempotency_key=idempotency_key,
            submitted_by=token.user,
            ip=_client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except IdempotencyConflict:
        return Status(
            409,
            {
                "detail": "This Idempotency-Key was already used with a different body; "
                "use a new key for a new inquiry."
            },
        )
    if not created:
        response["Idempotent-Replayed"] = "true"
    try:
        record = intake_process(record, actor=Actor.of(token.user))
    except Exception:
        # The raw inquiry is stored, so nothing is lost: the retry sweep processes it.
        log.exception("processing intake record %s failed; left for the retry sweep", record.pk)
        record.refresh_from_db()
    status, reply = inquiry_reply(record)
    return Status(status, reply)
