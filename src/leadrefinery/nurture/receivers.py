"""Signal receivers: engagement from tracking, ESP events from django-anymail, and lead
changes that may take a lead out of nurture (hot, sales took it back, won)."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save

log = logging.getLogger(__name__)

# Timeline events after which a lead may have to leave nurture (checked in memory first).
EXIT_KINDS = frozenset({"score", "stage_changed", "assigned", "disposed", "merged", "accepted"})


def on_lead_event(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created or instance.kind not in EXIT_KINDS:
        return
    from . import domain, services

    lead = instance.lead
    # Only a lead that now meets an exit condition costs a query (is it enrolled anywhere?).
    if not domain.exit_decision(services.lead_snapshot(lead), []).ok:
        return
    services.lead_nurture_check(lead=lead, at=instance.occurred_at)


def on_email_engaged(
    sender: Any, *, message_ref: str = "", kind: str = "", at: Any = None, **kwargs: Any
) -> None:
    from . import services

    services.engagement_record(message_ref=message_ref, kind=kind, at=at)


def on_esp_tracking(sender: Any, event: Any, esp_name: str = "", **kwargs: Any) -> None:
    """django-anymail's normalized tracking event: bounces and complaints suppress."""
    from . import services

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

    from leadrefinery.leads.models import LeadEvent

    post_save.connect(on_lead_event, sender=LeadEvent, dispatch_uid="nurture-lead-event")
    tracking.connect(on_esp_tracking, dispatch_uid="nurture-esp-tracking")
    try:
        from leadrefinery.tracking.signals import email_engaged
    except ImportError:  # the tracking app is not installed: no per-message engagement counts
        log.debug("leadrefinery.tracking.signals is not available")
        return
    email_engaged.connect(on_email_engaged, dispatch_uid="nurture-email-engaged")
