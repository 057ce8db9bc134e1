"""Routing writes: choose owners for new leads inside the intake transaction, explain a choice
without assigning (preview), and reassign every open lead of a rep who leaves.

``Router`` loads the rules, the candidates and their counters once per batch, so routing a
500-row import costs the same handful of queries as routing one web inquiry.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count

from leadrefinery.accounts.models import Role, User
from leadrefinery.common import config
from leadrefinery.common.clock import now
from leadrefinery.common.db import placeholders, read_where
from leadrefinery.common.errors import ConfigRefused
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Account, Lead, Queue
from leadrefinery.sla.business_hours import BusinessCalendar, is_working_time
from leadrefinery.sla.calendars import holidays_by_team, user_calendar

from . import domain
from .models import RoutingCounter, RoutingRule

_rng = random.SystemRandom()


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


class Router:
    """Routes many leads in one transaction with a constant number of queries."""

    def __init__(self, *, at: datetime | None = None, rng: random.Random | None = None) -> None:
        self.at = at or now()
        self.rng = rng or _rng
        self._rules: list[domain.Rule] | None = None
        self._users: dict[int, User] = {}
        self._candidates: dict[int, domain.Candidate] = {}
        self._team_members: dict[int, list[int]] = {}
        self._counters: dict[tuple[int, int], RoutingCounter] = {}
        self._rotation: Counter[tuple[int, int]] = Counter()
        self._today: Counter[int] = Counter()
        self._open: Counter[int] = Counter()
        self._dirty: set[tuple[int, int]] = set()
        self._calendars: dict[int, BusinessCalendar] = {}

    # --- loading -------------------------------------------------------------------
    def _load(self) -> None:
        if self._rules is not None:
            return
        static = config.get("routing:static", _load_static)
        self._rules = list(static.rules)
        self._load_users(list(static.users))
        # Lock the counters of the teams we route to: two concurrent intakes take turns, so the
        # rotation stays fair (SQLite already serializes writers).
        # Read raw: this runs in every intake, where building the QuerySet cost more than
        # the read (see common.db.read_models).
        team_ids = sorted(static.team_ids)
        counters = (
            read_where(
                RoutingCounter,
                f"t.team_id IN ({placeholders(team_ids)})",
                team_ids,
                suffix="ORDER BY t.id FOR UPDATE" if connection.vendor == "postgresql" else "",
            )
            if team_ids
            else []
        )
        today = self.at.date()
        for counter in counters:
            self._counters[(counter.team_id, counter.user_id)] = counter
            self._rotation[(counter.team_id, counter.user_id)] = counter.rotation_count
            if counter.day == today:
                self._today[counter.user_id] += counter.day_count
        for team_id, members in static.team_members.items():
            self._team_members[team_id] = list(members)

    def _load_users(self, users: list[User]) -> None:
        new = [u for u in users if u.pk not in self._users]
        if not new:
            return
        for u in new:
            self._users[u.pk] = u
        # Open-lead counts cost an index scan per rep (thousands of leads each at scale), so
        # they are read only for reps whose rule needs them: an open-lead cap, or a
        # fewest-open team.
        fewest_open_teams = {
            r.target.id
            for r in self._rules or ()
            if r.target.kind == domain.TargetKind.TEAM
            and r.target.method == domain.Method.FEWEST_OPEN
        }
        counted = [
            u.pk for u in new if u.max_open_leads is not None or u.team_id in fewest_open_teams
        ]
        if counted:
            open_counts = (
                Lead.objects.filter(owner_user__in=counted, stage__in=list(lead_domain.OPEN_STAGES))
                .values("owner_user")
                .annotate(n=Count("id"))
            )
            for row in open_counts:
                self._open[row["owner_user"]] = row["n"]
        calendars = calendars_on(self.at.date())
        for u in new:
            calendar = calendars.get(u.pk)
            if calendar is None:  # a user outside the cached set, e.g. an account owner
                calendar = user_calendar(u, holidays_by_team([u.team_id], self.at)[u.team_id])
            self._calendars[u.pk] = calendar
            self._candidates[u.pk] = domain.Candidate(
                user_id=u.pk,
                name=u.username,
                active=u.is_active,
                away_until=u.away_until,
                in_working_hours=is_working_time(calendar, self.at),
                weight=u.routing_weight,
                max_open=u.max_open_leads,
                max_per_day=u.max_leads_per_day,
            )

    def _candidate(
        self, user_id: int, team_id: int | None = None, exclude: Mapping[int, str] | None = None
    ) -> domain.Candidate:
        return replace(
            self._candidates[user_id],
            open_leads=self._open[user_id],
            assigned_today=self._today[user_id],
            rotation_count=self._rotation[(team_id, user_id)] if team_id else 0,
            excluded=(exclude or {}).get(user_id, ""),
        )

    def user(self, user_id: int) -> User:
        return self._users[user_id]

    def calendar(self, user_id: int) -> BusinessCalendar:
        return self._calendars[user_id]

    # --- choosing ------------------------------------------------------------------
    def choose(
        self,
        fields: Mapping[str, Any],
        *,
        account_owner_id: int | None = None,
        exclude: Mapping[int, str] | None = None,
    ) -> domain.Decision:
        """Who gets a lead with ``fields``. ``exclude`` maps user ids to a reason they may not
        have it (e.g. the rep who missed the SLA); the trace shows that reason."""
        self._load()
        assert self._rules is not None
        owner = None
        if account_owner_id is not None:
            if account_owner_id not in self._users:
                self._load_users(list(User.objects.filter(pk=account_owner_id)))
            owner = (
                self._candidate(account_owner_id, exclude=exclude)
                if account_owner_id in self._candidates
                else None
            )
        teams = {
            team_id: [self._candidate(uid, team_id, exclude) for uid in members]
            for team_id, members in self._team_members.items()
        }
        users = {uid: self._candidate(uid, exclude=exclude) for uid in self._candidates}
        decision = domain.choose_owner(
            fields,
            self._rules,
            team_candidates=teams,
            users=users,
            account_owner=owner,
            at=self.at,
            rng=self.rng,
            require_working_hours=True,
        )
        return decision

    def record(self, decision: domain.Decision, team_id: int | None) -> None:
        """Count an assignment made from ``decision`` (call once per lead actually assigned)."""
        if decision.kind != domain.TargetKind.USER or decision.id is None:
            return
        self._open[decision.id] += 1
        self._today[decision.id] += 1
        if team_id:
            self._rotation[(team_id, decision.id)] += 1
            self._dirty.add((team_id, decision.id))

    def team_of(self, decision: domain.Decision) -> int | None:
        assert self._rules is not None
        for rule in self._rules:
            if rule.id == decision.rule_id and rule.target.kind == domain.TargetKind.TEAM:
                return rule.target.id
        return None

    def save(self) -> None:
        """Persist the rotation counters changed by this batch."""
        today = self.at.date()
        for team_id, user_id in self._dirty:
            counter = self._counters.get((team_id, user_id))
            rotation = self._rotation[(team_id, user_id)]
            if counter is None:
                counter = RoutingCounter.objects.create(
                    team_id=team_id,
                    user_id=user_id,
                    rotation_count=rotation,
                    day=today,
                    day_count=0,
                )
                self._counters[(team_id, user_id)] = counter
            day_count = self._today[user_id]
            RoutingCounter.objects.filter(pk=counter.pk).update(
                rotation_count=rotation, day=today, day_count=day_count
            )
        self._dirty.clear()


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
        },
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


def account_routing_fields(account: Account | None) -> dict[str, str] | None:
    """The account fields routing conditions may test (None without an account)."""
    if account is None:
        return None
    return {
        "name": account.name,
        "industry": account.industry,
        "employee_band": account.employee_band,
    }


def routing_preview(
    fields: Mapping[str, Any], *, account_owner_id: int | None = None
) -> domain.Decision:
    """Which owner would a lead with ``fields`` get, and why? Assigns nothing, changes no counter."""
    with transaction.atomic():
        decision = Router(rng=random.Random(0)).choose(fields, account_owner_id=account_owner_id)
        transaction.set_rollback(True)
    return decision


@dataclass(frozen=True)
class Destination:
    """Where some of a deactivated rep's open leads go (a rep or a queue), and how many."""

    kind: str  # "user" or "queue"
    name: str
    leads: int
    unstaffed: bool = False  # a queue without any active member: nobody will work its leads

    @property
    def label(self) -> str:
        return self.name if self.kind == "user" else f"the {self.name} queue"


