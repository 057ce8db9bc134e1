"""Marketing reads an outcome check's reason as a label ("Lost: no decision"), not a code."""

from __future__ import annotations

import pytest
from django.test import Client

from leadrefinery.cadences.models import OutcomeCheck
from leadrefinery.cadences.services import lead_accept
from leadrefinery.cadences.sweep import cadence_sweep
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import DispositionReason
from leadrefinery.leads.services import lead_dispose

pytestmark = pytest.mark.django_db


def test_the_today_page_names_the_checks_reason(sales_ready, ron, users, frozen_now):
    lead = lead_accept(lead=sales_ready, actor=Actor.of(ron))
    lead_dispose(lead=lead, reason_code="lost_no_decision", actor=Actor.of(ron))
    check = OutcomeCheck.objects.get(lead=lead)
    frozen_now.set(check.scheduled_for)
    cadence_sweep()

    marketer = Client()
    marketer.force_login(users.marketer)
    page = marketer.get("/today/").content.decode()
    label = DispositionReason.objects.get(code="lost_no_decision").label
    assert f"· {label} ·" in page
    assert "lost_no_decision" not in page
