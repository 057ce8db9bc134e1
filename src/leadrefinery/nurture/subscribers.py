"""What nurture follows: lead changes that may take a lead out of nurture (hot, sales took it
back, won) and email engagement counted per message, both through the lead-event registry
(``leads.events``, declared in ``apps.py``); and bounces and complaints from the email service
provider, through django-anymail's own ``tracking`` signal (the library's interface)."""

from __future__ import annotations

import logging
from typing import Any

from leadrefinery.leads.events import Change, leads_of

from . import domain, services

log = logging.getLogger(__name__)


def on_lead_events(changes: list[Change]) -> None:
    """Check the changed leads against the exit rules: only leads that now meet one cost a
    query (one for the batch: are they enrolled anywhere?). A lead created in the same batch
    cannot be enrolled yet, so intake's new leads cost nothing."""
    created = {change.lead_id for change in changes if change.kind == "created"}
    rest = [change for change in changes if change.lead_id not in created]
    if not rest:
        return
    leads = leads_of(rest)
    due = [
        lead for lead in leads.values() if domain.exit_decision(services.lead_snapshot(lead), []).ok
    ]
    if due:
        services.leads_nurture_check(leads=due, at=max(change.occurred_at for change in rest))


def on_email_engaged(changes: list[Change]) -> None:
    """An email open or click (a Notice from the tracking flush), counted on its send."""
    for change in changes:
        data = change.data or {}
        services.engagement_record(
            message_ref=data.get("message_ref", ""),
            kind=data.get("kind", ""),
            at=change.occurred_at,
        )


def on_esp_tracking(sender: Any, event: Any, esp_name: str = "", **kwargs: Any) -> None:
    """django-anymail's normalized tracking event: bounces and complaints suppress."""
    kind = getattr(event, "event_type", "")
    address = getattr(event, "recipient", "") or ""
    if kind in ("bounced", "complained", "unsubscribed") and address:
        services.bounce_record(
            address=address,
            kind=kind,
            source=f"esp:{esp_name or 'anymail'}",
            note=str(getattr(event, "description", "") or "")[:500],
        )


def connect() -> None:
    from anymail.signals import tracking

    tracking.connect(on_esp_tracking, dispatch_uid="nurture-esp-tracking")
