"""Cadence emails and notices, queued in the outbox inside the caller's transaction.

The step emails go to the buyer, written from the step's template, with threading headers
(In-Reply-To and References point at the earlier emails of the same enrollment, so the buyer
sees one conversation) and Reply-To set to the rep. Notices go to the lead's owner. Every row
has a dedupe key naming the fact it reports, so a repeated service or sweep queues nothing new.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings

from leadrefinery.common.errors import ServiceError
from leadrefinery.notifications.dispatch import message_id
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.notifications.services import active_endpoints, build_messages, enqueue

from . import domain

if TYPE_CHECKING:
    from leadrefinery.leads.models import Lead

    from .models import CadenceStep, Enrollment, OutcomeCheck


def _row(
    *,
    event: str,
    key: str,
    lead: Lead,
    to: str,
    subject: str,
    body: str,
    at: datetime,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        kind=OutboxMessage.Kind.EMAIL,
        event=event,
        dedupe_key=key[:200],
        lead=lead,
        recipient=to,
        endpoint=None,
        subject=subject[:300],
        body=body,
        payload=payload or {"lead_id": lead.pk},
        status=OutboxMessage.Status.PENDING,
        attempts=0,
        next_attempt_at=at,
        claimed_at=None,
        sent_at=None,
        last_error="",
        created_at=at,
    )


def email_values(lead: Lead) -> dict[str, str]:
    person = lead.person
    rep = lead.owner_user
    return {
        "first_name": person.first_name or "there",
        "last_name": person.last_name,
        "company": person.company_name or (lead.account.name if lead.account else ""),
        "rep_name": (rep.get_full_name() or rep.username) if rep else "",
        "rep_email": rep.email if rep else "",
        "product": lead.product_interest,
    }


def cadence_email(*, lead: Lead, enrollment: Enrollment, step: CadenceStep, at: datetime) -> str:
    """Queue the step's email to the buyer; returns its Message-ID."""
    to = lead.person.email
    if not to:
        raise ServiceError(
            "the lead has no email address: add one, or reschedule past this step",
            field="email",
        )
    values = email_values(lead)
    earlier = list(enrollment.thread_message_ids or [])
    subject = domain.render_text(step.email_subject, values).strip()
    if not subject:
        # No subject of its own: a follow-up in the same thread as the first email.
        first = enrollment.template.steps.filter(channel="email").exclude(email_subject="").first()
        base = domain.render_text(first.email_subject, values) if first else "Following up"
        subject = base if base.lower().startswith("re:") or not earlier else f"Re: {base}"
    body = domain.render_text(step.email_body, values)
    headers: dict[str, str] = {}
    if earlier:
        headers["In-Reply-To"] = earlier[-1]
        headers["References"] = " ".join(earlier)
    rep = lead.owner_user
    if rep is not None and rep.email:
        headers["Reply-To"] = rep.email
    row = _row(
        event="cadence.email",
        key=f"cadence:{enrollment.pk}:{step.position}:mail",
        lead=lead,
        to=to,
        subject=subject,
        body=body,
        at=at,
        payload={"lead_id": lead.pk, "step": step.position, "headers": headers},
    )
    if not enqueue([row]):
        raise ServiceError("this step's email was already sent", field="lead")
    return message_id(row)


def _owner_rows(
    *, lead: Lead, event: str, fact: str, subject: str, lines: list[str], at: datetime
) -> list[OutboxMessage]:
    owner = lead.owner_user
    rows: list[OutboxMessage] = []
    if owner is not None and owner.email:
        body = "\n".join([*lines, "", f"Open the lead: {settings.SITE_URL}/leads/{lead.pk}/"])
        rows.append(
            _row(
                event=event,
                key=f"{event}:{lead.pk}:{fact}:mail:{owner.email}",
                lead=lead,
                to=owner.email,
                subject=subject,
                body=body,
                at=at,
            )
        )
    return rows + build_messages(
        event=event, lead=lead, fact=fact, recipients=[], endpoints=active_endpoints(), at=at
    )


def _owner_notice(**kwargs: Any) -> None:
    enqueue(_owner_rows(**kwargs))


def _inbound_rows(*, lead: Lead, fact: str, what: str, at: datetime) -> list[OutboxMessage]:
    name = lead.person.display_name
    return _owner_rows(
        lead=lead,
        event="lead.inbound",
        fact=fact,
        subject=f"{name} got back to you: {what}",
        lines=[f"{name} got back to you ({what}).", "Answer now: it is the best moment."],
        at=at,
    )


def inbound(*, lead: Lead, fact: str, what: str, at: datetime) -> None:
    enqueue(_inbound_rows(lead=lead, fact=fact, what=what, at=at))


def inbound_many(*, leads: list[Lead], fact: str, what: str, at: datetime) -> None:
    """One insert for a batch (another inquiry from the people of several open leads)."""
    rows: list[OutboxMessage] = []
    for lead in leads:
        rows += _inbound_rows(lead=lead, fact=fact, what=what, at=at)
    enqueue(rows)


def step_overdue(*, lead: Lead, enrollment: Enrollment, at: datetime) -> None:
    name = lead.person.display_name
    _owner_notice(
        lead=lead,
        event="cadence.step_overdue",
        fact=f"{enrollment.pk}:{enrollment.step_position}",
        subject=f"Overdue: {lead.next_action} for {name}",
        lines=[
            f"{lead.next_action} for {name} was due "
            f"{enrollment.step_due_at:%Y-%m-%d %H:%M} UTC and is not done yet.",
            "80% of sales come on the 5th to 12th contact: keep going.",
        ],
        at=at,
    )


def cadence_needs_decision(*, lead: Lead, enrollment: Enrollment, at: datetime) -> None:
    _owner_notice(
        lead=lead,
        event="cadence.completed",
        fact=str(enrollment.pk),
        subject=f"Cadence done for {lead.person.display_name}: decide the outcome",
        lines=[f"The cadence ended: {enrollment.end_reason}."],
        at=at,
    )


def outcome_check_opened(*, check: OutcomeCheck, recipients: list[str], at: datetime) -> None:
    lead = check.lead
    name = lead.person.display_name
    rows = [
        _row(
            event="outcome_check.due",
            key=f"outcome_check.due:{check.pk}:mail:{address}",
            lead=lead,
            to=address,
            subject=f"Outcome check: did {name} buy, and from whom?",
            body="\n".join(
                [
                    f"12 months ago {name} was closed or recycled ({check.reason}).",
                    "Find out whether they bought, and from whom, and record the answer:",
                    f"{settings.SITE_URL}/today/",
                ]
            ),
            at=at,
        )
        for address in recipients
    ]
    enqueue(rows)