@dataclass(frozen=True)
class Reassignment:
    """What deactivating a rep does (or did) to their open leads, grouped by destination."""

    username: str
    leads: int
    destinations: tuple[Destination, ...]

    @property
    def unstaffed(self) -> list[Destination]:
        return [d for d in self.destinations if d.unstaffed]

    @property
    def summary(self) -> str:
        """'5 to jordan, 4 to the Unassigned queue' (or 'no open leads')."""
        if not self.leads:
            return "no open leads"
        return ", ".join(f"{d.leads} to {d.label}" for d in self.destinations)

    def warnings(self) -> list[str]:
        return [
            f"Nobody active works {d.label}: its {d.leads} lead{'s' if d.leads != 1 else ''} "
            f"from {self.username} will wait there until someone is added to the queue or "
            "the leads are assigned by hand."
            for d in self.unstaffed
        ]


def rep_deactivate(*, user: User, actor: Actor, reason: str = "") -> Reassignment:
    """Deactivate a rep and reassign every open lead they own through the rules, each with a trace.

    Says where the leads went, per destination. Leads no rule can place go to the unassigned
    queue."""
    with transaction.atomic():
        return _deactivate(user=user, actor=actor, reason=reason, at=now())


def rep_deactivate_preview(*, user: User) -> Reassignment:
    """What ``rep_deactivate`` would do now, by the same code, rolled back: nothing changes."""
    with transaction.atomic():
        result = _deactivate(user=user, actor=Actor.system("preview"), reason="", at=now())
        transaction.set_rollback(True)
    user.is_active = True
    return result


