"""Writes of the weekly review. Every decision goes through the same lead services as the lead
page and the API (``lead_set_next_action``, ``lead_transition``, ``lead_recycle``,
``lead_dispose``, ``lead_assign``) and adds a 'reviewed' event to the lead's timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from leadrefinery.accounts.models import Team, User
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads import services as lead_services
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import DispositionReason, Lead, LeadEvent, Queue
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.notifications.services import enqueue

from . import selectors
from .models import LeadFlag, Review, ReviewDecision
from .sweep import flags_refresh

# The stage a review's "advance" moves a lead to.
NEXT_STAGE = {
    lead_domain.Stage.INQUIRY: lead_domain.Stage.QUALIFYING,
    lead_domain.Stage.NURTURE: lead_domain.Stage.QUALIFYING,
    lead_domain.Stage.QUALIFYING: lead_domain.Stage.SALES_READY,
    lead_domain.Stage.SALES_READY: lead_domain.Stage.WORKING,
    lead_domain.Stage.WORKING: lead_domain.Stage.OPPORTUNITY,
}


def can_run_review(user: User, team: Team) -> bool:
    """Managers of the team and admins hold the review and record decisions."""
    return selectors.holds_review(user, team)


def review_open(
    *, team: Team, actor: User, week: date | None = None, scheduled_at: datetime | None = None
) -> Review:
    """This week's review of ``team`` (created once; opening it again returns it)."""
    if not can_run_review(actor, team):
        raise ServiceError("only the team's manager or an admin holds its review", field="team")
    at = now()
    # Any day names its week: the review is that week's (starting on its Monday).
    week = (week or at.date()) - timedelta(days=(week or at.date()).weekday())
    existing = Review.objects.filter(team=team, week_start=week).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Review.objects.create(
                team=team,
                week_start=week,
                scheduled_at=scheduled_at or datetime.combine(week, time(9, 0), tzinfo=UTC),
                created_by=actor,
                created_at=at,
            )
    except IntegrityError:  # opened at the same moment by someone else
        return Review.objects.get(team=team, week_start=week)


@transaction.atomic
def review_decide(
    *,
    review: Review,
    lead: Lead,
    kind: str,
    actor: User,
    note: str = "",
    next_action: str = "",
    due_at: datetime | None = None,
    reason_code: str = "",
    owner_user: User | None = None,
    owner_queue: Queue | None = None,
) -> ReviewDecision:
    """Record one decision on one lead of the review, through the lead services. A lead may be
    decided again in the same review (the later decision counts)."""
    if review.status != Review.Status.OPEN:
        raise ServiceError("this review was signed off; open this week's review", field="review")
    if not can_run_review(actor, review.team):
        raise ServiceError("only the team's manager or an admin records decisions", field="kind")
    who = Actor.of(actor)
    at = now()
    flags = [f.kind for f in LeadFlag.objects.filter(lead=lead, cleared_at__isnull=True)]
    owner = selectors.owner_key(lead), lead.owner_label
    detail = _apply(
        lead=lead,
        kind=kind,
        who=who,
        note=note,
        next_action=next_action,
        due_at=due_at,
        reason_code=reason_code,
        owner_user=owner_user,
        owner_queue=owner_queue,
        at=at,
    )
    decision = ReviewDecision.objects.create(
        review=review,
        lead=lead,
        kind=kind,
        note=note,
        detail=detail[:300],
        decided_by=actor,
        decided_at=at,
        flags=flags,
        owner_key=owner[0],
        owner_label=owner[1],
    )

    lead_services.event_record(
        lead=lead,
        kind=LeadEvent.Kind.REVIEWED,
        actor=who,
        at=at,
        note=note,
        data={
            "review_id": review.pk,
            "decision": kind,
            "detail": detail,
            "flags": flags,
            "review": str(review),
        },
    )
    flags_refresh([lead.pk], at=at)  # the agenda shows what the decision changed at once
    return decision


def _apply(
    *,
    lead: Lead,
    kind: str,
    who: Actor,
    note: str,
    next_action: str,
    due_at: datetime | None,
    reason_code: str,
    owner_user: User | None,
    owner_queue: Queue | None,
    at: datetime,
) -> str:
    """Carry out a decision with the lead services; returns what changed, in words."""
    if kind == ReviewDecision.Kind.KEEP:
        if not next_action.strip() or due_at is None:
            raise ServiceError("keep: give the next action and when it is due", field="next_action")
        lead_services.lead_set_next_action(
            lead=lead, action=next_action, due_at=due_at, actor=who, at=at
        )
        return f"kept: {next_action.strip()} by {due_at:%Y-%m-%d %H:%M} UTC"
    if kind == ReviewDecision.Kind.ADVANCE:
        target = NEXT_STAGE.get(lead_domain.Stage(lead.stage))
        if target is None:
            raise ServiceError(
                f"a lead in {lead_domain.Stage(lead.stage).label.lower()} has no next stage "
                "to advance to; close it with a reason",
                field="kind",
            )
        lead_services.lead_transition(
            lead=lead,
            to_stage=target,
            actor=who,
            note=note,
            next_action=next_action.strip() or None,
            next_action_due_at=due_at,
            at=at,
        )
        return f"advanced to {target.label.lower()}"
    if kind == ReviewDecision.Kind.RECYCLE:
        lead_services.lead_recycle(lead=lead, reason_code=reason_code, actor=who, note=note, at=at)
        return f"recycled to nurture ({_label(reason_code)})"
    if kind == ReviewDecision.Kind.CLOSE:
        lead_services.lead_dispose(lead=lead, reason_code=reason_code, actor=who, note=note, at=at)
        return f"closed: {_label(reason_code)}"
    if kind == ReviewDecision.Kind.REASSIGN:
        lead_services.require_live_queue(owner_queue)
        lead_services.lead_assign(
            lead=lead,
            owner_user=owner_user,
            owner_queue=owner_queue,
            actor=who,
            note=note or "reassigned in the weekly review",
            at=at,
        )
        return f"reassigned to {owner_user or owner_queue}"
    raise ServiceError(f"unknown decision '{kind}'", field="kind")


