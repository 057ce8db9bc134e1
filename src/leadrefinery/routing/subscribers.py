"""What routing follows in the lead-event registry (``leads.events``, declared in
``apps.py``): the SLA sweep's last step, handing a lead whose rep missed the first contact to
someone else, in the sweep's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadrefinery.accounts.models import User
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.events import Change, leads_of
from leadrefinery.leads.models import Lead, Queue
from leadrefinery.leads.selectors import queue_by_slug
from leadrefinery.leads.services import lead_assign
from leadrefinery.notifications.services import lead_notify

from . import domain as routing_domain
from .selectors import lead_routing_fields
from .services import Router

ACTOR = Actor.system("sla")
MISSED = "missed the SLA"


def on_sla_reassign(changes: list[Change]) -> None:
    wanted = [c for c in changes if (c.data or {}).get("sla") == "reassign"]
    if not wanted:
        return
    leads = leads_of(wanted)
    owners = User.objects.in_bulk([c.data["owner_id"] for c in wanted])
    for change in wanted:
        owner = owners.get(change.data["owner_id"])
        lead = leads[change.lead_id or 0]
        if owner is None or lead.owner_user_id != owner.pk:
            continue  # already handed on
        _reassign(lead, owner, change.data.get("fact", ""), change.occurred_at)


def _reassign(lead: Lead, owner: User, fact: str, at: datetime) -> None:
    router = Router(at=at)
    account_owner_id = lead.account.owner_id if lead.account else None
    decision = router.choose(
        lead_routing_fields(lead), account_owner_id=account_owner_id, exclude={owner.pk: MISSED}
    )
    because = f"{owner.username} {MISSED} (no first contact in time)"
    trace = {**decision.as_trace(), "because": because}
    if decision.kind == routing_domain.TargetKind.USER and decision.id is not None:
        target: dict[str, Any] = {"owner_user": router.user(decision.id)}
        router.record(decision, router.team_of(decision))
        router.save()
    elif decision.kind == routing_domain.TargetKind.QUEUE and decision.id is not None:
        target = {"owner_queue": Queue.objects.get(pk=decision.id)}
    else:
        target = {"owner_queue": queue_by_slug("unassigned")}
    lead = lead_assign(lead=lead, actor=ACTOR, trace=trace, note=because, at=at, **target)
    recipients = [u.email for u in (lead.owner_user, owner) if u is not None and u.email]
    lead_notify(
        event="lead.reassigned",
        lead=lead,
        fact=fact,
        recipients=list(dict.fromkeys(recipients)),
        extra={"previous_owner": owner.username, "because": because},
        at=at,
    )
