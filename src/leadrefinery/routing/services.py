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
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count

from leadrefinery.accounts.models import User
from leadrefinery.common import config
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused, validated
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Queue
from leadrefinery.leads.selectors import queue_by_slug
from leadrefinery.leads.services import lead_assign, queue_is_dead
from leadrefinery.sla.business_hours import BusinessCalendar, is_working_time
from leadrefinery.sla.calendars import holidays_by_team, user_calendar

from . import domain, queries
from .models import RoutingCounter, RoutingRule
from .selectors import _load_static, calendars_on, lead_routing_fields

_rng = random.SystemRandom()


def routing_ready() -> None:
    """Read the routing configuration (rules, reps, teams) into the per-process cache now
    rather than at the first batch's routing."""
    config.get("routing:static", _load_static)


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
        # rotation stays fair (see queries.counters_locked).
        team_ids = sorted(static.team_ids)
        counters = queries.counters_locked(team_ids)
        today = self.at.date()
        have = {(c.team_id, c.user_id) for c in counters}
        missing = [
            RoutingCounter(team_id=team, user_id=user, rotation_count=0, day=today, day_count=0)
            for team, members in static.team_members.items()
            for user in members
            if (team, user) not in have
        ]
        if missing:
            # A rep new to a team: make the counter first (a concurrent intake making the
            # same one wins, ours is ignored), so that it is locked like the others.
            RoutingCounter.objects.bulk_create(missing, ignore_conflicts=True)
            counters = queries.counters_locked(team_ids)
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

    def keep_with(self, user_id: int, why: str) -> domain.Decision | None:
        """A decision for ``user_id`` outside the rules (``why`` is the trace's step), or None
        when that rep cannot take a lead now (inactive, away, at a cap): the rules decide."""
        self._load()
        if user_id not in self._users:
            self._load_users(list(User.objects.filter(pk=user_id)))
        if user_id not in self._candidates:
            return None
        candidate = self._candidate(user_id)
        if domain.unavailable_reason(candidate, self.at, require_working_hours=False):
            return None
        return domain.Decision(
            kind=domain.TargetKind.USER, id=user_id, name=candidate.name, rule_id=None,
            steps=(why,),
        )  # fmt: skip

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
    validated(rule)
    if rule.active and rule.target_queue is not None and queue_is_dead(rule.target_queue):
        raise ConfigRefused(
            {
                "target_queue": [
                    f"the {rule.target_queue.name} queue has no active member, so its leads "
                    "would never be worked; add a member on the Team page first"
                ]
            }
        )
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


def routing_preview(
    fields: Mapping[str, Any], *, account_owner_id: int | None = None
) -> domain.Decision:
    """Which owner would a lead with ``fields`` get, and why? Assigns nothing, changes no counter:
    the real router runs in a transaction that is rolled back."""
    with transaction.atomic():
        decision = Router(rng=random.Random(0)).choose(fields, account_owner_id=account_owner_id)
        transaction.set_rollback(True)
    return decision
