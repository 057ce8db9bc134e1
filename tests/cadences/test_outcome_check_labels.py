"""People read a reason as its label, not its code: on outcome checks (marketing) and on a
cadence stopped by a close (the lead page)."""

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


def test_a_cadence_stopped_by_a_close_names_the_reason_by_its_label(sales_ready, ron):
    from leadrefinery.cadences.models import Enrollment

    lead = lead_accept(lead=sales_ready, actor=Actor.of(ron))
    assert Enrollment.objects.filter(lead=lead).exists()
    lead_dispose(lead=lead, reason_code="lost_price", actor=Actor.of(ron))
    ended = Enrollment.objects.get(lead=lead)
    assert ended.end_reason == "the lead moved to Lost (Price)"
    owner = Client()
    owner.force_login(ron)
    page = owner.get(f"/leads/{lead.pk}/").content.decode()
    assert "(Price)" in page and "lost_price" not in page
