"""Reads for tracking."""

from __future__ import annotations

from collections.abc import Iterable

from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.models import Lead


def open_leads_of(person_ids: Iterable[int]) -> dict[int, int]:
    """Each person's open lead id (the most recent one when there are several), one query."""
    out: dict[int, int] = {}
    ids = list(set(person_ids))
    if not ids:
        return out
    rows = (
        Lead.objects.filter(person_id__in=ids, stage__in=list(lead_domain.OPEN_STAGES))
        .order_by("person_id", "-received_at", "-pk")
        .values_list("person_id", "pk")
    )
    for person_id, lead_id in rows:
        out.setdefault(person_id, lead_id)
    return out
