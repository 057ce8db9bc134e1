"""Keeping the rollups current: the subscriber marks changed leads due, the sweep (every
minute; a report page says when changes are still waiting) recomputes their facts and adds the
difference to the rollups; ``rebuild`` recomputes everything from the raw rows.

Idempotent: a lead's stored fact is what it added to the rollups, so recomputing a lead that
did not change adds nothing, and two sweeps never take the same lead (PostgreSQL: ``SKIP
LOCKED``; SQLite has one writer).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from leadrefinery.common.clock import now
from leadrefinery.common.db import update_rows
from leadrefinery.leads.models import Lead

from . import domain, queries
from .facts import Context, facts_for
from .models import Bucket, Cell, Credit, LeadFact, RollupCursor

log = logging.getLogger(__name__)

_NEW_LEADS_PER_RUN = 20000


def mark_due(lead_ids: Iterable[int], at: datetime) -> int:
    """Ask for these leads' facts to be recomputed in the next sweep (one UPDATE per 500)."""
    ids = sorted(set(lead_ids))
    changed = 0
    for start in range(0, len(ids), 500):
        changed += LeadFact.objects.filter(lead_id__in=ids[start : start + 500]).update(due_at=at)
    return changed


def mark_due_where(*, at: datetime, **lookups: Any) -> int:
    """``mark_due`` of the leads whose facts match ``lookups``, in one UPDATE."""
    return LeadFact.objects.filter(**lookups).update(due_at=at)


def pending() -> int:
    """Leads whose changes are not in the rollups yet."""
    cursor = RollupCursor.objects.filter(name="facts").values_list("last_id", flat=True).first()
    new = Lead.objects.filter(pk__gt=cursor or 0).count()
    return new + LeadFact.objects.filter(due_at__isnull=False).count()


def rollup_sweep(*, at: datetime | None = None, limit: int = 1000) -> int:
    """Bring every due lead's contribution up to date; returns how many leads were read."""
    at = at or now()
    _take_in_new_leads(at)
    ctx = Context.load()
    done = 0
    while True:
        with transaction.atomic():
            due = LeadFact.objects.filter(due_at__isnull=False, due_at__lte=at).order_by(
                "due_at", "lead_id"
            )
            if connection.vendor == "postgresql":
                due = due.select_for_update(skip_locked=True)
            rows = list(due.values_list("lead_id", "fact")[:limit])
            if rows:
                _apply(dict(rows), ctx, at)
        done += len(rows)
        if len(rows) < limit:
            return done


def _take_in_new_leads(at: datetime) -> None:
    cursor, _ = RollupCursor.objects.get_or_create(name="facts")
    while True:
        ids = list(
            Lead.objects.filter(pk__gt=cursor.last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:_NEW_LEADS_PER_RUN]
        )
        if not ids:
            return
        LeadFact.objects.bulk_create(
            [LeadFact(lead_id=pk, due_at=at) for pk in ids], ignore_conflicts=True, batch_size=2000
        )
        RollupCursor.objects.filter(name="facts", last_id__lt=ids[-1]).update(last_id=ids[-1])
        cursor.last_id = ids[-1]
        if len(ids) < _NEW_LEADS_PER_RUN:
            return


def _apply(old: dict[int, Any], ctx: Context, at: datetime) -> None:
    """Recompute these leads' facts; add new minus old to the rollups; store the new facts."""
    new = facts_for(list(old), ctx)
    delta: dict[tuple[Any, ...], dict[str, float]] = {}
    for lead_id, stored in old.items():
        before = domain.contributions(domain.Fact.from_json(stored) if stored else None)
        after = domain.contributions(new.get(lead_id))
        for key, cols in domain.difference(before, after).items():
            row = delta.setdefault(key, {})
            for c, v in cols.items():
                row[c] = row.get(c, 0) + v
    _add(domain.grained(delta))
    facts = [
        LeadFact(
            lead_id=lead_id,
            due_at=None,
            computed_at=at,
            fact=new[lead_id].to_json() if lead_id in new else None,
        )
        for lead_id in old
    ]
    update_rows(facts, ["due_at", "computed_at", "fact"])


def _add(delta: dict[tuple[Any, ...], dict[str, float]]) -> None:
    by_table: dict[str, list[tuple[tuple[Any, ...], dict[str, float]]]] = defaultdict(list)
    for key, cols in delta.items():
        if any(cols.values()):
            by_table[key[0]].append((key[1:], cols))
    for kind in ("cell", "bucket", "credit"):
        queries.add_rows(kind, by_table.get(kind, []))


def rebuild(*, batch: int = 2000, progress: Any = None) -> int:
    """Recompute every lead's facts and the rollups from the raw rows (``refinery
    reports_rebuild``): for a new install, after a change of rates or rules, or to check."""
    at = now()
    ctx = Context.load()
    with transaction.atomic():
        for model in (Cell, Bucket, Credit):
            model.objects.all().delete()  # rollups only: derived data, rebuilt just below
        LeadFact.objects.all().update(due_at=at, fact=None)
    _take_in_new_leads(at)
    done = 0
    last = 0
    while True:
        ids = list(
            LeadFact.objects.filter(lead_id__gt=last)
            .order_by("lead_id")
            .values_list("lead_id", flat=True)[:batch]
        )
        if not ids:
            return done
        with transaction.atomic():
            _apply(dict.fromkeys(ids), ctx, at)
        done += len(ids)
        last = ids[-1]
        if progress:
            progress(done)


def mark_currency_due(currency: str, at: datetime) -> int:
    """An exchange rate changed: the leads with amounts in that currency are counted again
    (a rate is data, not a lead event). One statement; a rare admin action."""
    code = currency.upper()
    leads = Lead.objects.filter(currency__iexact=code).exclude(
        opportunity_amount__isnull=True, won_amount__isnull=True
    )
    return LeadFact.objects.filter(lead_id__in=leads.values("pk")).update(due_at=at)
