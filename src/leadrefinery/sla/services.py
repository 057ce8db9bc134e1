"""Start and stop the speed-to-lead clock on leads.

The clock starts when a lead is handed to a rep (in the intake transaction, or on any later
assignment to a user) and stops at the first sales touch, which also records speed-to-lead.
The sweep that walks the escalation ladder lives in sla/sweep.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from leadrefinery.accounts.models import User
from leadrefinery.common import config

from . import domain
from .business_hours import BusinessCalendar
from .calendars import holidays_for, user_calendar
from .models import SlaPolicy

DEFAULT_TERMS = domain.Terms(first_touch=timedelta(hours=1), accept=timedelta(hours=4))


def policy_for(
    policies: Iterable[SlaPolicy], *, temperature: str, source_id: int | None
) -> SlaPolicy | None:
    for policy in policies:
        if policy.temperature and policy.temperature != temperature:
            continue
        if policy.source_id and policy.source_id != source_id:
            continue
        return policy
    return None


def policy_terms(policy: SlaPolicy | None) -> domain.Terms:
    if policy is None:
        return DEFAULT_TERMS
    return domain.Terms(
        first_touch=timedelta(minutes=policy.first_touch_minutes),
        accept=timedelta(minutes=policy.accept_minutes),
        remind_share=policy.remind_at_percent / 100,
        notify_manager=policy.notify_manager_at_breach,
        reassign_after=timedelta(minutes=policy.reassign_after_minutes)
        if policy.reassign_after_minutes
        else None,
        business_hours=policy.business_hours,
    )


def owner_calendar(owner: User, at: datetime) -> BusinessCalendar:
    return user_calendar(owner, holidays_for(owner.team_id, at))


def sla_apply_start(
    lead, *, calendar: BusinessCalendar, policies: list[SlaPolicy], at: datetime
) -> None:
    """Set the SLA fields of ``lead`` (not saved) for a clock starting at ``at`` in the new
    owner's ``calendar``. A lead already touched by sales gets no clock: speed-to-lead was
    measured at its first touch."""
    if lead.first_sales_touch_at is not None:
        lead.sla_due_at = None
        return
    policy = policy_for(policies, temperature=lead.temperature, source_id=lead.source_id)
    clock = domain.start_clock(policy_terms(policy), calendar, at)
    first = clock.next_after(domain.Step.STARTED)
    lead.sla_policy = policy
    lead.sla_started_at = at
    lead.sla_first_touch_due_at = clock.first_touch_due
    lead.sla_accept_due_at = clock.accept_due
    lead.sla_step = int(domain.Step.STARTED)
    lead.sla_due_at = first[1] if first else None
    lead.sla_breached_at = None


def active_policies() -> list[SlaPolicy]:
    """The active policies in order (cached per process until the configuration changes)."""
    return config.get(
        "sla:policies", lambda: list(SlaPolicy.objects.filter(active=True).order_by("order", "id"))
    )


# The lead columns sla_apply_start writes, for save(update_fields=...).
CLOCK_FIELDS = (
    "sla_policy",
    "sla_started_at",
    "sla_first_touch_due_at",
    "sla_accept_due_at",
    "sla_step",
    "sla_due_at",
    "sla_breached_at",
)


def sla_restart(lead, *, owner: User, at: datetime) -> None:
    """Start a fresh clock for a lead handed to ``owner`` at ``at`` (not saved): the policy
    is chosen again and the time counts in the new owner's business hours."""
    sla_apply_start(lead, calendar=owner_calendar(owner, at), policies=active_policies(), at=at)
