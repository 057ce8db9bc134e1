"""Reads on leads (the guarded ones go through accounts.access.visible_to)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import OuterRef, Subquery

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
