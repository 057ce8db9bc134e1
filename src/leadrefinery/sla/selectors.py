"""Reads for the SLA clock: which policy a lead gets, its terms, an owner's calendar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from leadrefinery.accounts.models import User

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
