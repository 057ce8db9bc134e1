"""The cadence sweep: overdue steps, cadences that have ended, outcome checks that fall due.

Like the SLA sweep, it reads due rows through an index (``Enrollment.next_step_due_at``,
``OutcomeCheck.due_at``), and claims each with a conditional UPDATE on the values it read, in
the same transaction as the claim's effects. Only the worker whose UPDATE changed the row acts,
so running it twice, or in two workers at once, never notifies, ends or opens anything twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q

from leadrefinery.accounts.models import User
from leadrefinery.common.clock import now
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import MARKETING_QUEUE, event_record

from . import notify, services
from .models import Enrollment, OutcomeCheck

log = logging.getLogger(__name__)


def cadence_sweep(*, at: datetime | None = None, limit: int = 500) -> int:
    """Do the cadence work due at ``at`` (default now); returns how many rows were handled."""
    at = at or now()
    return _sweep(Enrollment, "next_step_due_at", _enrollment_due, at, limit) + _sweep(
        OutcomeCheck, "due_at", _check_due, at, limit
    )


def _sweep(model, column: str, handle, at: datetime, limit: int) -> int:  # type: ignore[no-untyped-def]
    done = 0
    after: tuple[datetime, int] | None = None
    while True:
        due = model.objects.filter(**{f"{column}__lte": at})
        if after is not None:
            # Keyset paging: a row another worker has just claimed never comes round again.
            due = due.filter(
                Q(**{f"{column}__gt": after[0]}) | Q(**{column: after[0], "pk__gt": after[1]})
            )
        rows = list(due.order_by(column, "pk").values_list(column, "pk")[:limit])
        for due_at, pk in rows:
            try:
                with transaction.atomic():
                    done += handle(pk, due_at, at)
            except Exception:  # one broken row must not hold up the others
                log.exception("cadence sweep failed for %s %s", model.__name__, pk)
        if len(rows) < limit:
            return done
        after = rows[-1]


def _locked(qs):  # type: ignore[no-untyped-def]
    if connection.vendor == "postgresql":
        # Skip a row another worker holds instead of waiting; the conditional UPDATE is what
        # makes the work happen once, on every database.
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def _enrollment_due(pk: int, due_at: datetime, at: datetime) -> int:
    enrollment = (
        _locked(Enrollment.objects.filter(pk=pk, next_step_due_at=due_at))
        .select_related("template")
        .first()
    )
    if enrollment is None:
        return 0
    # Claim: move the due column from what we read to nothing; one worker wins.
    won = Enrollment.objects.filter(
        pk=pk,
        next_step_due_at=due_at,
        status=enrollment.status,
        step_position=enrollment.step_position,
    ).update(next_step_due_at=None)
    if won != 1:
        return 0
    enrollment.next_step_due_at = None
    if enrollment.status == Enrollment.Status.ENDING:
        services.cadence_end(enrollment=enrollment, at=at)
        return 1
    if enrollment.status != Enrollment.Status.ACTIVE:
        return 0
    lead = Lead.objects.select_related("person", "owner_user", "source").get(pk=enrollment.lead_id)
    Enrollment.objects.filter(pk=pk).update(overdue_notified_step=enrollment.step_position)
    notify.step_overdue(lead=lead, enrollment=enrollment, at=at)
    return 1


def _check_due(pk: int, due_at: datetime, at: datetime) -> int:
    won = OutcomeCheck.objects.filter(
        pk=pk, due_at=due_at, status=OutcomeCheck.Status.SCHEDULED
    ).update(due_at=None, status=OutcomeCheck.Status.OPEN, opened_at=at)
    if won != 1:
        return 0
    check = OutcomeCheck.objects.select_related("lead__person").get(pk=pk)
    event_record(
        lead=check.lead,
        kind=LeadEvent.Kind.OUTCOME_CHECK,
        actor=services.ACTOR,
        at=at,
        reason=check.reason,
        note="Outcome check due: did they buy, and from whom? (a task for marketing)",
        data={"outcome_check": "opened", "check_id": check.pk},
    )
    recipients = list(
        User.objects.filter(queues__slug=MARKETING_QUEUE, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    notify.outcome_check_opened(check=check, recipients=recipients, at=at)
    return 1
