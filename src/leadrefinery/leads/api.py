"""The leads API: submit inquiries, list and read leads.

Views parse, call the intake services or a guarded read, and render; the rules live in
intake.py (storing and processing), leads.access (who sees what) and schemas.py (shapes).
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Header, Path, Query, Router, Status

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.common import config
from leadrefinery.leads.access import access_lead, visible_to
from leadrefinery.scoring.services import lead_score_summary

from . import domain
from .actors import Actor
from .intake import IdempotencyConflict, intake_process, intake_receive
from .models import Campaign, IntakeRecord, Lead, Source
from .schemas import (
    MAX_ID,
    IdempotencyKey,
    InquiryAccepted,
    InquiryIn,
    InquiryQueued,
    LeadDetail,
    LeadFilters,
    LeadPage,
    Message,
    ValidationErrorOut,
)
from .selectors import leads_filtered, owner_filter

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


# --- GET /leads -----------------------------------------------------------------------


def _filtered(qs: QuerySet[Lead], f: LeadFilters) -> QuerySet[Lead]:
    owner = owner_filter(f.owner)
    return leads_filtered(
        qs,
        stages=f.stage or None,
        owner_user=owner.get("owner_user"),
        owner_queue=owner.get("owner_queue"),
        source=f.source or None,
        q=f.q,
        received_after=f.received_after,
        received_before=f.received_before,
    )


def _unknown_parameters(names: list[str]) -> dict[str, Any]:
    known = list(LeadFilters.model_fields)
    detail = []
    for name in names:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; use {', '.join(known)}"
        detail.append(
            {
                "loc": ["query", name],
                "msg": f"unknown parameter '{name}'{hint}",
                "type": "extra_forbidden",
            }
        )
    return {"detail": detail, "inquiry_id": None}


def _owner(lead: Lead) -> dict[str, Any] | None:
    if lead.owner_user_id:
        user = lead.owner_user
        assert user is not None
        return {
            "type": "user",
            "id": user.pk,
            "name": str(user),
            "username": user.username,
            "slug": None,
        }
    if lead.owner_queue_id:
        queue = lead.owner_queue
        assert queue is not None
        return {
            "type": "queue",
            "id": queue.pk,
            "name": queue.name,
            "username": None,
            "slug": queue.slug,
        }
    return None


def _stage(lead: Lead) -> dict[str, Any]:
    stage = domain.Stage(lead.stage)
    return {"stage": stage.value, "stage_label": stage.label, "is_open": stage.is_open}


def lead_item(lead: Lead) -> dict[str, Any]:
    person = lead.person
    return {
        "id": lead.pk,
        **_stage(lead),
        "person": {
            "id": person.pk,
            "name": person.display_name,
            "email": person.email,
            "phone": person.phone,
            "company": person.company_name,
        },
        "owner": _owner(lead),
        "source": lead.source.name,
        "campaign": lead.campaign.name if lead.campaign else None,
        "product_interest": lead.product_interest,
        "next_action": lead.next_action,
        "next_action_due_at": lead.next_action_due_at,
        "disposition": lead.disposition_id,
        "received_at": lead.received_at,
        "updated_at": lead.updated_at,
    }


@router.get(
    "/leads",
    auth=TokenAuth("leads:read"),
    response={200: LeadPage, **AUTH_ERRORS, 422: ValidationErrorOut},
    tags=["leads"],
    operation_id="lead_list",
    summary="List the leads you can see",
)
def lead_list(request: HttpRequest, filters: Query[LeadFilters]) -> Any:
    """Newest first. Reps see their own leads and their queues', managers their teams'.

    Unknown parameters are refused (422), so that a misspelt filter never silently widens
    the result to every lead.
    """
    unknown = sorted(set(request.GET) - set(LeadFilters.model_fields))
    if unknown:
        return Status(422, _unknown_parameters(unknown))
    qs = _filtered(visible_to(request.auth.user), filters)  # type: ignore[attr-defined]
    count = qs.count()
    page = list(
        qs.select_related("person", "owner_user", "owner_queue", "source", "campaign").order_by(
            "-received_at", "-id"
        )[filters.offset : filters.offset + filters.limit]
    )
    following = filters.offset + filters.limit
    return {
        "count": count,
        "items": [lead_item(lead) for lead in page],
        "next_offset": following if following < count else None,
    }


# --- GET /leads/{id} --------------------------------------------------------------------


def _detail(lead: Lead) -> dict[str, Any]:
    person = lead.person
    account = lead.account
    disposition = lead.disposition
    return {
        **lead_item(lead),
        "person": {
            "id": person.pk,
            "name": person.display_name,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "title": person.title,
            "company": person.company_name,
            "website": person.website,
            "country": person.country,
            "region": person.region,
            "city": person.city,
            "postcode": person.postcode,
            "street": person.street,
            "language": person.language,
        },
        "account": (
            {
                "id": account.pk,
                "name": account.name,
                "domain": account.domain,
                "country": account.country,
            }
            if account
            else None
        ),
        "utm": {
            "source": lead.utm_source,
            "medium": lead.utm_medium,
            "campaign": lead.utm_campaign,
            "term": lead.utm_term,
            "content": lead.utm_content,
        },
        "message": lead.message,
        "qualification": {
            "need": lead.need,
            "budget": lead.budget,
            "authority": lead.authority,
            "timeline": lead.timeline,
        },
        "disposition": (
            {
                "code": disposition.code,
                "label": disposition.label,
                "note": lead.disposition_note,
                "at": lead.disposed_at,
            }
            if disposition
            else None
        ),
        "sales_touch_count": lead.sales_touch_count,
        "first_sales_touch_at": lead.first_sales_touch_at,
        "last_touch_at": lead.last_touch_at,
        "created_at": lead.created_at,
        "timeline": [
            {
                "kind": e.kind,
                "at": e.occurred_at,
                "actor": e.actor_label,
                "from_stage": e.from_stage,
                "to_stage": e.to_stage,
                "reason": e.reason,
                "note": e.note,
                "data": e.data if isinstance(e.data, dict) else {"value": e.data},
            }
            for e in lead.events.order_by("-occurred_at", "-id")
        ],
        "touches": [
            {
                "id": t.pk,
                "channel": t.channel,
                "direction": t.direction,
                "outcome": t.outcome,
                "is_sales": t.is_sales,
                "at": t.occurred_at,
                "actor": t.actor.username if t.actor else None,
                "note": t.note,
                "voided": t.voided_at is not None,
            }
            for t in lead.touches.select_related("actor").order_by("-occurred_at", "-id")
        ],
        "score": lead_score_summary(lead),
    }


@router.get(
    "/leads/{lead_id}",
    auth=TokenAuth("leads:read"),
    response={200: LeadDetail, **AUTH_ERRORS, 404: Message, 422: ValidationErrorOut},
    tags=["leads"],
    operation_id="lead_detail",
    summary="One lead with its timeline and touches",
)
def lead_detail(
    request: HttpRequest, lead_id: int = Path(..., ge=1, le=MAX_ID, examples=[1])
) -> dict[str, Any]:
    """404 when the lead does not exist or is not visible to the token's user."""
    lead = access_lead(request.auth.user, lead_id)  # type: ignore[attr-defined]
    return lead_detail_body(lead.pk)


def lead_detail_body(lead_id: int) -> dict[str, Any]:
    """The body of ``GET /leads/{id}``, also the answer of writes that change the detail."""
    lead = Lead.objects.select_related(
        "person", "account", "owner_user", "owner_queue", "source", "campaign", "disposition"
    ).get(pk=lead_id)
    return _detail(lead)
