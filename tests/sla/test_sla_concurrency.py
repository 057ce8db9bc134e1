"""Two workers sweeping at the same moment escalate each lead's step exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.sla.sweep import sla_sweep

LEADS = 30
WORKERS = 3


def sweep_together(at) -> list[int]:
    """Run ``WORKERS`` sweeps in parallel threads (own database connections) from one start."""
    barrier = threading.Barrier(WORKERS)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            results.append(sla_sweep(at=at, limit=7))  # small pages: the workers interleave
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_never_double_escalate(east, inquiry, frozen_now):
    start = frozen_now.at
    leads = [inquiry() for _ in range(LEADS)]
    first_owner = {lead.pk: lead.owner_user_id for lead in leads}

    for minutes, event in ((30, "lead.sla_warning"), (60, "lead.sla_breached")):
        done = sweep_together(start + timedelta(minutes=minutes))
        assert sum(done) == LEADS  # every step done once, by whichever worker claimed it
        done_again = sweep_together(start + timedelta(minutes=minutes))
        assert sum(done_again) == 0
        per_lead = Counter(
            OutboxMessage.objects.filter(event=event, kind="email").values_list(
                "lead_id", flat=True
            )
        )
        # A warning goes to the owner; a breach to the owner and the manager.
        assert set(per_lead.values()) == {1 if event == "lead.sla_warning" else 2}
        assert len(per_lead) == LEADS

    assert sum(sweep_together(start + timedelta(minutes=120))) == LEADS
    moves = Counter(
        LeadEvent.objects.filter(kind="assigned", actor_label="system:sla").values_list(
            "lead_id", flat=True
        )
    )
    assert len(moves) == LEADS and set(moves.values()) == {1}
    for lead in Lead.objects.filter(pk__in=first_owner):
        assert lead.owner_user_id not in (None, first_owner[lead.pk])
        assert lead.sla_step == 0 and lead.sla_started_at == start + timedelta(minutes=120)
    notes = Counter(
        (e.lead_id, e.data.get("sla"))
        for e in LeadEvent.objects.filter(kind="sla", actor_label="system:sla")
    )
    # Each step once per lead: the reminder, the breach and the reassignment.
    assert set(key[1] for key in notes) == {"reminded", "breached", "reassign"}
    assert len(notes) == 3 * LEADS and set(notes.values()) == {1}


@pytest.mark.django_db
def test_a_worker_with_a_stale_copy_cannot_claim_the_step(east, inquiry, frozen_now):
    # Worker A read the due lead; worker B escalated it meanwhile. A's conditional UPDATE must
    # find the row changed and do nothing (this is what protects a worker that reads outside
    # the row lock, e.g. on a database without SKIP LOCKED).
    from leadrefinery.sla.sweep import _claim

    lead = inquiry()
    frozen_now.advance(timedelta(minutes=30))
    stale = Lead.objects.get(pk=lead.pk)
    assert sla_sweep() == 1
    assert _claim(stale, step=1, due_at=None) is False
    lead.refresh_from_db()
    assert lead.sla_step == 1 and lead.sla_due_at == frozen_now.at + timedelta(minutes=30)
    assert OutboxMessage.objects.filter(lead=lead, event="lead.sla_warning").count() == 1
