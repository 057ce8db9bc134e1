"""Request and response shapes of the inquiry endpoint (they are also its OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, WithJsonSchema

from leadrefinery.leads.normalize import LEAD_FIELDS, PERSON_FIELDS
from leadrefinery.leads.schemas import ScrubbedIn, Text, Time

# An optional header cannot be null on the wire, so its published schema is the plain type.
IdempotencyKey = Annotated[
    Text | None, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 255})
]


# --- POST /inquiries ------------------------------------------------------------------


class InquiryIn(ScrubbedIn):
    """An inquiry. Give at least a valid email or phone. Unknown fields are refused (422).
    NUL and other control characters are removed (never refused): the inquiry is stored
    with their count as ``removed_control_characters``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "jane.doe@example.com",
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "company": "Acme Tools",
                    "phone": "+1 415 555 2671",
                    "country": "US",
                    "product_interest": "Presses",
                    "message": "Please send a quote for two presses.",
                    "utm_source": "newsletter",
                    "utm_campaign": "spring",
                    "consent": True,
                }
            ]
        },
    )

    email: Text | None = Field(None, max_length=PERSON_FIELDS["email"])
    phone: Text | None = Field(None, max_length=PERSON_FIELDS["phone"])
    first_name: Text | None = Field(None, max_length=PERSON_FIELDS["first_name"])
    last_name: Text | None = Field(None, max_length=PERSON_FIELDS["last_name"])
    title: Text | None = Field(None, max_length=PERSON_FIELDS["title"])
    company: Text | None = Field(None, max_length=PERSON_FIELDS["company"])
    website: Text | None = Field(None, max_length=PERSON_FIELDS["website"])
    country: Text | None = Field(None, max_length=PERSON_FIELDS["country"])
    region: Text | None = Field(None, max_length=PERSON_FIELDS["region"])
    city: Text | None = Field(None, max_length=PERSON_FIELDS["city"])
    postcode: Text | None = Field(None, max_length=PERSON_FIELDS["postcode"])
    street: Text | None = Field(None, max_length=PERSON_FIELDS["street"])
    language: Text | None = Field(None, max_length=PERSON_FIELDS["language"])
    product_interest: Text | None = Field(None, max_length=LEAD_FIELDS["product_interest"])
    message: Text | None = Field(None, max_length=LEAD_FIELDS["message"])
    need: Text | None = Field(None, max_length=LEAD_FIELDS["need"])
    budget: Text | None = Field(None, max_length=LEAD_FIELDS["budget"])
    authority: Text | None = Field(None, max_length=LEAD_FIELDS["authority"])
    timeline: Text | None = Field(None, max_length=LEAD_FIELDS["timeline"])
    utm_source: Text | None = Field(None, max_length=LEAD_FIELDS["utm_source"])
    utm_medium: Text | None = Field(None, max_length=LEAD_FIELDS["utm_medium"])
    utm_campaign: Text | None = Field(None, max_length=LEAD_FIELDS["utm_campaign"])
    utm_term: Text | None = Field(None, max_length=LEAD_FIELDS["utm_term"])
    utm_content: Text | None = Field(None, max_length=LEAD_FIELDS["utm_content"])
    name: Text | None = Field(
        None, max_length=240, description="full name, split when first/last are absent"
    )
    consent: StrictBool = Field(
        False, description="true when the person opted in to email (recorded as consent)"
    )
    received_at: Time | None = Field(
        None, description="when the inquiry was made (ISO 8601); default: now"
    )
    source: Text | None = Field(
        None, max_length=120, description="name of an existing Source; default 'API'"
    )
    campaign: Text | None = Field(
        None, max_length=200, description="name of an existing Campaign of that source"
    )
    custom: dict[str, Text | StrictBool | StrictInt | StrictFloat] | None = Field(
        None,
        max_length=100,
        description="custom field values by the field's name or label (see custom-fields.md); "
        "a value that cannot be read, or a name that is no field, is a warning in the answer",
        examples=[{"fleet_size": "250"}],
    )


class InquiryAccepted(Schema):
    inquiry_id: int = Field(description="the stored intake record")
    lead_id: int
    person_id: int
    outcome: str = Field(description="new_lead, or attached_to_open_lead for a repeat inquiry")
    warnings: list[str]


class InquiryQueued(Schema):
    inquiry_id: int
    status: str = Field(
        description="'received' or 'failed': stored, and processed by the retry sweep shortly"
    )