def _label(code: str) -> str:
    reason = DispositionReason.objects.filter(code=code).first()
    return reason.label if reason is not None else code


@transaction.atomic
def review_sign_off(*, review: Review, actor: User, attendees: list[User]) -> Review:
    """Close the review with who attended (marketing included) and its counts; leads not
    reached carry over to next week's review (they are still open and on its agenda)."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not can_run_review(actor, review.team):
        raise ServiceError("only the team's manager or an admin signs the review off")
    if review.status == Review.Status.SIGNED_OFF:
        raise ServiceError("this review is signed off already")
    at = now()
    items = selectors.agenda_items(review, actor)
    decided: dict[str, int] = {}
    for d in ReviewDecision.objects.filter(review=review):
        decided[d.kind] = decided.get(d.kind, 0) + 1
    reached = {item.lead.pk for item in items if item.decision is not None}
    review.status = Review.Status.SIGNED_OFF
    review.signed_off_by = actor
    review.signed_off_at = at
    review.summary = {
        "leads": len(items),
        "decided": len(reached),
        "carried_over": sum(
            1 for i in items if i.decision is None and lead_domain.Stage(i.lead.stage).is_open
        ),
        "flagged": sum(1 for i in items if i.flags),
        "by_decision": decided,
    }
    review.save()
    review.attendees.set([*attendees, actor])
    return review


def review_digest_send(*, review: Review, at: datetime | None = None) -> int:
    """Before the meeting: each rep's own agenda and the manager's team summary, by email
    through the outbox (once per review and recipient). Returns the emails queued."""
    at = at or now()
    team = review.team
    manager = team.manager
    viewer = manager or User.objects.filter(is_superuser=True).first()
    if viewer is None:
        return 0
    groups = selectors.agenda(review, viewer)
    rows: list[OutboxMessage] = []
    for rep in team.members.filter(is_active=True).exclude(email=""):
        mine = [g for g in groups if g.owner == rep.username]
        lines = [
            f"Your leads for the {team.name} lead review on {review.scheduled_at:%A %d %B}:",
            "",
        ]
        for group in mine:
            for item in group.items:
                flags = ", ".join(f.label for f in item.flags) or "no flags"
                lines.append(f"- {item.lead.name}: {item.lead.next_action} ({flags})")
        if not mine:
            lines.append("You have no open leads to review.")
        lines += [
            "",
            "Come with a decision for each: keep (next action), advance, recycle or close.",
        ]
        rows.append(
            _digest_row(review, rep.email, f"Your lead review agenda: {team.name}", lines, at)
        )
    if manager is not None and manager.email:
        lines = [f"{team.name} lead review, week of {review.week_start:%Y-%m-%d}:", ""]
        for row in selectors.rep_rows(team, manager, at):
            lines.append(
                f"- {row.user.username}: {row.open} open, {row.overdue} overdue, "
                f"{row.flagged} flagged, {row.untouched_past_sla} untouched past the SLA"
            )
        rows.append(
            _digest_row(
                review, manager.email, f"Team summary for the {team.name} review", lines, at
            )
        )
    return len(enqueue(rows))


def _digest_row(review: Review, to: str, subject: str, lines: list[str], at: datetime) -> Any:
    return OutboxMessage(
        kind=OutboxMessage.Kind.EMAIL,
        event="review.digest",
        dedupe_key=f"review-digest:{review.pk}:{to}"[:200],
        lead=None,
        recipient=to,
        endpoint=None,
        subject=subject[:300],
        body="\n".join(lines),
        payload={"review_id": review.pk},
        status=OutboxMessage.Status.PENDING,
        attempts=0,
        next_attempt_at=at,
        claimed_at=None,
        sent_at=None,
        last_error="",
        created_at=at,
    )


def review_digest_sweep(*, at: datetime | None = None) -> int:
    """Send the digest of every open review whose meeting is within the next day, once: each
    review is claimed with a conditional UPDATE before its emails are queued."""
    at = at or now()
    sent = 0
    due = Review.objects.filter(
        status=Review.Status.OPEN,
        digest_sent_at__isnull=True,
        scheduled_at__lte=at + timedelta(days=1),
        scheduled_at__gte=at - timedelta(hours=12),
    ).select_related("team__manager")
    for review in due:
        with transaction.atomic():
            if not Review.objects.filter(pk=review.pk, digest_sent_at__isnull=True).update(
                digest_sent_at=at
            ):
                continue  # another worker has it
            sent += review_digest_send(review=review, at=at)
    return sent
