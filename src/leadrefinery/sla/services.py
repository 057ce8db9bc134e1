"""Start and stop the speed-to-lead clock on leads.

The clock starts when a lead is handed to a rep (in the intake transaction, or on any later
assignment to a user) and stops at the first sales touch, which also records speed-to-lead.
The sweep that walks the escalation ladder lives in sla/sweep.py. SLA policies are saved here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from leadrefinery.accounts.models import User
from leadrefinery.common import config
from leadrefinery.common.errors import ConfigRefused, validated

from . import domain
from .business_hours import BusinessCalendar
from .models import SlaPolicy
from .selectors import owner_calendar, policy_for, policy_terms


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


def sla_apply_first_touch(lead, *, at: datetime) -> None:
    """Stop the clock at the first sales touch ``at`` and record speed-to-lead (not saved).

    Called when ``at`` becomes the lead's earliest sales touch, so a touch logged late with an
    earlier time corrects the figure. Wall-clock seconds: what the buyer waited."""
    lead.speed_to_lead_seconds = int(domain.speed_to_lead(lead.received_at, at).total_seconds())
    lead.sla_due_at = None


@transaction.atomic
def sla_policy_save(*, policy: SlaPolicy | None = None, changes: Mapping[str, Any]) -> SlaPolicy:
    """Create or change an SLA policy; validated by ``SlaPolicy.clean``."""
    allowed = {
        "name",
        "order",
        "active",
        "temperature",
        "source",
        "first_touch_minutes",
        "accept_minutes",
        "business_hours",
        "remind_at_percent",
        "notify_manager_at_breach",
        "reassign_after_minutes",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ConfigRefused({k: ["cannot be set"] for k in sorted(unknown)})
    policy = policy or SlaPolicy()
    for key, value in changes.items():
        setattr(policy, key, value)
    validated(policy)
    policy.save()
    return policy
