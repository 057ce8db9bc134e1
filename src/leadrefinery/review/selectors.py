"""Reads for the weekly review and the manager's home, always under the viewer's visibility
(``leads.access.visible_to``) and in a fixed number of queries however many leads there are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404

from leadrefinery.accounts.models import Role, Team, User
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.access import lead_scope, visible_to
from leadrefinery.leads.models import Lead, Touch

from . import domain
from .models import LeadFlag, Review, ReviewDecision
from .sweep import dead_queue_ids

COVERAGE_DAYS = 7


def week_start(at: datetime) -> date:
    """The Monday of ``at``'s week (UTC)."""
    day = at.date()
    return day - timedelta(days=day.weekday())


def teams_of(user: User) -> QuerySet[Team]:
    """The teams whose reviews ``user`` runs or attends: all for admins and marketers
    (marketing sits in), managed and own team for managers, own team for reps."""
    if user.is_superuser or user.role in (Role.ADMIN, Role.MARKETER):
        return Team.objects.all()
    return Team.objects.filter(Q(manager=user) | Q(pk=user.team_id)).distinct()


def access_review(user: User, review_id: int) -> Review:
    """The review if ``user`` may see it (404 otherwise, like leads)."""
    review = (
        Review.objects.filter(pk=review_id, team__in=teams_of(user))
        .select_related("team", "signed_off_by", "created_by")
        .first()
    )
    if review is None:
        raise Http404("No such review")
    return review


def holds_review(user: User, team: Team) -> bool:
    """Managers of the team and admins hold the review and record decisions."""
    return bool(
        user.is_active
        and (user.is_superuser or user.role == Role.ADMIN or team.manager_id == user.pk)
    )


def team_leads(team: Team, viewer: User) -> QuerySet[Lead]:
    """Every open lead of the team's reps and queues that the viewer may see.

    Asked by owner (two indexed columns) rather than through ``visible_to``'s subquery: an
    agenda of thousands of leads among a million. The scope is the same: whoever holds the
    review (the team's manager, an admin) and marketers see all of it, a rep their own leads
    and those of the team's queues they work (``leads.access.lead_scope``)."""
    members = list(team.members.values_list("pk", flat=True))
    queues = list(team.queues.values_list("pk", flat=True))
    if lead_scope(viewer) is not None and not holds_review(viewer, team):
        members = [viewer.pk] if viewer.pk in members else []
        queues = list(viewer.queues.filter(pk__in=queues).values_list("pk", flat=True))
    return Lead.objects.filter(
        Q(owner_user_id__in=members) | Q(owner_queue_id__in=queues),
        stage__in=list(lead_domain.OPEN_STAGES),
    )


@dataclass(frozen=True)
class FlagRow:
    lead_id: int
    kind: str
    reason: str
    since: datetime

    @property
    def label(self) -> str:
        return domain.Flag(self.kind).label

    @property
    def severity(self) -> int:
        return domain.SEVERITY.index(domain.Flag(self.kind))


def active_flags(lead_ids: list[int]) -> dict[int, list[FlagRow]]:
    """The standing flags of these leads, most severe first."""
    out: dict[int, list[FlagRow]] = defaultdict(list)
    for start in range(0, len(lead_ids), 900):
        rows = LeadFlag.objects.filter(
            lead_id__in=lead_ids[start : start + 900], cleared_at__isnull=True
        ).values_list("lead_id", "kind", "reason", "since")
        for row in rows:
            out[row[0]].append(FlagRow(*row))
    for flags in out.values():
        flags.sort(key=lambda f: f.severity)
    return out


@dataclass(frozen=True)
class LeadRow:
    """What the agenda shows of a lead (read as plain values: an agenda has thousands)."""

    pk: int
    name: str
    company: str
    stage: str
    next_action: str
    next_action_due_at: datetime | None
    owner_key: str  # username, or queue:<slug>
    owner_label: str

    @property
    def stage_label(self) -> str:
        return lead_domain.Stage(self.stage).label

    @property
    def is_open(self) -> bool:
        return lead_domain.Stage(self.stage).is_open


_ROW_FIELDS = (
    "pk",
    "stage",
    "next_action",
    "next_action_due_at",
    "person__first_name",
    "person__last_name",
    "person__email",
    "person__phone",
    "person__company_name",
    "person_id",
    "owner_user__username",
    "owner_user__first_name",
    "owner_user__last_name",
    "owner_queue__slug",
    "owner_queue__name",
)


