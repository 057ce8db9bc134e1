"""The leads API: list and read leads (inquiries come in through the intake app).

Views parse, call a guarded read, and render; the rules live in leads.access (who sees what)
and schemas.py (shapes).
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.leads.access import access_lead, visible_to

from . import domain, events
from .custom_field_services import lead_values
from .models import Account, Lead, Person
from .schemas import (
    MAX_ID,
    LeadDetail,
    LeadFilters,
    LeadPage,
    Message,
    ValidationErrorOut,
    amount_text,
)
from .selectors import leads_filtered, owner_filter

log = logging.getLogger(__name__)

router = Router()

AUTH_ERRORS: dict[int, Any] = {401: Message, 403: Message}


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
        custom=tuple(f.custom.split(":", 1)) if f.custom else None,  # type: ignore[arg-type]
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
        "opportunity_amount": amount_text(lead.opportunity_amount),
        "won_amount": amount_text(lead.won_amount),
        "currency": lead.currency or settings.REFINERY_REPORTING_CURRENCY,
        "received_at": lead.received_at,
        "updated_at": lead.updated_at,
        "custom": lead_values(lead),
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
        qs.select_related(
            "person", "account", "owner_user", "owner_queue", "source", "campaign"
        ).order_by("-received_at", "-id")[filters.offset : filters.offset + filters.limit]
    )
    following = filters.offset + filters.limit
    return {
        "count": count,
        "items": [lead_item(lead) for lead in page],
        "next_offset": following if following < count else None,
    }


# --- GET /leads/{id} --------------------------------------------------------------------


def _detail(lead: Lead) -> dict[str, Any]:
    return {
        **lead_item(lead),
        "person": _person_out(lead.person),
        "account": _account_out(lead.account),
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
        "disposition": _disposition_out(lead),
        "sales_touch_count": lead.sales_touch_count,
        "first_sales_touch_at": lead.first_sales_touch_at,
        "last_touch_at": lead.last_touch_at,
        "created_at": lead.created_at,
        "timeline": _timeline_out(lead),  # one query
        "touches": _touches_out(lead),  # one query
        **events.lead_sections(lead),  # e.g. "score", answered by the scoring app
    }


def _person_out(person: Person) -> dict[str, Any]:
    return {
        "id": person.pk,
        "name": person.display_name,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "phone_unparsed": person.phone_unparsed,
        "email_unparsed": person.email_unparsed,
        "title": person.title,
        "company": person.company_name,
        "website": person.website,
        "country": person.country,
        "region": person.region,
        "city": person.city,
        "postcode": person.postcode,
        "street": person.street,
        "language": person.language,
    }


def _account_out(account: Account | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        "id": account.pk,
        "name": account.name,
        "domain": account.domain,
        "country": account.country,
    }


def _disposition_out(lead: Lead) -> dict[str, Any] | None:
    disposition = lead.disposition
    if disposition is None:
        return None
    return {
        "code": disposition.code,
        "label": disposition.label,
        "note": lead.disposition_note,
        "at": lead.disposed_at,
    }


def _timeline_out(lead: Lead) -> list[dict[str, Any]]:
    return [
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
    ]


def _touches_out(lead: Lead) -> list[dict[str, Any]]:
    return [
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
    ]


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
