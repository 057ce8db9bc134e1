"""Start and stop the speed-to-lead clock on leads.

The clock starts when a lead is handed to a rep (in the intake transaction, or on any later
assignment to a user) and stops at the first sales touch, which also records speed-to-lead.
The sweep that walks the escalation ladder lives in sla/sweep.py. SLA policies are saved here.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from leadrefinery.accounts.models import User
from leadrefinery.common import config
from leadrefinery.common.errors import ConfigRefused, validated

from . import domain
from .access import AVAILABILITY_ALL, can_edit_availability
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


# --- A rep's availability: away, working hours, time zone, weight and caps ------------------


def _working_hours_errors(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return ['must map weekdays "0" (Monday) to "6" to [["09:00", "17:00"], ...]']
    errors = []
    for day, windows in value.items():
        if str(day) not in {str(d) for d in range(7)}:
            errors.append(f"unknown weekday {day!r}: use 0 (Monday) to 6 (Sunday)")
            continue
        if not isinstance(windows, list):
            errors.append(f"day {day}: a list of [start, end] pairs")
            continue
        for window in windows:
            try:
                start, end = (time.fromisoformat(str(t)) for t in window)
            except (TypeError, ValueError):
                errors.append(f'day {day}: {window!r} is not a ["HH:MM", "HH:MM"] pair')
                continue
            if start >= end:
                errors.append(f"day {day}: {window[0]}-{window[1]} ends before it starts")
    return errors


@transaction.atomic
def rep_availability_set(*, user: User, editor: User, changes: Mapping[str, Any]) -> User:
    """Set a rep's away date, working hours, time zone, weight or caps."""
    unknown = set(changes) - AVAILABILITY_ALL
    if unknown:
        raise ConfigRefused({k: ["cannot be set here"] for k in sorted(unknown)})
    if not can_edit_availability(editor, user, set(changes)):
        raise PermissionDenied(
            "Reps set their own away date, hours and time zone; managers set those of their "
            "team; admins anyone's."
        )
    errors: dict[str, list[str]] = {}
    if "working_hours" in changes:
        if changes["working_hours"] is None:
            changes = {**changes, "working_hours": {}}
        messages = _working_hours_errors(changes["working_hours"])
        if messages:
            errors["working_hours"] = messages
    if "time_zone" in changes:
        try:
            zoneinfo.ZoneInfo(str(changes["time_zone"]))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = [f"unknown time zone {changes['time_zone']!r}"]
    if "routing_weight" in changes and not (
        isinstance(changes["routing_weight"], int) and 1 <= changes["routing_weight"] <= 100
    ):
        errors["routing_weight"] = ["a whole number from 1 to 100"]
    for cap in ("max_open_leads", "max_leads_per_day"):
        value = changes.get(cap)
        if value is not None and not (isinstance(value, int) and value >= 0):
            errors[cap] = ["a whole number, or empty for no cap"]
    if errors:
        raise ConfigRefused(errors)
    for key, value in changes.items():
        setattr(user, key, value)
    user.save(update_fields=list(changes) or None)
    return user
