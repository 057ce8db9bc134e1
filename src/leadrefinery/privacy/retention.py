"""Retention: raw inquiry payloads of closed leads are erased after N months.

``REFINERY_RAW_PAYLOAD_RETENTION_MONTHS`` (unset: never). The sweep is idempotent: a payload
already erased is never read again (its ``_erased`` key), and each batch is its own
transaction, so a crash loses nothing and a second worker does the same work harmlessly.
Raw inquiries that never became a lead (rejected) count from when they arrived.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from leadrefinery.common.clock import now
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.models import IntakeRecord

from . import domain
from .models import PrivacyEvent

BATCH = 500


def retention_months() -> int | None:
    value = getattr(settings, "REFINERY_RAW_PAYLOAD_RETENTION_MONTHS", None)
    return int(value) if value else None


def cutoff(at: datetime, months: int) -> datetime:
    year, month = domain.retention_cutoff_months(months, at.year, at.month)
    day = min(at.day, 28)
    return at.astimezone(UTC).replace(year=year, month=month, day=day)


def retention_sweep(*, at: datetime | None = None) -> int:
    """Erase the raw payloads that are past retention; the number erased."""
    months = retention_months()
    if not months:
        return 0
    at = at or now()
    before = cutoff(at, months)
    closed = [s.value for s in lead_domain.Stage if not s.is_open]
    due = (
        IntakeRecord.objects.filter(
            Q(lead__stage__in=closed, lead__disposed_at__lt=before)
            | Q(lead__stage__in=closed, lead__disposed_at__isnull=True, received_at__lt=before)
            | Q(lead__isnull=True, status=IntakeRecord.Status.REJECTED, received_at__lt=before)
        )
        .exclude(payload__has_key="_erased")
        .order_by("pk")
    )
    erased = 0
    last = 0
    while True:
        ids = list(due.filter(pk__gt=last).values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        last = ids[-1]
        with transaction.atomic():
            n = (
                IntakeRecord.objects.filter(pk__in=ids)
                .exclude(payload__has_key="_erased")
                .update(payload={"_erased": True, "by": "retention"}, ip=None, user_agent="")
            )
            erased += n
    if erased:
        PrivacyEvent.objects.create(
            kind=PrivacyEvent.Kind.RETENTION,
            occurred_at=at,
            actor_label="system:retention",
            reason=f"raw payloads of leads closed more than {months} month(s) ago",
            counts={"leads.IntakeRecord": erased},
        )
    return erased