def _deactivate(*, user: User, actor: Actor, reason: str, at: datetime) -> Reassignment:
    from leadrefinery.leads.services import lead_assign, queue_by_slug

    User.objects.filter(pk=user.pk).update(is_active=False)
    config.bump()  # update() sends no signal; routing must stop choosing this rep now
    user.is_active = False
    router = Router(at=at)
    leads = list(
        Lead.objects.select_related("person", "account", "source", "campaign")
        .filter(owner_user=user, stage__in=list(lead_domain.OPEN_STAGES))
        .order_by("pk")
    )
    unassigned = queue_by_slug("unassigned")
    went: Counter[tuple[str, int]] = Counter()
    for lead in leads:
        decision = router.choose(
            lead_routing_fields(lead),
            account_owner_id=lead.account.owner_id
            if lead.account and lead.account.owner_id != user.pk
            else None,
        )
        trace = {
            **decision.as_trace(),
            "because": f"{user.username} was deactivated" + (f": {reason}" if reason else ""),
        }
        if decision.kind == domain.TargetKind.USER and decision.id is not None:
            lead_assign(
                lead=lead,
                owner_user=router.user(decision.id),
                actor=actor,
                trace=trace,
                at=at,
                note=trace["because"],
            )
            router.record(decision, router.team_of(decision))
            went["user", decision.id] += 1
        else:
            queue = (
                Queue.objects.get(pk=decision.id)
                if decision.kind == domain.TargetKind.QUEUE and decision.id is not None
                else unassigned
            )
            lead_assign(
                lead=lead, owner_queue=queue, actor=actor, trace=trace, at=at, note=trace["because"]
            )
            went["queue", queue.pk] += 1
    router.save()
    return Reassignment(username=user.username, leads=len(leads), destinations=_destinations(went))


def _destinations(went: Counter[tuple[str, int]]) -> tuple[Destination, ...]:
    users = User.objects.in_bulk([pk for kind, pk in went if kind == "user"])
    queue_ids = [pk for kind, pk in went if kind == "queue"]
    queues = Queue.objects.in_bulk(queue_ids)
    staffed = set(
        Queue.members.through.objects.filter(
            queue_id__in=queue_ids, user__is_active=True
        ).values_list("queue_id", flat=True)
    )
    out = []
    for (kind, pk), count in went.most_common():
        if kind == "user":
            out.append(Destination(kind="user", name=users[pk].username, leads=count))
        else:
            out.append(
                Destination(
                    kind="queue", name=queues[pk].name, leads=count, unstaffed=pk not in staffed
                )
            )
    return tuple(out)


