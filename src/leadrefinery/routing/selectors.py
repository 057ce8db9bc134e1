"""Reads for the routing pages and API: the rules in words, and each team's reps as routing
sees them right now (available or not, and why)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.db.models import Count, Q

from leadrefinery.accounts.models import Role, Team, User
from leadrefinery.common import config
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.custom_field_services import lead_values
from leadrefinery.leads.models import Account, Lead
from leadrefinery.sla.business_hours import BusinessCalendar, is_working_time
from leadrefinery.sla.calendars import holidays_by_team, holidays_for, user_calendar

from . import domain
from .models import RoutingCounter, RoutingRule


def rule_conditions_in_words(rule: RoutingRule) -> list[str]:
    words = []
    for raw in rule.conditions or []:
        try:
            condition = domain.Condition(
                str(raw.get("field") or ""), domain.Op(str(raw.get("op"))), raw.get("value")
            )
        except (AttributeError, ValueError):
            words.append(f"(invalid condition {raw!r})")
            continue
        words.append(_condition_words(condition))
    return words


def _condition_words(c: domain.Condition) -> str:
    field = c.field.replace("_", " ")
    if c.op == domain.Op.IS_EMPTY:
        return f"{field} is empty"
    if c.op == domain.Op.IS_NOT_EMPTY:
        return f"{field} is not empty"
    if c.op in (domain.Op.IN, domain.Op.NOT_IN):
        values = ", ".join(str(v) for v in c.value or [])
        return f"{field} {'is one of' if c.op == domain.Op.IN else 'is none of'} {values}"
    if c.op == domain.Op.RANGE:
        low, high = [*(c.value or []), None, None][:2]
        if low is not None and high is not None:
            return f"{field} between {low} and {high}"
        return f"{field} at least {low}" if low is not None else f"{field} at most {high}"
    verb = {
        domain.Op.EQUALS: "is",
        domain.Op.NOT_EQUALS: "is not",
        domain.Op.CONTAINS: "contains",
    }[c.op]
    return f"{field} {verb} {c.value}"


def rule_target_label(rule: RoutingRule) -> str:
    if rule.target_kind == RoutingRule.TargetKind.TEAM:
        method = rule.get_method_display().lower()
        label = f"team {rule.target_team} by {method}"
    elif rule.target_kind == RoutingRule.TargetKind.USER:
        label = f"rep {rule.target_user.username if rule.target_user else '?'}"
    else:
        label = f"queue {rule.target_queue}"
    if rule.account_owner_first:
        label = f"the account owner first, else {label}"
    return label


def rules_in_order() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.select_related("target_user", "target_team", "target_queue").order_by(
            "is_fallback", "order", "id"
        )
    )


@dataclass(frozen=True)
class MemberStatus:
    user: User
    available: bool
    why_not: str
    in_working_hours: bool
    open_leads: int
    assigned_today: int

    @property
    def status(self) -> str:
        if not self.user.is_active:
            return "inactive"
        return "available" if self.available else "unavailable"

    def as_dict(self) -> dict[str, Any]:
        u = self.user
        return {
            "username": u.username,
            "name": str(u),
            "role": u.role,
            "active": u.is_active,
            "status": self.status,
            "unavailable_reason": self.why_not or None,
            "away_until": u.away_until,
            "in_working_hours": self.in_working_hours,
            "time_zone": u.time_zone,
            "working_hours": u.working_hours or {},
            "routing_weight": u.routing_weight,
            "max_open_leads": u.max_open_leads,
            "max_leads_per_day": u.max_leads_per_day,
            "open_leads": self.open_leads,
            "assigned_today": self.assigned_today,
        }


@dataclass(frozen=True)
class TeamStatus:
    team: Team
    members: list[MemberStatus]


def teams_with_availability(at: datetime, *, team_ids: set[int] | None = None) -> list[TeamStatus]:
    """Every team's reps as routing sees them at ``at``; a fixed number of queries."""
    teams = Team.objects.select_related("manager").order_by("name")
    if team_ids is not None:
        teams = teams.filter(pk__in=team_ids)
    team_list = list(teams)
    members = list(
        User.objects.filter(team__in=team_list, role=Role.REP).annotate(
            open_leads=Count(
                "owned_leads", filter=Q(owned_leads__stage__in=lead_domain.OPEN_STAGES)
            )
        )
    )
    today = {
        c.user_id: c.day_count
        for c in RoutingCounter.objects.filter(user__in=members, day=at.date())
    }
    holidays = {t.pk: holidays_for(t.pk, at) for t in team_list}
    out = []
    for team in team_list:
        rows = []
        for user in (m for m in members if m.team_id == team.pk):
            in_hours = is_working_time(user_calendar(user, holidays[team.pk]), at)
            candidate = domain.Candidate(
                user_id=user.pk,
                name=user.username,
                active=user.is_active,
                away_until=user.away_until,
                in_working_hours=in_hours,
                open_leads=user.open_leads,  # type: ignore[attr-defined]
                assigned_today=today.get(user.pk, 0),
                max_open=user.max_open_leads,
                max_per_day=user.max_leads_per_day,
            )
            why = domain.unavailable_reason(candidate, at, require_working_hours=True) or ""
            rows.append(
                MemberStatus(
                    user=user,
                    available=not why,
                    why_not=why,
                    in_working_hours=in_hours,
                    open_leads=candidate.open_leads,
                    assigned_today=candidate.assigned_today,
                )
            )
        out.append(TeamStatus(team=team, members=rows))
    return out


