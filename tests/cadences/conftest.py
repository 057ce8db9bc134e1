"""Cadence fixtures: a rep with an email address and a sales-ready lead of theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign, lead_transition
from tests.notifications.conftest import smtp_server  # noqa: F401 - a fixture, re-exported
from tests.ui.conftest import client_for  # noqa: F401 - a fixture, re-exported

SYSTEM = Actor.system("test")


@pytest.fixture
def ron(users):
    users.rep.email = "ron@refinery.example"
    users.rep.save()
    return users.rep


@pytest.fixture
def handed_to(make_lead) -> Callable[..., Any]:
    """handed_to(rep, **fields) -> a sales-ready lead owned by ``rep``."""

    def make(rep, **fields: Any):
        fields.setdefault("company", "Brandt Logistics")
        lead = lead_assign(lead=make_lead(**fields), owner_user=rep, actor=SYSTEM)
        return lead_transition(lead=lead, to_stage="sales_ready", actor=SYSTEM)

    return make


@pytest.fixture
def sales_ready(ron, handed_to, frozen_now):
    return handed_to(ron, first_name="Olga", last_name="Brandt")


@pytest.fixture
def work_cadence(frozen_now) -> Callable[..., Any]:
    """work_cadence(lead, rep, steps=None, outcome="no_answer"): do the due steps in order,
    each at its due time on the frozen clock (calls get ``outcome``); returns the lead."""
    from leadrefinery.cadences.models import Enrollment
    from leadrefinery.cadences.selectors import template_steps
    from leadrefinery.cadences.services import step_complete
    from leadrefinery.leads.models import Lead

    def work(lead, rep, steps: int | None = None, outcome: str = "no_answer"):
        done = 0
        while steps is None or done < steps:
            lead = Lead.objects.get(pk=lead.pk)
            enrollment = Enrollment.objects.filter(lead=lead, status="active").first()
            if enrollment is None:
                break
            step = template_steps(enrollment.template_id)[enrollment.step_position - 1]
            frozen_now.set(max(frozen_now.at, lead.next_action_due_at))
            step_complete(
                lead=lead,
                actor=Actor.of(rep),
                outcome=outcome if step.channel == "call" else "",
            )
            done += 1
        return Lead.objects.get(pk=lead.pk)

    return work
