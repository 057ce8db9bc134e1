"""POST /api/v1/events: webinar attendance, downloads, sign-ups and any other tracked event,
up to 1,000 per request, idempotent per event id (a retried batch changes nothing).

Needs a token with ``inquiries:write`` (the scope of everything that feeds data in), and
only reaches the people its user may see (``tracking.selectors.people_visible_to``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import ConfigDict, StrictInt, model_validator

from leadrefinery.accounts.api_auth import TokenAuth, token_user
from leadrefinery.leads.schemas import (
    MAX_ID,
    Message,
    ScrubbedIn,
    Text,
    Time,
    ValidationErrorOut,
)

from . import services

router = Router(tags=["tracking"])
MAX_EVENTS = 1000


class EventIn(ScrubbedIn):
    model_config = ConfigDict(extra="forbid")

    id: Text = Field(
        ..., min_length=1, max_length=120, description="your unique id; a repeat is ignored"
    )
    type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = Field(
        ..., description="webinar, download, signup, ... (scoring rules name these types)"
    )
    occurred_at: Time = Field(..., description="when it happened (ISO 8601)")
    email: Text | None = Field(None, max_length=254, description="who: the person's email")
    person_id: StrictInt | None = Field(
        None, ge=1, le=MAX_ID, description="or who: the person's id"
    )
    properties: dict[str, Any] = Field(
        default_factory=dict, description="free-form details (title, url, name...)"
    )

    @model_validator(mode="after")
    def _who(self) -> EventIn:
        if not self.email and not self.person_id:
            raise ValueError("give the person's email or person_id")
        text = json.dumps(self.properties, ensure_ascii=False)
        if len(text) > 4000:
            raise ValueError("properties are too large (at most 4,000 characters as JSON)")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("properties must be valid Unicode text") from None
        return self


class EventsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(..., min_length=1, max_length=MAX_EVENTS)


class EventsAccepted(Schema):
    accepted: int = Field(description="events stored by this request")
    duplicates: int = Field(description="events whose id was seen before (ignored)")
    unmatched: list[str] = Field(description="ids of stored events for no known person")


@router.post(
    "/events",
    auth=TokenAuth("inquiries:write"),
    response={200: EventsAccepted, 401: Message, 403: Message, 422: ValidationErrorOut},
    operation_id="events_ingest",
    summary="Record tracked events in a batch",
)
def events_ingest(request: HttpRequest, payload: EventsIn) -> dict[str, Any]:
    """Each event becomes a touch on its person's open lead and is scored by the engagement
    rules for its type. Repeating an event id (in this batch or any earlier one) changes
    nothing; an event for an unknown person, or for one the token's user may not see, is
    stored and listed in ``unmatched`` (the two are not told apart). Control characters
    (NUL...) are removed from every text and counted in the event's properties as
    ``removed_control_characters``."""
    result = services.events_ingest(
        events=[
            services.EventIn(
                id=e.id,
                type=e.type,
                occurred_at=e.occurred_at,
                email=e.email or "",
                person_id=e.person_id,
                properties=_recorded(e),
            )
            for e in payload.events
        ],
        user=token_user(request),
    )
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "unmatched": list(result.unmatched),
    }


def _recorded(event: EventIn) -> dict[str, Any]:
    """The event's properties, with the count of control characters removed from the event."""
    if not event.removed_control_characters:
        return event.properties
    return {**event.properties, "removed_control_characters": event.removed_control_characters}
