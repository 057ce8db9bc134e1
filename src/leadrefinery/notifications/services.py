"""Queue notifications in the outbox, inside the caller's transaction.

``lead_notify(event=..., lead=..., ...)`` writes one email row for the lead's owner (when the owner is a
user with an email address) and one webhook row per subscribed endpoint. Every row has a
unique dedupe key, so calling it twice for the same fact queues nothing new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadrefinery.common import config
from leadrefinery.common.clock import now
from leadrefinery.common.db import insert_rows

from . import selectors
from .models import OutboxMessage, WebhookEndpoint

SUBJECTS = {
    "lead.assigned": "New lead for you: {name}",
    "lead.sla_warning": "Reminder: {name} is waiting for your first contact",
    "lead.sla_breached": "SLA breached: {name} has not been contacted",
    "lead.reassigned": "Lead reassigned: {name}",
}


def build_messages(
    *,
    event: str,
    lead: Any,
    fact: str,
    recipients: list[str] | None = None,
    endpoints: list[WebhookEndpoint],
    extra: dict[str, Any] | None = None,
    at: datetime,
) -> list[OutboxMessage]:
    """The outbox rows for ``event`` about ``lead`` (not saved). ``fact`` identifies the
    occurrence (an assignment, an SLA step) and makes the dedupe key; ``recipients`` defaults
    to the owner's address."""
    if recipients is None:
        owner = lead.owner_user
        recipients = [owner.email] if owner is not None and owner.email else []
    if not recipients and not endpoints:
        return []  # nobody to tell (an import's lead without webhooks): nothing to build
    payload = selectors.lead_payload(lead, event, extra)
    name = payload["lead"]["name"]
    fresh: dict[str, Any] = {
        "event": event,
        "lead": lead,
        "payload": payload,
        "status": OutboxMessage.Status.PENDING,
        "attempts": 0,
        "next_attempt_at": at,
        "claimed_at": None,
        "sent_at": None,
        "last_error": "",
        "created_at": at,
    }
    rows = [
        OutboxMessage(
            kind=OutboxMessage.Kind.EMAIL,
            dedupe_key=f"{event}:{lead.pk}:{fact}:mail:{address}"[:200],
            recipient=address,
            endpoint=None,
            subject=SUBJECTS.get(event, event).format(name=name)[:300],
            body=_email_body(event, payload),
            **fresh,
        )
        for address in recipients
    ]
    rows += [
        OutboxMessage(
            kind=OutboxMessage.Kind.WEBHOOK,
            dedupe_key=f"{event}:{lead.pk}:{fact}:hook:{endpoint.pk}"[:200],
            recipient="",
            endpoint=endpoint,
            subject="",
            body="",
            **fresh,
        )
        for endpoint in endpoints
        if endpoint.wants(event)
    ]
    return rows


def active_endpoints() -> list[WebhookEndpoint]:
    """Active webhook endpoints (cached per process until the configuration changes)."""
    return config.get(
        "notifications:endpoints", lambda: list(WebhookEndpoint.objects.filter(active=True))
    )


def enqueue(messages: list[OutboxMessage], *, new_leads: bool = False) -> list[OutboxMessage]:
    """Save the messages whose dedupe key is new; return those. Call inside the transaction of
    the change that caused them, so they exist exactly when the change does.

    ``new_leads`` says every message is about a lead created in this transaction: their keys
    hold the new lead's id, so none can exist yet and the lookup is skipped."""
    if not messages:
        return []
    existing: set[str] = set()
    if not new_leads:
        existing = set(
            OutboxMessage.objects.filter(
                dedupe_key__in=[m.dedupe_key for m in messages]
            ).values_list("dedupe_key", flat=True)
        )
    fresh = list({m.dedupe_key: m for m in messages if m.dedupe_key not in existing}.values())
    insert_rows(OutboxMessage, fresh)
    return fresh


def lead_notify(
    *,
    event: str,
    lead: Any,
    fact: str,
    recipients: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> list[OutboxMessage]:
    """Queue ``event`` about one lead (see build_messages)."""
    return enqueue(
        build_messages(
            event=event,
            lead=lead,
            fact=fact,
            recipients=recipients,
            endpoints=active_endpoints(),
            extra=extra,
            at=at or now(),
        )
    )


def _email_body(event: str, payload: dict[str, Any]) -> str:
    lead = payload["lead"]
    lines = [
        SUBJECTS.get(event, event).format(name=lead["name"]),
        "",
        f"Company: {lead['company'] or '-'}",
        f"Email:   {lead['email'] or '-'}",
        f"Phone:   {lead['phone'] or '-'}",
        f"Source:  {lead['source']}",
    ]
    if lead.get("sla_due_at"):
        lines.append(f"First contact due by: {lead['sla_due_at']}")
    lines += ["", f"Open the lead: {lead['url']}", "", "78% of sales go to the first responder."]
    return "\n".join(lines)
