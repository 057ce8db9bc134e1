"""The cadence sweep run twice, or by three workers at once, does each piece of work once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from leadrefinery.cadences.models import Enrollment
from leadrefinery.cadences.services import lead_accept
from leadrefinery.cadences.sweep import cadence_sweep
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.notifications.models import OutboxMessage

LEADS = 12
WORKERS = 3


def sweep_together(at) -> list[int]:
    barrier = threading.Barrier(WORKERS)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            results.append(cadence_sweep(at=at, limit=5))  # small pages: workers interleave
        except BaseException as exc:  # surfaced in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_never_double_notify_or_double_end(
    ron, handed_to, work_cadence, frozen_now
):
    start = frozen_now.at
    leads = [lead_accept(lead=handed_to(ron), actor=Actor.of(ron)) for _ in range(LEADS)]

    # Every first step is overdue: each owner is told once, by whichever worker claimed it.
    overdue_at = start + timedelta(hours=5)
    assert sum(sweep_together(overdue_at)) == LEADS
    assert sum(sweep_together(overdue_at)) == 0
    per_lead = Counter(
        OutboxMessage.objects.filter(event="cadence.step_overdue").values_list("lead_id", flat=True)
    )
    assert set(per_lead.values()) == {1} and len(per_lead) == LEADS

    # Every cadence worked to the end without an answer: each lead is recycled exactly once.
    for lead in leads:
        frozen_now.set(start)
        work_cadence(lead, ron)
    end = max(Lead.objects.get(pk=lead.pk).next_action_due_at for lead in leads)
    assert sum(sweep_together(end)) == LEADS
    assert sum(sweep_together(end)) == 0
    for lead in Lead.objects.filter(pk__in=[lead.pk for lead in leads]):
        assert lead.stage == "nurture"
        assert lead.events.filter(to_stage="nurture").count() == 1
        assert lead.outcome_checks.count() == 1
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}
