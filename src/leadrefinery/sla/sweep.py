"""The escalation sweep: walk each due lead one step up the SLA ladder, exactly once.

Every minute ``sla_sweep`` reads the leads whose ``sla_due_at`` has passed (an index), works
out which step is due from the lead's clock, and claims it with a conditional UPDATE on the
step and due time it read. Only the worker whose UPDATE changed the row performs the step's
effects, in the same transaction, so a repeated sweep or two workers at once never remind,
breach or reassign twice. Notifications go to the outbox (sent after commit).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from leadrefinery.accounts.models import User
from leadrefinery.common.clock import now
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import event_record
from leadrefinery.notifications.services import lead_notify

from . import domain
from .domain import Step
from .selectors import owner_calendar, policy_terms

log = logging.getLogger(__name__)

ACTOR = Actor.system("sla")
MISSED = "missed the SLA"


def sla_sweep(*, at: datetime | None = None, limit: int = 500) -> int:
    """Perform every escalation step due at ``at`` (default now); returns how many were done.

    Reads due leads in due order, ``limit`` at a time, each lead in its own transaction so one
    failure (or a lock held by another worker) holds up no other lead."""
    at = at or now()
    done = 0
    after: tuple[datetime | None, int] | None = None
    while True:
        due = Lead.objects.filter(sla_due_at__lte=at)
        if after is not None:
            # Keyset paging: a lead another worker has just claimed never comes round again.
            due = due.filter(Q(sla_due_at__gt=after[0]) | Q(sla_due_at=after[0], pk__gt=after[1]))
        rows = list(due.order_by("sla_due_at", "pk").values_list("sla_due_at", "pk")[:limit])
        for _due_at, pk in rows:
            try:
                done += _advance(pk, at)
            except Exception:  # one broken lead must not stop the escalation of the others
                log.exception("SLA step failed for lead %s", pk)
        if len(rows) < limit:
            return done
        after = rows[-1]


def _advance(pk: int, at: datetime) -> int:
    """Do every step of one lead that is due at ``at``, each claimed in its own transaction
    (a lead left alone over a weekend may owe a breach and then a reassignment)."""
    done = 0
    for _ in Step:  # steps only go up, so this bounds the loop
        with transaction.atomic():
            result = _step_once(pk, at)
        if result is None:
            break
        done += result
    return done


def _due_lead(pk: int, at: datetime) -> Lead | None:
    leads = Lead.objects.select_related(
        "owner_user__team__manager", "sla_policy", "person", "source", "account"
    ).filter(pk=pk, sla_due_at__lte=at)
    if connection.vendor == "postgresql":
        # Skip a lead another worker is escalating right now instead of waiting for it; the
        # conditional UPDATE below is what makes the step happen once, on every database.
        leads = leads.select_for_update(skip_locked=True, of=("self",))
    return leads.first()


def _claim(lead: Lead, *, step: int | None, due_at: datetime | None, **changes: Any) -> bool:
    """Move the lead from the step and due time we read to the next ones; False when another
    worker (or a change by a user) got there first."""
    won = Lead.objects.filter(
        pk=lead.pk, sla_step=lead.sla_step, sla_due_at=lead.sla_due_at
    ).update(sla_step=step, sla_due_at=due_at, **changes)
    return won == 1


def _step_once(pk: int, at: datetime) -> int | None:
    """Claim and perform the next due step of one lead: 1 if done, 0 if the clock was just
    cleared, None when nothing (more) is due or another worker holds the lead."""
    lead = _due_lead(pk, at)
    if lead is None:
        return None
    owner = lead.owner_user
    if (
        owner is None
        or lead.sla_started_at is None
        or lead.first_sales_touch_at is not None
        or not lead_domain.Stage(lead.stage).is_open
    ):
        # Nothing to escalate: the lead sits in a queue, was touched, or was closed.
        _claim(lead, step=lead.sla_step, due_at=None)
        return None
    done = Step(lead.sla_step or Step.STARTED)
    clock = domain.start_clock(
        policy_terms(lead.sla_policy),
        owner_calendar(owner, lead.sla_started_at),
        lead.sla_started_at,
    )
    upcoming = clock.next_after(done)
    if upcoming is None:
        _claim(lead, step=int(done), due_at=None)
        return None
    step = upcoming[0]
    if step == Step.REMINDED:
        breach = clock.next_after(Step.REMINDED)
        if breach is not None and breach[1] <= at:
            # The sweep was away past the breach: a reminder now would only be noise.
            step = Step.BREACHED
    following = clock.next_after(step)
    changes: dict[str, Any] = {}
    if step == Step.BREACHED:
        changes["sla_breached_at"] = at
    if not _claim(lead, step=int(step), due_at=following[1] if following else None, **changes):
        return None
    fact = f"sla:{lead.sla_started_at.isoformat()}:{int(step)}"
    if step == Step.REMINDED:
        _remind(lead, owner, clock, fact, at)
    elif step == Step.BREACHED:
        lead.sla_breached_at = at
        _breach(lead, owner, clock, fact, at)
    else:
        _reassign(lead, owner, fact, at)
    return 1


def _remind(lead: Lead, owner: User, clock: domain.Clock, fact: str, at: datetime) -> None:
    _event(
        lead,
        at,
        f"SLA reminder sent to {owner}: first contact due by {clock.first_touch_due:%Y-%m-%d %H:%M} UTC",
        {"sla": "reminded", "owner": owner.username, "due_at": clock.first_touch_due.isoformat()},
    )
    lead_notify(event="lead.sla_warning", lead=lead, fact=fact, at=at)


def _breach(lead: Lead, owner: User, clock: domain.Clock, fact: str, at: datetime) -> None:
    recipients = [owner.email] if owner.email else []
    manager = owner.team.manager if owner.team_id and owner.team else None
    policy = lead.sla_policy
    tell_manager = policy.notify_manager_at_breach if policy is not None else True
    if (
        tell_manager
        and manager is not None
        and manager.is_active
        and manager.email
        and manager.pk != owner.pk
        and manager.email not in recipients
    ):
        recipients.append(manager.email)
    _event(
        lead,
        at,
        f"SLA breached: {owner} made no first contact by "
        f"{clock.first_touch_due:%Y-%m-%d %H:%M} UTC",
        {
            "sla": "breached",
            "owner": owner.username,
            "due_at": clock.first_touch_due.isoformat(),
            "notified": recipients,
        },
    )
    lead_notify(event="lead.sla_breached", lead=lead, fact=fact, recipients=recipients, at=at)


def _reassign(lead: Lead, owner: User, fact: str, at: datetime) -> None:
    """The last step: the lead must go to someone else. Routing owns who that is; it follows
    this event (``routing.subscribers.on_sla_reassign``) and hands the lead on in this
    transaction."""
    _event(
        lead,
        at,
        f"{owner} {MISSED}: no first contact in time; the lead goes to another owner",
        {"sla": "reassign", "owner": owner.username, "owner_id": owner.pk, "fact": fact},
    )


def _event(lead: Lead, at: datetime, note: str, data: dict[str, Any]) -> None:
    event_record(lead=lead, kind=LeadEvent.Kind.SLA, actor=ACTOR, at=at, note=note, data=data)
