"""The lead lifecycle as a pure state machine.

No ORM, no clock: callers pass the facts and the time in, and get a decision with reasons
back. Services apply decisions; `refinery check` uses the same rules to find violations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Stage(StrEnum):
    INQUIRY = "inquiry"
    NURTURE = "nurture"
    QUALIFYING = "qualifying"
    SALES_READY = "sales_ready"
    WORKING = "working"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"
    DISQUALIFIED = "disqualified"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL

    @property
    def is_sales(self) -> bool:
        return self in SALES_STAGES


_LABELS = {
    Stage.INQUIRY: "Inquiry",
    Stage.NURTURE: "Nurture",
    Stage.QUALIFYING: "Qualifying",
    Stage.SALES_READY: "Sales ready",
    Stage.WORKING: "Working",
    Stage.OPPORTUNITY: "Opportunity",
    Stage.WON: "Won",
    Stage.LOST: "Lost",
    Stage.DISQUALIFIED: "Disqualified",
    Stage.MERGED: "Merged",
}

TERMINAL = frozenset({Stage.WON, Stage.LOST, Stage.DISQUALIFIED, Stage.MERGED})
OPEN_STAGES = frozenset(set(Stage) - TERMINAL)
SALES_STAGES = frozenset({Stage.SALES_READY, Stage.WORKING, Stage.OPPORTUNITY})
# Stages whose entry needs a reason code (a disposition or a recycle reason).
NEEDS_REASON = frozenset({Stage.WON, Stage.LOST, Stage.DISQUALIFIED})

# Allowed moves. Merged is reached only through the merge service, never by hand.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.INQUIRY: frozenset(
        {Stage.NURTURE, Stage.QUALIFYING, Stage.SALES_READY, Stage.DISQUALIFIED, Stage.MERGED}
    ),
    Stage.NURTURE: frozenset(
        {Stage.QUALIFYING, Stage.SALES_READY, Stage.DISQUALIFIED, Stage.MERGED}
    ),
    Stage.QUALIFYING: frozenset(
        {Stage.NURTURE, Stage.SALES_READY, Stage.DISQUALIFIED, Stage.MERGED}
    ),
    Stage.SALES_READY: frozenset(
        {
            Stage.WORKING,
            Stage.QUALIFYING,
            Stage.NURTURE,
            Stage.DISQUALIFIED,
            Stage.LOST,
            Stage.MERGED,
        }
    ),
    Stage.WORKING: frozenset(
        {Stage.OPPORTUNITY, Stage.NURTURE, Stage.LOST, Stage.DISQUALIFIED, Stage.MERGED}
    ),
    Stage.OPPORTUNITY: frozenset({Stage.WON, Stage.LOST, Stage.NURTURE, Stage.MERGED}),
    Stage.WON: frozenset(),
    Stage.LOST: frozenset(),
    Stage.DISQUALIFIED: frozenset(),
    Stage.MERGED: frozenset(),
}


def speed_to_lead(received_at: datetime, first_touch_at: datetime) -> timedelta:
    """Wall-clock time from inquiry to first sales touch (what the buyer experienced)."""
    return max(timedelta(0), first_touch_at - received_at)


# A next action is late this long after it fell due: one due now (the first call of a lead
# accepted a moment ago) is due, not overdue.
OVERDUE_AFTER = timedelta(hours=1)


def is_overdue(due_at: datetime | None, at: datetime) -> bool:
    return due_at is not None and due_at + OVERDUE_AFTER < at


def is_recycle(from_stage: Stage, to_stage: Stage) -> bool:
    """Sales handing a lead back to marketing nurture: always needs a reason."""
    return from_stage in SALES_STAGES and to_stage == Stage.NURTURE


@dataclass(frozen=True)
class PersistenceRule:
    """The minimum effort before "no response" may be recorded."""

    min_touches: int = 6
    min_days: int = 14

    def check(self, *, touches: int, first_touch_at: datetime | None, at: datetime) -> list[str]:
        problems: list[str] = []
        if touches < self.min_touches:
            problems.append(
                f"needs at least {self.min_touches} sales touches before 'no response' "
                f"({touches} so far, {self.min_touches - touches} to go)"
            )
        days = 0.0 if first_touch_at is None else (at - first_touch_at).total_seconds() / 86400
        if days < self.min_days:
            remaining = self.min_days - days
            problems.append(
                f"needs at least {self.min_days} days of follow-up since the first sales touch "
                f"({days:.1f} so far, {remaining:.1f} to go)"
            )
        return problems

    def remaining(
        self, *, touches: int, first_touch_at: datetime | None, at: datetime
    ) -> tuple[int, float]:
        """(touches still needed, days still needed) before "no response" is allowed."""
        days = 0.0 if first_touch_at is None else (at - first_touch_at).total_seconds() / 86400
        return max(0, self.min_touches - touches), max(0.0, self.min_days - days)


@dataclass(frozen=True)
class ReasonFacts:
    """What the state machine needs to know about a reason code."""

    code: str
    stage: Stage
    needs_persistence: bool = False
    active: bool = True
    label: str = ""  # what people read; messages never show the code when there is a label

    @property
    def name(self) -> str:
        return self.label or self.code


@dataclass(frozen=True)
class LeadFacts:
    stage: Stage
    sales_touches: int = 0
    first_sales_touch_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    to_stage: Stage
    errors: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())
    needs_owner_change: bool = False

    @property
    def message(self) -> str:
        return "; ".join(self.errors) if self.errors else "; ".join(self.reasons)


def decide_transition(
    lead: LeadFacts,
    to_stage: Stage,
    *,
    reason: ReasonFacts | None,
    at: datetime,
    rule: PersistenceRule,
    via_merge: bool = False,
) -> Decision:
    """May ``lead`` move to ``to_stage`` with ``reason`` at time ``at``? Says why either way."""
    errors: list[str] = []
    reasons: list[str] = []
    frm = lead.stage
    if to_stage == frm:
        errors.append(f"the lead is already {frm.label.lower()}")
    elif to_stage not in TRANSITIONS[frm]:
        if frm in TERMINAL:
            errors.append(f"a {frm.label.lower()} lead is closed; record a new inquiry instead")
        else:
            allowed = ", ".join(sorted(s.label for s in TRANSITIONS[frm] if s != Stage.MERGED))
            errors.append(f"cannot move from {frm.label} to {to_stage.label} (allowed: {allowed})")
    if to_stage == Stage.MERGED and not via_merge:
        errors.append("merging is done by the merge service, which keeps both records")

    reason_needed = to_stage in NEEDS_REASON or is_recycle(frm, to_stage)
    if reason_needed and reason is None:
        what = "a recycle reason" if is_recycle(frm, to_stage) else f"a reason for {to_stage.label}"
        errors.append(f"{what} is required")
    if reason is not None:
        if not reason.active:
            errors.append(f"the reason '{reason.name}' is no longer in use")
        if reason.stage != to_stage:
            errors.append(
                f"the reason '{reason.name}' belongs to {reason.stage.label}, not {to_stage.label}"
            )
        if reason.needs_persistence:
            problems = rule.check(
                touches=lead.sales_touches, first_touch_at=lead.first_sales_touch_at, at=at
            )
            errors.extend(f"'{reason.name}' is not allowed yet: {p}" for p in problems)
            if not problems:
                reasons.append(
                    f"persistence rule met ({lead.sales_touches} touches, >= {rule.min_days} days)"
                )
    if not errors:
        reasons.insert(0, f"{frm.label} -> {to_stage.label}")
        if is_recycle(frm, to_stage):
            reasons.append("recycled to marketing nurture")
    return Decision(
        allowed=not errors,
        to_stage=to_stage,
        errors=tuple(errors),
        reasons=tuple(reasons),
        needs_owner_change=is_recycle(frm, to_stage),
    )


@dataclass(frozen=True)
class Violation:
    lead_id: int
    problem: str


@dataclass(frozen=True)
class LeadSnapshot:
    """A lead's invariant-relevant fields, as read by `refinery check`."""

    id: int
    stage: Stage
    has_user_owner: bool
    has_queue_owner: bool
    next_action: str
    next_action_due_at: datetime | None
    has_disposition: bool
    merged_into_id: int | None
    last_event_to_stage: str | None


