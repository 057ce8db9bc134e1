"""Each rep's business calendar: working hours in their time zone, less holidays. Routing asks
it who is working now; the speed-to-lead clock and cadences count time in it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Q

from leadrefinery.accounts.models import User

from .business_hours import BusinessCalendar
from .models import Holiday


def user_calendar(user: User, holidays: frozenset | None = None) -> BusinessCalendar:
    """A rep's working hours: ``working_hours`` {"0": [["09:00", "17:00"]], ...} in their zone;
    Monday to Friday 09:00-17:00 when unset."""
    weekly: dict[int, tuple[tuple[time, time], ...]] | None = None
    if user.working_hours:
        weekly = {
            int(day): tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in windows)
            for day, windows in user.working_hours.items()
        }
    kwargs: dict[str, Any] = {
        "time_zone": user.time_zone or "UTC",
        "holidays": holidays or frozenset(),
    }
    if weekly is not None:
        kwargs["weekly"] = weekly
    return BusinessCalendar(**kwargs)


def holidays_for(team_id: int | None, at: datetime) -> frozenset:
    return holidays_by_team([team_id], at)[team_id]


def holidays_by_team(team_ids: Iterable[int | None], at: datetime) -> dict[int | None, frozenset]:
    """Holidays around ``at`` for each team (global ones included), in one query."""
    wanted = set(team_ids)
    rows = Holiday.objects.filter(
        Q(team__isnull=True) | Q(team_id__in=[t for t in wanted if t is not None]),
        date__gte=at.date() - timedelta(days=7),
        date__lte=at.date() + timedelta(days=400),
    ).values_list("team_id", "date")
    common = frozenset(day for team, day in rows if team is None)
    return {
        team: common | frozenset(day for t, day in rows if t is not None and t == team)
        for team in wanted
    }