def _lead_row(v: dict[str, Any]) -> LeadRow:
    name = f"{v['person__first_name']} {v['person__last_name']}".strip()
    name = name or v["person__email"] or v["person__phone"] or f"Person {v['person_id']}"
    if v["owner_user__username"]:
        full = f"{v['owner_user__first_name']} {v['owner_user__last_name']}".strip()
        key, label = v["owner_user__username"], full or v["owner_user__username"]
    elif v["owner_queue__slug"]:
        key, label = f"queue:{v['owner_queue__slug']}", f"Queue: {v['owner_queue__name']}"
    else:
        key, label = "", "(no owner)"
    return LeadRow(
        pk=v["pk"],
        name=name,
        company=v["person__company_name"],
        stage=v["stage"],
        next_action=v["next_action"],
        next_action_due_at=v["next_action_due_at"],
        owner_key=key,
        owner_label=label,
    )


@dataclass
class AgendaItem:
    lead: LeadRow
    flags: list[FlagRow]
    decision: ReviewDecision | None

    @property
    def owner(self) -> str:
        """The owner's username, or ``queue:<slug>`` for a queue."""
        return self.lead.owner_key

    @property
    def overdue(self) -> bool:
        return any(f.kind == domain.Flag.OVERDUE for f in self.flags)


def owner_key(lead: Lead) -> str:
    if lead.owner_user_id is not None and lead.owner_user is not None:
        return lead.owner_user.username
    if lead.owner_queue is not None:
        return f"queue:{lead.owner_queue.slug}"
    return ""


@dataclass
class AgendaGroup:
    owner: str  # username or queue:<slug>
    label: str
    items: list[AgendaItem] = field(default_factory=list)

    @property
    def flagged(self) -> int:
        return sum(1 for item in self.items if item.flags)

    @property
    def decided(self) -> int:
        return sum(1 for item in self.items if item.decision is not None)


def agenda(review: Review, viewer: User) -> list[AgendaGroup]:
    """Every open lead of the team, grouped by owner, flagged ones first (most severe flag
    first); with this review's decision where one was made. Leads decided in this review stay
    on it (closed ones too), so its page stays readable. Three queries however many leads."""
    decisions = {
        d.lead_id: d
        for d in ReviewDecision.objects.filter(review=review).select_related("decided_by")
    }
    # Leads decided in this review stay on it even after the decision moved them out of the
    # team (recycled to marketing, reassigned): for those who hold the review, it is its record.
    decided = (
        Lead.objects.filter(pk__in=list(decisions))
        if holds_review(viewer, review.team)
        else visible_to(viewer).filter(pk__in=list(decisions))
    )
    on_agenda = team_leads(review.team, viewer) | decided
    leads = [_lead_row(v) for v in on_agenda.values(*_ROW_FIELDS).distinct()]
    flags = active_flags([lead.pk for lead in leads])
    groups: dict[str, AgendaGroup] = {}
    for lead in leads:
        decision = decisions.get(lead.pk)
        item = AgendaItem(lead, flags.get(lead.pk, []), decision)
        # A decided lead keeps the place it had when it was decided (its owner then, its flags
        # then), so the order does not move under the meeting.
        key, label = (
            (decision.owner_key, decision.owner_label)
            if decision
            else (lead.owner_key, lead.owner_label)
        )
        groups.setdefault(key, AgendaGroup(key, label)).items.append(item)
    worst = len(domain.SEVERITY)
    for group in groups.values():
        group.items.sort(key=lambda i: (_severity(i, worst), i.lead.pk))
    # People first, then queues, alphabetically.
    return sorted(groups.values(), key=lambda g: (g.owner.startswith("queue:"), g.label.lower()))


def _severity(item: AgendaItem, worst: int) -> int:
    kinds = item.decision.flags if item.decision is not None else [f.kind for f in item.flags]
    return min((domain.SEVERITY.index(domain.Flag(k)) for k in kinds), default=worst)


def agenda_items(review: Review, viewer: User) -> list[AgendaItem]:
    return [item for group in agenda(review, viewer) for item in group.items]


@dataclass(frozen=True)
class RepRow:
    user: User
    open: int
    overdue: int
    flagged: int
    untouched_past_sla: int
    touches_this_week: int
    reviewed: int

    @property
    def coverage(self) -> float | None:
        return None if not self.open else self.reviewed / self.open


