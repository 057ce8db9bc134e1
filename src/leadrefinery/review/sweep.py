"""The hygiene sweep: work out the flags of every lead that is due, and only those.

A lead is due when something changed it (the registry subscriber sets ``due_at`` to now), when
a flag can start or end by the clock alone (``domain.flags_for`` says when), or when something
outside the lead changed its facts: its owner became inactive or went away, its queue lost its
last active member, a duplicate pair about its person opened or closed. Those are found by a few
set-based queries over the owners, queues and pairs (not over all leads). New leads are taken in
by id from a cursor. Everything is idempotent: running the sweep twice, or in two workers,
gives the same flags.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q

from leadrefinery.accounts.models import User
from leadrefinery.common.clock import now
from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.models import Lead, Queue, StageDefinition, Touch
from leadrefinery.nurture.models import Enrollment

from . import domain
from .models import LeadFlag, LeadHygiene, SweepCursor

log = logging.getLogger(__name__)

WORKED_STAGES = frozenset({lead_domain.Stage.WORKING, lead_domain.Stage.OPPORTUNITY})
_NEW_LEADS_PER_RUN = 5000


def hygiene_sweep(*, at: datetime | None = None, limit: int = 500) -> int:
    """Bring the flags of every due lead up to date; returns how many leads were checked."""
    at = at or now()
    _take_in_new_leads(at)
    dead = dead_queue_ids()
    _mark_outside_changes(at, dead)
    rules = current_rules()
    done = 0
    while True:
        with transaction.atomic():
            due = LeadHygiene.objects.filter(due_at__lte=at).order_by("due_at", "lead_id")
            if connection.vendor == "postgresql":
                due = due.select_for_update(skip_locked=True)
            ids = list(due.values_list("lead_id", flat=True)[:limit])
            if ids:
                _check(ids, at, rules, dead)
        done += len(ids)
        if len(ids) < limit:
            return done


def flags_refresh(lead_ids: list[int], *, at: datetime | None = None) -> None:
    """Work out these leads' flags now (a page that has just changed them shows them fresh)."""
    at = at or now()
    LeadHygiene.objects.bulk_create(
        [LeadHygiene(lead_id=pk, due_at=at) for pk in lead_ids], ignore_conflicts=True
    )
    _check(sorted(set(lead_ids)), at, current_rules(), dead_queue_ids())


def current_rules() -> domain.Rules:
    ages = {
        code: days
        for code, days in StageDefinition.objects.values_list("code", "max_age_days")
        if days
    }
    return domain.Rules(
        no_touch_days=settings.REFINERY_NO_TOUCH_DAYS,
        queue_pull_hours=settings.REFINERY_QUEUE_PULL_HOURS,
        stage_max_days=ages,
    )


def dead_queue_ids() -> set[int]:
    """Queues that no active user is a member of (nobody will pull their leads)."""
    return set(
        Queue.objects.annotate(active=Count("members", filter=Q(members__is_active=True)))
        .filter(active=0)
        .values_list("pk", flat=True)
    )


def mark_due(lead_ids: Iterable[int], at: datetime) -> int:
    """Ask for the flags of these leads to be worked out in the next sweep."""
    ids = sorted(set(lead_ids))
    changed = 0
    for start in range(0, len(ids), 500):
        changed += LeadHygiene.objects.filter(lead_id__in=ids[start : start + 500]).update(
            due_at=at
        )
    return changed


def _take_in_new_leads(at: datetime) -> None:
    cursor, _ = SweepCursor.objects.get_or_create(name="hygiene")
    ids = list(
        Lead.objects.filter(pk__gt=cursor.last_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:_NEW_LEADS_PER_RUN]
    )
    if not ids:
        return
    LeadHygiene.objects.bulk_create(
        [LeadHygiene(lead_id=pk, due_at=at) for pk in ids], ignore_conflicts=True
    )
    SweepCursor.objects.filter(name="hygiene", last_id__lt=ids[-1]).update(last_id=ids[-1])


def _mark_outside_changes(at: datetime, dead: set[int]) -> None:
    """Leads whose facts changed outside the lead: flag what is new, clear what has gone.

    Each check starts from the few rows that can have changed (owners out, queues nobody
    works, open duplicate pairs) and reaches their leads through an index: never a scan of
    all leads."""
    open_stages = list(lead_domain.OPEN_STAGES)
    active = LeadFlag.objects.filter(cleared_at__isnull=True)
    want: set[int] = set()
    # Owners inactive or away: their leads without the flag; flagged leads whose owner is back.
    out = list(
        User.objects.filter(Q(is_active=False) | Q(away_until__gt=at)).values_list("pk", flat=True)
    )
    flagged = set(active.filter(kind=domain.Flag.OWNER_INACTIVE).values_list("lead_id", flat=True))
    want.update(pk for pk in _open_leads_of("owner_user_id", out, open_stages) if pk not in flagged)
    want.update(
        active.filter(kind=domain.Flag.OWNER_INACTIVE)
        .exclude(lead__owner_user_id__in=out)
        .values_list("lead_id", flat=True)
    )
    # Queues with no active member, and queues that have one again.
    want.update(
        Lead.objects.filter(owner_queue_id__in=dead, stage__in=open_stages)
        .exclude(stage=lead_domain.Stage.NURTURE)
        .exclude(pk__in=active.filter(kind=domain.Flag.DEAD_QUEUE).values("lead_id"))
        .values_list("pk", flat=True)
    )
    want.update(
        active.filter(kind=domain.Flag.DEAD_QUEUE)
        .exclude(lead__owner_queue_id__in=dead)
        .values_list("lead_id", flat=True)
    )
    # Duplicate pairs waiting for review, and pairs decided since.
    waiting = DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN).order_by()
    persons = set(waiting.values_list("person_a_id", flat=True)) | set(
        waiting.values_list("person_b_id", flat=True)
    )
    flagged = set(active.filter(kind=domain.Flag.DUPLICATE).values_list("lead_id", flat=True))
    want.update(
        pk for pk in _open_leads_of("person_id", sorted(persons), open_stages) if pk not in flagged
    )
    flagged_people = list(
        active.filter(kind=domain.Flag.DUPLICATE).values_list("lead_id", "lead__person_id")
    )
    if flagged_people:
        want.update(lead for lead, person in flagged_people if person not in persons)
    mark_due(want, at)


