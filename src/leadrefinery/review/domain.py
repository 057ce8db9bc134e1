"""Pipeline hygiene, as pure rules: which flags an open lead carries at a given time, why, and
since when; and when its flags can next change by the clock alone.

No database and no clock: ``flags_for`` takes a ``LeadFacts`` snapshot and the time, and returns
the flags with their reasons and start times, plus the next moment a flag may start or end
without anything else happening (``next_check``). The sweep stores that moment as the lead's
due time, so it never has to scan all leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from leadrefinery.leads.domain import OVERDUE_AFTER


class Flag(StrEnum):
    OVERDUE = "overdue"
    NO_TOUCH = "no_touch"
    STAGE_AGE = "stage_age"
    OWNER_INACTIVE = "owner_inactive"
    DEAD_QUEUE = "dead_queue"
    QUEUE_WAIT = "queue_wait"
    SLA_UNTOUCHED = "sla_untouched"
    DUPLICATE = "duplicate"
    NOT_NURTURED = "not_nurtured"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    Flag.OVERDUE: "Next action overdue",
    Flag.NO_TOUCH: "No sales touch lately",
    Flag.STAGE_AGE: "Too long in this stage",
    Flag.OWNER_INACTIVE: "Owner inactive or away",
    Flag.DEAD_QUEUE: "Queue has no active member",
    Flag.QUEUE_WAIT: "Waiting in a queue too long",
    Flag.SLA_UNTOUCHED: "Speed-to-lead breached, untouched",
    Flag.DUPLICATE: "Possible duplicate waiting",
    Flag.NOT_NURTURED: "In nurture, in no program",
}

# The order flags are shown and sorted in: what costs a sale soonest first.
SEVERITY = (
    Flag.SLA_UNTOUCHED,
    Flag.DEAD_QUEUE,
    Flag.OWNER_INACTIVE,
    Flag.QUEUE_WAIT,
    Flag.OVERDUE,
    Flag.NO_TOUCH,
    Flag.STAGE_AGE,
    Flag.NOT_NURTURED,
    Flag.DUPLICATE,
)


NURTURE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Rules:
    """The thresholds: ``REFINERY_NO_TOUCH_DAYS``, ``REFINERY_QUEUE_PULL_HOURS`` and each
    stage definition's maximum age (``StageDefinition.max_age_days``)."""

    no_touch_days: int = 7
    queue_pull_hours: int = 4  # a queue's clock: someone pulls a waiting lead within this
    stage_max_days: dict[str, int] | None = None  # stage code -> days; missing: no limit


@dataclass(frozen=True)
class LeadFacts:
    stage: str
    is_open: bool
    working: bool  # a sales stage where reps are expected to touch the lead
    next_action_due_at: datetime | None
    stage_changed_at: datetime
    last_sales_touch_at: datetime | None
    accepted_or_assigned_at: datetime | None
    owner_label: str
    owner_inactive_since: datetime | None  # None: active (or a queue owns the lead)
    owner_away_until: datetime | None
    queue_dead_since: datetime | None  # None: a user owns it, or its queue has a member
    queued_since: datetime | None  # waiting in a sales queue since (None: a user owns it)
    sla_breached_at: datetime | None
    first_sales_touch_at: datetime | None
    duplicate_waiting_since: datetime | None
    nurture_since: datetime | None  # in the nurture stage since (None: another stage)
    nurtured: bool  # enrolled in an active nurture program


@dataclass(frozen=True)
class Found:
    flag: Flag
    since: datetime
    reason: str


@dataclass(frozen=True)
class Result:
    flags: tuple[Found, ...]
    next_check: datetime | None  # when a flag may start or end by the clock alone


