"""What scoring does when a lead changes: subscribers of the lead-event registry
(``leads.events``, declared in ``apps.py``), called in the writer's transaction."""

from __future__ import annotations

from leadrefinery.leads.events import Change

from .models import LeadScore


def on_fields_changed(changes: list[Change]) -> None:
    """``qualified`` with custom field changes: the model reads those fields, so the lead is
    due for the predict sweep (one UPDATE for the whole batch)."""
    mine = [
        change
        for change in changes
        if change.lead_id and isinstance(change.data, dict) and change.data.get("custom")
    ]
    if mine:
        LeadScore.objects.filter(lead_id__in=[c.lead_id for c in mine]).update(
            predict_due_at=max(c.occurred_at for c in mine)
        )