def _open_leads_of(column: str, values: list[int], open_stages: Sequence[str]) -> list[int]:
    """Ids of the open leads whose ``column`` is one of ``values`` (through its index)."""
    found: list[int] = []
    for start in range(0, len(values), 500):
        found += Lead.objects.filter(
            **{f"{column}__in": values[start : start + 500]}, stage__in=open_stages
        ).values_list("pk", flat=True)
    return found


def _waiting_since(person_ids: set[int]) -> dict[int, datetime]:
    if not person_ids:
        return {}
    ids = sorted(person_ids)
    since: dict[int, datetime] = {}
    waiting = DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN).order_by()
    for field in ("person_a_id", "person_b_id"):
        rows = (
            waiting.filter(**{f"{field}__in": ids})
            .values(field)
            .annotate(first=Min("created_at"))
            .values_list(field, "first")
        )
        for person, first in rows:
            since[person] = min(first, since.get(person, first))
    return since


def _check(ids: list[int], at: datetime, rules: domain.Rules, dead: set[int]) -> None:
    """Work out the flags of these leads (a batch: a fixed number of queries)."""
    leads = list(Lead.objects.filter(pk__in=ids).select_related("owner_user", "owner_queue"))
    last_touch = dict(
        Touch.objects.filter(lead_id__in=ids, is_sales=True, voided_at__isnull=True)
        .values("lead_id")
        .annotate(last=Max("occurred_at"))
        .values_list("lead_id", "last")
    )
    nurtured = set(
        Enrollment.objects.filter(lead_id__in=ids, status=Enrollment.Status.ACTIVE).values_list(
            "lead_id", flat=True
        )
    )
    waiting = _waiting_since({lead.person_id for lead in leads})
    current: dict[tuple[int, str], LeadFlag] = {
        (f.lead_id, f.kind): f
        for f in LeadFlag.objects.filter(lead_id__in=ids, cleared_at__isnull=True)
    }
    new: list[LeadFlag] = []
    keep: set[tuple[int, str]] = set()
    next_due: dict[int, datetime | None] = {}
    for lead in leads:
        result = domain.flags_for(_facts(lead, last_touch, nurtured, waiting, dead), at, rules)
        next_due[lead.pk] = result.next_check
        for found in result.flags:
            key = (lead.pk, found.flag.value)
            keep.add(key)
            if key not in current:
                new.append(
                    LeadFlag(
                        lead_id=lead.pk,
                        kind=found.flag,
                        reason=found.reason[:300],
                        since=found.since,
                    )
                )
    gone = [f.pk for key, f in current.items() if key not in keep]
    if gone:
        LeadFlag.objects.filter(pk__in=gone, cleared_at__isnull=True).update(cleared_at=at)
    LeadFlag.objects.bulk_create(new, ignore_conflicts=True)
    _set_due(next_due, at)


def _set_due(next_due: dict[int, datetime | None], at: datetime) -> None:
    """Store each lead's next check; a lead changed again since this batch began keeps 'now'
    (its due time moved past ``at`` is not ours to overwrite)."""
    by_due: dict[datetime | None, list[int]] = {}
    for lead_id, due in next_due.items():
        by_due.setdefault(due, []).append(lead_id)
    for due, lead_ids in by_due.items():
        LeadHygiene.objects.filter(lead_id__in=lead_ids, due_at__lte=at).update(
            due_at=due, checked_at=at
        )


def _facts(
    lead: Lead,
    last_touch: dict[int, datetime],
    nurtured: set[int],
    waiting: dict[int, datetime],
    dead: set[int],
) -> domain.LeadFacts:
    stage = lead_domain.Stage(lead.stage)
    owner = lead.owner_user
    queue_dead = lead.owner_queue_id in dead and stage != lead_domain.Stage.NURTURE
    return domain.LeadFacts(
        stage=lead.stage,
        is_open=stage.is_open,
        working=stage in WORKED_STAGES,
        next_action_due_at=lead.next_action_due_at,
        stage_changed_at=lead.stage_changed_at,
        last_sales_touch_at=last_touch.get(lead.pk),
        accepted_or_assigned_at=lead.accepted_at or lead.assigned_at,
        owner_label=str(owner) if owner is not None else str(lead.owner_queue or ""),
        owner_inactive_since=(lead.assigned_at or lead.stage_changed_at)
        if owner is not None and not owner.is_active
        else None,
        owner_away_until=owner.away_until if owner is not None else None,
        queue_dead_since=(lead.assigned_at or lead.stage_changed_at) if queue_dead else None,
        queued_since=(lead.assigned_at or lead.stage_changed_at)
        if lead.owner_queue_id is not None and stage != lead_domain.Stage.NURTURE
        else None,
        sla_breached_at=lead.sla_breached_at,
        first_sales_touch_at=lead.first_sales_touch_at,
        duplicate_waiting_since=waiting.get(lead.person_id),
        nurture_since=lead.stage_changed_at if stage == lead_domain.Stage.NURTURE else None,
        nurtured=lead.pk in nurtured,
    )
