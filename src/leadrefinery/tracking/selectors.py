"""Reads for tracking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.access import lead_scope, visible_to
from leadrefinery.leads.models import Lead

if TYPE_CHECKING:
    from leadrefinery.accounts.models import User


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


def people_visible_to(user: User, person_ids: Iterable[int]) -> set[int]:
    """The people among ``person_ids`` whose events ``user`` may record: all of them for a
    user who sees every lead; otherwise those with a lead the user sees, and whose open lead
    (the one an event lands on and scores), if they have one, is visible too. Three queries."""
    ids = set(person_ids)
    if not ids or lead_scope(user) is None:
        return ids
    mine = visible_to(user)
    seen = set(mine.filter(person_id__in=ids).values_list("person_id", flat=True))
    open_lead = open_leads_of(seen)
    open_seen = set(mine.filter(pk__in=list(open_lead.values())).values_list("pk", flat=True))
    return {p for p in seen if p not in open_lead or open_lead[p] in open_seen}