def rule_to_domain(rule: RoutingRule) -> domain.Rule:
    kind = domain.TargetKind(rule.target_kind)
    if kind == domain.TargetKind.USER:
        target = domain.Target(kind, rule.target_user_id or 0, str(rule.target_user or ""))
    elif kind == domain.TargetKind.TEAM:
        target = domain.Target(
            kind, rule.target_team_id or 0, str(rule.target_team or ""), domain.Method(rule.method)
        )
    else:
        target = domain.Target(kind, rule.target_queue_id or 0, str(rule.target_queue or ""))
    return domain.Rule(
        id=rule.pk,
        name=rule.name,
        conditions=rule.domain_conditions(),
        target=target,
        account_owner_first=rule.account_owner_first,
        is_fallback=rule.is_fallback,
    )


@dataclass(frozen=True)
class _Static:
    """What routing needs that changes only when the configuration does (cached per process)."""

    rules: tuple[domain.Rule, ...]
    team_ids: frozenset[int]
    users: tuple[User, ...]
    team_members: Mapping[int, tuple[int, ...]]


def _load_static() -> _Static:
    rules = list(
        RoutingRule.objects.filter(active=True).select_related(
            "target_user", "target_team", "target_queue"
        )
    )
    team_ids = frozenset(r.target_team_id for r in rules if r.target_team_id)
    user_ids = {r.target_user_id for r in rules if r.target_user_id}
    # A team rule hands leads to the team's reps only: managers belong to their team for
    # visibility, not to its rotation. A rule naming one user may name anyone.
    members = list(User.objects.filter(team_id__in=team_ids, role=Role.REP).order_by("pk"))
    member_ids = {m.pk for m in members}
    named = [u for u in User.objects.filter(pk__in=user_ids) if u.pk not in member_ids]
    team_members: dict[int, list[int]] = {}
    for user in members:
        if user.team_id is not None:
            team_members.setdefault(user.team_id, []).append(user.pk)
    return _Static(
        rules=tuple(rule_to_domain(r) for r in rules),
        team_ids=team_ids,
        users=tuple(members + named),
        team_members={team: tuple(ids) for team, ids in team_members.items()},
    )


def calendars_on(day: date) -> Mapping[int, BusinessCalendar]:
    """The business calendars of the users routing may choose, with the holidays around
    ``day`` (cached per process and day)."""

    def load() -> dict[int, BusinessCalendar]:
        static = config.get("routing:static", _load_static)
        at = datetime.combine(day, time(12), tzinfo=UTC)
        holidays = holidays_by_team({u.team_id for u in static.users}, at)
        return {u.pk: user_calendar(u, holidays[u.team_id]) for u in static.users}

    return config.get(f"routing:calendars:{day.isoformat()}", load)


def account_routing_fields(account: Account | None) -> dict[str, str] | None:
    """The account fields routing conditions may test (None without an account)."""
    if account is None:
        return None
    return {
        "name": account.name,
        "industry": account.industry,
        "employee_band": account.employee_band,
    }


def lead_routing_fields(lead: Lead) -> dict[str, Any]:
    """The fields routing conditions may test, for an existing lead."""
    person = lead.person
    account = lead.account
    return domain.routing_fields(
        {
            f: getattr(lead, f)
            for f in (
                "product_interest",
                "temperature",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "budget",
                "timeline",
            )
        }
        | {"custom": lead_values(lead)},
        {
            f: getattr(person, f)
            for f in (
                "email",
                "country",
                "region",
                "city",
                "postcode",
                "language",
                "title",
                "company_name",
            )
        },
        source=lead.source.name,
        campaign=lead.campaign.name if lead.campaign else "",
        account=account_routing_fields(account),
    )
