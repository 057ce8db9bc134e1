"""The qualifying center's "next lead": a member of a queue pulls the most urgent open lead.

Order (the first non-empty bucket wins):

1. hot leads (``temperature="hot"``), newest first: the buyer is ready now;
2. new web inquiries (stage ``inquiry`` from a web form or the API), newest first: the first
   hour after an inquiry is when a call converts best, so the freshest one goes first;
3. retries due (``next_action_due_at <= now``), the longest overdue first;
4. the rest, oldest first, so nothing waits forever.

Two reps pulling at once never get the same lead. PostgreSQL: each candidate query locks its
row with ``FOR UPDATE SKIP LOCKED``, so concurrent pullers walk past each other's rows instead of
waiting. SQLite: writers are serialized by IMMEDIATE transactions; a conditional UPDATE
(``WHERE id = .. AND owner_queue_id = ..``) still proves the lead is in the queue at the moment
we write, and the next candidate is tried when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from leadrefinery.accounts.models import User
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Queue, Source
from leadrefinery.leads.services import (
    default_next_action,
    lead_assign,
    lead_set_next_action,
    lead_transition,
)

WEB_CHANNELS = (Source.Channel.WEB_FORM, Source.Channel.API)
# Candidates read per bucket on SQLite before the conditional UPDATE; more than one so that a
# lead taken between our read and our write costs a retry, not another query.
_SQLITE_BATCH = 5


@dataclass(frozen=True)
class Bucket:
    key: str
    why: str  # the trace's words for "why this lead"
    condition: Q
    order: tuple[str, ...]


def _buckets(at: datetime) -> list[Bucket]:
    web_sources = list(Source.objects.filter(channel__in=WEB_CHANNELS).values_list("pk", flat=True))
    hot = Q(temperature="hot")
    web = Q(stage=lead_domain.Stage.INQUIRY, source_id__in=web_sources)
    due = Q(next_action_due_at__lte=at)
    # Each bucket excludes the earlier ones, so a lead is counted and explained once.
    return [
        Bucket("hot", "hot lead, newest first", hot, ("-received_at", "-id")),
        Bucket("web", "newest web inquiry", web & ~hot, ("-received_at", "-id")),
        Bucket(
            "retry",
            "retry due, longest overdue first",
            due & ~hot & ~web,
            ("next_action_due_at", "id"),
        ),
        Bucket(
            "rest",
            "oldest remaining lead",
            ~hot & ~web & (Q(next_action_due_at__gt=at) | Q(next_action_due_at__isnull=True)),
            ("received_at", "id"),
        ),
    ]


def _waiting(queue: Queue) -> QuerySet[Lead]:
    return Lead.objects.filter(
        owner_queue=queue, owner_user__isnull=True, stage__in=list(lead_domain.OPEN_STAGES)
    )


def _claim(queue: Queue, at: datetime) -> tuple[Lead, Bucket] | None:
    """Lock one waiting lead for this transaction; None when the queue is empty."""
    for bucket in _buckets(at):
        qs = _waiting(queue).filter(bucket.condition).order_by(*bucket.order)
        if connection.features.has_select_for_update_skip_locked:
            # of=("self",): lock the lead row only, never a joined row other pullers need.
            lead = qs.select_for_update(skip_locked=True, of=("self",)).first()
            if lead is not None:
                return lead, bucket
            continue
        for lead in qs[:_SQLITE_BATCH]:
            taken = (
                Lead.objects.filter(pk=lead.pk, owner_queue=queue, owner_user__isnull=True)
                .filter(stage__in=list(lead_domain.OPEN_STAGES))
                .update(updated_at=at)
            )
            if taken:
                return lead, bucket
    return None


# A pulled lead's next action falls due within this time at the latest.
PULLED_DUE_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class Pulled:
    lead: Lead
    why: str  # why this lead was next, in the trace's words


def queue_pull_next(*, queue: Queue, user: User, at: datetime | None = None) -> Lead | None:
    """Give ``user`` the next lead of ``queue`` (see the module docstring for the order).

    Only members of the queue may pull. The lead is assigned to the user with a trace saying
    where it came from and why it was next; an ``inquiry`` moves to ``qualifying``. Returns
    None when the queue has no open lead.
    """
    pulled = queue_pull(queue=queue, user=user, at=at)
    return pulled.lead if pulled else None


def queue_pull(*, queue: Queue, user: User, at: datetime | None = None) -> Pulled | None:
    """``queue_pull_next`` that also says why the lead was next (for the API and the UI)."""
    if not user.is_active:
        raise ServiceError(f"{user} is inactive and cannot take leads", field="user")
    if not queue.members.filter(pk=user.pk).exists():
        raise ServiceError(
            f"only members of the {queue.name} queue can pull leads from it", field="queue"
        )
    at = at or now()
    actor = Actor.of(user)
    with transaction.atomic():
        claimed = _claim(queue, at)
        if claimed is None:
            return None
        lead, bucket = claimed
        trace = {
            "steps": [f"pulled from {queue.name} by {user.username}", bucket.why],
            "pulled_from": queue.slug,
            "bucket": bucket.key,
            "owner": user.username,
        }
        lead = lead_assign(
            lead=lead,
            owner_user=user,
            actor=actor,
            trace=trace,
            at=at,
            note=f"Pulled from {queue.name}: {bucket.why}",
        )
        if lead.stage == lead_domain.Stage.INQUIRY:
            lead = lead_transition(
                lead=lead, to_stage=lead_domain.Stage.QUALIFYING, actor=actor, at=at
            )
        # The puller works it now: a fresh next action, due soon, whatever an earlier
        # owner left behind (a lead back in the queue can carry one months overdue).
        action, due = default_next_action(lead_domain.Stage(lead.stage), at)
        due = min(due, at + PULLED_DUE_WITHIN)  # pulled to be worked now
        first_touch_due = lead.sla_first_touch_due_at
        if first_touch_due is not None and at < first_touch_due < due:
            due = first_touch_due
        lead = lead_set_next_action(lead=lead, action=action, due_at=due, actor=actor, at=at)
    return Pulled(lead, bucket.why)


@dataclass(frozen=True)
class QueueSummary:
    queue: Queue
    waiting: int
    by_bucket: dict[str, int]
    members: tuple[User, ...] = ()  # the active members, who may pull from it
    is_member: bool = True

    @property
    def unstaffed(self) -> bool:
        return not self.members


def queues_of(user: User, *, at: datetime | None = None, every: bool = False) -> list[QueueSummary]:
    """The queues ``user`` may pull from (``every``: all queues, for managers who watch them),
    with how many leads wait in each bucket and who works each queue."""
    at = at or now()
    buckets = _buckets(at)
    summaries = []
    queues = Queue.objects.order_by("name").prefetch_related("members")
    if not every:
        queues = queues.filter(members=user)
    for queue in queues:
        counts = {b.key: _waiting(queue).filter(b.condition).count() for b in buckets}
        members = tuple(m for m in queue.members.all() if m.is_active)
        summaries.append(
            QueueSummary(
                queue,
                sum(counts.values()),
                counts,
                members=members,
                is_member=any(m.pk == user.pk for m in members),
            )
        )
    return summaries
