"""Reads for notifications: what a message says about a lead."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def lead_payload(lead: Any, event: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    person = lead.person
    return {
        "event": event,
        "lead": {
            "id": lead.pk,
            "stage": lead.stage,
            "owner": lead.owner_label,
            "name": person.display_name,
            "email": person.email,
            "phone": person.phone,
            "company": person.company_name,
            "source": lead.source.name,
            "received_at": lead.received_at.isoformat(),
            "url": f"{settings.SITE_URL}/leads/{lead.pk}/",
            "sla_due_at": lead.sla_first_touch_due_at.isoformat()
            if lead.sla_first_touch_due_at
            else None,
        },
        **(extra or {}),
    }