def rep_rows(team: Team, viewer: User, at: datetime) -> list[RepRow]:
    """Per rep of the team: open leads, overdue, flagged, untouched past the speed-to-lead
    clock, sales touches this week, leads with a review decision in the last 7 days. Four
    queries for the whole team."""
    reps = list(team.members.filter(is_active=True).order_by("username"))
    if viewer.role == Role.REP and not viewer.is_superuser:
        reps = [u for u in reps if u.pk == viewer.pk]
    ids = [u.pk for u in reps]
    leads = visible_to(viewer).filter(
        owner_user_id__in=ids, stage__in=list(lead_domain.OPEN_STAGES)
    )
    since = at - timedelta(days=COVERAGE_DAYS)
    monday = datetime.combine(week_start(at), time.min, tzinfo=UTC)
    counts: dict[int, Any] = {
        row["owner_user_id"]: row
        for row in leads.values("owner_user_id").annotate(
            open=Count("pk", distinct=True),
            overdue=Count(
                "pk",
                filter=Q(next_action_due_at__lt=at - lead_domain.OVERDUE_AFTER),
                distinct=True,
            ),
            untouched=Count(
                "pk",
                filter=Q(sla_breached_at__isnull=False, first_sales_touch_at__isnull=True),
                distinct=True,
            ),
        )
    }
    flagged = dict(
        LeadFlag.objects.filter(cleared_at__isnull=True, lead__in=leads)
        .values("lead__owner_user_id")
        .annotate(n=Count("lead_id", distinct=True))
        .values_list("lead__owner_user_id", "n")
    )
    reviewed = dict(
        ReviewDecision.objects.filter(decided_at__gte=since, lead__in=leads)
        .values("lead__owner_user_id")
        .annotate(n=Count("lead_id", distinct=True))
        .values_list("lead__owner_user_id", "n")
    )
    touches = dict(
        Touch.objects.filter(actor_id__in=ids, is_sales=True, occurred_at__gte=monday)
        .values("actor_id")
        .annotate(n=Count("pk"))
        .values_list("actor_id", "n")
    )
    rows = [
        RepRow(
            user=u,
            open=counts.get(u.pk, {}).get("open", 0),
            overdue=counts.get(u.pk, {}).get("overdue", 0),
            flagged=flagged.get(u.pk, 0),
            untouched_past_sla=counts.get(u.pk, {}).get("untouched", 0),
            touches_this_week=touches.get(u.pk, 0),
            reviewed=reviewed.get(u.pk, 0),
        )
        for u in reps
    ]
    # A manager who owns no lead is not a row of their own team's table.
    return [r for r in rows if r.user.role == Role.REP or r.open]


def coverage(team: Team, viewer: User, at: datetime) -> dict[str, Any]:
    """The share of open leads with a review decision in the last 7 days, per rep and team."""
    rows = rep_rows(team, viewer, at)
    total_open = sum(r.open for r in rows)
    total_reviewed = sum(r.reviewed for r in rows)
    return {
        "team": team.name,
        "team_id": team.pk,
        "open": total_open,
        "reviewed": total_reviewed,
        "coverage": (total_reviewed / total_open) if total_open else None,
        "reps": [
            {
                "rep": r.user.username,
                "open": r.open,
                "reviewed": r.reviewed,
                "coverage": r.coverage,
            }
            for r in rows
        ],
    }


@dataclass(frozen=True)
class UnstaffedQueue:
    name: str
    open_leads: int


def unstaffed_queues(viewer: User) -> list[UnstaffedQueue]:
    """Queues with open leads that no active user is a member of, among those the viewer sees:
    their leads wait for nobody (the hygiene sweep flags them too)."""
    dead = dead_queue_ids()
    rows = (
        visible_to(viewer)
        .filter(owner_queue_id__in=dead, stage__in=list(lead_domain.OPEN_STAGES))
        .exclude(stage=lead_domain.Stage.NURTURE)
        .values("owner_queue__name")
        .annotate(n=Count("pk"))
        .order_by("owner_queue__name")
    )
    return [UnstaffedQueue(r["owner_queue__name"], r["n"]) for r in rows]


# --- What the lead list asks for by name (``lead_actions`` in apps.py) -----------------------


def flag_choices() -> list[tuple[str, str]]:
    return [(flag.value, flag.label) for flag in domain.SEVERITY]


def flag_labels(lead_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The standing flags of a page of leads, (kind, label), most urgent first (one query)."""
    return {
        lead_id: [(f.kind, f.label) for f in flags]
        for lead_id, flags in active_flags(lead_ids).items()
    }


def leads_with_flag(leads: QuerySet[Lead], kind: str | None) -> QuerySet[Lead]:
    """The leads with a standing flag of ``kind`` (any flag for None)."""
    standing = LeadFlag.objects.filter(lead=OuterRef("pk"), cleared_at__isnull=True)
    if kind is not None:
        standing = standing.filter(kind=kind)
    return leads.filter(Exists(standing))


def flagged_first(leads: QuerySet[Lead], then: list[Any]) -> QuerySet[Lead]:
    """Leads ordered by their most urgent standing flag (unflagged last), then ``then``."""
    rank = Case(
        *[When(kind=flag.value, then=Value(i)) for i, flag in enumerate(domain.SEVERITY)],
        output_field=IntegerField(),
    )
    worst = (
        LeadFlag.objects.filter(lead=OuterRef("pk"), cleared_at__isnull=True)
        .annotate(rank=rank)
        .order_by("rank")
        .values("rank")[:1]
    )
    return leads.annotate(flag_rank=Subquery(worst)).order_by(
        F("flag_rank").asc(nulls_last=True), *then
    )