# --- Editing the rules, the reps' availability and the SLA policies ---------------------------


def _validated(obj: Any) -> None:
    try:
        obj.full_clean(exclude=["created_at", "updated_at"])
    except ValidationError as exc:
        raise ConfigRefused({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc


def can_edit_routing(user: User) -> bool:
    """Admins and managers edit routing rules and SLA policies."""
    return bool(user.is_active and (user.is_admin_role or user.role == Role.MANAGER))


_RULE_FIELDS = (
    "name",
    "order",
    "active",
    "conditions",
    "target_kind",
    "target_user",
    "target_team",
    "target_queue",
    "method",
    "account_owner_first",
)


@transaction.atomic
def routing_rule_save(
    *, rule: RoutingRule | None = None, changes: Mapping[str, Any], at: datetime | None = None
) -> RoutingRule:
    """Create (``rule`` None) or change a routing rule; validated by ``RoutingRule.clean``.

    The fallback rule keeps no conditions and cannot be switched off: without it a lead that
    matches nothing would have no owner."""
    at = at or now()
    unknown = set(changes) - set(_RULE_FIELDS)
    if unknown:
        raise ConfigRefused({k: ["cannot be set"] for k in sorted(unknown)})
    if rule is None:
        rule = RoutingRule(created_at=at)
    for key, value in changes.items():
        setattr(rule, key, value)
    # Only the slot of the chosen target kind is kept, so switching a rule from a team to a
    # queue does not leave the old team behind.
    for kind in ("user", "team", "queue"):
        if kind != rule.target_kind:
            setattr(rule, f"target_{kind}", None)
    if rule.target_kind != RoutingRule.TargetKind.TEAM:
        rule.method = domain.Method.ROUND_ROBIN
    if rule.is_fallback and not rule.active:
        raise ConfigRefused({"active": ["the fallback rule cannot be switched off"]})
    rule.updated_at = at
    _validated(rule)
    rule.save()
    return rule


@transaction.atomic
def routing_rule_deactivate(*, rule: RoutingRule, at: datetime | None = None) -> RoutingRule:
    """Rules are switched off rather than deleted, so old traces still name a real rule."""
    if rule.is_fallback:
        raise ConfigRefused({"rule": ["the fallback rule cannot be deleted or switched off"]})
    rule.active = False
    rule.updated_at = at or now()
    rule.save(update_fields=["active", "updated_at"])
    return rule


AVAILABILITY_SELF = frozenset({"away_until", "working_hours", "time_zone"})
AVAILABILITY_ALL = AVAILABILITY_SELF | {"routing_weight", "max_open_leads", "max_leads_per_day"}


def can_edit_availability(editor: User, user: User, fields: set[str] | frozenset[str]) -> bool:
    """Admins edit anyone; managers the members of their teams; a rep their own away date,
    hours and time zone (not their weight or caps)."""
    if not editor.is_active:
        return False
    if editor.is_admin_role:
        return True
    if editor.role == Role.MANAGER:
        if editor.pk == user.pk:
            return True
        team_ids = set(editor.managed_teams.values_list("pk", flat=True))
        if editor.team_id:
            team_ids.add(editor.team_id)
        return user.team_id in team_ids
    return editor.pk == user.pk and set(fields) <= AVAILABILITY_SELF


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
def availability_set(*, user: User, editor: User, changes: Mapping[str, Any]) -> User:
    """Set a rep's away date, working hours, time zone, weight or caps."""
    import zoneinfo

    from django.core.exceptions import PermissionDenied

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


@transaction.atomic
def sla_policy_save(*, policy: Any = None, changes: Mapping[str, Any]) -> Any:
    """Create or change an SLA policy; validated by ``SlaPolicy.clean``."""
    from leadrefinery.sla.models import SlaPolicy

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
    _validated(policy)
    policy.save()
    return policy
