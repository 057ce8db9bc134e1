"""Reads on leads (the guarded ones go through accounts.access.visible_to)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery

from . import domain
from .models import Lead, LeadEvent


def lead_snapshots(chunk_size: int = 2000) -> Iterator[domain.LeadSnapshot]:
    """Every lead's invariant-relevant fields, streamed in primary-key chunks."""
    last_stage = (
        LeadEvent.objects.filter(lead=OuterRef("pk"))
        .exclude(to_stage="")
        .order_by("-occurred_at", "-id")
        .values("to_stage")[:1]
    )
    last_pk = 0
    while True:
        rows = list(
            Lead.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .annotate(last_event_stage=Subquery(last_stage))
            .values_list(
                "pk",
                "stage",
                "owner_user_id",
                "owner_queue_id",
                "next_action",
                "next_action_due_at",
                "disposition_id",
                "merged_into_id",
                "last_event_stage",
            )[:chunk_size]
        )
        if not rows:
            return
        for pk, stage, user_id, queue_id, action, due, disp, merged, last in rows:
            yield domain.LeadSnapshot(
                id=pk,
                stage=domain.Stage(stage),
                has_user_owner=user_id is not None,
                has_queue_owner=queue_id is not None,
                next_action=action or "",
                next_action_due_at=due,
                has_disposition=disp is not None,
                merged_into_id=merged,
                last_event_to_stage=last,
            )
        last_pk = rows[-1][0]


def invariant_violations() -> Iterator[domain.Violation]:
    for snapshot in lead_snapshots():
        yield from domain.invariant_violations(snapshot)


def leads_filtered(
    qs: QuerySet[Lead],
    *,
    stages: list[str] | None = None,
    owner: str | None = None,
    source: str | None = None,
    q: str | None = None,
    received_after: datetime | None = None,
    received_before: datetime | None = None,
    user=None,
) -> QuerySet[Lead]:
    """Apply the lead list filters shared by the UI, the API and the CSV export.

    ``stages``: stage codes, or "open" / "closed"; ``owner``: a username, "me" (needs ``user``),
    or "queue:<slug>"; ``source``: a source name; ``q``: text in name, email or company.
    Unknown values simply match nothing; they never raise.
    """
    if stages:
        wanted: set[str] = set()
        for stage in stages:
            if stage == "open":
                wanted |= {s.value for s in domain.OPEN_STAGES}
            elif stage == "closed":
                wanted |= {s.value for s in domain.TERMINAL}
            elif stage != "all":
                wanted.add(stage)
        if "all" not in stages:
            qs = qs.filter(stage__in=sorted(wanted))
    if owner:
        if owner.startswith("queue:"):
            qs = qs.filter(owner_queue__slug=owner.removeprefix("queue:"))
        elif owner == "me" and user is not None:
            qs = qs.filter(owner_user=user)
        else:
            qs = qs.filter(owner_user__username=owner)
    if source:
        qs = qs.filter(source__name=source)
    if q:
        text = q.strip()
        qs = qs.filter(
            Q(person__email__icontains=text)
            | Q(person__first_name__icontains=text)
            | Q(person__last_name__icontains=text)
            | Q(person__company_name__icontains=text)
        )
    if received_after:
        qs = qs.filter(received_at__gte=received_after)
    if received_before:
        qs = qs.filter(received_at__lt=received_before)
    return qs


def leads_for_listing(qs: QuerySet[Lead]) -> QuerySet[Lead]:
    """The joins every lead list needs, so a page costs a fixed number of queries."""
    return qs.select_related(
        "person", "account", "owner_user", "owner_queue", "source", "campaign", "disposition"
    )
