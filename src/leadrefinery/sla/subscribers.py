"""What the speed-to-lead clock does when a lead changes: subscribers of the lead-event
registry (``leads.events``, declared in ``apps.py``), called in the writer's transaction."""

from __future__ import annotations

from leadrefinery.leads.events import Change, leads_of

from .services import CLOCK_FIELDS, sla_restart


def on_assigned(changes: list[Change]) -> None:
    """``assigned`` to a rep who owes a first contact (the event says ``start_clock``): a fresh
    clock in the new owner's business hours, and the next action due at its first-touch
    deadline. Intake starts its own clocks in bulk and does not ask for one."""
    wanted = [c for c in changes if (c.data or {}).get("start_clock")]
    if not wanted:
        return
    leads = leads_of(wanted)
    for change in wanted:
        lead = leads[change.lead_id or 0]
        owner = lead.owner_user
        if owner is None or owner.pk != change.data.get("to_user_id"):
            continue  # handed on again in the same transaction; that event starts the clock
        sla_restart(lead, owner=owner, at=change.occurred_at)
        fields = list(CLOCK_FIELDS)
        if lead.sla_first_touch_due_at is not None:
            lead.next_action_due_at = lead.sla_first_touch_due_at
            fields.append("next_action_due_at")
        lead.save(update_fields=fields)
