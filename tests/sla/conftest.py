"""Helpers for the SLA tests: routing rules to real teams, leads through the real intake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from leadrefinery.accounts.services import user_create
from leadrefinery.leads.models import Lead
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.routing.models import RoutingRule
from tests.conftest import PASSWORD


def team_rule(team, *, order: int = 10, conditions: list | None = None) -> RoutingRule:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return RoutingRule.objects.create(
        name=f"{team.name} team",
        order=order,
        conditions=conditions or [],
        target_kind="team",
        target_team=team,
        created_at=at,
        updated_at=at,
    )


def sent(lead: Lead, event: str, kind: str = "email") -> list[str]:
    """Recipients (emails) or endpoint ids (webhooks) queued for ``event`` on ``lead``."""
    rows = OutboxMessage.objects.filter(lead=lead, event=event, kind=kind).order_by("pk")
    return [m.recipient if kind == "email" else str(m.endpoint_id) for m in rows]


@pytest.fixture
def east(users):
    """Team East routes every inquiry: reps ron and rita (UTC, Mon-Fri 9-17), manager maria."""
    for user, address in (
        (users.rep, "ron@example.com"),
        (users.rep2, "rita@example.com"),
        (users.manager, "maria@example.com"),
        (users.other_rep, "walt@example.com"),
    ):
        user.email = address
        user.save()
    team_rule(users.rep.team)
    return users


@pytest.fixture
def world(db):
    """Two one-rep teams in different time zones, each with a manager: US inquiries go to nina
    in New York, German ones to bernd in Berlin (both work Monday to Friday, 09:00-17:00)."""
    from leadrefinery.accounts.models import Team

    reps = {}
    for team_name, rep, zone, country in (
        ("Americas", "nina", "America/New_York", "US"),
        ("Europe", "bernd", "Europe/Berlin", "DE"),
    ):
        team = Team.objects.create(name=team_name)
        team.manager = user_create(
            username=f"{rep}-boss",
            role="manager",
            password=PASSWORD,
            email=f"{rep}-boss@example.com",
            team=team,
            time_zone=zone,
        )
        team.save()
        reps[rep] = user_create(
            username=rep,
            role="rep",
            password=PASSWORD,
            email=f"{rep}@example.com",
            team=team,
            time_zone=zone,
        )
        team_rule(team, conditions=[{"field": "country", "op": "equals", "value": country}])
    return reps


@pytest.fixture
def inquiry(make_lead) -> Callable[..., Lead]:
    """inquiry(**payload) -> the Lead created by the real intake (the shared make_lead)."""
    return make_lead