def invariant_violations(lead: LeadSnapshot) -> list[Violation]:
    """Every way ``lead`` breaks the core invariants (empty when it is sound)."""
    out: list[Violation] = []
    owners = int(lead.has_user_owner) + int(lead.has_queue_owner)
    if lead.stage.is_open:
        if owners != 1:
            out.append(
                Violation(lead.id, f"open lead ({lead.stage}) has {owners} owners, needs exactly 1")
            )
        if not lead.next_action.strip():
            out.append(Violation(lead.id, f"open lead ({lead.stage}) has no next action"))
        if lead.next_action_due_at is None:
            out.append(
                Violation(lead.id, f"open lead ({lead.stage}) has no due time for its next action")
            )
    elif owners > 1:
        out.append(Violation(lead.id, "closed lead has two owners"))
    if lead.stage in NEEDS_REASON and not lead.has_disposition:
        out.append(Violation(lead.id, f"{lead.stage} lead has no disposition reason"))
    if lead.stage == Stage.MERGED and lead.merged_into_id is None:
        out.append(Violation(lead.id, "merged lead does not point at its survivor"))
    if lead.last_event_to_stage is not None and lead.last_event_to_stage != lead.stage:
        out.append(
            Violation(
                lead.id,
                f"stage is {lead.stage} but the timeline's last stage change says {lead.last_event_to_stage}",
            )
        )
    if lead.last_event_to_stage is None:
        out.append(Violation(lead.id, "lead has no timeline event for its stage"))
    return out
