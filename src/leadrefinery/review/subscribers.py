"""What the review app follows in the lead-event registry: any change that may start or end a
hygiene flag makes the lead due for the next sweep (one UPDATE per batch)."""

from __future__ import annotations

from leadrefinery.leads.events import Change

from .sweep import mark_due


def on_lead_change(changes: list[Change]) -> None:
    # Leads created in this batch have no hygiene row yet: the sweep takes them in by id.
    created = {c.lead_id for c in changes if c.kind == "created"}
    ids = {c.lead_id for c in changes if c.lead_id is not None and c.lead_id not in created}
    if ids:
        mark_due(ids, max(c.occurred_at for c in changes))
