"""A team with leads for the review: East (manager, rep, rep2) with a dozen open leads owned by
its reps, some of them flagged by the hygiene sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Queue
from leadrefinery.leads.services import lead_assign
from leadrefinery.review.sweep import hygiene_sweep


@pytest.fixture
def east_leads(users, make_lead, frozen_now) -> list[Lead]:
    """12 open leads of team East, 6 per rep; half of them overdue after three days."""
    Queue.objects.get(slug="unassigned").members.add(users.manager)
    leads: list[Any] = []
    for i in range(12):
        lead = make_lead(first_name=f"Buyer{i:02d}", company=f"Company {i:02d}")
        rep = users.rep if i % 2 == 0 else users.rep2
        lead_assign(lead=lead, owner_user=rep, actor=Actor.system("test"))
        leads.append(Lead.objects.get(pk=lead.pk))
    frozen_now.advance(timedelta(days=3))
    hygiene_sweep()
    return leads
