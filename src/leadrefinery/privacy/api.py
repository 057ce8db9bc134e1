"""The privacy API: export and erase a person (admin users, tokens with ``privacy:admin``).

The person is named in the body (an id or an email address), never in the URL, so that no
access log or proxy records an address.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from leadrefinery.accounts.api_auth import TokenAuth, token_user
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.schemas import Message, ValidationErrorOut

from . import selectors, services

router = Router(tags=["privacy"])
PRIVACY = TokenAuth("privacy:admin")
ADMINS_ONLY = "Only admins export or erase a person."


class PersonRef(Schema):
    model_config = ConfigDict(extra="forbid")
    person: str = Field(
        min_length=1,
        max_length=254,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="the person's id or email address",
        examples=["grace.jones@example.com"],
    )


class EraseIn(PersonRef):
    reason: str = Field(
        min_length=1,
        max_length=services.MAX_REASON,
        pattern=r"^[^\x00]*\S[^\x00]*$",
        description="why, for the audit log; do not repeat the person's name or address",
        examples=["GDPR erasure request of 2026-12-01, ticket 4411"],
    )


class ExportOut(Schema):
    exported_at: str
    person_ids: list[int]
    lead_ids: list[int]
    tables: dict[str, list[dict[str, Any]]] = Field(
        description="every row about the person, by table (app_label.Model)"
    )


class ErasedOut(Schema):
    event_id: int = Field(description="the privacy log entry")
    person_ids: list[int]
    lead_ids: list[int]
    erased_at: str
    counts: dict[str, int] = Field(description="rows redacted per table")


def _subject_or_status(request: HttpRequest, ref: str) -> selectors.Subject | Status:
    if not token_user(request).is_admin_role:
        return Status(403, {"detail": ADMINS_ONLY})
    try:
        return selectors.subject_find(ref)
    except selectors.NotFound:
        return Status(404, {"detail": "Not found."})


@router.post(
    "/privacy/export",
    auth=PRIVACY,
    operation_id="privacy_person_export",
    response={200: ExportOut, 401: Message, 403: Message, 404: Message, 422: ValidationErrorOut},
    summary="Export everything stored about a person",
    description="Every row about the person (and the people merged into them): person, "
    "leads, touches, timeline, consents, raw inquiries, visits and events, emails sent, "
    "nurture sends, scores. The export is recorded in the privacy log.",
)
def person_export(request: HttpRequest, payload: PersonRef) -> Any:
    found = _subject_or_status(request, payload.person)
    if isinstance(found, Status):
        return found
    document = selectors.person_export(found)
    services.export_record(subject=found, actor=Actor.of(token_user(request)))
    return document


@router.post(
    "/privacy/erase",
    auth=PRIVACY,
    operation_id="privacy_person_erase",
    response={200: ErasedOut, 401: Message, 403: Message, 404: Message, 422: ValidationErrorOut},
    summary="Erase a person's data",
    description="Irreversibly redacts the person's data everywhere; their leads stay (stages, "
    "dates, source, campaign, amounts) for the reports. Keeps a keyed hash of their email and "
    "phone so a later inquiry from them is flagged and never nurtured. See docs/privacy.md.",
)
def person_erase(request: HttpRequest, payload: EraseIn) -> Any:
    found = _subject_or_status(request, payload.person)
    if isinstance(found, Status):
        return found
    try:
        event = services.person_erase(
            subject=found, actor=Actor.of(token_user(request)), reason=payload.reason
        )
    except ServiceError as exc:
        return Status(
            422,
            {
                "detail": [
                    {
                        "loc": ["body", "payload", exc.field or "reason"],
                        "msg": exc.message,
                        "type": "value_error",
                    }
                ]
            },
        )
    return {
        "event_id": event.pk,
        "person_ids": event.person_ids,
        "lead_ids": event.lead_ids,
        "erased_at": event.occurred_at.isoformat(),
        "counts": event.counts,
    }