def age_words(delta: timedelta) -> str:
    """How long a flag has stood, in words (the page shows it beside the reason)."""
    days = delta.days
    if days >= 2:
        return f"{days} days"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 2:
        return f"{hours} hours"
    minutes = max(1, int(delta.total_seconds() // 60))
    return f"{minutes} min"


def flags_for(facts: LeadFacts, at: datetime, rules: Rules) -> Result:
    """The flags of a lead at ``at``, each with its start and reason; none for a closed lead."""
    if not facts.is_open:
        return Result((), None)
    found: list[Found] = []
    later: list[datetime] = []

    due = facts.next_action_due_at
    if due is None:
        found.append(Found(Flag.OVERDUE, facts.stage_changed_at, "no next action is set"))
    elif due + OVERDUE_AFTER <= at:  # the same grace as the lead list and the Today page
        found.append(
            Found(Flag.OVERDUE, due + OVERDUE_AFTER, "the next action is past its due time")
        )
    else:
        later.append(due + OVERDUE_AFTER)

    if facts.working:
        start = max(
            t
            for t in (
                facts.last_sales_touch_at,
                facts.accepted_or_assigned_at,
                facts.stage_changed_at,
            )
            if t is not None
        )
        limit = start + timedelta(days=rules.no_touch_days)
        if limit <= at:
            found.append(
                Found(
                    Flag.NO_TOUCH,
                    limit,
                    f"no sales touch for {rules.no_touch_days} days while the lead is worked",
                )
            )
        else:
            later.append(limit)

    max_days = (rules.stage_max_days or {}).get(facts.stage)
    if max_days:
        limit = facts.stage_changed_at + timedelta(days=max_days)
        if limit <= at:
            found.append(
                Found(
                    Flag.STAGE_AGE,
                    limit,
                    f"longer in {facts.stage.replace('_', ' ')} than the {max_days} days the "
                    "stage allows",
                )
            )
        else:
            later.append(limit)

    if facts.owner_inactive_since is not None:
        found.append(
            Found(
                Flag.OWNER_INACTIVE, facts.owner_inactive_since, f"{facts.owner_label} is inactive"
            )
        )
    elif facts.owner_away_until is not None and facts.owner_away_until > at:
        found.append(
            Found(
                Flag.OWNER_INACTIVE,
                at,
                f"{facts.owner_label} is away until {facts.owner_away_until:%Y-%m-%d %H:%M} UTC",
            )
        )
        later.append(facts.owner_away_until)

    if facts.queue_dead_since is not None:
        found.append(
            Found(
                Flag.DEAD_QUEUE,
                facts.queue_dead_since,
                f"the {facts.owner_label} queue has no active member to pull it",
            )
        )

    if facts.queued_since is not None:
        # A queue has a clock too: someone is expected to pull the lead within a few hours.
        limit = facts.queued_since + timedelta(hours=rules.queue_pull_hours)
        if limit <= at:
            found.append(
                Found(
                    Flag.QUEUE_WAIT,
                    limit,
                    f"waiting in the {facts.owner_label} queue for more than "
                    f"{rules.queue_pull_hours} hours: nobody has pulled it",
                )
            )
        else:
            later.append(limit)

    if facts.sla_breached_at is not None and facts.first_sales_touch_at is None:
        found.append(
            Found(
                Flag.SLA_UNTOUCHED,
                facts.sla_breached_at,
                "the speed-to-lead SLA was breached and there is still no first contact",
            )
        )

    if facts.duplicate_waiting_since is not None:
        found.append(
            Found(
                Flag.DUPLICATE,
                facts.duplicate_waiting_since,
                "a possible duplicate of this person waits for review",
            )
        )

    if facts.nurture_since is not None and not facts.nurtured:
        # Enrollment runs every few minutes: a day's grace before anyone is told.
        limit = facts.nurture_since + NURTURE_GRACE
        if limit <= at:
            found.append(
                Found(Flag.NOT_NURTURED, limit, "with marketing, but in no nurture program")
            )
        else:
            later.append(limit)

    order = {flag: i for i, flag in enumerate(SEVERITY)}
    found.sort(key=lambda f: order[f.flag])
    return Result(tuple(found), min(later) if later else None)
