"""What the reports follow in the lead-event registry: a change that may move a lead in the
rollups makes it due for the next rollup sweep (one UPDATE per batch). A new inquiry or touch
also makes the person's other leads due: their attribution follows all the person's touches."""

from __future__ import annotations

from leadrefinery.leads.events import Change
from leadrefinery.leads.models import Lead

from .rollup import mark_due, mark_due_where

_PERSON_WIDE = frozenset({"created", "inquiry", "touch", "import_undone", "merged"})


def on_lead_change(changes: list[Change]) -> None:
    ids = {c.lead_id for c in changes if c.lead_id is not None}
    if not ids:
        return
    at = max(c.occurred_at for c in changes)
    wide = sorted({c.lead_id for c in changes if c.lead_id is not None and c.kind in _PERSON_WIDE})
    # The leads of the people of the "wide" changes, these leads among them: one UPDATE per
    # 500 with the people read inside it (an import's new leads are mostly new people's).
    for start in range(0, len(wide), 500):
        persons = Lead.objects.filter(pk__in=wide[start : start + 500]).values("person_id")
        mark_due_where(lead__person_id__in=persons, at=at)
    mark_due(ids.difference(wide), at)
